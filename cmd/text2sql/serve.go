package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/validate"
)

func init() {
	register(&command{name: "serve", summary: "serve the HTTP/JSON and gRPC API", run: runServe})
}

// serveOptions are the settings of `serve` defined in this file.
type serveOptions struct {
	httpAddr, grpcAddr     string
	schemaPath, policyPath string
	logLevel, logFormat    string
	logQuestions           bool
	callers, tokensDir     string
	requestTimeout         time.Duration
	maxSQLBytes            int
	maxQuestionBytes       int
	maxRequestBytes        int
	maxHistoryTurns        int
	maxHistoryBytes        int
	rateLimit              float64
	rateBurst              int
	maxInFlight            int
	shutdownGrace          time.Duration
	shutdownDelay          time.Duration
}

// serveSettings is the table of `serve` settings: this file's, then
// generation's and Superset's.
func serveSettings(o *serveOptions, g *generateOptions, ss *supersetServeOptions) *settings {
	s := &settings{
		command: "serve",
		summary: "Serves the text2sql API: HTTP/JSON (with /healthz, /readyz, /metrics and /openapi.json) and gRPC.\n" +
			"With no flags it serves the embedded sample catalog and policy on loopback addresses.",
		notes: []string{
			"Caller tokens (environment only, never flags, so they stay out of process listings):\n" +
				"  TEXT2SQL_CALLER_TOKEN_<NAME>  token of the caller <NAME> listed in --callers, upper-cased, '-' and '.' as '_'.\n" +
				"                                Several tokens separated by commas are all accepted (for rotation).\n" +
				"  Or one file per caller, named after it, in --caller-tokens-dir (a mounted Kubernetes Secret).",
			"In a container, listen on every interface: TEXT2SQL_HTTP_ADDR=:8080 TEXT2SQL_GRPC_ADDR=:9090.",
		},
	}
	s.String(&o.httpAddr, "http-addr", server.DefaultHTTPAddr, "HTTP listen address (host:port); \":8080\" listens on every interface")
	s.String(&o.grpcAddr, "grpc-addr", server.DefaultGRPCAddr, "gRPC listen address (host:port); \":9090\" listens on every interface")
	s.String(&o.schemaPath, "schema", "", "schema file (YAML or JSON); empty serves the embedded sample catalog")
	s.String(&o.policyPath, "policy", "", "policy file (YAML); empty uses the sample policy with the sample catalog, else allows every table")
	s.String(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	s.String(&o.logFormat, "log-format", "json", "log format: json or text")
	s.Bool(&o.logQuestions, "log-questions", false, "include questions and SQL in debug logs")
	s.String(&o.callers, "callers", "", "service callers, comma-separated, \"name\" or \"name:trusted\"; empty means anonymous, untrusted access")
	s.String(&o.tokensDir, "caller-tokens-dir", "", "directory with one token file per caller, named after the caller")
	s.Duration(&o.requestTimeout, "request-timeout", server.DefaultRequestTimeout, "deadline of a request whose caller sets none")
	s.Int(&o.maxSQLBytes, "max-sql-bytes", server.DefaultMaxSQLBytes, "largest SQL text accepted, in bytes")
	s.Int(&o.maxQuestionBytes, "max-question-bytes", server.DefaultMaxQuestionBytes, "largest question accepted, in bytes")
	s.Int(&o.maxRequestBytes, "max-request-bytes", server.DefaultMaxRequestBytes, "largest HTTP request body or gRPC message, in bytes")
	s.Int(&o.maxHistoryTurns, "max-history-turns", server.DefaultMaxHistoryTurns, "most earlier turns a GenerateSQL history may hold; more is refused (INVALID_ARGUMENT)")
	s.Int(&o.maxHistoryBytes, "max-history-bytes", server.DefaultMaxHistoryBytes, "most bytes of questions and SQL a GenerateSQL history may hold in all; more is refused (INVALID_ARGUMENT)")
	s.Float(&o.rateLimit, "rate-limit", 50, "requests per second allowed per caller (per client address when no callers are configured); 0 means no limit")
	s.Int(&o.rateBurst, "rate-burst", 100, "requests a caller may send at once above the rate")
	s.Int(&o.maxInFlight, "max-in-flight", 64, "requests one caller may have running at once; 0 means no limit")
	s.Duration(&o.shutdownDelay, "shutdown-delay", 0, "on SIGTERM, keep serving this long while reporting not ready (set ~5s behind a load balancer)")
	s.Duration(&o.shutdownGrace, "shutdown-grace", server.DefaultShutdownGrace, "on SIGTERM, how long in-flight requests may finish before they are cut off")
	g.define(s)
	ss.define(s)
	return s
}

// serveHooks let tests adjust the configuration and learn the bound
// addresses; the command itself passes none.
type serveHooks struct {
	config  func(*server.Config)
	started func(*server.Server)
}

func runServe(ctx context.Context, env *environ, args []string) int {
	return serve(ctx, env, args, serveHooks{})
}

func serve(ctx context.Context, env *environ, args []string, hooks serveHooks) int {
	var g generateOptions
	opts, log, code := serviceOptions(ctx, env, args, &g, nil)
	if log == nil {
		return code
	}
	if hooks.config != nil {
		hooks.config(&opts.Server)
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFailure
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Warn("cleanup failed", "error", err.Error())
		}
	}()
	if a.Pipeline != nil {
		log.Info("GenerateSQL served", "model", g.llm.Model, "endpoint", g.llm.BaseURL, "attempts", g.attempts,
			"source", opts.ModelSource, "why", opts.ModelReason)
	} else {
		log.Info("no model: GenerateSQL answers UNIMPLEMENTED", "why", opts.ModelReason)
	}
	srv := a.Server
	if err := srv.Start(); err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFailure
	}
	if hooks.started != nil {
		hooks.started(srv)
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "error", err.Error())
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// serviceOptions parses the settings of serve (adjusted by customize,
// for commands that take them too) and builds the service's options. A nil
// logger means it failed and code is the exit status.
func serviceOptions(ctx context.Context, env *environ, args []string, g *generateOptions, customize func(*settings)) (app.Options, *slog.Logger, int) {
	var o serveOptions
	var ss supersetServeOptions
	s := serveSettings(&o, g, &ss)
	if customize != nil {
		customize(s)
	}
	rest, err := s.parse(env, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
	}
	if err != nil {
		return app.Options{}, nil, s.fail(env, err)
	}
	log, err := newLogger(env.stderr, o.logLevel, o.logFormat)
	if err != nil {
		return app.Options{}, nil, s.fail(env, err)
	}
	opts, err := serveAppOptions(ctx, env, &o, g, &ss, log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return app.Options{}, nil, exitFailure
	}
	return opts, log, exitOK
}

// serveAppOptions turns the settings of `serve` into the service's options.
func serveAppOptions(ctx context.Context, env *environ, o *serveOptions, g *generateOptions, ss *supersetServeOptions, log *slog.Logger) (app.Options, error) {
	cfg, samplePolicy, err := serverConfig(env, o, log)
	if err != nil {
		return app.Options{}, err
	}
	opts := app.Options{Server: cfg}
	if ss.url != "" {
		opts.Superset = ss.options()
		if samplePolicy {
			// The sample policy names the sample's tables; Superset's own
			// permissions and the caller's scope decide for real catalogs.
			opts.Server.Policy = validate.DefaultPolicy()
			log.Warn("no --policy with a Superset catalog: every table the service account sees is allowed, narrowed by each caller's scope")
		}
	}
	if err := g.apply(ctx, env, &opts); err != nil {
		return app.Options{}, err
	}
	return opts, nil
}

// serverConfig turns the settings of this file into a server
// configuration; samplePolicy says the sample policy was chosen because no
// policy file was given.
func serverConfig(env *environ, o *serveOptions, log *slog.Logger) (cfg server.Config, samplePolicy bool, err error) {
	catalog, policy, err := loadCatalog(o.schemaPath, o.policyPath)
	if err != nil {
		return cfg, false, err
	}
	callers, err := loadCallers(env, o.callers, o.tokensDir)
	if err != nil {
		return cfg, false, err
	}
	source := o.schemaPath
	if source == "" {
		source = "embedded sample"
	}
	names := make([]string, 0, len(catalog.Databases))
	for _, d := range catalog.Databases {
		names = append(names, d.Name)
	}
	log.Info("catalog loaded", "schema", source, "databases", strings.Join(names, ","))
	for _, n := range []struct {
		name string
		v    int
	}{{"--max-sql-bytes", o.maxSQLBytes}, {"--max-question-bytes", o.maxQuestionBytes}, {"--max-request-bytes", o.maxRequestBytes},
		{"--max-history-turns", o.maxHistoryTurns}, {"--max-history-bytes", o.maxHistoryBytes}} {
		if n.v <= 0 {
			return cfg, false, fmt.Errorf("%s must be positive", n.name)
		}
	}
	if o.rateLimit < 0 || o.rateBurst < 0 || o.maxInFlight < 0 {
		return cfg, false, errors.New("--rate-limit, --rate-burst and --max-in-flight must not be negative")
	}
	if o.requestTimeout <= 0 || o.shutdownGrace <= 0 || o.shutdownDelay < 0 {
		return cfg, false, errors.New("--request-timeout and --shutdown-grace must be positive, --shutdown-delay not negative")
	}
	return server.Config{
		Store:            schema.NewFileStore(catalog, o.schemaPath),
		Policy:           policy,
		Callers:          callers,
		Limits:           server.Limits{Rate: o.rateLimit, Burst: o.rateBurst, MaxInFlight: o.maxInFlight},
		MaxSQLBytes:      o.maxSQLBytes,
		MaxQuestionBytes: o.maxQuestionBytes,
		MaxRequestBytes:  o.maxRequestBytes,
		MaxHistoryTurns:  o.maxHistoryTurns,
		MaxHistoryBytes:  o.maxHistoryBytes,
		RequestTimeout:   o.requestTimeout,
		LogQuestions:     o.logQuestions,
		Logger:           log,
		Registry:         server.NewRegistry(),
		HTTPAddr:         o.httpAddr,
		GRPCAddr:         o.grpcAddr,
		ShutdownDelay:    o.shutdownDelay,
		ShutdownGrace:    o.shutdownGrace,
	}, o.policyPath == "" && o.schemaPath == "", nil
}

// newLogger builds the structured logger every part of `serve` writes to.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not json or text", format)
}

// Package app assembles the service from options: the catalog store (a
// schema file or Superset), the policy, the model client and generation
// pipeline with its cache, examples and dry runs, and the server. Every
// program that runs the service (serve, demo, eval, the golden replay, the
// end-to-end tests, the overhead benchmark) builds it here, so they all run
// the same wiring.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/llm"
	"github.com/texttosql/text2sql/schema/cache"
	"github.com/texttosql/text2sql/schema/link"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/server/mcp"
	"github.com/texttosql/text2sql/server/ui"
)

// Version is the module version the binary was built from, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Options say what the service is made of. Zero parts are left out: no
// model means GenerateSQL answers UNIMPLEMENTED, no cache TTL means no
// answer cache, no Superset means Server.Store serves the catalogs.
type Options struct {
	// Server configures the service and its listeners. Server.Store is
	// required unless Superset is set; Server.Generator, when set, answers
	// GenerateSQL instead of a pipeline built from the options below.
	Server server.Config

	// Model is the OpenAI-compatible endpoint; GenerateSQL is served when
	// Model.Model is set or ModelClient is given.
	Model llm.Config
	// ModelSource and ModelReason say how Model was chosen ("flags",
	// "openai-env", "ollama"; see llm.Discover) and why, for the log,
	// /readyz and the question page.
	ModelSource, ModelReason string
	// ModelClient answers instead of an endpoint built from Model, e.g. a
	// golden.Replayer replaying recorded answers.
	ModelClient generate.Model
	// Generate tunes the pipeline.
	Generate generate.Config
	// Examples are the approved question/SQL pairs shown in prompts.
	Examples *generate.Examples
	// Cache keeps answers; a zero TTL turns it off.
	Cache Cache
	// DryRuns plan every valid answer against the named warehouses.
	DryRuns []DryRun

	// Superset, when set, serves catalogs from Superset (cached and
	// refreshed in the background) and scopes requests by end users'
	// Superset tokens.
	Superset *Superset
}

// Cache configures the answer cache.
type Cache struct {
	// Store, when set, is the cache; the fields below are then unused.
	Store generate.Cache
	// RedisURL shares the cache between replicas; empty keeps it in memory.
	RedisURL string
	// Size is how many answers the in-memory cache keeps.
	Size int
	TTL  time.Duration
}

// DryRun is one warehouse to plan answers against.
type DryRun struct {
	Database, DSN string
	Timeout       time.Duration
	// MaxCost refuses plans estimated above it (generate.NewDryRunner says
	// how each engine estimates); 0: no ceiling.
	MaxCost float64
}

// Superset configures the Superset catalog source and scope resolver.
type Superset struct {
	Client superset.Config
	// TTL and FullEvery pace catalog refreshes; ScopeTTL is how long a
	// user's visible datasets are reused.
	TTL, FullEvery, ScopeTTL time.Duration
}

// App is the assembled service.
type App struct {
	Server *server.Server
	// Pipeline is nil when GenerateSQL is not served by a pipeline.
	Pipeline *generate.Pipeline
	closers  []func() error
}

// New builds the service. Background work it starts (catalog refreshes)
// keeps ctx's values but runs until Close, not until ctx ends, so that a
// draining server still has its catalogs.
func New(ctx context.Context, o Options) (a *App, err error) {
	a = &App{}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	cfg := o.Server
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = server.NewRegistry()
	}
	if o.Superset != nil {
		if err := a.superset(ctx, &cfg, o.Superset); err != nil {
			return nil, err
		}
	}
	if cfg.Generator == nil && (o.Model.Model != "" || o.ModelClient != nil) {
		p, err := a.pipeline(&cfg, o)
		if err != nil {
			return nil, err
		}
		a.Pipeline, cfg.Generator = p, p
	}
	cfg.Model = server.ModelInfo{Reason: o.ModelReason}
	if a.Pipeline != nil && o.ModelClient == nil {
		cfg.Model = server.ModelInfo{Name: o.Model.Model, Endpoint: o.Model.BaseURL, Source: o.ModelSource, Reason: o.ModelReason}
	}
	if cfg.Generator == nil && cfg.Model.Reason == "" {
		cfg.Model.Reason = llm.NoModelReason
	}
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	a.Server = srv
	// Where people and agents ask: the question page at / and MCP at
	// /mcp, both over the same service and middleware as the API.
	page, err := ui.New()
	if err != nil {
		return nil, fmt.Errorf("question page: %w", err)
	}
	srv.Mount("GET /{$}", http.HandlerFunc(page.Index))
	srv.Mount("GET "+ui.AssetPrefix, http.HandlerFunc(page.Assets))
	srv.Mount("/mcp", mcp.Handler(srv.Local(mcp.Transport), Version()))
	return a, nil
}

// pipeline assembles the generation pipeline.
func (a *App) pipeline(cfg *server.Config, o Options) (*generate.Pipeline, error) {
	model := o.ModelClient
	if model == nil {
		c, err := llm.New(o.Model, llm.WithRegisterer(cfg.Registry), llm.WithLogger(cfg.Logger))
		if err != nil {
			return nil, fmt.Errorf("model endpoint: %w", err)
		}
		model = c
	}
	linker, err := link.Default()
	if err != nil {
		return nil, fmt.Errorf("schema linking: %w", err)
	}
	opts := []generate.Option{generate.WithMetrics(generate.NewMetrics(cfg.Registry))}
	if o.Examples != nil {
		opts = append(opts, generate.WithExamples(o.Examples))
	}
	switch c := o.Cache; {
	case c.Store != nil:
		opts = append(opts, generate.WithCache(c.Store))
	case c.TTL <= 0:
	case c.RedisURL != "":
		rc, err := generate.NewRedisCache(c.RedisURL, c.TTL)
		if err != nil {
			return nil, fmt.Errorf("answer cache: %w", err)
		}
		a.OnClose(rc.Close)
		opts = append(opts, generate.WithCache(rc))
	default:
		opts = append(opts, generate.WithCache(generate.NewMemoryCache(c.Size, c.TTL)))
	}
	for _, d := range o.DryRuns {
		if d.Database == "" || d.DSN == "" {
			return nil, errors.New("dry run: a database and a DSN are required")
		}
		opts = append(opts, generate.WithDryRun(d.Database, d.DSN, d.Timeout, d.MaxCost))
	}
	p := generate.New(o.Generate, model, linker, opts...)
	a.OnClose(func() error { p.Close(); return nil })
	return p, nil
}

// superset serves catalogs from Superset and scopes requests by end users'
// tokens.
func (a *App) superset(ctx context.Context, cfg *server.Config, o *Superset) error {
	sc := o.Client
	sc.Logger, sc.Registerer = cfg.Logger, cfg.Registry
	client, err := superset.New(sc)
	if err != nil {
		return fmt.Errorf("superset: %w", err)
	}
	store, err := cache.New(superset.NewSource(client), cache.Options{
		TTL: o.TTL, FullEvery: o.FullEvery, Logger: cfg.Logger, Registerer: cfg.Registry,
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	go store.Run(runCtx)
	a.OnClose(func() error { stop(); store.Close(); return nil })
	cfg.Store = store
	cfg.ScopeResolver = supersetScope{superset.NewScope(client, superset.ScopeOptions{TTL: o.ScopeTTL})}
	cfg.Logger.Info("catalogs come from Superset", "superset", sc.String())
	return nil
}

// OnClose registers cleanup to run, last first, on Close.
func (a *App) OnClose(f func() error) { a.closers = append(a.closers, f) }

// Close releases what New acquired (connections, background refreshes).
// Call it after the server has stopped.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

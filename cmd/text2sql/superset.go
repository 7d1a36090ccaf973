package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/schema/cache"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/validate"
)

func init() {
	serveExtensions = append(serveExtensions, supersetExtension)
	register(&command{name: "schema", summary: "schema tools: `schema pull` writes a schema file from a live Superset", run: runSchema})
}

// supersetOptions are the settings that connect to Superset.
type supersetOptions struct {
	url, username, password, provider, apiKey string
	databases                                 string
	timeout                                   time.Duration
	concurrency                               int
	rate                                      float64
	skipKeys                                  bool
}

func (o *supersetOptions) define(s *settings) {
	s.String(&o.url, "superset-url", "", "Superset address (e.g. http://superset:8088); when set, catalogs come from Superset instead of the schema file")
	s.String(&o.username, "superset-username", "", "Superset service account user name")
	s.String(&o.password, "superset-password", "", "Superset service account password (prefer the environment variable)")
	s.String(&o.provider, "superset-provider", "db", "Superset login provider: db or ldap")
	s.String(&o.apiKey, "superset-api-key", "", "Superset API key (sst_...), instead of user name and password (Superset 6.1+)")
	s.String(&o.databases, "superset-databases", "", "comma-separated Superset database names or ids to serve; empty serves every database the account sees")
	s.Duration(&o.timeout, "superset-timeout", 30*time.Second, "timeout of one call to Superset")
	s.Int(&o.concurrency, "superset-concurrency", superset.DefaultMaxConcurrency, "calls to Superset in flight at once (lower it for a small Superset)")
	s.Float(&o.rate, "superset-rate", superset.DefaultMaxRate, "calls to Superset per second; Superset 6 allows 50 per client address, shared by every client behind it; 0 means no limit")
	s.Bool(&o.skipKeys, "superset-skip-keys", false, "skip the table metadata calls that supply primary and foreign keys")
}

func (o *supersetOptions) config() superset.Config {
	var dbs []string
	for _, d := range strings.Split(o.databases, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dbs = append(dbs, d)
		}
	}
	return superset.Config{
		BaseURL: o.url, Username: o.username, Password: o.password, Provider: o.provider, APIKey: o.apiKey,
		Timeout: o.timeout, MaxConcurrency: o.concurrency, MaxRate: o.rate, Databases: dbs, SkipTableMetadata: o.skipKeys,
	}
}

func supersetExtension(s *settings) func(context.Context, *serveBuild) error {
	var o supersetOptions
	o.define(s)
	var ttl, fullEvery, scopeTTL time.Duration
	s.Duration(&ttl, "schema-ttl", 5*time.Minute, "how old a Superset catalog may get before it is refreshed")
	s.Duration(&fullEvery, "schema-full-every", time.Hour, "how often a refresh rebuilds a catalog instead of updating it")
	s.Duration(&scopeTTL, "scope-ttl", superset.DefaultScopeTTL, "how long the datasets a Superset user may see are reused")
	return func(ctx context.Context, b *serveBuild) error {
		if o.url == "" {
			return nil
		}
		log := b.Config.Logger
		cfg := o.config()
		cfg.Logger, cfg.Registerer = log, b.Config.Registry
		client, err := superset.New(cfg)
		if err != nil {
			return fmt.Errorf("superset: %w", err)
		}
		store, err := cache.New(superset.NewSource(client), cache.Options{
			TTL: ttl, FullEvery: fullEvery, Logger: log, Registerer: b.Config.Registry,
		})
		if err != nil {
			return err
		}
		runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		go store.Run(runCtx)
		b.OnClose(func() error { stop(); store.Close(); return nil })
		b.Config.Store = store
		b.Config.ScopeResolver = supersetScope{superset.NewScope(client, superset.ScopeOptions{TTL: scopeTTL})}
		if b.SamplePolicy {
			// The sample policy names the sample's tables; Superset's own
			// permissions and the caller's scope decide for real catalogs.
			b.Config.Policy = validate.DefaultPolicy()
			log.Warn("no --policy with a Superset catalog: every table the service account sees is allowed, narrowed by each caller's scope")
		}
		log.Info("catalogs come from Superset", "superset", cfg.String())
		return nil
	}
}

// supersetScope resolves an end user's token through Superset.
type supersetScope struct{ s *superset.Scope }

func (a supersetScope) VisibleDatasets(ctx context.Context, token string, databaseID int64) (server.DatasetSet, error) {
	ids, err := a.s.VisibleDatasets(ctx, token, databaseID)
	switch {
	case errors.Is(err, superset.ErrUserUnauthenticated):
		return nil, fmt.Errorf("%v: %w", err, server.ErrScopeUnauthenticated)
	case errors.Is(err, superset.ErrUserForbidden):
		return nil, status.Errorf(codes.PermissionDenied, "Superset refuses this user: %v", err)
	case err != nil:
		return nil, err
	}
	return ids, nil
}

func runSchema(ctx context.Context, env *environ, args []string) int {
	const schemaUsage = "Usage: text2sql schema pull --superset-url URL [flags] > schema.yaml\n\n" +
		"Subcommands:\n  pull  write a schema file (YAML) from a live Superset\n\n" +
		"Run \"text2sql schema pull --help\" for its flags and environment variables."
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprintln(env.stdout, schemaUsage)
			return exitOK
		}
	}
	if len(args) == 0 || args[0] != "pull" {
		fmt.Fprintln(env.stderr, schemaUsage)
		return exitUsage
	}
	var o supersetOptions
	s := &settings{command: "schema pull",
		summary: "Writes a schema file (YAML) with every physical dataset of a live Superset, for offline use and tests."}
	o.define(s)
	if rest, err := s.parse(env, args[1:]); err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		}
		return s.fail(env, err)
	}
	if o.url == "" {
		return s.fail(env, errors.New("--superset-url is required"))
	}
	cat, err := superset.Pull(ctx, o.config())
	if err != nil {
		fmt.Fprintf(env.stderr, "schema pull: %v\n", err)
		return exitFailure
	}
	if err := cat.Marshal(env.stdout); err != nil {
		fmt.Fprintf(env.stderr, "schema pull: %v\n", err)
		return exitFailure
	}
	return exitOK
}

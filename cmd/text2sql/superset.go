package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/schema/superset"
)

func init() {
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

// supersetServeOptions are the Superset settings of `serve`.
type supersetServeOptions struct {
	supersetOptions
	ttl, fullEvery, scopeTTL time.Duration
}

func (o *supersetServeOptions) define(s *settings) {
	o.supersetOptions.define(s)
	s.Duration(&o.ttl, "schema-ttl", 5*time.Minute, "how old a Superset catalog may get before it is refreshed")
	s.Duration(&o.fullEvery, "schema-full-every", time.Hour, "how often a refresh rebuilds a catalog instead of updating it")
	s.Duration(&o.scopeTTL, "scope-ttl", superset.DefaultScopeTTL, "how long the datasets a Superset user may see are reused")
}

func (o *supersetServeOptions) options() *app.Superset {
	return &app.Superset{Client: o.config(), TTL: o.ttl, FullEvery: o.fullEvery, ScopeTTL: o.scopeTTL}
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

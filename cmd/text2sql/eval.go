package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/golden"
	"github.com/texttosql/text2sql/golden/execdb"
	"github.com/texttosql/text2sql/llm"
)

func init() {
	register(&command{name: "eval", summary: "replay golden question sets through the service and score the answers; --record writes cassettes", run: runEval})
}

type evalOptions struct {
	sets, transports      string
	record                bool
	model                 llm.Config
	execute, load         bool
	benchmarks            string
	postgresURL, mysqlDSN string
	queryTimeout          time.Duration
	report, chart         string
}

func runEval(ctx context.Context, env *environ, args []string) int {
	var o evalOptions
	s := &settings{
		command: "eval",
		summary: "Runs golden question sets (golden/*.yaml) through the real service on loopback, over HTTP and gRPC,\n" +
			"with the model played by each set's cassette, and scores the answers: validity, refusals, expected tables,\n" +
			"and execution accuracy (generated and gold SQL run read-only on the loaded benchmark databases).\n" +
			"With --record it asks each case once and writes the set's cassette: from a real endpoint when\n" +
			"--llm-model is set, else from the set itself (scripted answers, else the first gold query).",
	}
	s.String(&o.sets, "set", "golden", "golden set files, comma-separated, or a directory of them")
	s.String(&o.transports, "transport", "http,grpc", "transports to ask over: http, grpc or both")
	s.Bool(&o.record, "record", false, "record cassettes instead of replaying them")
	s.String(&o.model.Model, "llm-model", "", "with --record: the model to record (else the set's own answers are recorded)")
	s.String(&o.model.BaseURL, "llm-base-url", "https://api.openai.com/v1", "with --record: the OpenAI-compatible endpoint")
	s.String(&o.model.APIKey, "llm-api-key", "", "with --record: the endpoint's API key (prefer the environment variable)")
	s.Bool(&o.execute, "execute", true, "run generated and gold SQL on the warehouses and compare results")
	s.Bool(&o.load, "load", true, "load the benchmark databases first (idempotent: a loaded database is only verified)")
	s.String(&o.benchmarks, "benchmarks", "", "benchmark data directory (default: $TEXT2SQL_BENCHMARKS, else testdata/benchmarks in the module)")
	s.String(&o.postgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server holding the Defog databases")
	s.String(&o.mysqlDSN, "mysql-dsn", "root@tcp(127.0.0.1:3306)/", "MariaDB or MySQL server holding the Spider databases")
	s.Duration(&o.queryTimeout, "query-timeout", 30*time.Second, "timeout of one query on a warehouse")
	s.String(&o.report, "report", "eval-report.md", "markdown report to write")
	s.String(&o.chart, "chart", "eval-report.svg", "chart (SVG) to write")
	if rest, err := s.parse(env, args); err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
		}
		return s.fail(env, err)
	}
	sets, err := loadSets(o.sets)
	if err != nil {
		return s.fail(env, err)
	}
	if o.record {
		return recordSets(ctx, env, &o, sets)
	}
	return evalSets(ctx, env, &o, sets)
}

func loadSets(spec string) ([]*golden.Set, error) {
	var paths []string
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			found, err := golden.Sets(p)
			if err != nil {
				return nil, err
			}
			paths = append(paths, found...)
		} else if p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("--set %q names no golden set", spec)
	}
	var sets []*golden.Set
	for _, p := range paths {
		set, err := golden.Load(p)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// recordSets asks every case once over HTTP and writes each set's cassette.
func recordSets(ctx context.Context, env *environ, o *evalOptions, sets []*golden.Set) int {
	var src golden.Source = golden.Oracle{}
	if o.model.Model != "" {
		c, err := llm.New(o.model)
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitUsage
		}
		src = golden.Endpoint{Client: c}
	}
	for _, set := range sets {
		rec := golden.NewRecorder(src)
		cat, _, err := set.LoadCatalog()
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		st, err := golden.StartStack(set, rec, golden.StackOptions{})
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		golden.Run(ctx, set, st, cat, golden.RunOptions{Transports: []string{golden.HTTP}, Recorder: rec,
			Progress: golden.NewProgress(env.stderr, len(set.Cases))})
		st.Close()
		cas, err := rec.Cassette()
		if err == nil {
			err = cas.Save(set)
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %s: %v\n", set.Name, err)
			return exitFailure
		}
		fmt.Fprintf(env.stdout, "%s: recorded %d exchanges from %s into %s\n", set.Name, len(cas.Exchanges), src.Name(), set.CassettePath())
	}
	return exitOK
}

// evalSets replays every set and writes the report.
func evalSets(ctx context.Context, env *environ, o *evalOptions, sets []*golden.Set) int {
	transports := strings.Split(strings.ReplaceAll(o.transports, " ", ""), ",")
	for _, t := range transports {
		if t != golden.HTTP && t != golden.GRPC {
			fmt.Fprintf(env.stderr, "text2sql eval: --transport %q: want http, grpc or both\n", o.transports)
			return exitUsage
		}
	}
	var exec *golden.Executors
	notes := []string{fmt.Sprintf("Run on %s; model answers replayed from each set's cassette.", time.Now().UTC().Format(time.RFC3339))}
	if o.execute && needsWarehouses(sets) {
		var err error
		if exec, err = warehouses(ctx, env, o); err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		defer func() {
			exec.Postgres.Close()
			exec.MariaDB.Close()
		}()
	}
	total := 0
	for _, set := range sets {
		total += len(set.Cases) * len(transports)
	}
	progress := golden.NewProgress(env.stderr, total)
	var all []*golden.Outcome
	var sums []*golden.Summary
	misses := 0
	for _, set := range sets {
		cas, err := set.LoadCassette()
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		notes = append(notes, fmt.Sprintf("`%s`: %d cases; cassette source: %s.", set.Name, len(set.Cases), orNone(cas.Source)))
		cat, _, err := set.LoadCatalog()
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		rep := golden.NewReplayer(cas)
		st, err := golden.StartStack(set, rep, golden.StackOptions{SupersetURL: "https://superset.example.com"})
		if err != nil {
			fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
			return exitFailure
		}
		outcomes := golden.Run(ctx, set, st, cat, golden.RunOptions{Transports: transports, Exec: exec, Replayer: rep, Progress: progress})
		st.Close()
		for _, oc := range outcomes {
			misses += len(oc.Missing)
		}
		all = append(all, outcomes...)
		sums = append(sums, golden.Summarize(set.Name, outcomes)...)
	}
	if err := writeReport(o, sums, all, notes); err != nil {
		fmt.Fprintf(env.stderr, "text2sql eval: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "%-16s %-5s %6s %10s %9s %9s %9s %10s %10s\n", "set", "via", "cases", "exec acc", "validity", "refusals", "attempts", "p50", "p95")
	for _, s := range sums {
		fmt.Fprintf(env.stdout, "%-16s %-5s %6d %10s %9s %9s %9.2f %10v %10v\n", s.Set, s.Transport, s.Cases,
			golden.Percent(s.ExecutionAccuracy()), golden.Percent(s.Validity()), golden.Percent(s.RefusalRate()), s.MeanAttempts(),
			s.Latency(0.5).Round(10*time.Microsecond), s.Latency(0.95).Round(10*time.Microsecond))
	}
	fmt.Fprintf(env.stdout, "report: %s, chart: %s\n", o.report, o.chart)
	if misses > 0 {
		fmt.Fprintf(env.stderr, "text2sql eval: %d model requests were not in the cassettes; record them with --record\n", misses)
		return exitFailure
	}
	return exitOK
}

func needsWarehouses(sets []*golden.Set) bool {
	for _, s := range sets {
		if s.HasGold() {
			return true
		}
	}
	return false
}

// warehouses connects to (and, with --load, loads) the benchmark databases.
func warehouses(ctx context.Context, env *environ, o *evalOptions) (*golden.Executors, error) {
	if o.load {
		dir := o.benchmarks
		if dir == "" {
			var err error
			if dir, err = benchdata.Dir(); err != nil {
				return nil, fmt.Errorf("--load needs the benchmark data (--benchmarks): %w", err)
			}
		}
		start := time.Now()
		if _, err := (execdb.DefogLoader{URL: o.postgresURL, Dir: dir}).Load(ctx); err != nil {
			return nil, fmt.Errorf("loading Defog into PostgreSQL: %w", err)
		}
		if _, err := (execdb.SpiderManLoader{DSN: o.mysqlDSN, Dir: dir}).Load(ctx); err != nil {
			return nil, fmt.Errorf("loading Spider into MariaDB: %w", err)
		}
		fmt.Fprintf(env.stderr, "benchmark databases loaded or verified in %v\n", time.Since(start).Round(10*time.Millisecond))
	}
	pg, err := execdb.NewPostgres(o.postgresURL)
	if err != nil {
		return nil, err
	}
	pg.Role = "pg_read_all_data"
	my, err := execdb.NewMariaDB(o.mysqlDSN)
	if err != nil {
		pg.Close()
		return nil, err
	}
	return &golden.Executors{Postgres: pg, MariaDB: my, Timeout: o.queryTimeout}, nil
}

func writeReport(o *evalOptions, sums []*golden.Summary, all []*golden.Outcome, notes []string) error {
	for _, f := range []struct {
		path  string
		write func(*os.File) error
	}{
		{o.report, func(w *os.File) error { return golden.WriteMarkdown(w, "text2sql eval", sums, all, notes) }},
		{o.chart, func(w *os.File) error { return golden.WriteSVG(w, "text2sql eval", sums) }},
	} {
		if f.path == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		w, err := os.Create(f.path)
		if err != nil {
			return err
		}
		err = errors.Join(f.write(w), w.Close())
		if err != nil {
			return err
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

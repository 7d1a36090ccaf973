// Command build writes the golden sets shipped in golden/ from the
// benchmark data in testdata/benchmarks: catalog.yaml (the Defog and
// SpiderMan databases as the local servers hold them), policy.yaml, and the
// defog-postgres and spider-mysql sets.
//
// It needs the benchmark databases in the local PostgreSQL and MariaDB and
// loads them itself (loading is idempotent: a second run only verifies),
// because the data decides which Spider questions have a deterministic gold
// result, and because every gold query written must run. Output is
// deterministic: the same benchmark data gives byte-identical files.
//
//	go run ./test/golden/build [-bench DIR] [-out DIR] [-postgres URL] [-mariadb DSN]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/golden/execdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run() error {
	bench := flag.String("bench", "", "benchmark directory (default: $"+benchdata.EnvDir+", else testdata/benchmarks in the module)")
	out := flag.String("out", "", "directory to write the golden files to (default: golden of the module)")
	pgURL := flag.String("postgres", execdb.DefaultPostgresURL, "PostgreSQL server to load the Defog databases into (superuser)")
	myDSN := flag.String("mariadb", execdb.DefaultMariaDBDSN, "MariaDB server to load the SpiderMan databases into")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", flag.Args())
	}

	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dir := *bench
	if dir == "" {
		d, err := benchdata.Dir()
		if err != nil {
			return err
		}
		dir = d
	}
	outDir := *out
	if outDir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		outDir = filepath.Join(root, "golden")
	}

	defogReports, err := execdb.DefogLoader{URL: *pgURL, Dir: dir}.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading Defog databases: %w", err)
	}
	spiderReports, err := execdb.SpiderManLoader{DSN: *myDSN, Dir: dir}.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading SpiderMan databases: %w", err)
	}
	for _, r := range append(append([]execdb.LoadReport{}, defogReports...), spiderReports...) {
		if r.Loaded || len(r.Empty) > 0 {
			fmt.Println(r)
		}
	}
	pg, err := execdb.NewPostgres(*pgURL)
	if err != nil {
		return err
	}
	defer pg.Close()
	// Gold queries read every table and nothing more.
	pg.Role = "pg_read_all_data"
	my, err := execdb.NewMariaDB(*myDSN)
	if err != nil {
		return err
	}
	defer my.Close()

	sum, err := build(ctx, env{Bench: dir, Postgres: pg, MariaDB: my, SpiderMan: spiderReports}, outDir)
	if err != nil {
		return err
	}
	sum.print(os.Stdout)
	fmt.Printf("wrote %s in %s\n", outDir, time.Since(start).Round(time.Millisecond))
	return nil
}

// moduleRoot is the nearest directory above the working directory holding
// go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s; give -out", wd)
		}
	}
}

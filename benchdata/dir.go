// Package benchdata reads the public text-to-SQL benchmarks kept beside the
// repository (BIRD mini-dev, Spider dev, SpiderMan's MySQL Spider, Defog
// sql-eval) into the project's own types: catalogs as *schema.Catalog, and
// question sets with their gold queries and the tables those queries read.
//
// Catalogs are derived from each benchmark's own schema files, parsed with
// the dialect's real parser where the files are DDL. Gold tables are read
// from gold queries with the same parsers. Nothing here knows individual
// questions: every rule applies to a whole data set.
package benchdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvDir names an environment variable that, when set, overrides where the
// benchmark directory is looked for.
const EnvDir = "TEXT2SQL_BENCHMARKS"

// Dir returns the benchmark directory: $TEXT2SQL_BENCHMARKS when set,
// otherwise ../shared/benchmarks relative to the module root (the nearest
// directory above the working directory holding go.mod).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return checkDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return checkDir(filepath.Join(d, "..", "shared", "benchmarks"))
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

func checkDir(d string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "SOURCES.md")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("benchmark directory %s not found (no SOURCES.md); set %s", abs, EnvDir)
		}
		return "", err
	}
	return abs, nil
}

// Require returns the benchmark directory for a test. When it is missing the
// test fails under CI=true (the data is part of the CI environment) and is
// skipped with the reason otherwise.
func Require(tb TB) string {
	tb.Helper()
	d, err := Dir()
	if err == nil {
		return d
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("benchmark data required under CI: %v", err)
	}
	tb.Skipf("benchmark data not available: %v", err)
	return ""
}

// TB is the part of testing.TB the Require helpers use. They take it as an
// interface so that the binary, which reads benchmark data for text2sql
// eval, does not link the testing package.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

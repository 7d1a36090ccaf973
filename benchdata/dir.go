// Package benchdata reads the public text-to-SQL benchmarks kept in the
// repository under testdata/benchmarks (BIRD mini-dev, Spider dev, SpiderMan's MySQL Spider, Defog
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

// Dir returns the benchmark directory: $TEXT2SQL_BENCHMARKS when set (data
// of the same layout kept elsewhere), otherwise testdata/benchmarks under the
// module root (the nearest directory above the working directory holding
// go.mod).
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
			return checkDir(filepath.Join(d, "testdata", "benchmarks"))
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

// Require returns the benchmark directory for a test, and fails the test
// when it is missing: the data is part of the repository, so a missing
// directory (or a wrong $TEXT2SQL_BENCHMARKS) is an error, not a reason to
// skip.
func Require(tb TB) string {
	tb.Helper()
	d, err := Dir()
	if err != nil {
		tb.Fatalf("benchmark data: %v", err)
	}
	return d
}

// TB is the part of testing.TB the Require helpers use. They take it as an
// interface so that the binary, which reads benchmark data for text2sql
// eval, does not link the testing package.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

package generate

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/texttosql/text2sql/schema"
)

// TestEmbeddedDryRuns plans against real SQLite and DuckDB files: a
// statement the engine cannot bind is a PlanError (fed back to the model),
// a good one plans, and the file is opened read-only.
func TestEmbeddedDryRuns(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		backend, driver, file string
	}{
		{"sqlite", "sqlite", filepath.Join(dir, "shop.db")},
		{"duckdb", "duckdb", filepath.Join(dir, "shop.duckdb")},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			w, err := sql.Open(tc.driver, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"CREATE TABLE orders (id INTEGER, total DOUBLE)", "INSERT INTO orders VALUES (1, 2.5)"} {
				if _, err := w.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			db := &schema.Database{Name: "shop", Backend: tc.backend}
			r, err := NewDryRunner(context.Background(), db, tc.file, 5*time.Second, 0)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := r.Explain(ctx, "SELECT sum(total) FROM orders LIMIT 100"); err != nil {
				t.Fatalf("a good statement: %v", err)
			}
			var pe *PlanError
			if err := r.Explain(ctx, "SELECT nosuch FROM orders"); !errors.As(err, &pe) {
				t.Fatalf("an unknown column: %v, want a PlanError", err)
			}
			// The validator never hands a write to the dry run; were one to
			// arrive, the read-only file keeps it from running.
			_ = r.Explain(ctx, "DELETE FROM orders")
			r.Close()
			check, err := sql.Open(tc.driver, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()
			var n int
			if err := check.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil || n != 1 {
				t.Fatalf("rows after the dry runs: %d, %v", n, err)
			}
		})
	}
}

func TestReadOnlyDSNs(t *testing.T) {
	for in, want := range map[string]string{
		"/data/shop.db":                   "file:/data/shop.db?_pragma=query_only%281%29&mode=ro",
		"file:/data/shop.db?cache=shared": "file:/data/shop.db?_pragma=query_only%281%29&cache=shared&mode=ro",
		"file:/data/shop.db?mode=rwc":     "file:/data/shop.db?_pragma=query_only%281%29&mode=ro",
	} {
		if got, err := sqliteDSN(in); err != nil || got != want {
			t.Errorf("sqliteDSN(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"/data/shop.duckdb":           "/data/shop.duckdb?access_mode=READ_ONLY",
		"/data/shop.duckdb?threads=2": "/data/shop.duckdb?threads=2&access_mode=READ_ONLY",
		"md:analytics":                "md:analytics",
	} {
		if got := duckDSN(in); got != want {
			t.Errorf("duckDSN(%q) = %q; want %q", in, got, want)
		}
	}
}

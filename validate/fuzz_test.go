package validate

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/texttosql/text2sql/validate/hostile"
)

// fuzzValidate checks the judge's promise on any input: no panic, every
// refusal says why, and SQL it accepts is accepted again, reading the same
// tables, when its own printed form is validated.
func fuzzValidate(f *testing.F, dialect string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dialect, "*.yaml"))
	if len(files) == 0 {
		f.Fatalf("no case files for %s", dialect)
	}
	var rules *Rules
	for _, path := range files {
		var cf *caseFile
		cf, _, rules = loadCaseFile(f, path)
		for _, tc := range cf.Cases {
			f.Add(tc.SQL)
		}
	}
	// Hostile shapes, small enough for the fuzzer to mutate.
	for _, sh := range hostile.Shapes() {
		for _, size := range []int{64, 512, 4096} {
			f.Add(sh.SQL(size))
		}
	}
	v := New()
	db := rules.Database()
	f.Fuzz(func(t *testing.T, sql string) {
		res := v.Validate(Request{SQL: sql, Database: db, Rules: rules})
		if !res.Valid {
			if len(res.Violations) == 0 {
				t.Fatalf("refused without a violation: %q", sql)
			}
			return
		}
		again := v.Validate(Request{SQL: res.SQL, Database: db, Rules: rules})
		if !again.Valid {
			t.Fatalf("accepted %q, printed as %q, which is refused: %+v", sql, res.SQL, again.Violations)
		}
		if !slices.Equal(again.Tables, res.Tables) {
			t.Fatalf("accepted %q reading %v; its printed form %q reads %v", sql, res.Tables, res.SQL, again.Tables)
		}
	})
}

func FuzzValidatePostgres(f *testing.F) { fuzzValidate(f, "postgres") }
func FuzzValidateMySQL(f *testing.F)    { fuzzValidate(f, "mysql") }

// BenchmarkValidate times the whole judgement, printing included, of
// realistic analyst queries per dialect.
func BenchmarkValidate(b *testing.B) {
	for _, bc := range []struct{ dialect, sql string }{
		{"postgres", `WITH monthly AS (SELECT date_trunc('month', o.created_at) AS month, c.country, sum(o.total) AS revenue
			FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY 1, 2)
			SELECT month, country, revenue, rank() OVER (PARTITION BY month ORDER BY revenue DESC) AS r FROM monthly ORDER BY month, r`},
		{"mysql", "SELECT DATE_FORMAT(o.created_at, '%Y-%m') AS month, c.country, SUM(o.total) AS revenue, COUNT(DISTINCT o.customer_id) AS buyers " +
			"FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY month, c.country ORDER BY month, revenue DESC"},
	} {
		b.Run(bc.dialect, func(b *testing.B) {
			files, _ := filepath.Glob(filepath.Join("testdata", bc.dialect, "*.yaml"))
			_, db, rules := loadCaseFile(b, files[0])
			v := New()
			for b.Loop() {
				if res := v.Validate(Request{SQL: bc.sql, Database: db, Rules: rules}); !res.Valid {
					b.Fatal(res.Violations)
				}
			}
		})
	}
}

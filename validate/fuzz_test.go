package validate

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/texttosql/text2sql/validate/hostile"
)

// fuzzValidate checks the judge's promise on any input: no panic, every
// refusal says why, SQL it accepts comes back without comments, hints or
// template openings, and is accepted again, reading the same tables, when
// its own printed form is validated.
func fuzzValidate(f *testing.F, dialect string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dialect, "*.yaml"))
	if len(files) == 0 {
		f.Fatalf("no case files for %s", dialect)
	}
	// The attacks' policy renders templates, as the default does.
	_, _, rules := loadCaseFile(f, filepath.Join("testdata", dialect, "attacks.yaml"))
	for _, path := range files {
		cf, _, _ := loadCaseFile(f, path)
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
		if m := hiddenText(res.SQL, res.Dialect); m != "" {
			t.Fatalf("accepted %q as %q, which holds %s", sql, res.SQL, m)
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

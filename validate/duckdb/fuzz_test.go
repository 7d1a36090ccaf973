package duckdb

import (
	"errors"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

// FuzzParse checks that no input makes the adapter panic, that errors are
// parse errors inside the input, and that printing a described query
// gives text that describes the same way.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT id FROM orders", "SELECT * EXCLUDE (a) FROM t QUALIFY row_number() OVER () = 1",
		"SELECT list_transform([1], x -> x + 1)", "FROM t SELECT a GROUP BY ALL", "SELECT $$;$$",
		"SELECT * FROM read_csv('x')", "COPY t TO 'x'", "WITH r AS (SELECT 1) SELECT * FROM r LIMIT 5",
		"SELECT * FROM (VALUES (1)) v(a)", "SELECT 'a' -- c\n;", "SELECT e'\\'';",
	} {
		f.Add(s)
	}
	p := parser(f)
	f.Fuzz(func(t *testing.T, sql string) {
		parsed, err := p.Parse(sql)
		if err != nil {
			var pe *stmt.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *stmt.ParseError", err)
			}
			if pe.Pos < -1 || pe.Pos > len(sql) {
				t.Fatalf("error position %d outside the %d-byte input", pe.Pos, len(sql))
			}
			return
		}
		d := parsed.Describe()
		if d.Query == nil || len(d.Findings) > 0 {
			return
		}
		out, err := parsed.Print(100)
		if err != nil {
			return // refused by Print's own proof
		}
		again, err := p.Parse(out)
		if err != nil {
			t.Fatalf("printed text does not parse: %v\nin:  %q\nout: %q", err, sql, out)
		}
		if d2 := again.Describe(); d2.Query == nil || len(d2.Findings) > 0 {
			t.Fatalf("printed text is judged differently: %+v\nin:  %q\nout: %q", d2.Findings, sql, out)
		}
	})
}

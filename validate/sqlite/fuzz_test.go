package sqlite

import (
	"errors"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

// FuzzParse checks that no input makes the adapter panic, that errors are
// parse errors inside the input, and that a statement described without
// findings prints to text that SQLite reads as the same reads again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT id FROM orders", "SELECT * FROM customers c JOIN orders o USING (id)",
		"WITH x AS (SELECT 1) SELECT * FROM x", "VALUES (1)", "SELECT 'a;b' -- c\n;",
		"SELECT id FROM orders LIMIT 5, 1000", "SELECT \"x\" FROM orders", "ATTACH 'a' AS b",
		"SELECT name FROM sqlite_master", "SELECT 1; SELECT 2", "PRAGMA table_info(orders)",
	} {
		f.Add(s)
	}
	b := bind(f, New(), shop(f))
	f.Fuzz(func(t *testing.T, sql string) {
		parsed, err := b.Parse(sql)
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
		again, err := b.Parse(out)
		if err != nil {
			t.Fatalf("printed text does not parse: %v\nin:  %q\nout: %q", err, sql, out)
		}
		if d2 := again.Describe(); d2.Query == nil || len(d2.Findings) > 0 {
			t.Fatalf("printed text is judged differently: %+v\nin:  %q\nout: %q", d2.Findings, sql, out)
		}
	})
}

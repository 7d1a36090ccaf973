package duckdb

import (
	"testing"

	"github.com/texttosql/text2sql/test/adaptertest"
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
	adaptertest.FuzzRoundTrip(f, parser(f))
}

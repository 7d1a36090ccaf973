package sqlite

import (
	"testing"

	"github.com/texttosql/text2sql/test/adaptertest"
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
	adaptertest.FuzzRoundTrip(f, bind(f, New(), shop(f)))
}

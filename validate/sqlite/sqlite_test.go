package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

func shop(t testing.TB) *schema.Database {
	t.Helper()
	cat, err := schema.LoadFile("../testdata/shop_sqlite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cat.Databases[0]
}

func bind(t testing.TB, p *Parser, db *schema.Database) stmt.Parser {
	t.Helper()
	b, err := p.For(db)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDescribe checks what SQLite's reports become: real tables, fully
// qualified columns, functions; CTEs and aliases already resolved.
func TestDescribe(t *testing.T) {
	b := bind(t, New(), shop(t))
	for _, tc := range []struct {
		sql         string
		from, refs  []string
		funcs       []string
		findingCode string
	}{
		{sql: "WITH orders AS (SELECT email AS id FROM customers) SELECT id FROM orders",
			from: []string{"main.customers"}, refs: []string{"main.customers.email"}},
		{sql: "SELECT 1 FROM customers JOIN (SELECT 'a' AS phone) x USING (phone)",
			from: []string{"main.customers"}, refs: []string{"main.customers.phone"}},
		{sql: "SELECT count(*) FROM orders", from: []string{"main.orders"}, funcs: []string{"count"}},
		{sql: "SELECT upper(name) FROM customers WHERE name LIKE 'a%'",
			from: []string{"main.customers"}, refs: []string{"main.customers.name"}, funcs: []string{"like", "upper"}},
		{sql: "SELECT value FROM json_each('[1]')", funcs: []string{"json_each"}},
		{sql: "SELECT * FROM pragma_table_info('orders')", findingCode: stmt.CodeNotReadOnly},
		{sql: "SELECT name FROM sqlite_master", findingCode: stmt.CodeSystemCatalog},
		{sql: "ATTACH 'x' AS y", findingCode: stmt.CodeNotReadOnly},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			p, err := b.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			d := p.Describe()
			if tc.findingCode != "" {
				if len(d.Findings) == 0 || d.Findings[0].Code != tc.findingCode {
					t.Fatalf("findings %+v, want %s", d.Findings, tc.findingCode)
				}
				return
			}
			if len(d.Findings) > 0 || d.Query == nil {
				t.Fatalf("findings %+v", d.Findings)
			}
			var from, refs, funcs []string
			for _, s := range d.Query.From {
				from = append(from, join(s.Name))
			}
			for _, r := range d.Query.Refs {
				if s := join(r.Parts); !contains(refs, s) {
					refs = append(refs, s)
				}
			}
			for _, f := range d.Query.Funcs {
				funcs = append(funcs, join(f.Name))
			}
			if fmt.Sprint(from) != fmt.Sprint(tc.from) || fmt.Sprint(refs) != fmt.Sprint(tc.refs) || fmt.Sprint(sorted(funcs)) != fmt.Sprint(tc.funcs) {
				t.Fatalf("from %v refs %v funcs %v\nwant %v %v %v", from, refs, funcs, tc.from, tc.refs, tc.funcs)
			}
		})
	}
}

func join(ids []stmt.Ident) string {
	var s []string
	for _, id := range ids {
		s = append(s, id.Name)
	}
	return strings.Join(s, ".")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sorted(l []string) []string {
	out := append([]string(nil), l...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestDeepInputs feeds nesting and operator chains far past any real
// query: each is refused with a parse error, and the process survives.
func TestDeepInputs(t *testing.T) {
	b := bind(t, New(), shop(t))
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"SELECT 1" + strings.Repeat(" + 1", 100000),
		"SELECT 1 WHERE 1" + strings.Repeat(" AND 1", 50000),
		"SELECT " + strings.Repeat("(SELECT ", 60) + "1" + strings.Repeat(")", 60),
		"SELECT 1" + strings.Repeat(" UNION SELECT 1", 1000),
		"SELECT " + strings.Repeat("-", 100000) + "1",
		"SELECT " + strings.Repeat("CASE WHEN 1 THEN ", 3000) + "1" + strings.Repeat(" END", 3000),
	} {
		_, err := b.Parse(sql)
		var pe *stmt.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%.40s...: got %v, want a parse error", sql, err)
		}
	}
}

// TestConcurrentUse parses from many goroutines over two catalog versions
// while the cache holds few shadows, so shadows are evicted while in use.
func TestConcurrentUse(t *testing.T) {
	p := New()
	p.cache.shadow.Resize(1)
	a := shop(t)
	other := shop(t)
	other.Tables = append(other.Tables, &schema.Table{Schema: "main", Name: "extra", Columns: []schema.Column{{Name: "x"}}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				db, want := a, "main.orders"
				if (i+j)%2 == 1 {
					db, want = other, "main.extra"
				}
				sql := "SELECT id FROM orders"
				if want == "main.extra" {
					sql = "SELECT x FROM extra"
				}
				b, err := p.For(db)
				if err != nil {
					t.Error(err)
					return
				}
				parsed, err := b.Parse(sql)
				if err != nil {
					t.Error(err)
					return
				}
				d := parsed.Describe()
				if d.Query == nil || len(d.Query.From) != 1 || join(d.Query.From[0].Name) != want {
					t.Errorf("%s: %+v", sql, d)
					return
				}
				if _, err := parsed.Print(10); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestShadowVersion checks that a changed catalog gets a new shadow: a
// column added to the catalog becomes readable.
func TestShadowVersion(t *testing.T) {
	p := New()
	db := shop(t)
	if _, err := bind(t, p, db).Parse("SELECT discount FROM orders"); err != nil {
		t.Fatal(err)
	}
	parsed, _ := bind(t, p, db).Parse("SELECT discount FROM orders")
	if d := parsed.Describe(); len(d.Findings) == 0 || d.Findings[0].Code != stmt.CodeUnknownColumn {
		t.Fatalf("unknown column accepted: %+v", d)
	}
	for _, tb := range db.Tables {
		if tb.Name == "orders" && tb.Schema == "main" {
			tb.Columns = append(tb.Columns, schema.Column{Name: "discount"})
		}
	}
	parsed, err := bind(t, p, db).Parse("SELECT discount FROM orders")
	if err != nil {
		t.Fatal(err)
	}
	if d := parsed.Describe(); len(d.Findings) > 0 {
		t.Fatalf("the new column is not known: %+v", d.Findings)
	}
}

// TestLexRoundTrip: the tokens' text joined is the input again.
func TestLexRoundTrip(t *testing.T) {
	for _, sql := range []string{
		"SELECT 'it''s' , \"a\"\"b\", [x y], `c`, x'AB', 1.5e3, 0x1F, ?1, :a, @b, $c -- tail",
		"SELECT /* open",
		"SELECT 'open",
		"SELECT a->>'$.b', a->'c' FROM t WHERE a <> b AND c != d OR e == f",
	} {
		var b strings.Builder
		for _, tok := range lex(sql) {
			b.WriteString(tok.text(sql))
		}
		if b.String() != sql {
			t.Errorf("lex(%q) joins to %q", sql, b.String())
		}
	}
}

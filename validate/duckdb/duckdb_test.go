package duckdb

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

var shared struct {
	once sync.Once
	p    *Parser
	err  error
}

func parser(t testing.TB) *Parser {
	t.Helper()
	shared.once.Do(func() { shared.p, shared.err = New() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.p
}

// TestPrintParsesToTheJudgedTree: for every shape, the returned text is
// read by DuckDB's parser as the judged tree with the cap, whichever of
// the two printers produced it.
func TestPrintParsesToTheJudgedTree(t *testing.T) {
	p := parser(t)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT id FROM orders", "SELECT id FROM orders LIMIT 100"},
		{"SELECT id FROM orders LIMIT 5", "SELECT id FROM orders LIMIT 5"},
		{"SELECT id FROM orders LIMIT 1000 OFFSET 3", "SELECT id FROM orders LIMIT 100 OFFSET 3"},
		{"SELECT id /* c */ FROM orders -- x\n;", "SELECT id FROM orders LIMIT 100"},
		{"SELECT * FROM (VALUES (1, 'a')) v(n, s)", "SELECT * FROM (VALUES (1, 'a')) v(n, s) LIMIT 100"},
		{"SELECT a FROM t UNION SELECT b FROM u", "(SELECT a FROM t) UNION (SELECT b FROM u) LIMIT 100"},
		{"SELECT a FROM t LIMIT (SELECT 5)", "SELECT a FROM t LIMIT 100"},
	} {
		res, err := p.Parse(tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		out, err := res.Print(100)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if out != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.sql, out, tc.want)
		}
		x := res.(*parsed)
		tree, _ := deepCopy(x.tree)
		capRows(tree["node"].(node), 100)
		if err := x.proves(out, stripLocations(any(tree))); err != nil {
			t.Errorf("%s: %v", out, err)
		}
	}
}

// TestDeepInputs: shapes far past any real query are refused before the
// parser, and the process survives.
func TestDeepInputs(t *testing.T) {
	p := parser(t)
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"SELECT 1" + strings.Repeat(" + 1", 100000),
		"SELECT 1 WHERE true" + strings.Repeat(" AND true", 50000),
		"SELECT " + strings.Repeat("[", 10000) + "1" + strings.Repeat("]", 10000),
		"SELECT " + strings.Repeat("-", 100000) + "1",
		"SELECT " + strings.Repeat("(SELECT ", 60) + "1" + strings.Repeat(")", 60),
		"SELECT " + strings.Repeat("CASE WHEN true THEN ", 1900) + "1" + strings.Repeat(" END", 1900),
	} {
		parsed, err := p.Parse(sql)
		var pe *stmt.ParseError
		if errors.As(err, &pe) {
			continue
		}
		if err != nil {
			t.Errorf("%.40s...: %v", sql, err)
			continue
		}
		if d := parsed.Describe(); d.Query == nil && len(d.Findings) == 0 {
			t.Errorf("%.40s...: neither refused nor described", sql)
		}
	}
}

// TestConcurrentUse parses and prints from many goroutines over the
// bounded pool.
func TestConcurrentUse(t *testing.T) {
	p := parser(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				parsed, err := p.Parse("SELECT status, count(*) FROM orders GROUP BY ALL")
				if err != nil {
					t.Error(err)
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

// TestNet: a typed object the describer does not read is refused.
func TestNet(t *testing.T) {
	d := &describer{seen: map[uintptr]bool{}}
	root := node{"node": node{"type": "SELECT_NODE", "modifiers": []any{}, "cte_map": node{"map": []any{}},
		"select_list": []any{}, "from_table": nil, "where_clause": nil, "group_expressions": []any{},
		"group_sets": []any{}, "aggregate_handling": "STANDARD_HANDLING", "having": nil, "sample": nil,
		"qualify": nil, "new_clause": node{"class": "COLUMN_REF", "type": "COLUMN_REF"}}}
	d.query(root["node"].(node))
	if len(d.findings) == 0 || d.findings[0].Code != stmt.CodeUnsupportedSyntax {
		t.Fatalf("unknown key passed: %+v", d.findings)
	}
	d = &describer{seen: map[uintptr]bool{}}
	d.net(node{"x": node{"class": "FUNCTION", "type": "FUNCTION"}})
	if len(d.findings) == 0 {
		t.Fatal("an unread node passed the net")
	}
}

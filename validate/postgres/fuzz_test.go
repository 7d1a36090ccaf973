package postgres

import (
	"errors"
	"slices"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/texttosql/text2sql/validate/hostile"
	"github.com/texttosql/text2sql/validate/stmt"
)

// FuzzParse checks that no input makes the adapter panic, and that a query
// described without findings prints to SQL that describes the same way:
// again a clean query, over the same tables.
func FuzzParse(f *testing.F) {
	for _, cases := range loadYAML[describeCase](f, "describe/*.yaml") {
		for _, c := range cases {
			f.Add(c.SQL)
		}
	}
	for _, c := range loadYAML[printCase](f, "print.yaml")["print.yaml"] {
		f.Add(c.SQL)
	}
	for _, c := range loadYAML[parseErrorCase](f, "parse.yaml")["parse.yaml"] {
		f.Add(c.SQL)
	}
	for _, sh := range hostile.Shapes() {
		f.Add(sh.SQL(512))
	}
	p := New()
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
		// Print's round-trip check must find the tree equal to its own JSON,
		// or it would refuse statements for nothing.
		tree := treeOf(parsed)
		if js, err := pgparser.ParseToJSON(sql); err != nil || !matchesJSON(js, tree.Version, tree.Stmts[0].Stmt) {
			t.Fatalf("the tree does not match its own JSON (%v)\nsql: %q", err, sql)
		}
		st := parsed.Describe()
		capped, capErr := parsed.Print(100)
		plain, plainErr := parsed.Print(0)
		if plainErr != nil && capErr == nil {
			t.Fatalf("Print(0) failed where Print(100) worked: %v", plainErr)
		}
		if st.Query == nil || len(st.Findings) > 0 {
			return
		}
		if errors.Is(capErr, errRoundTrip) || errors.Is(plainErr, errRoundTrip) {
			// A deparser limitation, caught by Print's own check and refused.
			t.Logf("refused by the round-trip check: %v / %v", capErr, plainErr)
			return
		}
		if capErr != nil || plainErr != nil {
			t.Fatalf("clean query does not print: %v / %v\nsql: %q", capErr, plainErr, sql)
		}
		// The spliced text, with and without the cap, parses to the tree
		// that was judged, the cap applied: the same nodes and values,
		// locations aside.
		for _, max := range []int{0, 100} {
			out, ok := spliceOf(parsed, max)
			if !ok {
				continue
			}
			js, err := pgparser.ParseToJSON(out)
			root := tree.Stmts[0].Stmt
			restore := func() {}
			if max > 0 {
				_, restore = capRows(root.GetSelectStmt(), max)
			}
			same := err == nil && matchesJSON(js, tree.Version, root)
			restore()
			if !same {
				t.Fatalf("spliced text does not parse to the judged tree (%v)\nsql: %q\nout: %q", err, sql, out)
			}
		}
		tables := collect(st).tables
		// Printed without a cap, the statement must describe exactly as
		// before; with the cap, a LIMIT expression may have been replaced,
		// so it may read fewer tables but never others.
		if got := reparse(t, p, sql, plain); !slices.Equal(got, tables) {
			t.Fatalf("tables %q became %q\nsql: %q\nout: %q", tables, got, sql, plain)
		}
		for _, tb := range reparse(t, p, sql, capped) {
			if !slices.Contains(tables, tb) {
				t.Fatalf("capped output reads %q, which the input did not\nsql: %q\nout: %q", tb, sql, capped)
			}
		}
	})
}

// reparse parses printed SQL, requires a clean query and returns its tables.
func reparse(t *testing.T, p *Parser, sql, out string) []string {
	t.Helper()
	again, err := p.Parse(out)
	if err != nil {
		t.Fatalf("printed SQL does not parse: %v\nsql: %q\nout: %q", err, sql, out)
	}
	st := again.Describe()
	if st.Query == nil || len(st.Findings) > 0 {
		t.Fatalf("printed SQL describes differently: %+v\nsql: %q\nout: %q", st.Findings, sql, out)
	}
	return collect(st).tables
}

func treeOf(x stmt.Parsed) *pg_query.ParseResult { return x.(*parsed).tree }

func spliceOf(x stmt.Parsed, max int) (string, bool) { return x.(*parsed).splice(max) }

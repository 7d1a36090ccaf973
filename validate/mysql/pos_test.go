package mysql

import (
	"strings"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

// TestPositions checks that the offsets in the description point at the
// text they describe.
func TestPositions(t *testing.T) {
	sql := "SELECT  o.*, c.name, COUNT(*) AS n, CURRENT_DATE, (SELECT MAX(total) FROM orders) AS m\n" +
		"FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > ? AND @x IS NULL"
	parsed, err := parserFor(t, "").Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	st := parsed.Describe()
	q := st.Query
	at := func(what string, pos int, want string) {
		t.Helper()
		if pos < 0 || !strings.HasPrefix(sql[pos:], want) {
			t.Errorf("%s at %d, want it at %q", what, pos, want)
		}
	}
	at("star", q.Stars[0].Pos, "o.*")
	refs := map[string]int{}
	for _, r := range q.Refs {
		refs[joinIdents(r.Parts)] = r.Pos
	}
	at("c.name", refs["c.name"], "c.name")
	at("o.customer_id", refs["o.customer_id"], "o.customer_id")
	at("o.total", refs["o.total"], "o.total")
	for _, f := range q.Funcs {
		switch f.Name[0].Name {
		case "count":
			at("count", f.Pos, "COUNT(*)")
		case "current_date":
			at("current_date", f.Pos, "CURRENT_DATE")
		}
	}
	at("subquery", q.Subqueries[0].Pos, "(SELECT MAX")
	for _, f := range st.Findings {
		switch f.Code {
		case stmt.CodeUnsupportedSyntax:
			at("parameter", f.Pos, "?")
		case stmt.CodeVariableNotAllowed:
			at("variable", f.Pos, "@x")
		default:
			t.Errorf("unexpected finding %+v", f)
		}
	}
	if len(st.Findings) != 2 {
		t.Errorf("findings %+v", st.Findings)
	}
}

package mysql

import (
	"fmt"
	"strings"
	"testing"
)

// nestContexts put a whole query in the places a query can sit.
var nestContexts = []string{
	"SELECT * FROM (%s) AS w",
	"WITH w AS (%s) SELECT * FROM w",
	"WITH RECURSIVE w AS (%s) SELECT * FROM w",
	"(%s) UNION ALL (%s)",
	"SELECT 1 FROM DUAL WHERE EXISTS (%s)",
	"SELECT (SELECT COUNT(*) FROM (%s) AS c) AS n",
	"(%s)",
	"((%s)) ORDER BY 1 LIMIT 3",
	"SELECT * FROM orders o, LATERAL (%s) AS l",
}

// nestedTestSQL nests every clean query of the test data (default mode)
// in every context; shapes the parser does not take in some position are
// left out.
func nestedTestSQL(t testing.TB) []testSQL {
	p := parserFor(t, "")
	var out []testSQL
	for _, c := range allTestSQL(t) {
		if c.mode != "" {
			continue
		}
		parsed, err := p.Parse(c.sql)
		if err != nil {
			continue
		}
		if st := parsed.Describe(); st.Query == nil || len(st.Findings) > 0 {
			continue
		}
		inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(c.sql), ";"))
		if strings.Contains(inner, "--") || strings.Contains(inner, "#") {
			continue // a line comment would swallow the closing parenthesis
		}
		for i, ctx := range nestContexts {
			sql := strings.ReplaceAll(ctx, "%s", inner)
			if _, err := p.Parse(sql); err != nil {
				continue
			}
			out = append(out, testSQL{fmt.Sprintf("%s in context %d", c.name, i), sql, ""})
		}
	}
	return out
}

// TestNestedContexts checks that a nested clean query is still clean,
// reads the tables it read alone, and prints to text that reads back the
// same.
func TestNestedContexts(t *testing.T) {
	p := parserFor(t, "")
	nested := nestedTestSQL(t)
	for _, c := range nested {
		parsed, err := p.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		st := parsed.Describe()
		if st.Query == nil || len(st.Findings) > 0 {
			t.Errorf("%s: %s %+v\n%s", c.name, st.Verb, st.Findings, c.sql)
			continue
		}
		checkRoundTrip(t, p, c.sql, parsed, st)
	}
	if len(nested) < 200 {
		t.Errorf("only %d nested statements checked", len(nested))
	}
}

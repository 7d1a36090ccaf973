package validate

import (
	"strings"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

// contractInputs carry comments, optimizer hints, executable comments and
// template openings in every place a lexer might keep them.
var contractInputs = []string{
	"SELECT a /* note */ FROM t -- trailing",
	"SELECT a FROM t # hash comment",
	"SELECT /*+ MAX_EXECUTION_TIME(1) */ a FROM t",
	"SELECT /*+ SET_VAR(sort_buffer_size = 1) */ a FROM t",
	"SELECT /*+ BKA(t) NO_ICP(t) */ a FROM t",
	"SELECT a /*! , b */ FROM t",
	"SELECT a /*!80000 , b */ FROM t",
	"SELECT a /*M! , b */ FROM t",
	"SELECT a /*M!100000 , b */ FROM t",
	"SELECT /* {{ x }} */ a FROM t -- {% y %}",
	"SELECT '/* not a comment */' AS s, '--' AS d, a FROM t",
	"SELECT 1 - -1 AS x, a FROM t",
	"SELECT a FROM t WHERE b = '-- x' /* c */",
	"SELECT a FROM t WHERE a > - - 1",
	"SELECT a FROM t /* nested /* inner */ still */",
	"SELECT b FROM t WHERE b = 'x' /*! OR 1 = 1 */",
	"SELECT '{{' AS x FROM t",
	"SELECT '{' || '{' AS x FROM t",
	"SELECT CONCAT('{', '%') AS x FROM t",
}

// TestReturnedTextContract holds every dialect's adapter to the contract
// of the package comment: what Validate returns holds no comment, no
// optimizer hint, no executable comment and, when templates are rendered,
// no template opening, and it is judged again to itself. It covers every
// backend that has a dialect family, so an adapter is held to it as soon
// as its backend is known.
func TestReturnedTextContract(t *testing.T) {
	v := New()
	for _, backend := range schema.Backends() {
		db := &schema.Database{Name: "d", Backend: backend, DefaultSchema: "s", Tables: []*schema.Table{
			{Schema: "s", Name: "t", Columns: []schema.Column{{Name: "a", Type: "integer"}, {Name: "b", Type: "text"}}},
		}}
		db.Index()
		rules, _ := DefaultPolicy().Compile(db)
		accepted := 0
		for _, sql := range contractInputs {
			res := v.Validate(Request{SQL: sql, Database: db, Rules: rules})
			if !res.Valid {
				for _, vi := range res.Violations {
					if vi.Code == "DIALECT_UNSUPPORTED" {
						t.Fatalf("%s: backend without an adapter: %s", backend, vi.Message)
					}
				}
				continue
			}
			accepted++
			if m := hiddenText(res.SQL, res.Dialect); m != "" {
				t.Errorf("%s: %q returned as %q, which holds %s", backend, sql, res.SQL, m)
			}
			again := v.Validate(Request{SQL: res.SQL, Database: db, Rules: rules})
			if !again.Valid || again.SQL != res.SQL {
				t.Errorf("%s: %q returned as %q, judged again as %q %+v", backend, sql, res.SQL, again.SQL, again.Violations)
			}
		}
		if accepted < 5 {
			t.Errorf("%s: only %d of the contract inputs accepted; the test sees too little", backend, accepted)
		}
	}
}

// hiddenText names what a returned text must not hold outside its quoted
// strings and names: a comment opening, a hint, an executable comment or a
// template opening; "" when it holds none. Backslash escapes in strings are
// read as the MySQL family writes them.
func hiddenText(sql, dialect string) string {
	if i, open := templateDelimiter(sql); i >= 0 {
		return "the template opening " + open
	}
	backslash := dialect == schema.DialectMySQL
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(sql); i++ {
				if backslash && sql[i] == '\\' && c != '`' {
					i++
					continue
				}
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i++
						continue
					}
					break
				}
			}
		case c == '$' && dialect == schema.DialectPostgres:
			// A dollar-quoted string $tag$...$tag$.
			if end := strings.IndexByte(sql[i+1:], '$'); end >= 0 && isTag(sql[i+1:i+1+end]) {
				tag := sql[i : i+end+2]
				if close := strings.Index(sql[i+len(tag):], tag); close >= 0 {
					i += len(tag) + close + len(tag) - 1
				}
			}
		case strings.HasPrefix(sql[i:], "/*"):
			return "a comment, hint or executable comment (" + sql[i:min(len(sql), i+4)] + ")"
		case strings.HasPrefix(sql[i:], "--"):
			return "a line comment opening (--)"
		case c == '#' && dialect == schema.DialectMySQL:
			return "a # comment"
		}
	}
	return ""
}

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

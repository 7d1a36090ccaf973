package sqlite

import "strings"

// verb names the kind of statement from its leading keywords, for
// messages: SQLite itself decides whether it is a read-only query.
func verb(sql string, toks []token) string {
	if len(toks) == 0 || toks[0].kind != tokWord {
		return "an unknown statement"
	}
	w := strings.ToUpper(toks[0].text(sql))
	switch w {
	case "SELECT", "VALUES", "WITH":
		return "SELECT"
	case "CREATE", "DROP", "ALTER":
		for _, t := range toks[1:] {
			if t.kind != tokWord {
				break
			}
			n := strings.ToUpper(t.text(sql))
			if n == "TEMP" || n == "TEMPORARY" || n == "UNIQUE" || n == "VIRTUAL" {
				continue
			}
			return w + " " + n
		}
	}
	return w
}

// queryVerb says whether the statement is written as a query: SQLite's
// read-only flag is not enough, since EXPLAIN and some PRAGMAs are
// read-only too.
func queryVerb(v string) bool { return v == "SELECT" }

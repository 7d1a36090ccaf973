package duckdb

import "strings"

// tokKind classes DuckDB's tokens as far as the adapter needs them.
type tokKind uint8

const (
	tokSpace tokKind = iota
	tokComment
	tokString // '...', E'...', $tag$...$tag$, "..." (quoted names too)
	tokWord
	tokOpen  // ( [ {
	tokClose // ) ] }
	tokSemi
	tokOther
)

type token struct {
	kind       tokKind
	start, end int
}

// lex splits sql the way DuckDB's (PostgreSQL's) lexer does as far as
// strings, quoted names, comments and brackets go; the tokens' text
// joined is sql again.
func lex(sql string) []token {
	var out []token
	for i := 0; i < len(sql); {
		start, c := i, sql[i]
		kind := tokOther
		switch {
		case strings.IndexByte(" \t\n\r\f\v", c) >= 0:
			for i < len(sql) && strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0 {
				i++
			}
			kind = tokSpace
		case strings.HasPrefix(sql[i:], "--"):
			i = len(sql)
			if j := strings.IndexByte(sql[start:], '\n'); j >= 0 {
				i = start + j + 1
			}
			kind = tokComment
		case strings.HasPrefix(sql[i:], "/*"):
			i, kind = blockComment(sql, i), tokComment
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'e' || sql[i-1] == 'E')
			i, kind = quoted(sql, i, '\'', escapes), tokString
		case c == '"':
			i, kind = quoted(sql, i, '"', false), tokString
		case c == '$':
			i = dollar(sql, i)
			if i > start+1 {
				kind = tokString
			}
		case c == '(' || c == '[' || c == '{':
			i, kind = i+1, tokOpen
		case c == ')' || c == ']' || c == '}':
			i, kind = i+1, tokClose
		case c == ';':
			i, kind = i+1, tokSemi
		case isWordStart(c):
			for i < len(sql) && isWordChar(sql[i]) {
				i++
			}
			kind = tokWord
		default:
			i++
		}
		out = append(out, token{kind, start, i})
	}
	return out
}

func (t token) text(sql string) string { return sql[t.start:t.end] }

// shape is what a cheap scan of the text finds before the parser runs.
type shape struct {
	verb       string // the leading keyword(s), upper case
	second     int    // where a second statement starts, -1 when none
	tooComplex string // why the statement is refused unparsed, "" when not
	at         int
}

// maxNesting and maxOperators bound what reaches DuckDB's recursive
// parser and serializer, which run on a C++ thread's stack.
const (
	maxNesting   = 64
	maxOperators = 2000
)

// scan finds the leading keyword, a second statement after a semicolon,
// and whether the brackets nest or the operators chain too deeply.
func scan(sql string) shape {
	s := shape{second: -1, at: -1}
	depth, ops := 0, 0
	ended := false
	var words []string
	for _, t := range lex(sql) {
		if t.kind == tokSpace || t.kind == tokComment {
			continue
		}
		if ended && t.kind != tokSemi {
			s.second = t.start
			break
		}
		switch t.kind {
		case tokSemi:
			ended = ended || depth <= 0
		case tokOpen:
			depth++
			if depth > maxNesting && s.tooComplex == "" {
				s.tooComplex, s.at = "the statement nests brackets more than 64 levels deep; write it more simply", t.start
			}
		case tokClose:
			depth--
		case tokWord:
			w := strings.ToUpper(t.text(sql))
			if len(words) < 2 {
				words = append(words, w)
			}
			if w == "AND" || w == "OR" {
				ops++
			}
		case tokOther:
			if strings.IndexByte("+-*/%<>=!|&^~@#", sql[t.start]) >= 0 {
				ops++
			}
		}
		if ops > maxOperators && s.tooComplex == "" {
			s.tooComplex, s.at = "the statement chains more than 2000 operators; write it more simply", t.start
		}
	}
	if len(words) > 0 {
		s.verb = words[0]
		switch s.verb {
		case "CREATE", "DROP", "ALTER":
			if len(words) > 1 {
				s.verb += " " + words[1]
			}
		case "WITH", "FROM", "VALUES", "TABLE":
			s.verb = "SELECT"
		}
	}
	return s
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWordChar(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }

// blockComment returns the end of the (nesting) comment opening at i.
func blockComment(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case strings.HasPrefix(sql[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(sql[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// quoted returns the end of the literal opening at i (a doubled quote
// stands for itself; with escapes, so does a backslashed character).
func quoted(sql string, i int, q byte, escapes bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case escapes && sql[j] == '\\':
			j++
		case sql[j] == q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// dollar returns the end of a $tag$...$tag$ string opening at i, or i+1
// when the $ starts none (a parameter such as $1).
func dollar(sql string, i int) int {
	j := i + 1
	for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || j > i+1 && sql[j] >= '0' && sql[j] <= '9') {
		j++
	}
	if j >= len(sql) || sql[j] != '$' {
		return i + 1
	}
	tag := sql[i : j+1]
	if k := strings.Index(sql[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag)
	}
	return len(sql)
}

package postgres

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// splice returns the statement's own text with its comments blanked out,
// its trailing semicolons dropped and the row cap applied, without
// deparsing: what runs is then the very text that was parsed and judged,
// token for token. Comments become spaces of the same length, so every
// token keeps its position. It reports false where the text cannot be
// handed back as it is and Print deparses instead: an escape string
// (E'...', whose backslashes other SQL lexers read differently), a Unicode
// escape (U&'...', U&"..."), a cap
// that needs more than appending LIMIT or rewriting one integer literal
// (LIMIT ALL, an expression, FETCH ... WITH TIES), or a scanner failure.
// The fuzz target proves that the text parses back to the judged tree.
func (p *parsed) splice(maxRows int) (string, bool) {
	src := p.src
	if strings.Contains(src, "--") || strings.Contains(src, "/*") || strings.IndexByte(src, '\\') >= 0 {
		// Only here can the text hold a comment or an escape string; the
		// scanner tells them from the same characters inside literals.
		scan, err := pg_query.Scan(src)
		if err != nil {
			return "", false
		}
		var b []byte
		for _, t := range scan.Tokens {
			start, end := int(t.Start), int(t.End)
			if start < 0 || end > len(src) || start > end {
				return "", false
			}
			switch t.Token {
			case pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
				if b == nil {
					b = []byte(src)
				}
				for i := start; i < end; i++ {
					if b[i] != '\n' {
						b[i] = ' '
					}
				}
			case pg_query.Token_SCONST:
				if c := src[start]; c == 'E' || c == 'e' {
					return "", false
				}
			case pg_query.Token_UIDENT, pg_query.Token_USCONST:
				// U&"\0075sers" is printed as users: other readers of
				// the text (people, Superset's own checks) see the name.
				return "", false
			}
		}
		if b != nil {
			src = string(b)
		}
	}
	src = strings.TrimRight(src, " \t\n\r\f\v;")
	if maxRows <= 0 {
		return src, true
	}
	sel := p.tree.Stmts[0].GetStmt().GetSelectStmt()
	if sel == nil {
		return "", false
	}
	switch {
	case sel.LimitOption == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES:
		return "", false
	case sel.LimitCount == nil:
		return src + " LIMIT " + strconv.Itoa(maxRows), true
	}
	n, ok := constInt(sel.LimitCount)
	if ok && n >= 0 && n <= int64(maxRows) {
		return src, true
	}
	// An integer literal above the cap: its digits are replaced.
	at := int(sel.LimitCount.GetAConst().GetLocation())
	if !ok || at < 0 || at >= len(src) {
		return "", false
	}
	end := at
	for end < len(src) && src[end] >= '0' && src[end] <= '9' {
		end++
	}
	if end == at || (end < len(src) && (isIdentByte(src[end]) || src[end] == '.')) {
		return "", false
	}
	return src[:at] + strconv.Itoa(maxRows) + src[end:], true
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

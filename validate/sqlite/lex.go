package sqlite

import "strings"

// tokKind is the class of a token as SQLite's tokenizer (tokenize.c)
// would class it, as far as the adapter needs: comments, white space,
// literals, names, and punctuation.
type tokKind uint8

const (
	tokSpace tokKind = iota
	tokComment
	tokString  // '...'
	tokQuoted  // "..." `...` [...]
	tokBlob    // x'...'
	tokNumber  // 12 1.5e3 0x1F
	tokWord    // a bare keyword or identifier
	tokVar     // ? ?1 :a @a $a
	tokPunct   // operators and punctuation, one token each
	tokSemi    // ;
	tokIllegal // what SQLite would refuse (an unterminated literal, a stray byte)
)

type token struct {
	kind       tokKind
	start, end int
}

func (t token) text(sql string) string { return sql[t.start:t.end] }

func isIDStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIDChar(c byte) bool { return isIDStart(c) || c >= '0' && c <= '9' || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits sql into tokens, white space and comments included, so that
// the tokens' text joined is sql again.
func lex(sql string) []token {
	var out []token
	for i := 0; i < len(sql); {
		start := i
		kind := tokPunct
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r':
			for i < len(sql) && strings.IndexByte(" \t\n\f\r", sql[i]) >= 0 {
				i++
			}
			kind = tokSpace
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			i = len(sql)
			if j := strings.IndexByte(sql[start:], '\n'); j >= 0 {
				i = start + j + 1
			}
			kind = tokComment
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			// Not nested; an unterminated comment runs to the end.
			i = len(sql)
			if j := strings.Index(sql[start+2:], "*/"); j >= 0 {
				i = start + 2 + j + 2
			}
			kind = tokComment
		case c == '\'' || c == '"' || c == '`':
			i, kind = quoted(sql, i, c), tokString
			if c != '\'' {
				kind = tokQuoted
			}
			if i < 0 {
				i, kind = len(sql), tokIllegal
			}
		case c == '[':
			i = len(sql)
			kind = tokIllegal
			if j := strings.IndexByte(sql[start:], ']'); j >= 0 {
				i, kind = start+j+1, tokQuoted
			}
		case (c == 'x' || c == 'X') && i+1 < len(sql) && sql[i+1] == '\'':
			i, kind = quoted(sql, i+1, '\''), tokBlob
			if i < 0 {
				i, kind = len(sql), tokIllegal
			}
		case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			i, kind = number(sql, i), tokNumber
		case isIDStart(c):
			for i < len(sql) && isIDChar(sql[i]) {
				i++
			}
			kind = tokWord
		case c == '?':
			i++
			for i < len(sql) && isDigit(sql[i]) {
				i++
			}
			kind = tokVar
		case c == ':' || c == '@' || c == '$' || c == '#':
			i++
			for i < len(sql) && (isIDChar(sql[i]) || sql[i] == ':' && i+1 < len(sql) && sql[i+1] == ':') {
				if sql[i] == ':' {
					i++
				}
				i++
			}
			kind = tokVar
			if i == start+1 {
				kind = tokIllegal
			}
		case c == ';':
			i++
			kind = tokSemi
		default:
			i += punctLen(sql[i:])
			if strings.IndexByte("-()+*/%=<>!,&|~.", c) < 0 {
				kind = tokIllegal
			}
		}
		out = append(out, token{kind: kind, start: start, end: i})
	}
	return out
}

// quoted returns the end of the literal opening at sql[i] == q, where a
// doubled quote stands for itself; -1 when it is not closed.
func quoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return -1
}

func number(sql string, i int) int {
	if sql[i] == '0' && i+1 < len(sql) && (sql[i+1] == 'x' || sql[i+1] == 'X') {
		i += 2
		for i < len(sql) && (isDigit(sql[i]) || strings.IndexByte("abcdefABCDEF_", sql[i]) >= 0) {
			i++
		}
		return i
	}
	for i < len(sql) && (isDigit(sql[i]) || sql[i] == '_') {
		i++
	}
	if i < len(sql) && sql[i] == '.' {
		i++
		for i < len(sql) && (isDigit(sql[i]) || sql[i] == '_') {
			i++
		}
	}
	if i < len(sql) && (sql[i] == 'e' || sql[i] == 'E') {
		j := i + 1
		if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
			j++
		}
		if j < len(sql) && isDigit(sql[j]) {
			i = j
			for i < len(sql) && isDigit(sql[i]) {
				i++
			}
		}
	}
	// SQLite reads "12abc" as one illegal token; so does this (the word
	// part is swallowed).
	for i < len(sql) && isIDChar(sql[i]) {
		i++
	}
	return i
}

// punctLen is the length of the operator starting s.
func punctLen(s string) int {
	for _, op := range []string{"->>", "->", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>"} {
		if strings.HasPrefix(s, op) {
			return len(op)
		}
	}
	return 1
}

// code returns the tokens that mean something: no white space or comments.
func code(toks []token) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment {
			out = append(out, t)
		}
	}
	return out
}

// isWord says whether t is the bare word w, ignoring case.
func isWord(sql string, t token, w string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text(sql), w)
}

// maxNesting is the deepest parenthesis nesting accepted before SQLite
// sees the statement; the deepest of the benchmark gold queries nests
// far less.
const maxNesting = 64

// maxOperators bounds how many binary operators one statement may chain.
const maxOperators = 2000

// tooComplex checks the statement's shape before any parser sees it.
func tooComplex(sql string, toks []token) (string, int) {
	depth, ops := 0, 0
	for _, t := range toks {
		switch {
		case t.kind == tokPunct && sql[t.start] == '(':
			depth++
			if depth > maxNesting {
				return "the statement nests parentheses more than 64 levels deep; write it more simply", t.start
			}
		case t.kind == tokPunct && sql[t.start] == ')':
			depth--
		case t.kind == tokPunct && sql[t.start] != ',' && sql[t.start] != '.',
			t.kind == tokWord && (isWord(sql, t, "and") || isWord(sql, t, "or")):
			ops++
			if ops > maxOperators {
				return "the statement chains more than 2000 operators; write it more simply", t.start
			}
		}
	}
	return "", -1
}

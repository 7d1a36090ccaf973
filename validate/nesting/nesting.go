// Package nesting measures, before a parser runs, how deeply a statement
// can nest, so that no statement reaches a parser's recursive code deeper
// than stmt.MaxNesting levels.
//
// Why: libpg_query builds a left-deep tree for a chain of operators
// without parentheses (1+1+1..., 'a'||'a'||..., x::int::int..., a chain
// of JOINs or UNIONs) with no recursion and no limit, then walks it
// recursively in C to hand it over; 24,000 levels exhaust an 8 MiB stack
// and the process dies. Measured per level (by the depth at which each
// shape of validate/hostile crashed under ulimit -s 256, 1024 and 8192),
// the costliest shapes use about 360 bytes (operator chains) to 1.1 KiB
// (nested subqueries) of C stack, so MaxNesting levels stay under about
// 1 MiB; a thread's stack is 8 MiB by default with glibc.
//
// The measure is an upper bound taken from the dialect's own tokens: a
// Meter is fed every token that opens a level (a parenthesis, a bracket,
// CASE), closes one, chains an operand under an operator, or separates
// list items (a comma, AND, OR, WHEN ...), which end a chain. Bound is a
// cheaper bound still, over the raw bytes, that lets short statements skip
// tokenizing altogether.
package nesting

import "github.com/texttosql/text2sql/validate/stmt"

// Bound returns an upper bound of every Meter measure of sql, whatever the
// dialect's lexical rules: each token a Meter counts holds a byte counted
// here (an operator or bracket character, or the first letter of a word).
// It costs one pass over the bytes.
func Bound(sql string) int {
	n := 0
	word := false // the previous byte continues an identifier
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		k := byteClass[c]
		if k == counted || k == letter && !word {
			n++
		}
		word = k == letter || k == identPart
	}
	return n
}

const (
	other = iota
	counted
	letter
	identPart
)

var byteClass = func() (t [256]byte) {
	for _, c := range []byte("()[]{}+-*/%^<>=~!@#&|`?:") {
		t[c] = counted
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = letter
		t[c-'a'+'A'] = letter
	}
	t['_'] = letter
	// Digits do not continue a word here: a keyword right after a number
	// is still counted, whatever the dialect makes of it.
	t['$'] = identPart
	for c := 0x80; c < 0x100; c++ {
		t[c] = identPart
	}
	return t
}()

// Meter measures the nesting depth of a token stream. The zero value is
// ready.
type Meter struct {
	levels []level
	depth  int // the depth at the current token
	pos    int // where the limit was first passed; -1 when it was not
	max    int
	over   bool
}

// level is one open bracket (or CASE): its own level and the chains inside.
type level struct {
	kind byte // the token that opened it, to match its closer
	expr int  // operators chained since the last separator
	link int  // JOINs and set operations since the level opened
}

// Open starts a level opened by kind ('(', '[' or 'c' for CASE) at byte
// offset pos.
func (m *Meter) Open(kind byte, pos int) {
	if m.levels == nil {
		m.levels = make([]level, 1, 16) // the statement's own level
	}
	m.levels = append(m.levels, level{kind: kind})
	m.depth++
	m.seen(pos)
}

// Close ends the innermost level opened by kind and any unclosed one
// inside it; a closer without an opener is ignored (the parser reports it).
func (m *Meter) Close(kind byte) {
	for i := len(m.levels) - 1; i > 0; i-- {
		if m.levels[i].kind == kind {
			for _, l := range m.levels[i:] {
				m.depth -= 1 + l.expr + l.link
			}
			m.levels = m.levels[:i]
			return
		}
	}
}

// Chain counts an operator that can hold the expression before it as an
// operand: a binary or unary operator, a cast, IS, COLLATE ...
func (m *Meter) Chain(pos int) {
	m.top().expr++
	m.depth++
	m.seen(pos)
}

// Link counts a JOIN or a set operation, which nest the query before them
// and are not ended by a separator.
func (m *Meter) Link(pos int) {
	m.top().link++
	m.depth++
	m.seen(pos)
}

// Separate ends the operator chain of the current level: a comma, AND,
// OR, WHEN, THEN, ELSE start a sibling, not a deeper node.
func (m *Meter) Separate() {
	l := m.top()
	m.depth -= l.expr
	l.expr = 0
}

func (m *Meter) top() *level {
	if m.levels == nil {
		m.levels = make([]level, 1, 16)
	}
	return &m.levels[len(m.levels)-1]
}

func (m *Meter) seen(pos int) {
	if m.depth > m.max {
		m.max = m.depth
		if m.max > stmt.MaxNesting && !m.over {
			m.over, m.pos = true, pos
		}
	}
}

// Over says whether the stream nested deeper than stmt.MaxNesting.
func (m *Meter) Over() bool { return m.over }

// Err is the refusal when the stream nested too deeply, else nil.
func (m *Meter) Err() *stmt.ParseError {
	if !m.over {
		return nil
	}
	return stmt.TooComplex(m.max, m.pos)
}

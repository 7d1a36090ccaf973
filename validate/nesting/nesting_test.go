package nesting

import (
	"strings"
	"testing"

	"github.com/texttosql/text2sql/validate/stmt"
)

// event is one call on a Meter: o(pen), c(lose), x (chain), l(ink),
// s(eparate), with the opener's kind for o and c.
type event struct {
	op   byte
	kind byte
}

func run(events []event) *Meter {
	var m Meter
	for i, e := range events {
		switch e.op {
		case 'o':
			m.Open(e.kind, i)
		case 'c':
			m.Close(e.kind)
		case 'x':
			m.Chain(i)
		case 'l':
			m.Link(i)
		case 's':
			m.Separate()
		}
	}
	return &m
}

func repeat(n int, es ...event) []event {
	var out []event
	for range n {
		out = append(out, es...)
	}
	return out
}

func TestMeter(t *testing.T) {
	over := stmt.MaxNesting + 1
	for _, c := range []struct {
		name   string
		events []event
		over   bool
		max    int
	}{
		{"a chain of operators", repeat(over, event{op: 'x'}), true, over},
		{"operators separated by commas", repeat(5*over, event{op: 'x'}, event{op: 's'}), false, 1},
		{"nested parentheses", append(repeat(over, event{'o', '('}), repeat(over, event{'c', '('})...), true, over},
		{"sibling parentheses", repeat(5*over, event{'o', '('}, event{op: 'x'}, event{'c', '('}), false, 2},
		// A separator ends operator chains, never links.
		{"joins with AND between", repeat(over, event{op: 'l'}, event{op: 'x'}, event{op: 's'}), true, over + 1},
		// Closing a parenthesis also closes an unclosed CASE inside it.
		{"unclosed CASE", repeat(5*over, event{'o', '('}, event{'o', 'c'}, event{'c', '('}), false, 2},
		// A closer without an opener changes nothing.
		{"stray closers", append(repeat(over, event{'c', '('}), event{op: 'x'}), false, 1},
	} {
		m := run(c.events)
		if m.Over() != c.over || m.max != c.max {
			t.Errorf("%s: over %v max %d, want %v %d", c.name, m.Over(), m.max, c.over, c.max)
		}
		if err := m.Err(); (err != nil) != c.over || err != nil && (err.Code != stmt.CodeTooComplex || err.Pos < stmt.MaxNesting) {
			t.Errorf("%s: error %+v", c.name, err)
		}
	}
}

// TestBound checks that Bound counts at least every byte a Meter fed by a
// dialect's tokens could count, whatever the lexical rules.
func TestBound(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want int
	}{
		{"", 0},
		{"select 1", 1},
		{"SELECT a+b FROM t", 6},
		{"x::int", 4},
		{"(a)[1]", 5},
		{"t0join", 2},          // a letter after a digit starts a word
		{"éjoin $join a_b", 1}, // not after a byte that continues a name
		{"'a''b' -- c", 5},     // inside strings and comments too
		{strings.Repeat("+1", 100), 100},
	} {
		if got := Bound(c.sql); got != c.want {
			t.Errorf("Bound(%q) = %d, want %d", c.sql, got, c.want)
		}
	}
}

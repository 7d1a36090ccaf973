package validate

import (
	"strings"
	"unicode"

	"github.com/texttosql/text2sql/schema"
)

// What a caller may read. The validator refuses statements that read
// anything else, and every output that shows the catalog (GetSchema, the
// schema linked into a prompt, approved examples) shows only what these
// methods allow, so nothing is shown that the validator would refuse.

// TableAllowed reports whether t may be read.
func (r *Rules) TableAllowed(t *schema.Table) bool { return r.allowed[t] }

// ColumnAllowed reports whether column col of t may be read. It does not
// check the table itself.
func (r *Rules) ColumnAllowed(t *schema.Table, col string) bool {
	denied := r.denied[t]
	return len(denied) == 0 || !denied[strings.ToLower(col)]
}

// ForeignKeyAllowed reports whether a foreign key of t may be shown: the
// table it references (resolved by schema.Database.ForeignKeyTarget) may be
// read, and so may every column on both sides. It does not check t itself.
func (r *Rules) ForeignKeyAllowed(t *schema.Table, fk schema.ForeignKey) bool {
	for _, c := range fk.Columns {
		if !r.ColumnAllowed(t, c) {
			return false
		}
	}
	ref := r.db.ForeignKeyTarget(t, fk)
	if ref == nil || !r.TableAllowed(ref) {
		return false
	}
	for _, c := range fk.References.Columns {
		if !r.ColumnAllowed(ref, c) {
			return false
		}
	}
	return true
}

// MetricAllowed reports whether a saved metric of t may be shown: its
// expression names no denied column of the database, as a whole word
// ignoring case. It errs towards hiding: a denied name anywhere in the
// expression, even inside a string literal, hides the metric, since the
// expression itself would carry the name to whoever reads it.
func (r *Rules) MetricAllowed(t *schema.Table, m schema.Metric) bool {
	if m.Expression == "" {
		return true
	}
	for _, cols := range r.denied {
		for c := range cols {
			if mentions(m.Expression, c) {
				return false
			}
		}
	}
	return true
}

// mentions reports whether expr contains name (lower case) as a whole word,
// ignoring case.
func mentions(expr, name string) bool {
	lower := strings.ToLower(expr)
	for i := 0; ; {
		j := strings.Index(lower[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if !wordByteAt(lower, start-1) && !wordByteAt(lower, end) {
			return true
		}
		i = start + 1
	}
}

func wordByteAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := rune(s[i])
	return c == '_' || c >= 0x80 || unicode.IsLetter(c) || unicode.IsDigit(c)
}

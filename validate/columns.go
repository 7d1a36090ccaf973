package validate

import (
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

// deniedColumns lists the columns of t the rules refuse.
func (j *judge) deniedColumns(t *schema.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if !j.rules.ColumnAllowed(t, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// column finds the column of a real table the identifier denotes; a column
// spelt exactly as written wins over one sameName matches otherwise.
func (j *judge) column(t *schema.Table, id stmt.Ident) *schema.Column {
	if c := t.Column(id.Name); c != nil && j.sameName(id, c.Name, nameColumn) {
		return c
	}
	for i := range t.Columns {
		if c := &t.Columns[i]; strings.EqualFold(c.Name, id.Name) && j.sameName(id, c.Name, nameColumn) {
			return c
		}
	}
	return nil
}

// has reports whether a binding has the column, and whether it might
// (an open column set).
func (j *judge) has(bd *binding, id stmt.Ident) (yes, maybe bool) {
	if bd.table != nil {
		return j.column(bd.table, id) != nil || bd.rename.has(j.fold(id.Name)), false
	}
	return bd.cols.has(j.fold(id.Name)), bd.cols.open
}

// readColumn checks that a real column may be read.
func (j *judge) readColumn(t *schema.Table, id stmt.Ident, pos int) {
	if c := j.column(t, id); c != nil && !j.rules.ColumnAllowed(t, c.Name) {
		j.add(stmt.CodeColumnNotAllowed, pos, "column %s.%s may not be read", t.QualifiedName(), c.Name)
	}
}

// readAll checks a reference to every column of a binding: a star or a
// whole-row reference.
func (j *judge) readAll(bd *binding, what string, pos int) {
	if bd.table == nil {
		return
	}
	if denied := j.deniedColumns(bd.table); len(denied) > 0 {
		j.add(stmt.CodeColumnNotAllowed, pos, "%s reads every column of %s, including %s, which may not be read; name the columns you need instead",
			what, bd.table.QualifiedName(), strings.Join(denied, ", "))
	}
}

func (j *judge) usingColumn(u stmt.Ident, pos int, right *binding, left []*binding) {
	yes, maybe := j.has(right, u)
	if !yes && !maybe {
		j.add(stmt.CodeUnknownColumn, pos, "USING (%s): the joined table has no column %s", u.Name, u.Name)
	}
	if right.table != nil {
		j.readColumn(right.table, u, pos)
	}
	found := false
	for _, l := range left {
		yes, maybe := j.has(l, u)
		found = found || yes || maybe
		if yes && l.table != nil {
			j.readColumn(l.table, u, pos)
		}
	}
	if !found {
		j.add(stmt.CodeUnknownColumn, pos, "USING (%s): no table before the join has column %s", u.Name, u.Name)
	}
}

// naturalJoin checks every column a NATURAL join compares: the names the
// right side shares with the sides before it. An open side may share any
// name, so then every column of the other side counts.
func (j *judge) naturalJoin(pos int, right *binding, left []*binding) {
	for _, l := range left {
		for _, pair := range [][2]*binding{{right, l}, {l, right}} {
			a, b := pair[0], pair[1]
			if a.table == nil {
				continue
			}
			for _, c := range a.table.Columns {
				if yes, maybe := j.has(b, catalogIdent(c.Name)); yes || maybe {
					j.readColumn(a.table, catalogIdent(c.Name), pos)
				}
			}
		}
	}
}

func (j *judge) ref(r stmt.ColumnRef, b *scope) {
	n := len(r.Parts)
	id := r.Parts[n-1]
	col := id.Name
	if n > 1 {
		bd := j.lookup(b, r.Parts[:n-1], true)
		if bd == nil {
			j.add(stmt.CodeUnknownTable, r.Pos, "%s refers to %s, which is not a table or alias in FROM", joinIdents(r.Parts), joinIdents(r.Parts[:n-1]))
			return
		}
		yes, maybe := j.has(bd, id)
		switch {
		case yes && bd.table != nil:
			j.readColumn(bd.table, id, r.Pos)
		case yes || maybe:
		default:
			j.add(stmt.CodeUnknownColumn, r.Pos, "column %s does not exist%s", joinIdents(r.Parts), j.columnHint(bd))
		}
		return
	}
	var name string
	if r.Alias != stmt.AliasNever {
		name = j.fold(col)
	}
	if r.Alias == stmt.AliasFirst && b.outputs.has(name) {
		return
	}
	opaque := false
	for s := b; s != nil; s = s.parent {
		if !s.block {
			continue
		}
		var reals []*schema.Table
		found := false
		for _, bd := range s.sources {
			yes, maybe := j.has(bd, id)
			found = found || yes
			opaque = opaque || maybe
			if yes && bd.table != nil {
				reals = append(reals, bd.table)
			}
		}
		if found {
			for _, t := range reals {
				j.readColumn(t, id, r.Pos)
			}
			return
		}
		if s == b && r.Alias == stmt.AliasFallback && b.outputs.has(name) {
			return
		}
	}
	// No source surely has the column. Where a table's name can stand for
	// its whole row, that reading wins over the chance that an opaque source
	// (a table function, an unnamed expression) has a column of that name:
	// guessing the other way would let row_to_json(c) through.
	if j.dialect.WholeRowRefs {
		if bd := j.lookup(b, r.Parts, true); bd != nil {
			j.readAll(bd, "the whole-row reference "+col, r.Pos)
			return
		}
	}
	if opaque {
		return
	}
	j.add(stmt.CodeUnknownColumn, r.Pos, "column %s does not exist in the tables of the query%s", col, j.scopeHint(b))
}

func (j *judge) star(st stmt.Star, b *scope) {
	if len(st.Qualifier) == 0 {
		for _, bd := range b.sources {
			j.readAll(bd, "*", st.Pos)
		}
		return
	}
	bd := j.lookup(b, st.Qualifier, true)
	if bd == nil {
		j.add(stmt.CodeUnknownTable, st.Pos, "%s.* refers to %s, which is not a table or alias in FROM", joinIdents(st.Qualifier), joinIdents(st.Qualifier))
		return
	}
	j.readAll(bd, joinIdents(st.Qualifier)+".*", st.Pos)
}

// columnHint lists a binding's readable columns, so a rewrite can pick one.
func (j *judge) columnHint(bd *binding) string {
	if bd.table == nil {
		if len(bd.cols.list) == 0 {
			return ""
		}
		return " (columns: " + listNames(bd.cols) + ")"
	}
	var names []string
	for _, c := range bd.table.Columns {
		if j.rules.ColumnAllowed(bd.table, c.Name) {
			names = append(names, c.Name)
		}
	}
	return " (columns of " + bd.table.QualifiedName() + ": " + abbreviate(names) + ")"
}

func (j *judge) scopeHint(b *scope) string {
	var names []string
	for _, bd := range b.sources {
		if bd.table != nil {
			names = append(names, bd.table.QualifiedName())
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

// judge resolves every name of a description against the catalog and
// applies the rules. It is used for one statement. This file holds the
// walk and the name scopes; each rule has its own file: clauses.go
// (statement kinds and the adapters' findings), tables.go, columns.go and
// functions.go. A new dialect adds an adapter and data, not judge code.
type judge struct {
	sql        string
	dialect    *stmt.Dialect
	db         *schema.Database
	rules      *Rules
	read       []*schema.Table // real tables read, each once
	violations []Violation
}

// scope is one level of name visibility: either the CTEs declared by a WITH
// or the FROM items of a SELECT block.
type scope struct {
	parent  *scope
	ctes    map[string]columns // visible CTEs by folded name
	sources []*binding         // FROM items of a block; nil for WITH levels
	outputs columns            // output names of a block, for alias references
	block   bool
}

// columns is a set of folded column names; open means the set may hold
// names nobody can know (a table function, an unnamed expression). Most
// sets hold a handful of names, so they are a list; a large one also gets
// a map. A copy shares the names: only the set being built is added to.
type columns struct {
	list []string
	set  map[string]struct{}
	open bool
}

// columnsListMax is the size up to which a list is searched directly.
const columnsListMax = 16

func (c columns) has(name string) bool {
	if c.set != nil {
		_, ok := c.set[name]
		return ok
	}
	for _, n := range c.list {
		if n == name {
			return true
		}
	}
	return false
}

func (c *columns) add(name string) {
	if c.has(name) {
		return
	}
	c.list = append(c.list, name)
	switch {
	case c.set != nil:
		c.set[name] = struct{}{}
	case len(c.list) > columnsListMax:
		c.set = make(map[string]struct{}, 2*len(c.list))
		for _, n := range c.list {
			c.set[n] = struct{}{}
		}
	}
}

func (c *columns) merge(o columns) {
	for _, n := range o.list {
		c.add(n)
	}
	c.open = c.open || o.open
}

// binding is one FROM item as a query sees it.
type binding struct {
	name   string        // folded correlation name; "" when it has none
	table  *schema.Table // set for a real table
	cols   columns       // for everything but real tables
	rename columns       // column aliases put on a real table
}

func (j *judge) fold(s string) string {
	if j.dialect.CaseInsensitive {
		return strings.ToLower(s)
	}
	return s
}

func (j *judge) eq(a, b string) bool { return j.fold(a) == j.fold(b) }

func (j *judge) add(code string, pos int, format string, args ...any) {
	v := locate(j.sql, code, fmt.Sprintf(format, args...), pos)
	for _, o := range j.violations {
		if o.Code == v.Code && o.Message == v.Message {
			return
		}
	}
	j.violations = append(j.violations, v)
}

// query judges q seen from parent and returns its output columns.
func (j *judge) query(q *stmt.Query, parent *scope) columns {
	j.bounds(q)
	s := parent
	if len(q.With) > 0 {
		s = &scope{parent: parent, ctes: map[string]columns{}}
		if q.Recursive {
			// A recursive CTE's body sees its own name before its columns are known.
			for _, c := range q.With {
				s.ctes[j.fold(c.Name.Name)] = columns{open: true}
			}
		}
		for _, c := range q.With {
			out := j.query(c.Query, s)
			if len(c.Columns) > 0 {
				out = j.named(c.Columns)
			}
			s.ctes[j.fold(c.Name.Name)] = out
		}
	}
	if q.Op != "" {
		return j.setOperation(q, s)
	}
	b := &scope{parent: s, block: true}
	if len(q.From) > 0 {
		// One allocation for the block's bindings.
		bindings := make([]binding, len(q.From))
		b.sources = make([]*binding, 0, len(q.From))
		for i, src := range q.From {
			b.sources = append(b.sources, j.source(&bindings[i], src, b, s))
		}
	}
	b.outputs = j.outputs(q, b)
	for _, sub := range q.Subqueries {
		j.query(sub, b)
	}
	for _, r := range q.Refs {
		j.ref(r, b)
	}
	for _, st := range q.Stars {
		j.star(st, b)
	}
	for _, f := range q.Funcs {
		j.function(f)
	}
	return b.outputs
}

func (j *judge) setOperation(q *stmt.Query, s *scope) columns {
	var first columns
	for i, arm := range q.Arms {
		out := j.query(arm, s)
		if i == 0 {
			first = out
		}
	}
	// ORDER BY of a set operation names its output columns only.
	for _, r := range q.Refs {
		name := j.fold(r.Parts[len(r.Parts)-1].Name)
		if len(r.Parts) == 1 && (first.has(name) || first.open) {
			continue
		}
		j.add(stmt.CodeUnknownColumn, r.Pos, "%s: a set operation can only be ordered by its output columns (%s)",
			joinIdents(r.Parts), listNames(first))
	}
	for _, sub := range q.Subqueries {
		j.query(sub, s)
	}
	for _, f := range q.Funcs {
		j.function(f)
	}
	return first
}

func (j *judge) named(ids []stmt.Ident) columns {
	var c columns
	for _, id := range ids {
		c.add(j.fold(id.Name))
	}
	return c
}

// source binds one FROM item into bd. b is the block being built (its
// sources so far are what a LATERAL item sees); s is the scope above the
// block.
func (j *judge) source(bd *binding, src *stmt.Source, b, s *scope) *binding {
	if src.Alias != nil {
		bd.name = j.fold(src.Alias.Name)
	}
	switch src.Kind {
	case stmt.SourceTable:
		if cols, ok := j.cte(s, src.Name); ok {
			bd.cols = cols
			if len(src.ColumnAliases) > 0 {
				bd.cols = j.named(src.ColumnAliases)
			}
			if bd.name == "" {
				bd.name = j.fold(src.Name[0].Name)
			}
			break
		}
		bd.table = j.table(src.Name, src.Pos)
		if bd.table == nil {
			// The relation is already refused; its columns are unknowable
			// and more violations about them would only bury the reason.
			bd.cols.open = true
		}
		if bd.name == "" {
			bd.name = j.fold(src.Name[len(src.Name)-1].Name)
		}
		if len(src.ColumnAliases) > 0 && bd.table != nil {
			// Column aliases rename by position, and a catalog's column order
			// need not be the table's: with restricted columns the renamed
			// column cannot be known, so refuse rather than guess.
			if denied := j.deniedColumns(bd.table); len(denied) > 0 {
				j.add(stmt.CodeColumnNotAllowed, src.Pos, "column aliases on %s are not accepted because some of its columns (%s) may not be read; select the columns you need by name",
					bd.table.QualifiedName(), strings.Join(denied, ", "))
			}
			bd.rename = j.named(src.ColumnAliases)
		}
	case stmt.SourceSubquery:
		parent := s
		if src.Lateral {
			parent = &scope{parent: s, block: true, sources: slices.Clone(b.sources)}
		}
		bd.cols = j.query(src.Query, parent)
		if len(src.ColumnAliases) > 0 {
			bd.cols = j.named(src.ColumnAliases)
		}
	case stmt.SourceFunction:
		// A table function's columns are its column definition list, its
		// name, or whatever it returns: never a real table's columns.
		bd.cols = j.named(src.ColumnAliases)
		bd.cols.open = true
	}
	left := b.sources
	for _, u := range src.Using {
		j.usingColumn(u, src.Pos, bd, left)
	}
	if src.Natural {
		j.naturalJoin(src.Pos, bd, left)
	}
	return bd
}

// outputs computes the output column names of a block.
func (j *judge) outputs(q *stmt.Query, b *scope) columns {
	var out columns
	for _, t := range q.Targets {
		switch {
		case t.Star != nil:
			targets := b.sources
			if len(t.Star.Qualifier) > 0 {
				targets = nil
				if bd := j.lookup(b, t.Star.Qualifier, false); bd != nil {
					targets = []*binding{bd}
				}
			}
			for _, bd := range targets {
				if bd.table != nil {
					for _, c := range bd.table.Columns {
						out.add(j.fold(c.Name))
					}
					out.merge(bd.rename)
				} else {
					out.merge(bd.cols)
				}
			}
		case t.Name.Name != "":
			out.add(j.fold(t.Name.Name))
		default:
			out.open = true
		}
	}
	return out
}

// lookup finds the FROM item a qualifier names, searching outward. A
// correlation name matches first; a real table also matches by its name
// or schema.name.
func (j *judge) lookup(b *scope, q []stmt.Ident, outward bool) *binding {
	for s := b; s != nil; s = s.parent {
		if !s.block {
			continue
		}
		if len(q) == 1 {
			name := j.fold(q[0].Name)
			for _, bd := range s.sources {
				if bd.name != "" && bd.name == name {
					return bd
				}
			}
		}
		for _, bd := range s.sources {
			if bd.table != nil && j.namesTable(q, bd.table) {
				return bd
			}
		}
		if !outward {
			return nil
		}
	}
	return nil
}

func listNames(c columns) string {
	names := slices.Clone(c.list)
	slices.Sort(names)
	return abbreviate(names)
}

func abbreviate(names []string) string {
	const max = 30
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(", and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}

func joinIdents(ids []stmt.Ident) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.Name
	}
	return strings.Join(parts, ".")
}

// quoteIfNeeded writes an identifier so the dialect reads it back as is.
func quoteIfNeeded(d *stmt.Dialect, name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || (d.CaseInsensitive && r >= 'A' && r <= 'Z') || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	if d.CaseInsensitive {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

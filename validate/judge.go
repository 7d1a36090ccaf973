package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

// judge resolves every name of a description against the catalog and
// applies the rules. It is used for one statement.
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

func (j *judge) statement(s *stmt.Statement) {
	for _, f := range s.Findings {
		j.add(f.Code, f.Pos, "%s", f.Message)
	}
	for _, t := range s.Types {
		j.rowType(t)
	}
	if s.Query == nil {
		verb := s.Verb
		if verb == "" {
			verb = "a statement that is not a query"
		}
		j.add(stmt.CodeNotReadOnly, -1, "only read-only queries (SELECT, WITH ... SELECT, set operations) are accepted; got %s", verb)
		return
	}
	j.query(s.Query, nil)
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

// cte returns the columns of the CTE a one-part name refers to, if any.
func (j *judge) cte(s *scope, name []stmt.Ident) (columns, bool) {
	if len(name) != 1 {
		return columns{}, false
	}
	key := j.fold(name[0].Name)
	for ; s != nil; s = s.parent {
		if c, ok := s.ctes[key]; ok {
			return c, true
		}
	}
	return columns{}, false
}

// nameKind says what a written identifier is compared against.
type nameKind uint8

const (
	nameCatalog nameKind = iota
	nameSchema
	nameTable
	nameColumn
)

// sameName reports whether the identifier id, as the statement wrote it,
// denotes the object the catalog calls name (a catalog, schema, table or
// column, per kind). Every comparison of a written name against a catalog
// name goes through here, so a dialect's rules for case and quoting belong
// here and nowhere else: add a dialect's rule as a case on j.dialect.
//
// Lookups find candidates ignoring case and then keep those sameName
// accepts, so a rule may only narrow case-insensitive equality, never match
// names that differ in more than case.
//
// MySQL-family names compare ignoring case; PostgreSQL's parser already
// folded unquoted names to lower case, so names compare exactly. Neither
// treats one kind of name differently from another.
func (j *judge) sameName(id stmt.Ident, name string, kind nameKind) bool {
	if j.dialect.CaseInsensitive {
		return strings.EqualFold(id.Name, name)
	}
	return id.Name == name
}

// relName is a relation name split into its parts; catalog and schema are
// nil when not written.
type relName struct {
	catalog, schema *stmt.Ident
	table           stmt.Ident
}

func splitRel(parts []stmt.Ident) (relName, bool) {
	switch len(parts) {
	case 1:
		return relName{table: parts[0]}, true
	case 2:
		return relName{schema: &parts[0], table: parts[1]}, true
	case 3:
		return relName{catalog: &parts[0], schema: &parts[1], table: parts[2]}, true
	}
	return relName{}, false
}

// resolve returns the tables a name denotes: catalog.schema.table;
// schema.table in the database's default catalog; table in its default
// schema and catalog. Where the database has no catalogs, a catalog part
// must name the database itself (PostgreSQL's db.schema.table).
func (j *judge) resolve(n relName) []*schema.Table {
	cat, sch := j.db.DefaultCatalog, j.db.DefaultSchema
	catalogs := j.db.HasCatalogs()
	if n.catalog != nil {
		if !catalogs {
			if !j.sameName(*n.catalog, j.db.Name, nameCatalog) {
				return nil
			}
		} else {
			cat = n.catalog.Name
		}
	}
	if n.schema != nil {
		sch = n.schema.Name
	}
	var out []*schema.Table
	for _, t := range j.db.TablesFoldIn(cat, sch, n.table.Name) {
		switch {
		case n.catalog != nil && catalogs && !j.sameName(*n.catalog, t.Catalog, nameCatalog),
			n.catalog == nil && !j.eq(t.Catalog, j.db.DefaultCatalog),
			n.schema != nil && !j.sameName(*n.schema, t.Schema, nameSchema),
			n.schema == nil && !j.eq(t.Schema, j.db.DefaultSchema),
			!j.sameName(n.table, t.Name, nameTable):
			continue
		}
		out = append(out, t)
	}
	return out
}

// table resolves a relation name to a real table and checks it may be read.
// It returns nil when the name does not resolve to a readable table.
func (j *judge) table(parts []stmt.Ident, pos int) *schema.Table {
	n, ok := splitRel(parts)
	if !ok {
		j.add(stmt.CodeUnknownTable, pos, "%s is not a valid table name", joinIdents(parts))
		return nil
	}
	written := joinIdents(parts)
	if n.catalog != nil && !j.db.HasCatalogs() && !j.sameName(*n.catalog, j.db.Name, nameCatalog) {
		j.add(stmt.CodeUnknownTable, pos, "%s names another database; only tables of %s may be read", written, j.db.Name)
		return nil
	}
	if n.schema != nil && slices.Contains(j.dialect.SystemSchemas, strings.ToLower(n.schema.Name)) {
		j.add(stmt.CodeSystemCatalog, pos, "%s is a system catalog; only the database's own tables may be read", written)
		return nil
	}
	if n.schema == nil {
		// PostgreSQL searches pg_catalog before the search path, so an
		// unqualified pg_ name may be a catalog even when a table of that
		// name exists: it must be qualified to mean the table.
		if p := j.dialect.SystemTablePrefix; p != "" && strings.HasPrefix(strings.ToLower(n.table.Name), p) {
			j.add(stmt.CodeSystemCatalog, pos, "%s is a system catalog name; to read a table of your own with that name, qualify it with its schema", written)
			return nil
		}
		if j.db.DefaultSchema == "" {
			j.add(stmt.CodeUnknownTable, pos, "%s is not qualified and database %s has no default schema; write schema.table", written, j.db.Name)
			return nil
		}
	}
	// Of several matches (names that differ only in case where the dialect
	// ignores case), one the caller may not read wins: fail closed.
	var t *schema.Table
	for _, m := range j.resolve(n) {
		if t == nil || !j.rules.TableAllowed(m) {
			t = m
		}
		if !j.rules.TableAllowed(t) {
			break
		}
	}
	if t == nil {
		j.add(stmt.CodeUnknownTable, pos, "table %s does not exist in database %s%s", written, j.db.Name, j.suggestTable(n))
		return nil
	}
	if !j.rules.TableAllowed(t) {
		j.add(stmt.CodeTableNotAllowed, pos, "table %s may not be read", t.QualifiedName())
		return nil
	}
	if !slices.Contains(j.read, t) {
		j.read = append(j.read, t)
	}
	return t
}

// rowType refuses the row type of a table the caller may not read: a cast
// such as null::users shows that table's columns. Any other type name is a
// base type and of no concern here.
func (j *judge) rowType(tr stmt.TypeRef) {
	n, ok := splitRel(tr.Name)
	if !ok {
		return
	}
	for _, t := range j.resolve(n) {
		if !j.rules.TableAllowed(t) {
			j.add(stmt.CodeTableNotAllowed, tr.Pos, "type %s is the row type of table %s, which may not be read", joinIdents(tr.Name), t.QualifiedName())
		}
	}
}

// suggestTable names readable tables the model may have meant: the same
// name in other schemas or catalogs, or the same name spelt with other
// case. Each is written as the shortest name that resolves to it.
func (j *judge) suggestTable(n relName) string {
	var hints []string
	meant := j.resolve(n)
	for _, t := range j.db.Tables {
		if !strings.EqualFold(t.Name, n.table.Name) || !j.rules.TableAllowed(t) || slices.Contains(meant, t) {
			continue
		}
		h := quoteIfNeeded(j.dialect, t.Schema) + "." + quoteIfNeeded(j.dialect, t.Name)
		if t.Catalog != "" && t.Catalog != j.db.DefaultCatalog {
			h = quoteIfNeeded(j.dialect, t.Catalog) + "." + h
		}
		hints = append(hints, h)
	}
	if len(hints) == 0 {
		return ""
	}
	if len(hints) > 5 {
		hints = hints[:5]
	}
	return "; did you mean " + strings.Join(hints, " or ") + "?"
}

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

// catalogIdent is a catalog's own name seen as an identifier: quoted, so it
// denotes exactly that name (a NATURAL join compares the columns the
// catalog lists).
func catalogIdent(name string) stmt.Ident { return stmt.Ident{Name: name, Quoted: true} }

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

// namesTable reports whether a column qualifier, [[catalog.]schema.]table,
// names the real table t.
func (j *judge) namesTable(q []stmt.Ident, t *schema.Table) bool {
	n, ok := splitRel(q)
	if !ok || !j.sameName(n.table, t.Name, nameTable) {
		return false
	}
	if n.schema != nil && !j.sameName(*n.schema, t.Schema, nameSchema) {
		return false
	}
	switch {
	case n.catalog == nil:
		return true
	case t.Catalog != "":
		return j.sameName(*n.catalog, t.Catalog, nameCatalog)
	case !j.db.HasCatalogs():
		return j.sameName(*n.catalog, j.db.Name, nameCatalog)
	}
	return false
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

func (j *judge) function(f stmt.Func) {
	if len(f.Name) == 0 {
		return
	}
	parts := make([]string, len(f.Name))
	for i, p := range f.Name {
		// PostgreSQL already folded unquoted names; a quoted "Sum" is
		// another function than sum, so only MySQL compares ignoring case.
		parts[i] = j.fold(p.Name)
	}
	name := parts[len(parts)-1]
	full := strings.ToLower(strings.Join(parts, "."))
	switch {
	case len(parts) == 1 && j.dialect.Functions[name]:
		return
	case len(parts) == 2 && slices.Contains(j.dialect.FunctionSchemas, strings.ToLower(parts[0])) && j.dialect.Functions[name]:
		return
	case j.rules.FunctionAllowed(full):
		return
	}
	j.add(stmt.CodeFunctionNotAllowed, f.Pos, "function %s is not on the list of allowed read-only functions", joinIdents(f.Name))
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

package validate

import (
	"slices"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

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

// catalogIdent is a catalog's own name seen as an identifier: quoted, so it
// denotes exactly that name (a NATURAL join compares the columns the
// catalog lists).
func catalogIdent(name string) stmt.Ident { return stmt.Ident{Name: name, Quoted: true} }

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

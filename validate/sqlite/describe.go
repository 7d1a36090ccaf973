package sqlite

import (
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/texttosql/text2sql/validate/stmt"
)

// describe turns what SQLite's authorizer reported while preparing the
// statement into the neutral description. SQLite has already resolved
// every name (aliases, CTEs, subqueries, stars, USING and NATURAL joins):
// what it reports are the real tables and columns the statement reads, and
// the functions it calls. The description is one flat query whose FROM
// lists those tables and whose references name each column read fully
// qualified, so the judge applies the same table, column and function
// rules to it as to any dialect's tree.
func describe(sh *shadow, p *prepared, sql string, toks []token) *stmt.Statement {
	pos := positions(sql, toks)
	s := &stmt.Statement{Verb: verb(sql, toks)}
	s.Findings = net(p.trace, pos)
	switch {
	case p.explain:
		s.Verb = "EXPLAIN"
		return s
	case !queryVerb(s.Verb):
		return s
	case !p.readonly:
		// The second net: SQLite says the statement would write.
		s.Findings = append(s.Findings, stmt.Finding{Code: stmt.CodeNotReadOnly, Pos: -1,
			Message: "SQLite reports that the statement would write; only read-only queries are accepted"})
		return s
	case len(s.Findings) > 0:
		return s
	}
	q := &stmt.Query{Pos: 0}
	s.Query = q
	sources := map[string]bool{}
	source := func(schemaName, table string) []stmt.Ident {
		name := []stmt.Ident{{Name: table}}
		if schemaName != "" {
			name = []stmt.Ident{{Name: schemaName}, {Name: table}}
		}
		k := strings.ToLower(schemaName + "\x00" + table)
		if !sources[k] {
			sources[k] = true
			// SQLite has resolved the joins; the flat list keeps none of
			// their conditions, so no item is counted as a cross join.
			q.From = append(q.From, &stmt.Source{Kind: stmt.SourceTable, Name: name, Pos: pos(table), Joined: len(q.From) > 0})
		}
		return name
	}
	funcs := map[string]bool{}
	recursive := false
	for _, e := range p.trace {
		switch e.action {
		case sqlite3.SQLITE_READ:
			table, column := e.arg1, e.arg2
			var schemas []string
			if e.dbName == "" {
				// A table read for no column (count(*)) comes without its
				// schema. The compiled program names the one it opens; when
				// it does not, judge every schema that has the name.
				if named(p.trace, table) {
					continue
				}
				schemas = sh.tables[strings.ToLower(table)]
			} else if cat, ok := sh.schemas[strings.ToLower(e.dbName)]; ok && sh.has(cat, table) {
				schemas = []string{cat}
			}
			if len(schemas) == 0 {
				if strings.HasPrefix(strings.ToLower(table), "pragma_") {
					s.Findings = append(s.Findings, stmt.Finding{Code: stmt.CodeNotReadOnly, Pos: pos(table),
						Message: fmt.Sprintf("%s runs a PRAGMA; only read-only queries are accepted", table)})
					continue
				}
				if tableFunctions[strings.ToLower(table)] {
					addFunc(q, funcs, table, stmt.FuncTable, pos(table))
					continue
				}
				s.Findings = append(s.Findings, stmt.Finding{Code: stmt.CodeUnsupportedSyntax, Pos: pos(table),
					Message: fmt.Sprintf("the statement reads %s, which is neither a table of the catalog nor an allowed table function", table)})
				continue
			}
			for _, sc := range schemas {
				name := source(sc, table)
				if column == "" || isRowid(column) && !sh.hasColumn(sc, table, column) {
					// The row id is no column of the catalog and carries no data.
					continue
				}
				q.Refs = append(q.Refs, stmt.ColumnRef{Parts: append(name[:len(name):len(name)], stmt.Ident{Name: column}), Pos: pos(column)})
			}
		case sqlite3.SQLITE_FUNCTION:
			addFunc(q, funcs, e.arg2, stmt.FuncScalar, pos(e.arg2))
		case sqlite3.SQLITE_RECURSIVE:
			// SQLite reports that a CTE recurses but not what bounds it:
			// the flat description has no CTE for the judge to size, so
			// recursion is refused here rather than let through unsized.
			if !recursive {
				recursive = true
				s.Findings = append(s.Findings, stmt.Finding{Code: stmt.CodeUnboundedRecursion, Pos: -1,
					Message: "recursive WITH queries are not accepted for SQLite databases, whose checker cannot see a recursion's bound; compute the rows without recursion"})
			}
		}
	}
	return s
}

// named says whether the trace reads table with its schema given.
func named(trace []event, table string) bool {
	for _, e := range trace {
		if e.action == sqlite3.SQLITE_READ && e.dbName != "" && strings.EqualFold(e.arg1, table) {
			return true
		}
	}
	return false
}

func addFunc(q *stmt.Query, seen map[string]bool, name string, kind stmt.FuncKind, pos int) {
	name = strings.ToLower(name)
	if seen[name] {
		return
	}
	seen[name] = true
	q.Funcs = append(q.Funcs, stmt.Func{Name: []stmt.Ident{{Name: name}}, Kind: kind, Pos: pos})
}

func isRowid(c string) bool {
	switch strings.ToLower(c) {
	case "rowid", "_rowid_", "oid":
		return true
	}
	return false
}

// positions finds where a name is first written, for messages; -1 when it
// is not written as such (a column read through a star).
func positions(sql string, toks []token) func(string) int {
	return func(name string) int {
		if name == "" {
			return -1
		}
		for _, t := range toks {
			switch t.kind {
			case tokWord:
				if strings.EqualFold(t.text(sql), name) {
					return t.start
				}
			case tokQuoted:
				if strings.EqualFold(unquote(t.text(sql)), name) {
					return t.start
				}
			}
		}
		return -1
	}
}

// unquote strips the quotes of a quoted identifier or string.
func unquote(s string) string {
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '[':
		return s[1 : len(s)-1]
	case '"', '`', '\'':
		q := s[:1]
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}

func (sh *shadow) has(schemaName, table string) bool {
	for _, s := range sh.tables[strings.ToLower(table)] {
		if s == schemaName {
			return true
		}
	}
	return false
}

func (sh *shadow) hasColumn(schemaName, table, column string) bool {
	for _, c := range sh.columns[strings.ToLower(schemaName+"\x00"+table)] {
		if strings.EqualFold(c, column) {
			return true
		}
	}
	return false
}

// programReads lists what the compiled program reads as authorizer-style
// events: a table for every cursor opened on one, and a column for every
// column it takes from such a cursor. SQLite's authorizer does not report
// the columns a USING or NATURAL join compares, nor a table none of whose
// columns is named; the program has them all.
func programReads(sh *shadow, c *conn, sql string) ([]event, error) {
	prog, err := c.program(sql)
	if err != nil {
		return nil, err
	}
	cursors := map[int64]rootTable{}
	var out []event
	for _, o := range prog {
		switch o.name {
		case "OpenRead", "ReopenIdx":
			rt, ok := c.roots[[2]int64{o.p3, o.p2}]
			if !ok {
				return nil, fmt.Errorf("the program opens page %d of database %d, which holds no known table", o.p2, o.p3)
			}
			cursors[o.p1] = rt
			out = append(out, event{action: sqlite3.SQLITE_READ, arg1: rt.name, dbName: rt.db})
		case "OpenDup":
			if rt, ok := cursors[o.p2]; ok {
				cursors[o.p1] = rt
			}
		case "OpenWrite":
			return nil, fmt.Errorf("the program opens a table for writing")
		case "Column":
			rt, ok := cursors[o.p1]
			if !ok {
				continue // a subquery's or sorter's cursor: its values come from reads listed here
			}
			cat := sh.schemas[strings.ToLower(rt.db)]
			cols := sh.columns[strings.ToLower(cat+"\x00"+rt.name)]
			if o.p2 < 0 || int(o.p2) >= len(cols) {
				return nil, fmt.Errorf("the program reads column %d of %s, which it does not have", o.p2, rt.name)
			}
			out = append(out, event{action: sqlite3.SQLITE_READ, arg1: rt.name, arg2: cols[o.p2], dbName: rt.db})
		}
	}
	return out, nil
}

package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/texttosql/text2sql/validate/stmt"
	"github.com/texttosql/text2sql/validate/visited"
)

// maxDepth bounds how deeply nested a query may be before the walk stops
// and reports it. The TiDB parser builds any depth without recursing; the
// walks over the tree (this one, the cross-check, the printer) recurse
// once per level, and stop here.
const maxDepth = stmt.MaxNesting

// Describe reduces the tree to the neutral description. The first call
// walks the tree; later calls return the same description.
func (p *parsed) Describe() (st *stmt.Statement) {
	if p.desc != nil {
		return p.desc
	}
	d := &describer{src: p.src, ansiQuotes: p.mode.HasANSIQuotesMode(), noBackslashEscapes: p.mode.HasNoBackslashEscapesMode(), seen: nodeSets.Get()}
	st = &stmt.Statement{}
	defer func() {
		// A tree the walk cannot handle is refused, never a crash. The
		// node set is then dropped rather than reused.
		if r := recover(); r != nil {
			st.Findings = append(d.findings, stmt.Finding{Code: stmt.CodeUnsupportedSyntax,
				Message: fmt.Sprintf("the statement could not be analysed (%v); rewrite it more simply", r), Pos: -1})
			p.desc = st
			return
		}
		d.seen.Release()
	}()
	switch n := p.root.(type) {
	case *ast.SelectStmt:
		st.Verb = selectVerb(n)
		st.Query = d.selectStmt(n, -1)
	case *ast.SetOprStmt:
		st.Verb = "SELECT"
		st.Query = d.setOpr(n, -1)
	default:
		st.Verb = verbOf(p.root)
		p.desc = st
		return st
	}
	d.commentHazards()
	d.lostWith()
	d.crossCheck(p.root)
	// The cross-check's walk also made the printer's fixes; when it went
	// through the whole tree, Print need not walk it again.
	p.fixed = !d.check.skipped
	st.Findings = d.findings
	p.desc = st
	return st
}

// describer walks one statement. Every node type it knows is handled by
// an explicit case; anything else becomes an UNSUPPORTED_SYNTAX finding.
type describer struct {
	src                string
	ansiQuotes         bool
	noBackslashEscapes bool
	findings           []stmt.Finding
	seen               *visited.Set[ast.Node, mark]
	depth              int
	tooDeep            bool
	// withs counts the WITH keywords the tree accounts for: WITH lists,
	// WITH ROLLUP and WITH QUERY EXPANSION.
	withs int
	// The description holds many short name lists and several sources;
	// they are carved out of larger blocks to save an allocation each.
	identBlock  []stmt.Ident
	sourceBlock []stmt.Source
	check       checker
}

// idents returns n names for the description, as a slice that cannot
// grow into its neighbours.
func (d *describer) idents(n int) []stmt.Ident {
	if n > cap(d.identBlock)-len(d.identBlock) {
		// A name takes at least a few bytes of text: size the first block
		// by the text, later ones generously.
		size := 32
		if d.identBlock == nil {
			size = min(max(len(d.src)/12, 8), 64)
		}
		d.identBlock = make([]stmt.Ident, 0, max(n, size))
	}
	i := len(d.identBlock)
	d.identBlock = d.identBlock[:i+n]
	return d.identBlock[i : i+n : i+n]
}

func (d *describer) ident1(a string) []stmt.Ident {
	out := d.idents(1)
	out[0].Name = a
	return out
}

func (d *describer) ident2(a, b string) []stmt.Ident {
	out := d.idents(2)
	out[0].Name, out[1].Name = a, b
	return out
}

// source returns a new, zero FROM item for the description.
func (d *describer) source() *stmt.Source {
	if len(d.sourceBlock) == cap(d.sourceBlock) {
		d.sourceBlock = make([]stmt.Source, 0, 2*cap(d.sourceBlock)+2)
	}
	d.sourceBlock = d.sourceBlock[:len(d.sourceBlock)+1]
	return &d.sourceBlock[len(d.sourceBlock)-1]
}

func (d *describer) find(code string, pos int, format string, args ...any) {
	d.findings = append(d.findings, stmt.Finding{Code: code, Message: fmt.Sprintf(format, args...), Pos: pos})
}

func (d *describer) walk(n ast.Node) { d.seen.Put(n, walked) }

// unsupported reports a node the adapter does not accept and keeps the
// cross-check from reporting its insides again.
func (d *describer) unsupported(n ast.Node, pos int, format string, args ...any) {
	d.seen.Put(n, reported)
	d.find(stmt.CodeUnsupportedSyntax, pos, format, args...)
}

// enter guards recursion depth; it reports once and returns false when
// the statement is nested too deeply.
func (d *describer) enter(n ast.Node, pos int) bool {
	if d.depth >= maxDepth {
		d.seen.Put(n, reported)
		if !d.tooDeep {
			d.tooDeep = true
			d.find(stmt.CodeTooComplex, pos, "%s", stmt.TooComplex(0, pos).Message)
		}
		return false
	}
	d.depth++
	return true
}

func (d *describer) leave() { d.depth-- }

// offset is a node's byte offset in the text, or -1. The parser records
// offsets for expressions only; 0 means "not recorded" there because no
// expression can start a query statement.
func offset(n ast.Node) int {
	if n == nil {
		return -1
	}
	if o := n.OriginTextPosition(); o > 0 {
		return o
	}
	return -1
}

func ident(s string) stmt.Ident { return stmt.Ident{Name: s} }

// addRef appends a column reference; a block usually has several, so the
// list starts with room for a few.
func addRef(q *stmt.Query, r stmt.ColumnRef) {
	if q.Refs == nil {
		q.Refs = make([]stmt.ColumnRef, 0, 4)
	}
	q.Refs = append(q.Refs, r)
}

// resultSet describes a node that must be a query: a CTE body, a derived
// table or a subquery.
func (d *describer) resultSet(n ast.ResultSetNode, pos int, what string) *stmt.Query {
	switch x := n.(type) {
	case *ast.SelectStmt:
		return d.selectStmt(x, pos)
	case *ast.SetOprStmt:
		return d.setOpr(x, pos)
	case nil:
		d.find(stmt.CodeUnsupportedSyntax, pos, "%s has no query", what)
	default:
		d.unsupported(x, pos, "%s must be a query, found %s", what, nodeName(x))
	}
	return &stmt.Query{Pos: pos}
}

// nodeName names a node type for messages: "*ast.DeleteStmt" → "DeleteStmt".
func nodeName(n any) string {
	s := fmt.Sprintf("%T", n)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (d *describer) selectStmt(s *ast.SelectStmt, pos int) *stmt.Query {
	d.walk(s)
	q := &stmt.Query{Pos: pos}
	if !d.enter(s, pos) {
		return q
	}
	defer d.leave()
	d.with(q, s.With)
	d.selectOptions(s)

	switch s.Kind {
	case ast.SelectStmtKindSelect:
		if s.Fields != nil {
			d.walk(s.Fields)
			q.Targets = make([]stmt.Target, 0, len(s.Fields.Fields))
			for _, f := range s.Fields.Fields {
				d.selectField(q, f)
			}
		}
		if s.From != nil {
			d.walk(s.From)
			d.from(q, s.From.TableRefs)
		}
	case ast.SelectStmtKindTable:
		// TABLE t is SELECT * FROM t.
		d.placeholderFields(s)
		if s.From != nil {
			d.walk(s.From)
			d.from(q, s.From.TableRefs)
		}
		star := stmt.Star{Pos: -1}
		q.Stars = append(q.Stars, star)
		q.Targets = append(q.Targets, stmt.Target{Star: &star})
	case ast.SelectStmtKindValues:
		d.placeholderFields(s)
		width := 0
		for _, row := range s.Lists {
			d.walk(row)
			for _, v := range row.Values {
				d.expr(q, v, stmt.AliasNever)
			}
			width = max(width, len(row.Values))
		}
		// MySQL names VALUES columns column_0, column_1, ...: invented names.
		for range width {
			q.Targets = append(q.Targets, stmt.Target{})
		}
	default:
		d.find(stmt.CodeUnsupportedSyntax, pos, "unknown kind of SELECT statement (%d)", s.Kind)
	}
	if s.Kind != ast.SelectStmtKindValues {
		for _, row := range s.Lists {
			d.unsupported(row, offset(row), "a row list outside VALUES is not supported")
		}
	}

	if s.Where != nil {
		d.expr(q, s.Where, stmt.AliasNever)
		if len(q.From) > 1 {
			q.Links = links(s.Where)
		}
	}
	if s.GroupBy != nil {
		d.walk(s.GroupBy)
		if s.GroupBy.Rollup {
			d.withs++
		}
		for _, it := range s.GroupBy.Items {
			d.walk(it)
			d.expr(q, it.Expr, stmt.AliasFallback)
		}
	}
	if s.Having != nil {
		d.walk(s.Having)
		d.expr(q, s.Having.Expr, stmt.AliasFallback)
	}
	for i := range s.WindowSpecs {
		d.windowSpec(q, &s.WindowSpecs[i])
	}
	d.orderBy(q, s.OrderBy, stmt.AliasFallback)
	d.limit(q, s.Limit)
	return q
}

// placeholderFields marks the empty field list the parser attaches to
// TABLE and VALUES statements.
func (d *describer) placeholderFields(s *ast.SelectStmt) {
	if s.Fields == nil {
		return
	}
	d.walk(s.Fields)
	for _, f := range s.Fields.Fields {
		d.walk(f)
		if f.WildCard != nil {
			d.walk(f.WildCard)
		}
		if f.Expr != nil || f.WildCard != nil && (f.WildCard.Table.O != "" || f.WildCard.Schema.O != "") {
			d.unsupported(f, offset(f.Expr), "a select list in a %s statement is not supported", selectVerb(s))
		}
	}
}

// selectOptions reports the clauses of a SELECT block that make it more
// than a read: INTO, row locks, and optimizer hints that set variables.
func (d *describer) selectOptions(s *ast.SelectStmt) {
	if into := s.SelectIntoOpt; into != nil {
		d.walk(into)
		switch into.Tp {
		case ast.SelectIntoOutfile:
			d.find(stmt.CodeIntoClause, -1, "SELECT ... INTO OUTFILE %q writes a file on the server", into.FileName)
		case ast.SelectIntoDumpfile:
			d.find(stmt.CodeIntoClause, -1, "SELECT ... INTO DUMPFILE %q writes a file on the server", into.FileName)
		case ast.SelectIntoVars:
			d.find(stmt.CodeIntoClause, -1, "SELECT ... INTO variables writes session variables")
		default:
			d.find(stmt.CodeIntoClause, -1, "SELECT ... INTO is not allowed")
		}
	}
	if li := s.LockInfo; li != nil {
		for _, t := range li.Tables {
			d.walk(t)
		}
		if li.LockType != ast.SelectLockNone {
			d.find(stmt.CodeLockingClause, -1, "%s locks rows; remove the locking clause", strings.ToUpper(li.LockType.String()))
		}
	}
	hints := s.TableHints
	if s.SelectStmtOpts != nil && len(s.SelectStmtOpts.TableHints) > 0 {
		// The parser usually keeps the same hints in both places.
		hints = append(append([]*ast.TableOptimizerHint{}, hints...), s.SelectStmtOpts.TableHints...)
	}
	for _, h := range hints {
		if d.seen.Get(h) != 0 {
			continue
		}
		d.walk(h)
		if h.HintName.L == "set_var" {
			d.find(stmt.CodeVariableNotAllowed, -1, "the SET_VAR optimizer hint changes a system variable")
		}
	}
}

func (d *describer) selectField(q *stmt.Query, f *ast.SelectField) {
	d.walk(f)
	switch {
	case f.WildCard != nil:
		d.walk(f.WildCard)
		star := stmt.Star{Qualifier: wildcardQualifier(f.WildCard), Pos: fieldPos(f)}
		q.Stars = append(q.Stars, star)
		q.Targets = append(q.Targets, stmt.Target{Star: &star})
	case f.Expr != nil:
		t := stmt.Target{}
		if f.AsName.O != "" {
			t.Name = ident(f.AsName.O)
		} else if c, ok := f.Expr.(*ast.ColumnNameExpr); ok && c.Name != nil {
			t.Name = ident(c.Name.Name.O)
		}
		q.Targets = append(q.Targets, t)
		d.expr(q, f.Expr, stmt.AliasNever)
	default:
		d.unsupported(f, -1, "empty select-list item")
	}
}

func fieldPos(f *ast.SelectField) int {
	if f.Offset > 0 {
		return f.Offset
	}
	return -1
}

func wildcardQualifier(w *ast.WildCardField) []stmt.Ident {
	var q []stmt.Ident
	if w.Schema.O != "" {
		q = append(q, ident(w.Schema.O))
	}
	if w.Table.O != "" {
		q = append(q, ident(w.Table.O))
	}
	return q
}

func (d *describer) with(q *stmt.Query, w *ast.WithClause) {
	// The parser hangs the WITH of "(WITH ... SELECT ...) ORDER BY ..." on
	// both the block and the list around it; it is declared once.
	if w == nil || d.seen.Get(w) != 0 {
		return
	}
	d.walk(w)
	d.withs++
	q.Recursive = q.Recursive || w.IsRecursive
	for _, c := range w.CTEs {
		d.walk(c)
		cte := &stmt.CTE{Name: ident(c.Name.O), Pos: -1}
		for _, col := range c.ColNameList {
			cte.Columns = append(cte.Columns, ident(col.O))
		}
		if c.Query == nil {
			d.find(stmt.CodeUnsupportedSyntax, -1, "common table expression %s has no query", c.Name.O)
			cte.Query = &stmt.Query{Pos: -1}
		} else {
			d.walk(c.Query)
			cte.Pos = offset(c.Query)
			cte.Query = d.resultSet(c.Query.Query, cte.Pos, "common table expression "+c.Name.O)
			if w.IsRecursive {
				cte.Bound = bound(c)
			}
		}
		q.With = append(q.With, cte)
	}
}

// setOpr describes UNION / EXCEPT / INTERSECT.
func (d *describer) setOpr(s *ast.SetOprStmt, pos int) *stmt.Query {
	d.walk(s)
	if !d.enter(s, pos) {
		return &stmt.Query{Pos: pos}
	}
	defer d.leave()
	if s.SelectList == nil {
		d.find(stmt.CodeUnsupportedSyntax, pos, "set operation without operands")
		return &stmt.Query{Pos: pos}
	}
	inner := d.setOprList(s.SelectList, pos)
	return d.compound(inner, s.With, s.OrderBy, s.Limit, pos)
}

// setOprList describes one (possibly parenthesized) list of set-operation
// operands with its own WITH, ORDER BY and LIMIT.
func (d *describer) setOprList(l *ast.SetOprSelectList, pos int) *stmt.Query {
	d.walk(l)
	if !d.enter(l, pos) {
		return &stmt.Query{Pos: pos}
	}
	defer d.leave()
	var arms []*stmt.Query
	var ops []string
	for i, n := range l.Selects {
		var arm *stmt.Query
		var op *ast.SetOprType
		switch x := n.(type) {
		case *ast.SelectStmt:
			arm, op = d.selectStmt(x, -1), x.AfterSetOperator
		case *ast.SetOprSelectList:
			arm, op = d.setOprList(x, -1), x.AfterSetOperator
		default:
			d.unsupported(n, -1, "unexpected %s in a set operation", nodeName(n))
			continue
		}
		opName := "UNION"
		if op != nil {
			opName = op.String()
		}
		if i > 0 {
			ops = append(ops, opName)
		}
		arms = append(arms, arm)
	}
	var q *stmt.Query
	switch {
	case len(arms) == 0:
		d.find(stmt.CodeUnsupportedSyntax, pos, "set operation without operands")
		q = &stmt.Query{Pos: pos}
	case len(arms) == 1:
		q = arms[0]
	default:
		// Operators of mixed kinds nest to the left; the grouping does not
		// change which relations and columns are read.
		q = &stmt.Query{Pos: pos, Op: ops[0], Arms: arms[:2]}
		for i := 2; i < len(arms); i++ {
			if ops[i-1] == q.Op {
				q.Arms = append(q.Arms, arms[i])
				continue
			}
			q = &stmt.Query{Pos: pos, Op: ops[i-1], Arms: []*stmt.Query{q, arms[i]}}
		}
	}
	return d.compound(q, l.With, l.OrderBy, l.Limit, pos)
}

// compound attaches a WITH list, ORDER BY and LIMIT that apply to a whole
// query expression q.
func (d *describer) compound(q *stmt.Query, with *ast.WithClause, order *ast.OrderByClause, limit *ast.Limit, pos int) *stmt.Query {
	if with == nil && order == nil && limit == nil {
		return q
	}
	if q.Op == "" && (with != nil && len(q.With) > 0 || order != nil) {
		// A single parenthesized block with its own WITH or ORDER BY outside
		// the parentheses reads like SELECT * FROM (block): names outside
		// resolve against the block's output columns.
		star := stmt.Star{Pos: -1}
		q = &stmt.Query{
			Pos:     pos,
			From:    []*stmt.Source{{Kind: stmt.SourceSubquery, Query: q, Pos: -1}},
			Targets: []stmt.Target{{Star: &star}},
			Stars:   []stmt.Star{star},
		}
	}
	d.with(q, with)
	d.orderBy(q, order, stmt.AliasFallback)
	d.limit(q, limit)
	return q
}

// orderBy adds ORDER BY references. A bare column name may name an output
// column first (MySQL resolves it against the select list before the
// FROM items); names inside expressions use rule.
func (d *describer) orderBy(q *stmt.Query, o *ast.OrderByClause, rule stmt.AliasRule) {
	if o == nil {
		return
	}
	d.walk(o)
	for _, it := range o.Items {
		d.walk(it)
		if c, ok := it.Expr.(*ast.ColumnNameExpr); ok && c.Name != nil && c.Name.Table.O == "" {
			d.walk(c)
			d.walk(c.Name)
			addRef(q, stmt.ColumnRef{Parts: d.ident1(c.Name.Name.O), Alias: stmt.AliasFirst, Pos: offset(c)})
			continue
		}
		d.expr(q, it.Expr, rule)
	}
}

func (d *describer) limit(q *stmt.Query, l *ast.Limit) {
	if l == nil {
		return
	}
	d.walk(l)
	if l.Count != nil {
		d.expr(q, l.Count, stmt.AliasNever)
	}
	if l.Offset != nil {
		d.expr(q, l.Offset, stmt.AliasNever)
	}
}

// from flattens a FROM tree into q.From, left to right.
func (d *describer) from(q *stmt.Query, n ast.ResultSetNode) {
	if !d.enter(n, -1) {
		return
	}
	defer d.leave()
	switch x := n.(type) {
	case *ast.Join:
		d.walk(x)
		d.from(q, x.Left)
		if x.Right == nil {
			if x.On != nil || len(x.Using) > 0 || x.NaturalJoin {
				d.unsupported(x, -1, "join condition without a right-hand table")
			}
			return
		}
		first := len(q.From)
		d.from(q, x.Right)
		if len(x.Using) > 0 || x.NaturalJoin {
			// USING and NATURAL compare the right-hand table with the tables
			// before it; a parenthesized join on the right has no single
			// table to put them on.
			ts, ok := x.Right.(*ast.TableSource)
			if ok {
				_, nested := ts.Source.(*ast.Join)
				ok = !nested && len(q.From) == first+1
			}
			if !ok {
				d.find(stmt.CodeUnsupportedSyntax, -1, "USING or NATURAL with a parenthesized join on the right is not supported; join with ON instead")
			}
			for _, c := range x.Using {
				d.walk(c)
				if ok {
					q.From[first].Using = append(q.From[first].Using, ident(c.Name.O))
				}
			}
			if ok {
				q.From[first].Natural = x.NaturalJoin
			}
		}
		refs := len(q.Refs)
		if x.On != nil {
			d.walk(x.On)
			d.expr(q, x.On.Expr, stmt.AliasNever)
		}
		if len(q.From) > first {
			q.From[first].Joined = len(x.Using) > 0 || x.NaturalJoin || len(q.Refs) > refs
		}
	case *ast.TableSource:
		d.walk(x)
		d.tableSource(q, x)
	case nil:
		d.find(stmt.CodeUnsupportedSyntax, -1, "empty FROM item")
	default:
		d.unsupported(x, -1, "unsupported FROM item %s", nodeName(x))
	}
}

func (d *describer) tableSource(q *stmt.Query, ts *ast.TableSource) {
	var alias *stmt.Ident
	if ts.AsName.O != "" {
		alias = &d.ident1(ts.AsName.O)[0]
	}
	switch s := ts.Source.(type) {
	case *ast.TableName:
		d.walk(s)
		src := d.source()
		*src = stmt.Source{Kind: stmt.SourceTable, Name: d.tableNameParts(s), Alias: alias, Pos: -1}
		if ts.Lateral || len(ts.ColumnNames) > 0 {
			d.find(stmt.CodeUnsupportedSyntax, -1, "LATERAL and column aliases apply to derived tables, not to table %s", s.Name.O)
		}
		d.tableName(s)
		q.From = append(q.From, src)
	case *ast.SelectStmt, *ast.SetOprStmt:
		src := d.source()
		*src = stmt.Source{Kind: stmt.SourceSubquery, Alias: alias, Lateral: ts.Lateral, Pos: -1}
		for _, c := range ts.ColumnNames {
			src.ColumnAliases = append(src.ColumnAliases, ident(c.O))
		}
		src.Query = d.resultSet(s, -1, "derived table")
		q.From = append(q.From, src)
	case *ast.Join:
		if alias != nil || ts.Lateral || len(ts.ColumnNames) > 0 {
			d.find(stmt.CodeUnsupportedSyntax, -1, "a parenthesized join cannot have an alias or LATERAL")
		}
		d.from(q, s)
	case nil:
		d.find(stmt.CodeUnsupportedSyntax, -1, "empty FROM item")
	default:
		d.unsupported(s, -1, "unsupported FROM item %s", nodeName(s))
	}
}

func (d *describer) tableNameParts(t *ast.TableName) []stmt.Ident {
	if t.Schema.O != "" {
		return d.ident2(t.Schema.O, t.Name.O)
	}
	return d.ident1(t.Name.O)
}

// tableName reports the TiDB-only table clauses MySQL would not run.
func (d *describer) tableName(t *ast.TableName) {
	if t.AsOf != nil {
		d.unsupported(t.AsOf, offset(t.AsOf.TsExpr), "AS OF TIMESTAMP (stale read) on %s is TiDB-only syntax", t.Name.O)
	}
	if t.TableSample != nil {
		d.unsupported(t.TableSample, -1, "TABLESAMPLE on %s is not MySQL syntax", t.Name.O)
	}
	for _, h := range t.IndexHints {
		switch h.HintType {
		case ast.HintUse, ast.HintIgnore, ast.HintForce:
		default:
			d.find(stmt.CodeUnsupportedSyntax, -1, "index hint on %s is TiDB-only syntax", t.Name.O)
		}
	}
}

func (d *describer) windowSpec(q *stmt.Query, w *ast.WindowSpec) {
	d.walk(w)
	if w.PartitionBy != nil {
		d.walk(w.PartitionBy)
		for _, it := range w.PartitionBy.Items {
			d.walk(it)
			d.expr(q, it.Expr, stmt.AliasNever)
		}
	}
	if w.OrderBy != nil {
		d.walk(w.OrderBy)
		for _, it := range w.OrderBy.Items {
			d.walk(it)
			d.expr(q, it.Expr, stmt.AliasNever)
		}
	}
	if f := w.Frame; f != nil {
		d.walk(f)
		if f.Type != ast.Rows && f.Type != ast.Ranges {
			d.find(stmt.CodeUnsupportedSyntax, -1, "window frames of type GROUPS are not supported by MySQL")
		}
		for _, b := range []*ast.FrameBound{&f.Extent.Start, &f.Extent.End} {
			d.walk(b)
			if b.Expr != nil {
				d.expr(q, b.Expr, stmt.AliasNever)
			}
		}
	}
}

// columnRef adds a column reference. A qualified name is never an alias.
func (d *describer) columnRef(q *stmt.Query, c *ast.ColumnName, rule stmt.AliasRule, pos int) {
	d.walk(c)
	var parts []stmt.Ident
	switch {
	case c.Schema.O != "":
		parts = d.idents(3)
		parts[0].Name, parts[1].Name, parts[2].Name = c.Schema.O, c.Table.O, c.Name.O
	case c.Table.O != "":
		parts = d.ident2(c.Table.O, c.Name.O)
	default:
		parts = d.ident1(c.Name.O)
	}
	if len(parts) > 1 {
		rule = stmt.AliasNever
	}
	addRef(q, stmt.ColumnRef{Parts: parts, Alias: rule, Pos: pos})
}

// expr walks one expression of block q; rule applies to its unqualified
// column names. Subqueries become q.Subqueries with their own rules.
func (d *describer) expr(q *stmt.Query, e ast.ExprNode, rule stmt.AliasRule) {
	if e == nil {
		return
	}
	pos := offset(e)
	if !d.enter(e, pos) {
		return
	}
	defer d.leave()
	switch x := e.(type) {
	case *test_driver.ParamMarkerExpr:
		p := x.Offset
		if p < 0 || p >= len(d.src) {
			p = pos
		}
		d.unsupported(x, p, "parameter markers (?) are not supported; write the value into the query")
	case *test_driver.ValueExpr:
		d.walk(x)
	case *ast.ColumnNameExpr:
		d.walk(x)
		if x.Name == nil {
			d.unsupported(x, pos, "column reference without a name")
			return
		}
		d.columnRef(q, x.Name, rule, pos)
	case *ast.BinaryOperationExpr:
		d.walk(x)
		d.expr(q, x.L, rule)
		d.expr(q, x.R, rule)
	case *ast.UnaryOperationExpr:
		d.walk(x)
		d.expr(q, x.V, rule)
	case *ast.ParenthesesExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
	case *ast.BetweenExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
		d.expr(q, x.Left, rule)
		d.expr(q, x.Right, rule)
	case *ast.CaseExpr:
		d.walk(x)
		d.expr(q, x.Value, rule)
		for _, w := range x.WhenClauses {
			d.walk(w)
			d.expr(q, w.Expr, rule)
			d.expr(q, w.Result, rule)
		}
		d.expr(q, x.ElseClause, rule)
	case *ast.IsNullExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
	case *ast.IsTruthExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
	case *ast.PatternInExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
		for _, v := range x.List {
			d.expr(q, v, rule)
		}
		d.expr(q, x.Sel, rule)
	case *ast.PatternLikeOrIlikeExpr:
		if !x.IsLike {
			d.unsupported(x, pos, "ILIKE is not MySQL syntax; use LOWER(x) LIKE LOWER(pattern)")
			return
		}
		d.walk(x)
		d.expr(q, x.Expr, rule)
		d.expr(q, x.Pattern, rule)
	case *ast.PatternRegexpExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
		d.expr(q, x.Pattern, rule)
	case *ast.RowExpr:
		d.walk(x)
		for _, v := range x.Values {
			d.expr(q, v, rule)
		}
	case *ast.SubqueryExpr:
		d.walk(x)
		q.Subqueries = append(q.Subqueries, d.resultSet(x.Query, pos, "subquery"))
	case *ast.ExistsSubqueryExpr:
		d.walk(x)
		d.expr(q, x.Sel, rule)
	case *ast.CompareSubqueryExpr:
		d.walk(x)
		d.expr(q, x.L, rule)
		d.expr(q, x.R, rule)
	case *ast.FuncCallExpr:
		d.walk(x)
		d.funcCall(q, x, pos)
		for _, a := range x.Args {
			d.expr(q, a, rule)
		}
	case *charFunc:
		d.expr(q, x.FuncCallExpr, rule)
	case *likeEscape:
		d.expr(q, x.PatternLikeOrIlikeExpr, rule)
	case *ast.AggregateFuncExpr:
		d.walk(x)
		q.Funcs = append(q.Funcs, stmt.Func{Name: d.ident1(strings.ToLower(x.F)), Kind: stmt.FuncAggregate, Pos: pos})
		for _, a := range x.Args {
			d.expr(q, a, rule)
		}
		if x.Order != nil {
			d.walk(x.Order)
			for _, it := range x.Order.Items {
				d.walk(it)
				d.expr(q, it.Expr, stmt.AliasNever)
			}
		}
	case *ast.WindowFuncExpr:
		d.walk(x)
		q.Funcs = append(q.Funcs, stmt.Func{Name: d.ident1(strings.ToLower(x.Name)), Kind: stmt.FuncWindow, Pos: pos})
		if x.FromLast || x.IgnoreNull {
			d.find(stmt.CodeUnsupportedSyntax, pos, "FROM LAST and IGNORE NULLS are not supported by MySQL")
		}
		for _, a := range x.Args {
			d.expr(q, a, rule)
		}
		d.windowSpec(q, &x.Spec)
	case *ast.FuncCastExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
	case *ast.SetCollationExpr:
		d.walk(x)
		d.expr(q, x.Expr, rule)
	case *ast.TimeUnitExpr, *ast.TrimDirectionExpr, *ast.GetFormatSelectorExpr:
		d.walk(x)
	case *ast.VariableExpr:
		d.walk(x)
		d.variable(q, x, pos, rule)
	case *ast.MatchAgainst:
		d.walk(x)
		if x.Modifier.WithQueryExpansion() {
			d.withs++
		}
		for _, c := range x.ColumnNames {
			d.columnRef(q, c, stmt.AliasNever, pos)
		}
		d.expr(q, x.Against, rule)
	case *ast.PositionExpr:
		d.walk(x)
		d.expr(q, x.P, rule)
	case *ast.DefaultExpr:
		if x.Name == nil {
			d.unsupported(x, pos, "DEFAULT is only meaningful in INSERT and UPDATE")
			return
		}
		d.walk(x)
		d.columnRef(q, x.Name, stmt.AliasNever, pos)
	case *ast.ValuesExpr:
		d.unsupported(x, pos, "VALUES(column) is only meaningful in INSERT ... ON DUPLICATE KEY UPDATE")
	case *ast.TableNameExpr:
		name := ""
		if x.Name != nil {
			name = x.Name.Name.O
		}
		d.unsupported(x, pos, "sequence reference %s is not allowed", name)
	case *ast.JSONSumCrc32Expr:
		d.unsupported(x, pos, "JSON_SUM_CRC32 is TiDB-only")
	default:
		d.unsupported(e, pos, "unsupported expression %s", nodeName(e))
	}
}

func (d *describer) variable(q *stmt.Query, v *ast.VariableExpr, pos int, rule stmt.AliasRule) {
	name := "@" + v.Name
	if v.IsSystem {
		scope := ""
		switch {
		case v.IsGlobal:
			scope = "global."
		case v.IsInstance:
			scope = "instance."
		case v.ExplicitScope:
			scope = "session."
		}
		name = "@@" + scope + v.Name
	}
	if v.Value != nil {
		d.find(stmt.CodeNotReadOnly, pos, "%s := ... assigns a variable", name)
		d.expr(q, v.Value, rule)
		return
	}
	if v.IsSystem {
		d.find(stmt.CodeVariableNotAllowed, pos, "system variable %s may not be read", name)
		return
	}
	d.find(stmt.CodeVariableNotAllowed, pos, "user variable %s may not be read", name)
}

// Function names the parser uses internally for syntax that is not a
// function call, and the names MySQL gives the functions it renames.
var (
	literalFuncs = map[string]bool{ast.DateLiteral: true, ast.TimeLiteral: true, ast.TimestampLiteral: true}
	renamedFuncs = map[string]string{ast.CharFunc: "char", ast.InsertFunc: "insert"}
	// keywordFuncs can be written without parentheses.
	keywordFuncs = map[string]bool{
		"current_date": true, "current_time": true, "current_timestamp": true,
		"localtime": true, "localtimestamp": true, "utc_date": true, "utc_time": true,
		"utc_timestamp": true, "current_user": true, "current_role": true,
	}
)

// internalFuncName reports names the parser gives to syntax of its own,
// which a quoted call must not imitate.
func internalFuncName(name string) bool {
	return literalFuncs[name] || renamedFuncs[name] != "" || name == ast.JSONMemberOf
}

func (d *describer) funcCall(q *stmt.Query, f *ast.FuncCallExpr, pos int) {
	lname := f.FnName.L
	quoted := quotedCall(d.src, pos, f.FnName.O, d.ansiQuotes)
	if f.Schema.O == "" && !quoted {
		switch {
		case literalFuncs[lname]:
			// DATE '...', TIME '...', TIMESTAMP '...' are literals.
			return
		case lname == ast.JSONMemberOf && !callAt(d.src, pos):
			// x MEMBER OF (json) is an operator.
			return
		}
		if r, ok := renamedFuncs[lname]; ok {
			lname = r
		}
	}
	if quoted && internalFuncName(lname) {
		d.find(stmt.CodeUnsupportedSyntax, pos, "function name %q is reserved by the parser", f.FnName.O)
	}
	kind := stmt.FuncScalar
	if f.Schema.O == "" && !quoted && keywordFuncs[lname] && len(f.Args) == 0 && !callAt(d.src, pos) {
		kind = stmt.FuncKeyword
	}
	var name []stmt.Ident
	if f.Schema.O != "" {
		name = d.ident2(f.Schema.O, lname)
	} else {
		name = d.ident1(lname)
	}
	q.Funcs = append(q.Funcs, stmt.Func{Name: name, Kind: kind, Pos: pos, Args: args(f.Args)})
}

// callAt reports whether the text at pos is a word followed by "(": a
// function call written with parentheses.
func callAt(src string, pos int) bool {
	if pos < 0 || pos >= len(src) {
		return false
	}
	i := pos
	for i < len(src) && isWordByte(src[i]) {
		i++
	}
	if i == pos {
		return false
	}
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	return i < len(src) && src[i] == '('
}

// quotedCall reports whether the text at pos is the quoted identifier name
// followed by "(": a call through a quoted name, which the parser always
// reads as a plain function name.
func quotedCall(src string, pos int, name string, ansiQuotes bool) bool {
	if pos < 0 || pos >= len(src) {
		return false
	}
	qc := src[pos]
	if qc != '`' && !(ansiQuotes && qc == '"') {
		return false
	}
	var b strings.Builder
	i := pos + 1
	for {
		if i >= len(src) {
			return false
		}
		if src[i] == qc {
			if i+1 < len(src) && src[i+1] == qc {
				b.WriteByte(qc)
				i += 2
				continue
			}
			i++
			break
		}
		b.WriteByte(src[i])
		i++
	}
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	return i < len(src) && src[i] == '(' && b.String() == name
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// commentHazards reports comment forms the servers read differently from
// the parser: MariaDB runs the text of /*M! ... */ as SQL, which the parser
// skips as a comment. The printed statement carries no comments, but the
// original text must not mean more than its description either. A string
// that merely contains the characters is refused too.
func (d *describer) commentHazards() {
	if i := strings.Index(d.src, "/*M!"); i >= 0 {
		d.find(stmt.CodeUnsupportedSyntax, i, "MariaDB executable comments (/*M! ... */) are not supported; write the SQL without the comment")
	}
}

// lostWith reports a WITH list the parser dropped. For "WITH a AS (...)
// (WITH b AS (...) SELECT ...)" it keeps only the outer list, so b would
// read as a table name although the server reads the CTE. The tokens of
// the text are counted with the parser's own lexer (through Normalize,
// which drops comments and literals and quotes identifiers).
func (d *describer) lostWith() {
	// Every WITH keyword is also the letters "with" in the text, so when
	// there are no more of those than the tree explains, nothing was lost.
	if countWith(d.src) <= d.withs {
		return
	}
	n := 0
	for _, tok := range strings.Fields(parser.Normalize(d.src, "ON")) {
		if tok == "with" {
			n++
		}
	}
	if n > d.withs {
		d.find(stmt.CodeUnsupportedSyntax, -1, "a WITH list before a parenthesized query that has its own WITH list is not supported; merge the two WITH lists")
	}
}

// countWith counts "with" in s, ignoring ASCII case.
func countWith(s string) int {
	n := 0
	for i := 0; i+4 <= len(s); i++ {
		if s[i]|0x20 == 'w' && s[i+1]|0x20 == 'i' && s[i+2]|0x20 == 't' && s[i+3]|0x20 == 'h' {
			n++
		}
	}
	return n
}

package postgres

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/texttosql/text2sql/validate/stmt"
	"github.com/texttosql/text2sql/validate/visited"
)

// describer reduces one raw parse tree to a stmt.Statement. Every node kind
// it meets is handled by an explicit case; anything else becomes an
// UNSUPPORTED_SYNTAX finding. It also records the nodes it examined so that
// coverage (net.go) can prove no part of the tree was skipped.
type describer struct {
	findings []stmt.Finding
	types    []stmt.TypeRef
	state    *visited.Set[uintptr, nodeState]
}

func describe(raw *pg_query.RawStmt) *stmt.Statement {
	root := raw.GetStmt()
	sel := root.GetSelectStmt()
	if sel == nil {
		return &stmt.Statement{Verb: verb(root)}
	}
	d := &describer{state: ptrSets.Get()}
	q := d.query(sel, int(raw.StmtLocation))
	d.coverage(root)
	d.state.Release()
	return &stmt.Statement{Verb: "SELECT", Query: q, Findings: d.findings, Types: d.types}
}

func (d *describer) mark(m any) { d.state.Put(addr(m), examined) }

func (d *describer) refuse(m any) { d.state.Put(addr(m), refused) }

func (d *describer) add(code string, pos int, format string, args ...any) {
	f := stmt.Finding{Code: code, Message: fmt.Sprintf(format, args...), Pos: pos}
	for _, g := range d.findings {
		if g == f {
			return
		}
	}
	d.findings = append(d.findings, f)
}

// unsupported refuses n, a node the adapter does not accept where it stands.
func (d *describer) unsupported(n *pg_query.Node) {
	if n == nil || n.Node == nil {
		return
	}
	d.refuse(n)
	name := nodeName(n)
	pos := nodeLocation(n)
	switch n.Node.(type) {
	case *pg_query.Node_ParamRef:
		d.add(stmt.CodeUnsupportedSyntax, pos, "parameter placeholders ($n) are not allowed; write the value into the query")
	case *pg_query.Node_RangeTableFunc:
		d.add(stmt.CodeUnsupportedSyntax, pos, "XMLTABLE is not supported")
	case *pg_query.Node_SetToDefault:
		d.add(stmt.CodeUnsupportedSyntax, pos, "DEFAULT is only meaningful in INSERT and UPDATE")
	case *pg_query.Node_MergeSupportFunc:
		d.add(stmt.CodeUnsupportedSyntax, pos, "merge_action() is only meaningful in MERGE")
	default:
		d.add(stmt.CodeUnsupportedSyntax, pos, "unsupported syntax: %s", name)
	}
}

// nodeName is the node's type name, such as "ParamRef".
func nodeName(n *pg_query.Node) string {
	if n == nil || n.Node == nil {
		return "empty node"
	}
	name := fmt.Sprintf("%T", n.Node)
	name = name[strings.LastIndex(name, ".")+1:]
	return strings.TrimSuffix(strings.TrimPrefix(name, "Node_"), "_")
}

// nodeLocation is the node's own location field, or -1.
func nodeLocation(n *pg_query.Node) int {
	if n == nil || n.Node == nil {
		return -1
	}
	m := n.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("node"))
	if fd == nil {
		return -1
	}
	inner := m.Get(fd).Message()
	if loc := inner.Descriptor().Fields().ByName("location"); loc != nil && loc.Kind() == protoreflect.Int32Kind {
		return int(inner.Get(loc).Int())
	}
	return -1
}

// query describes one SELECT, set operation or VALUES list.
func (d *describer) query(s *pg_query.SelectStmt, pos int) *stmt.Query {
	d.mark(s)
	q := &stmt.Query{Pos: pos}
	d.selectChecks(s)
	if w := s.WithClause; w != nil {
		d.mark(w)
		q.Recursive = w.Recursive
		for _, c := range w.Ctes {
			q.With = append(q.With, d.cte(c))
		}
	}
	switch s.Op {
	case pg_query.SetOperation_SETOP_UNION, pg_query.SetOperation_SETOP_INTERSECT, pg_query.SetOperation_SETOP_EXCEPT:
		d.setOperation(q, s)
	default:
		if len(s.ValuesLists) > 0 {
			d.values(q, s)
		} else {
			d.block(q, s)
		}
	}
	for _, n := range s.SortClause {
		d.sortKey(q, n)
	}
	d.expr(q, s.LimitOffset)
	d.expr(q, s.LimitCount)
	return q
}

// selectChecks flags what makes any SELECT, at any depth, more than a read.
func (d *describer) selectChecks(s *pg_query.SelectStmt) {
	if in := s.IntoClause; in != nil {
		d.refuse(in)
		pos := -1
		target := "a table"
		if in.Rel != nil {
			pos = int(in.Rel.Location)
			target = in.Rel.Relname
		}
		d.add(stmt.CodeIntoClause, pos, "SELECT ... INTO %s creates a table; only reading is allowed", target)
	}
	for _, n := range s.LockingClause {
		d.refuse(n)
		lc := n.GetLockingClause()
		pos := -1
		if lc != nil {
			d.refuse(lc)
			for _, r := range lc.LockedRels {
				if pos < 0 {
					pos = nodeLocation(r)
				}
			}
		}
		if pos < 0 {
			pos = blockPos(s)
		}
		d.add(stmt.CodeLockingClause, pos, "%s locks rows; only plain reads are allowed", lockName(lc))
	}
}

func lockName(lc *pg_query.LockingClause) string {
	if lc == nil {
		return "a locking clause"
	}
	s := "FOR UPDATE"
	switch lc.Strength {
	case pg_query.LockClauseStrength_LCS_FORKEYSHARE:
		s = "FOR KEY SHARE"
	case pg_query.LockClauseStrength_LCS_FORSHARE:
		s = "FOR SHARE"
	case pg_query.LockClauseStrength_LCS_FORNOKEYUPDATE:
		s = "FOR NO KEY UPDATE"
	}
	switch lc.WaitPolicy {
	case pg_query.LockWaitPolicy_LockWaitSkip:
		s += " SKIP LOCKED"
	case pg_query.LockWaitPolicy_LockWaitError:
		s += " NOWAIT"
	}
	return s
}

func (d *describer) cte(n *pg_query.Node) *stmt.CTE {
	c := n.GetCommonTableExpr()
	if c == nil {
		d.unsupported(n)
		return &stmt.CTE{Query: &stmt.Query{Pos: nodeLocation(n)}, Pos: nodeLocation(n)}
	}
	d.mark(c)
	out := &stmt.CTE{Name: stmt.Ident{Name: c.Ctename}, Pos: int(c.Location)}
	out.Columns = d.names(c.Aliascolnames)
	if c.SearchClause != nil || c.CycleClause != nil {
		if c.SearchClause != nil {
			d.refuse(c.SearchClause)
		}
		if c.CycleClause != nil {
			d.refuse(c.CycleClause)
		}
		d.add(stmt.CodeUnsupportedSyntax, int(c.Location), "SEARCH and CYCLE clauses of WITH %s are not supported", c.Ctename)
	}
	switch x := c.Ctequery.GetNode().(type) {
	case *pg_query.Node_SelectStmt:
		out.Query = d.query(x.SelectStmt, int(c.Location))
		out.Bound = bound(c.Ctename, c.Aliascolnames, x.SelectStmt)
	case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt:
		d.refuse(c.Ctequery)
		d.add(stmt.CodeNotReadOnly, int(c.Location), "WITH %s AS (%s ...) changes data; only reading is allowed", c.Ctename, verb(c.Ctequery))
		out.Query = &stmt.Query{Pos: int(c.Location)}
	default:
		d.unsupported(c.Ctequery)
		out.Query = &stmt.Query{Pos: int(c.Location)}
	}
	return out
}

func (d *describer) setOperation(q *stmt.Query, s *pg_query.SelectStmt) {
	q.Op = setOpName(s.Op, s.All)
	d.onlySetOperation(s)
	q.Arms = append(d.arms(s.Larg, s.Op, s.All), d.arm(s.Rarg))
	q.Targets = q.Arms[0].Targets
}

// onlySetOperation refuses select-block clauses on a set operation node,
// which the grammar never produces; they would otherwise go unexamined.
func (d *describer) onlySetOperation(s *pg_query.SelectStmt) {
	var stray []*pg_query.Node
	stray = append(stray, s.DistinctClause...)
	stray = append(stray, s.TargetList...)
	stray = append(stray, s.FromClause...)
	stray = append(stray, s.GroupClause...)
	stray = append(stray, s.WindowClause...)
	stray = append(stray, s.ValuesLists...)
	stray = append(stray, s.WhereClause, s.HavingClause)
	for _, n := range stray {
		d.unsupported(n)
	}
}

// arms flattens a left-deep chain of the same set operator (a UNION b
// UNION c) into its operands; a parenthesised arm with its own WITH, ORDER
// BY or LIMIT stays one operand.
func (d *describer) arms(s *pg_query.SelectStmt, op pg_query.SetOperation, all bool) []*stmt.Query {
	if s != nil && s.Op == op && s.All == all && s.WithClause == nil && len(s.SortClause) == 0 &&
		s.LimitCount == nil && s.LimitOffset == nil && len(s.LockingClause) == 0 && s.IntoClause == nil {
		d.mark(s)
		d.onlySetOperation(s)
		return append(d.arms(s.Larg, op, all), d.arm(s.Rarg))
	}
	return []*stmt.Query{d.arm(s)}
}

func (d *describer) arm(s *pg_query.SelectStmt) *stmt.Query {
	if s == nil {
		d.add(stmt.CodeUnsupportedSyntax, -1, "unsupported syntax: set operation without an operand")
		return &stmt.Query{Pos: -1}
	}
	return d.query(s, blockPos(s))
}

func setOpName(op pg_query.SetOperation, all bool) string {
	s := "UNION"
	switch op {
	case pg_query.SetOperation_SETOP_INTERSECT:
		s = "INTERSECT"
	case pg_query.SetOperation_SETOP_EXCEPT:
		s = "EXCEPT"
	}
	if all {
		s += " ALL"
	}
	return s
}

// blockPos is where a SELECT block starts as far as the tree says: its
// first select-list item, or -1.
func blockPos(s *pg_query.SelectStmt) int {
	for s != nil && s.Larg != nil {
		s = s.Larg
	}
	if s != nil && len(s.TargetList) > 0 {
		if rt := s.TargetList[0].GetResTarget(); rt != nil {
			return int(rt.Location)
		}
	}
	return -1
}

func (d *describer) values(q *stmt.Query, s *pg_query.SelectStmt) {
	d.onlyValues(s)
	for i, row := range s.ValuesLists {
		l := row.GetList()
		if l == nil {
			d.unsupported(row)
			continue
		}
		if i == 0 {
			for j := range l.Items {
				q.Targets = append(q.Targets, stmt.Target{Name: stmt.Ident{Name: fmt.Sprintf("column%d", j+1)}})
			}
		}
		for _, it := range l.Items {
			d.expr(q, it)
		}
	}
}

func (d *describer) onlyValues(s *pg_query.SelectStmt) {
	var stray []*pg_query.Node
	stray = append(stray, s.DistinctClause...)
	stray = append(stray, s.TargetList...)
	stray = append(stray, s.FromClause...)
	stray = append(stray, s.GroupClause...)
	stray = append(stray, s.WindowClause...)
	stray = append(stray, s.WhereClause, s.HavingClause)
	for _, n := range stray {
		d.unsupported(n)
	}
}

// block describes a plain SELECT block.
func (d *describer) block(q *stmt.Query, s *pg_query.SelectStmt) {
	for _, n := range s.DistinctClause {
		// Plain DISTINCT is a list holding one empty node; DISTINCT ON
		// lists expressions, resolved like ORDER BY items.
		if n == nil || n.Node == nil {
			continue
		}
		d.aliasable(q, n, stmt.AliasFirst)
	}
	for _, n := range s.TargetList {
		d.target(q, n)
	}
	for _, n := range s.FromClause {
		d.fromItem(q, n)
	}
	d.expr(q, s.WhereClause)
	if len(q.From) > 1 {
		q.Links = links(s.WhereClause)
	}
	for _, n := range s.GroupClause {
		d.groupItem(q, n, false)
	}
	d.expr(q, s.HavingClause)
	for _, n := range s.WindowClause {
		if w := n.GetWindowDef(); w != nil {
			d.windowDef(q, w)
		} else {
			d.unsupported(n)
		}
	}
}

func (d *describer) target(q *stmt.Query, n *pg_query.Node) {
	rt := n.GetResTarget()
	if rt == nil || len(rt.Indirection) > 0 {
		d.unsupported(n)
		return
	}
	t := stmt.Target{Name: stmt.Ident{Name: rt.Name}}
	if cr := rt.Val.GetColumnRef(); cr != nil {
		t.Star = d.columnRef(q, cr, stmt.AliasNever)
	} else {
		d.expr(q, rt.Val)
	}
	if t.Name.Name == "" && t.Star == nil {
		t.Name.Name, _ = figureColname(rt.Val)
	}
	q.Targets = append(q.Targets, t)
}

// sortKey describes one ORDER BY item: a bare name may denote an output
// column.
func (d *describer) sortKey(q *stmt.Query, n *pg_query.Node) {
	sb := n.GetSortBy()
	if sb == nil {
		d.unsupported(n)
		return
	}
	d.aliasable(q, sb.Node, stmt.AliasFirst)
}

// groupItem describes one GROUP BY item. Bare names inside grouping sets
// (and inside their parenthesised rows) follow the GROUP BY rule too.
func (d *describer) groupItem(q *stmt.Query, n *pg_query.Node, inSet bool) {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_GroupingSet:
		for _, c := range x.GroupingSet.Content {
			d.groupItem(q, c, true)
		}
	case *pg_query.Node_RowExpr:
		if inSet && x.RowExpr.RowFormat == pg_query.CoercionForm_COERCE_IMPLICIT_CAST {
			for _, a := range x.RowExpr.Args {
				d.aliasable(q, a, stmt.AliasFallback)
			}
			return
		}
		d.expr(q, n)
	default:
		d.aliasable(q, n, stmt.AliasFallback)
	}
}

// aliasable describes an expression where a bare one-part name may denote
// an output column under rule.
func (d *describer) aliasable(q *stmt.Query, n *pg_query.Node, rule stmt.AliasRule) {
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		d.columnRef(q, cr, rule)
		return
	}
	d.expr(q, n)
}

// columnRef records a column reference, or a star; it returns the star.
func (d *describer) columnRef(q *stmt.Query, cr *pg_query.ColumnRef, rule stmt.AliasRule) *stmt.Star {
	d.mark(cr)
	parts := make([]stmt.Ident, 0, len(cr.Fields))
	for i, f := range cr.Fields {
		switch x := f.GetNode().(type) {
		case *pg_query.Node_String_:
			parts = append(parts, stmt.Ident{Name: x.String_.Sval})
		case *pg_query.Node_AStar:
			if i != len(cr.Fields)-1 {
				d.add(stmt.CodeUnsupportedSyntax, int(cr.Location), "unsupported syntax: * inside a column reference")
				return nil
			}
			s := stmt.Star{Qualifier: parts, Pos: int(cr.Location)}
			q.Stars = append(q.Stars, s)
			return &s
		default:
			d.unsupported(f)
			return nil
		}
	}
	if len(parts) == 0 {
		d.add(stmt.CodeUnsupportedSyntax, int(cr.Location), "unsupported syntax: empty column reference")
		return nil
	}
	q.Refs = append(q.Refs, stmt.ColumnRef{Parts: parts, Alias: rule, Pos: int(cr.Location)})
	return nil
}

// names reads a list of String nodes (column aliases, CTE columns, USING).
func (d *describer) names(list []*pg_query.Node) []stmt.Ident {
	if len(list) == 0 {
		return nil
	}
	out := make([]stmt.Ident, 0, len(list))
	for _, n := range list {
		if s := n.GetString_(); s != nil {
			out = append(out, stmt.Ident{Name: s.Sval})
		} else {
			d.unsupported(n)
		}
	}
	return out
}

// fromItem describes one FROM item, flattening joins.
func (d *describer) fromItem(q *stmt.Query, n *pg_query.Node) {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_RangeVar:
		q.From = append(q.From, d.rangeVar(x.RangeVar))
	case *pg_query.Node_RangeSubselect:
		rs := x.RangeSubselect
		d.mark(rs)
		src := &stmt.Source{Kind: stmt.SourceSubquery, Lateral: rs.Lateral, Pos: -1}
		if sel := rs.Subquery.GetSelectStmt(); sel != nil {
			src.Query = d.query(sel, blockPos(sel))
			src.Pos = src.Query.Pos
		} else {
			d.unsupported(rs.Subquery)
			src.Query = &stmt.Query{Pos: -1}
		}
		d.alias(src, rs.Alias)
		q.From = append(q.From, src)
	case *pg_query.Node_RangeFunction:
		d.rangeFunction(q, x.RangeFunction)
	case *pg_query.Node_JoinExpr:
		d.join(q, x.JoinExpr)
	case *pg_query.Node_RangeTableSample:
		d.tableSample(q, n, x.RangeTableSample)
	case *pg_query.Node_JsonTable:
		d.jsonTable(q, x.JsonTable)
	default:
		d.unsupported(n)
	}
}

func (d *describer) rangeVar(rv *pg_query.RangeVar) *stmt.Source {
	d.mark(rv)
	name := make([]stmt.Ident, 0, 3)
	if rv.Catalogname != "" {
		name = append(name, stmt.Ident{Name: rv.Catalogname})
	}
	if rv.Schemaname != "" {
		name = append(name, stmt.Ident{Name: rv.Schemaname})
	}
	name = append(name, stmt.Ident{Name: rv.Relname})
	src := &stmt.Source{Kind: stmt.SourceTable, Name: name, Pos: int(rv.Location)}
	d.alias(src, rv.Alias)
	return src
}

func (d *describer) alias(src *stmt.Source, a *pg_query.Alias) {
	if a == nil {
		return
	}
	src.Alias = &stmt.Ident{Name: a.Aliasname}
	src.ColumnAliases = d.names(a.Colnames)
}

// rangeFunction describes a table function in FROM, ROWS FROM (...)
// included. Its calls are table functions of the enclosing block and
// their argument references belong to that block.
func (d *describer) rangeFunction(q *stmt.Query, rf *pg_query.RangeFunction) {
	d.mark(rf)
	src := &stmt.Source{Kind: stmt.SourceFunction, Lateral: true, Pos: -1}
	// A function over columns of the items before it (unnest(o.tags))
	// is joined to them by those columns.
	refs := len(q.Refs)
	defer func() { src.Joined = src.Joined || len(q.Refs) > refs }()
	var defined []stmt.Ident
	for _, item := range rf.Functions {
		l := item.GetList()
		if l == nil || len(l.Items) != 2 {
			d.unsupported(item)
			continue
		}
		fn := l.Items[0]
		if src.Pos < 0 {
			src.Pos = nodeLocation(fn)
		}
		if fc := fn.GetFuncCall(); fc != nil {
			d.funcCall(q, fc, true)
		} else {
			d.expr(q, fn)
		}
		if defs := l.Items[1]; defs.GetNode() != nil {
			if dl := defs.GetList(); dl != nil {
				defined = append(defined, d.columnDefs(dl.Items)...)
			} else {
				d.unsupported(defs)
			}
		}
	}
	defined = append(defined, d.columnDefs(rf.Coldeflist)...)
	d.alias(src, rf.Alias)
	if len(src.ColumnAliases) == 0 {
		src.ColumnAliases = defined
	}
	q.From = append(q.From, src)
}

// columnDefs reads a column definition list: AS f(a int, b text).
func (d *describer) columnDefs(list []*pg_query.Node) []stmt.Ident {
	var out []stmt.Ident
	for _, n := range list {
		cd := n.GetColumnDef()
		if cd == nil || cd.RawDefault != nil || cd.CookedDefault != nil || len(cd.Constraints) > 0 ||
			len(cd.Fdwoptions) > 0 || cd.IdentitySequence != nil {
			d.unsupported(n)
			continue
		}
		d.mark(cd)
		d.typeName(cd.TypeName)
		out = append(out, stmt.Ident{Name: cd.Colname})
	}
	return out
}

func (d *describer) join(q *stmt.Query, j *pg_query.JoinExpr) {
	d.mark(j)
	if j.Alias != nil {
		d.add(stmt.CodeUnsupportedSyntax, -1, "an alias on a parenthesised join (%s) is not supported; alias the tables instead", j.Alias.Aliasname)
	}
	if j.JoinUsingAlias != nil {
		d.add(stmt.CodeUnsupportedSyntax, -1, "an alias on JOIN ... USING (%s) is not supported", j.JoinUsingAlias.Aliasname)
	}
	d.fromItem(q, j.Larg)
	start := len(q.From)
	d.fromItem(q, j.Rarg)
	using := d.names(j.UsingClause)
	refs := len(q.Refs)
	d.expr(q, j.Quals)
	if len(q.From) > start {
		q.From[start].Joined = len(using) > 0 || j.IsNatural || len(q.Refs) > refs
		// The right side may itself be a join; its last item stands for it,
		// since the judge looks for USING columns in it and everything
		// before it.
		last := q.From[len(q.From)-1]
		last.Using = append(last.Using, using...)
		last.Natural = last.Natural || j.IsNatural
	}
}

func (d *describer) tableSample(q *stmt.Query, n *pg_query.Node, ts *pg_query.RangeTableSample) {
	d.mark(ts)
	rv := ts.Relation.GetRangeVar()
	if rv == nil {
		d.unsupported(n)
		return
	}
	method := d.names(ts.Method)
	if len(method) != 1 || (method[0].Name != "system" && method[0].Name != "bernoulli") {
		d.add(stmt.CodeUnsupportedSyntax, int(ts.Location), "only TABLESAMPLE SYSTEM and BERNOULLI are supported")
	}
	q.From = append(q.From, d.rangeVar(rv))
	for _, a := range ts.Args {
		d.expr(q, a)
	}
	d.expr(q, ts.Repeatable)
}

// jsonTable describes JSON_TABLE(...), a table function whose columns the
// COLUMNS clause names.
func (d *describer) jsonTable(q *stmt.Query, jt *pg_query.JsonTable) {
	d.mark(jt)
	src := &stmt.Source{Kind: stmt.SourceFunction, Lateral: true, Pos: int(jt.Location)}
	d.jsonValueExpr(q, jt.ContextItem)
	d.jsonPathSpec(q, jt.Pathspec)
	for _, a := range jt.Passing {
		d.jsonArgument(q, a)
	}
	cols := d.jsonTableColumns(q, jt.Columns, nil)
	d.jsonBehavior(q, jt.OnError)
	d.alias(src, jt.Alias)
	if len(src.ColumnAliases) == 0 {
		src.ColumnAliases = cols
	}
	q.From = append(q.From, src)
}

func (d *describer) jsonTableColumns(q *stmt.Query, list []*pg_query.Node, out []stmt.Ident) []stmt.Ident {
	for _, n := range list {
		c := n.GetJsonTableColumn()
		if c == nil {
			d.unsupported(n)
			continue
		}
		d.typeName(c.TypeName)
		d.jsonPathSpec(q, c.Pathspec)
		d.jsonBehavior(q, c.OnEmpty)
		d.jsonBehavior(q, c.OnError)
		if c.Coltype == pg_query.JsonTableColumnType_JTC_NESTED {
			out = d.jsonTableColumns(q, c.Columns, out)
			continue
		}
		if len(c.Columns) > 0 {
			d.unsupported(n)
		}
		out = append(out, stmt.Ident{Name: c.Name})
	}
	return out
}

func (d *describer) jsonValueExpr(q *stmt.Query, v *pg_query.JsonValueExpr) {
	if v == nil {
		return
	}
	d.expr(q, v.RawExpr)
	d.expr(q, v.FormattedExpr)
}

func (d *describer) jsonPathSpec(q *stmt.Query, p *pg_query.JsonTablePathSpec) {
	if p != nil {
		d.expr(q, p.String_)
	}
}

func (d *describer) jsonBehavior(q *stmt.Query, b *pg_query.JsonBehavior) {
	if b != nil {
		d.expr(q, b.Expr)
	}
}

func (d *describer) jsonOutput(o *pg_query.JsonOutput) {
	if o != nil {
		d.typeName(o.TypeName)
	}
}

func (d *describer) jsonArgument(q *stmt.Query, n *pg_query.Node) {
	if a := n.GetJsonArgument(); a != nil {
		d.jsonValueExpr(q, a.Val)
	} else {
		d.unsupported(n)
	}
}

func (d *describer) jsonKeyValue(q *stmt.Query, kv *pg_query.JsonKeyValue) {
	if kv != nil {
		d.expr(q, kv.Key)
		d.jsonValueExpr(q, kv.Value)
	}
}

func (d *describer) jsonAgg(q *stmt.Query, c *pg_query.JsonAggConstructor) {
	if c == nil {
		return
	}
	d.jsonOutput(c.Output)
	d.expr(q, c.AggFilter)
	for _, n := range c.AggOrder {
		d.expr(q, n)
	}
	if c.Over != nil {
		d.windowDef(q, c.Over)
	}
}

func (d *describer) windowDef(q *stmt.Query, w *pg_query.WindowDef) {
	d.mark(w)
	for _, n := range w.PartitionClause {
		d.expr(q, n)
	}
	for _, n := range w.OrderClause {
		d.expr(q, n)
	}
	d.expr(q, w.StartOffset)
	d.expr(q, w.EndOffset)
}

// funcCall records a function call and describes its arguments.
func (d *describer) funcCall(q *stmt.Query, fc *pg_query.FuncCall, table bool) {
	d.mark(fc)
	name := d.names(fc.Funcname)
	if len(name) == 0 {
		d.add(stmt.CodeUnsupportedSyntax, int(fc.Location), "unsupported syntax: function call without a name")
		return
	}
	kind := stmt.FuncScalar
	last := name[len(name)-1].Name
	builtin := len(name) == 1 || (len(name) == 2 && name[0].Name == "pg_catalog")
	switch {
	case table:
		kind = stmt.FuncTable
	case fc.Over != nil:
		kind = stmt.FuncWindow
	case fc.AggStar || fc.AggDistinct || fc.AggWithinGroup || fc.AggFilter != nil || len(fc.AggOrder) > 0,
		builtin && aggregateFunctions[last]:
		kind = stmt.FuncAggregate
	case fc.Funcformat == pg_query.CoercionForm_COERCE_SQL_SYNTAX && len(fc.Args) == 0:
		// SYSTEM_USER and the like: grammar keywords that arrive as calls.
		kind = stmt.FuncKeyword
	}
	q.Funcs = append(q.Funcs, stmt.Func{Name: name, Kind: kind, Pos: int(fc.Location), Args: args(fc.Args)})
	for _, a := range fc.Args {
		d.expr(q, a)
	}
	for _, n := range fc.AggOrder {
		d.expr(q, n)
	}
	d.expr(q, fc.AggFilter)
	if fc.Over != nil {
		d.windowDef(q, fc.Over)
	}
}

// regTypes are the object identifier types whose input functions look
// names up in the system catalogs: a cast to one is a catalog probe.
var regTypes = map[string]bool{
	"regclass": true, "regcollation": true, "regconfig": true, "regdictionary": true,
	"regnamespace": true, "regoper": true, "regoperator": true, "regproc": true,
	"regprocedure": true, "regrole": true, "regtype": true,
}

func (d *describer) typeName(tn *pg_query.TypeName) {
	if tn == nil {
		return
	}
	d.mark(tn)
	name := d.names(tn.Names)
	if len(name) > 0 {
		d.types = append(d.types, stmt.TypeRef{Name: name, Pos: int(tn.Location)})
		// _regclass is the array type's own name.
		last := strings.TrimPrefix(name[len(name)-1].Name, "_")
		if regTypes[last] {
			d.add(stmt.CodeSystemCatalog, int(tn.Location), "a cast to %s looks names up in the system catalogs", last)
		}
	}
	for _, m := range tn.Typmods {
		switch x := m.GetNode().(type) {
		case *pg_query.Node_AConst:
		case *pg_query.Node_ColumnRef:
			// A bare identifier modifier such as geometry(Point, 4326)
			// names no column.
			if len(x.ColumnRef.Fields) == 1 && x.ColumnRef.Fields[0].GetString_() != nil {
				d.mark(x.ColumnRef)
			} else {
				d.unsupported(m)
			}
		default:
			d.unsupported(m)
		}
	}
}

var keywordFuncs = map[pg_query.SQLValueFunctionOp]string{
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:        "current_date",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME:        "current_time",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:      "current_time",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:   "current_timestamp",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME:           "localtime",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME_N:         "localtime",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:      "localtimestamp",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:    "localtimestamp",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:        "current_role",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_USER:        "current_user",
	pg_query.SQLValueFunctionOp_SVFOP_USER:                "user",
	pg_query.SQLValueFunctionOp_SVFOP_SESSION_USER:        "session_user",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:     "current_catalog",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:      "current_schema",
}

// expr describes an expression into q: its column references, stars,
// function calls and subqueries.
func (d *describer) expr(q *stmt.Query, n *pg_query.Node) {
	if n == nil || n.Node == nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_AConst:
	case *pg_query.Node_ColumnRef:
		d.columnRef(q, x.ColumnRef, stmt.AliasNever)
	case *pg_query.Node_FuncCall:
		d.funcCall(q, x.FuncCall, false)
	case *pg_query.Node_SqlvalueFunction:
		f := x.SqlvalueFunction
		d.mark(f)
		name, ok := keywordFuncs[f.Op]
		if !ok {
			d.unsupported(n)
			return
		}
		q.Funcs = append(q.Funcs, stmt.Func{Name: []stmt.Ident{{Name: name}}, Kind: stmt.FuncKeyword, Pos: int(f.Location)})
	case *pg_query.Node_TypeCast:
		d.expr(q, x.TypeCast.Arg)
		d.typeName(x.TypeCast.TypeName)
	case *pg_query.Node_SubLink:
		d.subLink(q, n, x.SubLink)
	case *pg_query.Node_AExpr:
		d.expr(q, x.AExpr.Lexpr)
		d.expr(q, x.AExpr.Rexpr)
	case *pg_query.Node_BoolExpr:
		d.exprs(q, x.BoolExpr.Args)
	case *pg_query.Node_NullTest:
		d.expr(q, x.NullTest.Arg)
	case *pg_query.Node_BooleanTest:
		d.expr(q, x.BooleanTest.Arg)
	case *pg_query.Node_List:
		d.exprs(q, x.List.Items)
	case *pg_query.Node_CaseExpr:
		d.expr(q, x.CaseExpr.Arg)
		d.exprs(q, x.CaseExpr.Args)
		d.expr(q, x.CaseExpr.Defresult)
	case *pg_query.Node_CaseWhen:
		d.expr(q, x.CaseWhen.Expr)
		d.expr(q, x.CaseWhen.Result)
	case *pg_query.Node_CoalesceExpr:
		d.exprs(q, x.CoalesceExpr.Args)
	case *pg_query.Node_MinMaxExpr:
		d.exprs(q, x.MinMaxExpr.Args)
	case *pg_query.Node_RowExpr:
		d.exprs(q, x.RowExpr.Args)
	case *pg_query.Node_AArrayExpr:
		d.exprs(q, x.AArrayExpr.Elements)
	case *pg_query.Node_AIndirection:
		d.expr(q, x.AIndirection.Arg)
		for _, i := range x.AIndirection.Indirection {
			switch y := i.GetNode().(type) {
			case *pg_query.Node_AIndices:
				d.expr(q, y.AIndices.Lidx)
				d.expr(q, y.AIndices.Uidx)
			case *pg_query.Node_String_, *pg_query.Node_AStar:
				// (row).field and (row).*: the row itself is the reference.
			default:
				d.unsupported(i)
			}
		}
	case *pg_query.Node_CollateClause:
		d.expr(q, x.CollateClause.Arg)
	case *pg_query.Node_NamedArgExpr:
		d.expr(q, x.NamedArgExpr.Arg)
	case *pg_query.Node_GroupingFunc:
		d.exprs(q, x.GroupingFunc.Args)
	case *pg_query.Node_SortBy:
		d.expr(q, x.SortBy.Node)
	case *pg_query.Node_XmlExpr:
		for _, a := range x.XmlExpr.NamedArgs {
			if rt := a.GetResTarget(); rt != nil && len(rt.Indirection) == 0 {
				d.expr(q, rt.Val)
			} else {
				d.unsupported(a)
			}
		}
		d.exprs(q, x.XmlExpr.Args)
	case *pg_query.Node_XmlSerialize:
		d.expr(q, x.XmlSerialize.Expr)
		d.typeName(x.XmlSerialize.TypeName)
	case *pg_query.Node_JsonObjectConstructor:
		d.exprs(q, x.JsonObjectConstructor.Exprs)
		d.jsonOutput(x.JsonObjectConstructor.Output)
	case *pg_query.Node_JsonArrayConstructor:
		d.exprs(q, x.JsonArrayConstructor.Exprs)
		d.jsonOutput(x.JsonArrayConstructor.Output)
	case *pg_query.Node_JsonArrayQueryConstructor:
		c := x.JsonArrayQueryConstructor
		d.mark(c)
		if sel := c.Query.GetSelectStmt(); sel != nil {
			q.Subqueries = append(q.Subqueries, d.query(sel, int(c.Location)))
		} else {
			d.unsupported(c.Query)
		}
		d.jsonOutput(c.Output)
	case *pg_query.Node_JsonObjectAgg:
		d.jsonAgg(q, x.JsonObjectAgg.Constructor)
		d.jsonKeyValue(q, x.JsonObjectAgg.Arg)
	case *pg_query.Node_JsonArrayAgg:
		d.jsonAgg(q, x.JsonArrayAgg.Constructor)
		d.jsonValueExpr(q, x.JsonArrayAgg.Arg)
	case *pg_query.Node_JsonParseExpr:
		d.jsonValueExpr(q, x.JsonParseExpr.Expr)
		d.jsonOutput(x.JsonParseExpr.Output)
	case *pg_query.Node_JsonScalarExpr:
		d.expr(q, x.JsonScalarExpr.Expr)
		d.jsonOutput(x.JsonScalarExpr.Output)
	case *pg_query.Node_JsonSerializeExpr:
		d.jsonValueExpr(q, x.JsonSerializeExpr.Expr)
		d.jsonOutput(x.JsonSerializeExpr.Output)
	case *pg_query.Node_JsonFuncExpr:
		f := x.JsonFuncExpr
		d.jsonValueExpr(q, f.ContextItem)
		d.expr(q, f.Pathspec)
		for _, a := range f.Passing {
			d.jsonArgument(q, a)
		}
		d.jsonOutput(f.Output)
		d.jsonBehavior(q, f.OnEmpty)
		d.jsonBehavior(q, f.OnError)
	case *pg_query.Node_JsonIsPredicate:
		d.expr(q, x.JsonIsPredicate.Expr)
	case *pg_query.Node_JsonKeyValue:
		d.jsonKeyValue(q, x.JsonKeyValue)
	case *pg_query.Node_JsonValueExpr:
		d.jsonValueExpr(q, x.JsonValueExpr)
	default:
		d.unsupported(n)
	}
}

func (d *describer) exprs(q *stmt.Query, list []*pg_query.Node) {
	for _, n := range list {
		d.expr(q, n)
	}
}

func (d *describer) subLink(q *stmt.Query, n *pg_query.Node, sl *pg_query.SubLink) {
	d.mark(sl)
	switch sl.SubLinkType {
	case pg_query.SubLinkType_EXISTS_SUBLINK, pg_query.SubLinkType_ALL_SUBLINK, pg_query.SubLinkType_ANY_SUBLINK,
		pg_query.SubLinkType_ROWCOMPARE_SUBLINK, pg_query.SubLinkType_EXPR_SUBLINK, pg_query.SubLinkType_ARRAY_SUBLINK:
	default:
		d.unsupported(n)
		return
	}
	d.expr(q, sl.Testexpr)
	sel := sl.Subselect.GetSelectStmt()
	if sel == nil {
		d.unsupported(sl.Subselect)
		return
	}
	q.Subqueries = append(q.Subqueries, d.query(sel, int(sl.Location)))
}

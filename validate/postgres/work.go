package postgres

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/texttosql/text2sql/validate/stmt"
)

// This file reads the facts the work bounds need: constant arguments,
// WHERE terms that link FROM items, and a recursive CTE's counter.

// constant reduces n to a constant where it is one: a literal, a negated
// number, a literal cast to a type, or a moment relative to the clock.
func constant(n *pg_query.Node) stmt.Const {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_AConst:
		c := x.AConst
		if c.Isnull {
			return stmt.Const{}
		}
		switch v := c.Val.(type) {
		case *pg_query.A_Const_Ival:
			return stmt.Const{Kind: stmt.ConstNumber, Number: float64(v.Ival.Ival)}
		case *pg_query.A_Const_Fval:
			if f, err := strconv.ParseFloat(v.Fval.Fval, 64); err == nil {
				return stmt.Const{Kind: stmt.ConstNumber, Number: f}
			}
		case *pg_query.A_Const_Sval:
			return stmt.Const{Kind: stmt.ConstText, Text: v.Sval.Sval}
		}
	case *pg_query.Node_TypeCast:
		tc := x.TypeCast
		inner := constant(tc.Arg)
		typ := typeKey(tc.TypeName)
		switch {
		case typ == "":
		case inner.Kind == stmt.ConstText && len(tc.TypeName.Typmods) == 0:
			inner.Type = typ
			return inner
		case inner.Kind == stmt.ConstNumber:
			return inner
		case inner.Kind == stmt.ConstAnchored && (typ == "date" || strings.HasPrefix(typ, "timestamp")):
			inner.Text = typ + "(" + inner.Text + ")"
			return inner
		}
	case *pg_query.Node_AExpr:
		e := x.AExpr
		op := opName(e)
		if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || (op != "-" && op != "+") {
			return stmt.Const{}
		}
		if e.Lexpr == nil {
			if r := constant(e.Rexpr); r.Kind == stmt.ConstNumber && op == "-" {
				r.Number = -r.Number
				return r
			}
			return stmt.Const{}
		}
		// anchor ± interval, or a date ± a number of days.
		l, r := constant(e.Lexpr), constant(e.Rexpr)
		if l.Kind != stmt.ConstAnchored {
			return stmt.Const{}
		}
		sign := 1.0
		if op == "-" {
			sign = -1
		}
		switch {
		case r.Kind == stmt.ConstNumber:
			l.Number += sign * r.Number * 86400
			return l
		case r.Kind == stmt.ConstText && r.Type == "interval":
			if sec, ok := stmt.IntervalSeconds(r); ok {
				l.Number += sign * sec
				return l
			}
		}
	case *pg_query.Node_SqlvalueFunction:
		switch x.SqlvalueFunction.Op {
		case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
			return stmt.Const{Kind: stmt.ConstAnchored, Text: "current_date"}
		case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:
			return stmt.Const{Kind: stmt.ConstAnchored, Text: "now"}
		}
	case *pg_query.Node_FuncCall:
		fc := x.FuncCall
		name := funcKey(fc)
		switch {
		case (name == "now" || name == "transaction_timestamp") && len(fc.Args) == 0:
			return stmt.Const{Kind: stmt.ConstAnchored, Text: "now"}
		case name == "date_trunc" && len(fc.Args) == 2:
			// date_trunc(u, t + d) is taken as date_trunc(u, t) + d: off by
			// less than one unit, which sizing a series can afford.
			unit, at := constant(fc.Args[0]), constant(fc.Args[1])
			if unit.Kind == stmt.ConstText && at.Kind == stmt.ConstAnchored {
				return stmt.Const{Kind: stmt.ConstAnchored, Number: at.Number, Text: "date_trunc(" + strings.ToLower(unit.Text) + "," + at.Text + ")"}
			}
		}
	}
	return stmt.Const{}
}

// typeKey is a type name without the pg_catalog qualifier, lower case.
func typeKey(tn *pg_query.TypeName) string {
	if tn == nil || len(tn.Names) == 0 || tn.Setof || len(tn.ArrayBounds) > 0 {
		return ""
	}
	last := tn.Names[len(tn.Names)-1].GetString_()
	if last == nil {
		return ""
	}
	return strings.ToLower(last.Sval)
}

func funcKey(fc *pg_query.FuncCall) string {
	if len(fc.Funcname) == 0 || len(fc.Funcname) > 2 || fc.Over != nil || fc.AggStar || fc.AggDistinct {
		return ""
	}
	last := fc.Funcname[len(fc.Funcname)-1].GetString_()
	if last == nil {
		return ""
	}
	if len(fc.Funcname) == 2 {
		if s := fc.Funcname[0].GetString_(); s == nil || s.Sval != "pg_catalog" {
			return ""
		}
	}
	return last.Sval
}

func opName(e *pg_query.A_Expr) string {
	if len(e.Name) != 1 {
		return ""
	}
	if s := e.Name[0].GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

// args reduces a call's positional arguments; a named argument makes the
// list unreadable, so the rules that need it refuse the call.
func args(list []*pg_query.Node) []stmt.Const {
	out := make([]stmt.Const, 0, len(list))
	for _, a := range list {
		if a.GetNamedArgExpr() != nil {
			return nil
		}
		out = append(out, constant(a))
	}
	return out
}

// conjuncts are the top-level AND terms of a condition.
func conjuncts(n *pg_query.Node, out []*pg_query.Node) []*pg_query.Node {
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg_query.BoolExprType_AND_EXPR {
		for _, a := range b.Args {
			out = conjuncts(a, out)
		}
		return out
	}
	if n != nil && n.Node != nil {
		out = append(out, n)
	}
	return out
}

// links are the WHERE terms comparing column references on both sides.
func links(where *pg_query.Node) []stmt.Link {
	var out []stmt.Link
	for _, t := range conjuncts(where, nil) {
		e := t.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP {
			continue
		}
		var l stmt.Link
		if !columnsOf(e.Lexpr, &l) || !columnsOf(e.Rexpr, &l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// columnsOf adds the qualifiers of the column references in a simple
// expression (columns, constants, operators, casts, function calls) to
// l, and reports whether it held at least one reference.
func columnsOf(n *pg_query.Node, l *stmt.Link) bool {
	found := false
	var walk func(n *pg_query.Node)
	walk = func(n *pg_query.Node) {
		switch x := n.GetNode().(type) {
		case *pg_query.Node_ColumnRef:
			f := x.ColumnRef.Fields
			found = true
			if len(f) >= 2 {
				if s := f[len(f)-2].GetString_(); s != nil {
					l.Qualifiers = append(l.Qualifiers, stmt.Ident{Name: s.Sval})
					return
				}
			}
			l.Unqualified = true
		case *pg_query.Node_AExpr:
			walk(x.AExpr.Lexpr)
			walk(x.AExpr.Rexpr)
		case *pg_query.Node_TypeCast:
			walk(x.TypeCast.Arg)
		case *pg_query.Node_FuncCall:
			for _, a := range x.FuncCall.Args {
				walk(a)
			}
		}
	}
	walk(n)
	return found
}

// bound finds what limits a recursive CTE's query s (anchor UNION [ALL]
// recursive arm): a constant LIMIT, or a counter column; nil when neither
// is visible.
func bound(name string, cols []*pg_query.Node, s *pg_query.SelectStmt) *stmt.Bound {
	if s == nil || s.Op != pg_query.SetOperation_SETOP_UNION || s.Larg == nil || s.Rarg == nil {
		return nil
	}
	if c := constant(s.LimitCount); c.Kind == stmt.ConstNumber && c.Number > 0 {
		return &stmt.Bound{Limit: int64(c.Number)}
	}
	anchor, rec := s.Larg, s.Rarg
	if anchor.Op != pg_query.SetOperation_SETOP_NONE || rec.Op != pg_query.SetOperation_SETOP_NONE {
		return nil
	}
	// The column names: the CTE's column list, or the anchor's output names.
	var names []string
	for _, c := range cols {
		if s := c.GetString_(); s != nil {
			names = append(names, s.Sval)
		}
	}
	if len(names) == 0 {
		for _, t := range anchor.TargetList {
			rt := t.GetResTarget()
			if rt == nil {
				return nil
			}
			n := rt.Name
			if n == "" {
				if cr := rt.Val.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
					if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
						n = s.Sval
					}
				}
			}
			names = append(names, n)
		}
	}
	self := selfQualifier(name, rec.FromClause)
	if self == "" {
		return nil
	}
	// col is the counter column's index when ref names it through the
	// recursive reference, else -1.
	col := func(ref *pg_query.Node) int {
		cr := ref.GetColumnRef()
		if cr == nil || len(cr.Fields) == 0 || len(cr.Fields) > 2 {
			return -1
		}
		if len(cr.Fields) == 2 {
			if q := cr.Fields[0].GetString_(); q == nil || q.Sval != self {
				return -1
			}
		}
		f := cr.Fields[len(cr.Fields)-1].GetString_()
		if f == nil {
			return -1
		}
		for i, n := range names {
			if n == f.Sval {
				return i
			}
		}
		return -1
	}
	for _, t := range conjuncts(rec.WhereClause, nil) {
		e := t.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP {
			continue
		}
		op := opName(e)
		k, stop := col(e.Lexpr), constant(e.Rexpr)
		if k < 0 {
			// const op col: the comparison read the other way round.
			k, stop = col(e.Rexpr), constant(e.Lexpr)
			op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
		}
		if k < 0 || stop.Kind == stmt.ConstNone || k >= len(anchor.TargetList) || k >= len(rec.TargetList) {
			continue
		}
		var desc bool
		switch op {
		case "<", "<=":
		case ">", ">=":
			desc = true
		default:
			continue
		}
		start := constant(anchor.TargetList[k].GetResTarget().GetVal())
		step := stepOf(rec.TargetList[k].GetResTarget().GetVal(), func(n *pg_query.Node) bool { return col(n) == k })
		if start.Kind == stmt.ConstNone || step.Kind == stmt.ConstNone {
			continue
		}
		return &stmt.Bound{Start: start, Step: step, Stop: stop, Descending: desc}
	}
	return nil
}

// stepOf reads counter ± constant from the recursive arm's select list.
func stepOf(n *pg_query.Node, counter func(*pg_query.Node) bool) stmt.Const {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	e := n.GetAExpr()
	if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || e.Lexpr == nil {
		return stmt.Const{}
	}
	op := opName(e)
	l, r := e.Lexpr, e.Rexpr
	if op == "+" && counter(r) {
		l, r = r, l
	}
	if !counter(l) || (op != "+" && op != "-") {
		return stmt.Const{}
	}
	c := constant(r)
	switch {
	case c.Kind == stmt.ConstNumber && op == "-":
		c.Number = -c.Number
	case c.Kind == stmt.ConstText && c.Type == "interval" && op == "-":
		if strings.HasPrefix(c.Text, "-") {
			c.Text = strings.TrimPrefix(c.Text, "-")
		} else {
			c.Text = "-" + strings.TrimSpace(c.Text)
		}
	case c.Kind == stmt.ConstNumber, c.Kind == stmt.ConstText && c.Type == "interval":
	default:
		return stmt.Const{}
	}
	return c
}

// selfQualifier is how the recursive arm's FROM names the CTE itself: its
// alias, or its name; "" when it does not read it directly.
func selfQualifier(name string, from []*pg_query.Node) string {
	for _, n := range from {
		switch x := n.GetNode().(type) {
		case *pg_query.Node_RangeVar:
			rv := x.RangeVar
			if rv.Schemaname == "" && rv.Catalogname == "" && rv.Relname == name {
				if rv.Alias != nil {
					return rv.Alias.Aliasname
				}
				return name
			}
		case *pg_query.Node_JoinExpr:
			if q := selfQualifier(name, []*pg_query.Node{x.JoinExpr.Larg, x.JoinExpr.Rarg}); q != "" {
				return q
			}
		}
	}
	return ""
}

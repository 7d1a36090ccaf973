package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/texttosql/text2sql/validate/stmt"
)

// This file reads the facts the work bounds need: constant arguments,
// WHERE terms that link FROM items, and a recursive CTE's counter.

// constant reduces e to a constant where it is one: a literal, a negated
// number, a date or time literal, a cast literal, or a moment relative to
// the clock.
func constant(e ast.ExprNode) stmt.Const {
	switch x := e.(type) {
	case ast.ValueExpr:
		switch v := x.GetValue().(type) {
		case int64:
			return stmt.Const{Kind: stmt.ConstNumber, Number: float64(v)}
		case uint64:
			return stmt.Const{Kind: stmt.ConstNumber, Number: float64(v)}
		case float64:
			return stmt.Const{Kind: stmt.ConstNumber, Number: v}
		case string:
			return stmt.Const{Kind: stmt.ConstText, Text: v}
		case nil:
			return stmt.Const{}
		default:
			// Decimals print as their digits.
			if f, err := strconv.ParseFloat(fmt.Sprint(v), 64); err == nil {
				return stmt.Const{Kind: stmt.ConstNumber, Number: f}
			}
		}
	case *ast.UnaryOperationExpr:
		if c := constant(x.V); x.Op == opcode.Minus && c.Kind == stmt.ConstNumber {
			c.Number = -c.Number
			return c
		}
	case *ast.ParenthesesExpr:
		return constant(x.Expr)
	case *ast.FuncCastExpr:
		c := constant(x.Expr)
		if c.Kind == stmt.ConstText && x.Tp != nil {
			c.Type = strings.ToLower(x.Tp.CompactStr())
		}
		return c
	case *ast.FuncCallExpr:
		name := x.FnName.L
		switch {
		case (name == ast.DateLiteral || name == ast.TimestampLiteral) && len(x.Args) == 1:
			c := constant(x.Args[0])
			if c.Kind == stmt.ConstText {
				c.Type = "date"
				if name == ast.TimestampLiteral {
					c.Type = "timestamp"
				}
			}
			return c
		case len(x.Args) == 0 && (name == "curdate" || name == "current_date" || name == "utc_date"):
			return stmt.Const{Kind: stmt.ConstAnchored, Text: "curdate"}
		case len(x.Args) == 0 && (name == "now" || name == "current_timestamp" || name == "localtimestamp" || name == "localtime"):
			return stmt.Const{Kind: stmt.ConstAnchored, Text: "now"}
		case len(x.Args) == 1 && name == "date":
			if c := constant(x.Args[0]); c.Kind == stmt.ConstAnchored {
				c.Text = "date(" + c.Text + ")"
				return c
			}
		case len(x.Args) == 3 && (name == "date_add" || name == "adddate" || name == "date_sub" || name == "subdate"):
			at, step := constant(x.Args[0]), intervalOf(x)
			if at.Kind == stmt.ConstAnchored && step.Kind == stmt.ConstInterval {
				if sec, ok := stmt.IntervalSeconds(step); ok {
					at.Number += sec
					return at
				}
			}
		}
	}
	return stmt.Const{}
}

// intervalOf reads the INTERVAL n UNIT of a date_add or date_sub call
// (d + INTERVAL 1 DAY parses as one), negated for subtraction.
func intervalOf(f *ast.FuncCallExpr) stmt.Const {
	if len(f.Args) != 3 {
		return stmt.Const{}
	}
	n, unit := constant(f.Args[1]), f.Args[2]
	tu, ok := unit.(*ast.TimeUnitExpr)
	if !ok || n.Kind != stmt.ConstNumber {
		return stmt.Const{}
	}
	if f.FnName.L == "date_sub" || f.FnName.L == "subdate" {
		n.Number = -n.Number
	}
	return stmt.Const{Kind: stmt.ConstInterval, Number: n.Number, Unit: strings.ToLower(tu.Unit.String())}
}

// args reduces a call's arguments.
func args(list []ast.ExprNode) []stmt.Const {
	out := make([]stmt.Const, len(list))
	for i, a := range list {
		out[i] = constant(a)
	}
	return out
}

// conjuncts are the top-level AND terms of a condition.
func conjuncts(e ast.ExprNode, out []ast.ExprNode) []ast.ExprNode {
	if p, ok := e.(*ast.ParenthesesExpr); ok {
		return conjuncts(p.Expr, out)
	}
	if b, ok := e.(*ast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	if e != nil {
		out = append(out, e)
	}
	return out
}

var comparisons = map[opcode.Op]bool{opcode.EQ: true, opcode.NE: true, opcode.LT: true, opcode.LE: true,
	opcode.GT: true, opcode.GE: true, opcode.NullEQ: true}

// links are the WHERE terms comparing column references on both sides.
func links(where ast.ExprNode) []stmt.Link {
	var out []stmt.Link
	for _, t := range conjuncts(where, nil) {
		b, ok := t.(*ast.BinaryOperationExpr)
		if !ok || !comparisons[b.Op] {
			continue
		}
		var l stmt.Link
		if columnsOf(b.L, &l) && columnsOf(b.R, &l) {
			out = append(out, l)
		}
	}
	return out
}

// columnsOf adds the qualifiers of the column references of a simple
// expression to l and reports whether it held one.
func columnsOf(e ast.ExprNode, l *stmt.Link) bool {
	switch x := e.(type) {
	case *ast.ColumnNameExpr:
		if x.Name.Table.O != "" {
			l.Qualifiers = append(l.Qualifiers, ident(x.Name.Table.O))
		} else {
			l.Unqualified = true
		}
		return true
	case *ast.ParenthesesExpr:
		return columnsOf(x.Expr, l)
	case *ast.BinaryOperationExpr:
		a := columnsOf(x.L, l)
		return columnsOf(x.R, l) || a
	case *ast.FuncCallExpr:
		found := false
		for _, a := range x.Args {
			found = columnsOf(a, l) || found
		}
		return found
	case *ast.FuncCastExpr:
		return columnsOf(x.Expr, l)
	}
	return false
}

// bound finds what limits a recursive CTE (anchor UNION [ALL] recursive
// arm): a constant LIMIT, or a counter column; nil when neither is visible.
func bound(c *ast.CommonTableExpression) *stmt.Bound {
	if c.Query == nil {
		return nil
	}
	s, ok := c.Query.Query.(*ast.SetOprStmt)
	if !ok || s.SelectList == nil || len(s.SelectList.Selects) != 2 {
		return nil
	}
	if s.Limit != nil && s.Limit.Offset == nil {
		if n := constant(s.Limit.Count); n.Kind == stmt.ConstNumber && n.Number > 0 {
			return &stmt.Bound{Limit: int64(n.Number)}
		}
	}
	anchor, ok1 := s.SelectList.Selects[0].(*ast.SelectStmt)
	rec, ok2 := s.SelectList.Selects[1].(*ast.SelectStmt)
	if !ok1 || !ok2 || anchor.Fields == nil || rec.Fields == nil || rec.From == nil {
		return nil
	}
	if rec.Limit != nil {
		if n := constant(rec.Limit.Count); n.Kind == stmt.ConstNumber && n.Number > 0 && rec.Limit.Offset == nil {
			return &stmt.Bound{Limit: int64(n.Number)}
		}
	}
	var names []string
	for _, col := range c.ColNameList {
		names = append(names, col.L)
	}
	if len(names) == 0 {
		for _, f := range anchor.Fields.Fields {
			n := f.AsName.L
			if n == "" {
				if cn, ok := f.Expr.(*ast.ColumnNameExpr); ok {
					n = cn.Name.Name.L
				}
			}
			names = append(names, n)
		}
	}
	self := selfQualifier(c.Name.L, rec.From.TableRefs)
	if self == "" {
		return nil
	}
	col := func(e ast.ExprNode) int {
		cn, ok := e.(*ast.ColumnNameExpr)
		if !ok || cn.Name.Schema.O != "" || (cn.Name.Table.O != "" && cn.Name.Table.L != self) {
			return -1
		}
		for i, n := range names {
			if n != "" && n == cn.Name.Name.L {
				return i
			}
		}
		return -1
	}
	for _, t := range conjuncts(rec.Where, nil) {
		b, ok := t.(*ast.BinaryOperationExpr)
		if !ok {
			continue
		}
		op := b.Op
		k, stop := col(b.L), constant(b.R)
		if k < 0 {
			k, stop = col(b.R), constant(b.L)
			op = map[opcode.Op]opcode.Op{opcode.LT: opcode.GT, opcode.LE: opcode.GE, opcode.GT: opcode.LT, opcode.GE: opcode.LE}[op]
		}
		if k < 0 || stop.Kind == stmt.ConstNone || k >= len(anchor.Fields.Fields) || k >= len(rec.Fields.Fields) {
			continue
		}
		var desc bool
		switch op {
		case opcode.LT, opcode.LE:
		case opcode.GT, opcode.GE:
			desc = true
		default:
			continue
		}
		start := constant(anchor.Fields.Fields[k].Expr)
		step := stepOf(rec.Fields.Fields[k].Expr, func(e ast.ExprNode) bool { return col(e) == k })
		if start.Kind == stmt.ConstNone || step.Kind == stmt.ConstNone {
			continue
		}
		return &stmt.Bound{Start: start, Step: step, Stop: stop, Descending: desc}
	}
	return nil
}

// stepOf reads counter ± number or counter + INTERVAL n UNIT.
func stepOf(e ast.ExprNode, counter func(ast.ExprNode) bool) stmt.Const {
	switch x := e.(type) {
	case *ast.FuncCallExpr:
		if len(x.Args) == 3 && counter(x.Args[0]) {
			switch x.FnName.L {
			case "date_add", "adddate", "date_sub", "subdate":
				return intervalOf(x)
			}
		}
	case *ast.BinaryOperationExpr:
		l, r := x.L, x.R
		if x.Op == opcode.Plus && counter(r) {
			l, r = r, l
		}
		c := constant(r)
		if !counter(l) || c.Kind != stmt.ConstNumber || (x.Op != opcode.Plus && x.Op != opcode.Minus) {
			return stmt.Const{}
		}
		if x.Op == opcode.Minus {
			c.Number = -c.Number
		}
		return c
	}
	return stmt.Const{}
}

// selfQualifier is how the recursive arm's FROM names the CTE: its alias
// or its name; "" when it does not read it directly.
func selfQualifier(name string, n ast.ResultSetNode) string {
	switch x := n.(type) {
	case *ast.Join:
		if q := selfQualifier(name, x.Left); q != "" {
			return q
		}
		if x.Right != nil {
			return selfQualifier(name, x.Right)
		}
	case *ast.TableSource:
		if t, ok := x.Source.(*ast.TableName); ok && t.Schema.O == "" && t.Name.L == name {
			if x.AsName.L != "" {
				return x.AsName.L
			}
			return name
		}
	}
	return ""
}

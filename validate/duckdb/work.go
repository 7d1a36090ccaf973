package duckdb

import (
	"strconv"
	"strings"

	"github.com/texttosql/text2sql/validate/stmt"
)

// constant reduces an expression to a constant where it is one: a
// literal, a negated number, or a literal cast to a type.
func constant(v any) stmt.Const {
	n, ok := v.(node)
	if !ok {
		return stmt.Const{}
	}
	switch str(n["class"]) {
	case "CONSTANT":
		lit, _ := n["literal"].(node)
		text := str(lit["text"])
		switch str(lit["kind"]) {
		case "INTEGER", "DECIMAL", "FLOAT", "DOUBLE", "BIGINT", "HUGEINT":
			if f, err := strconv.ParseFloat(text, 64); err == nil {
				return stmt.Const{Kind: stmt.ConstNumber, Number: f}
			}
		case "STRING":
			return stmt.Const{Kind: stmt.ConstText, Text: text}
		}
	case "FUNCTION":
		args := list(n["arguments"])
		if str(n["function_name"]) == "-" && n["is_operator"] == true && len(args) == 1 {
			if a, ok := args[0].(node); ok {
				if c := constant(a["expression"]); c.Kind == stmt.ConstNumber {
					c.Number = -c.Number
					return c
				}
			}
		}
	case "CAST":
		c := constant(n["child"])
		if t, ok := n["type_expr"].(node); ok && c.Kind == stmt.ConstText {
			c.Type = strings.ToLower(str(t["type_name"]))
			return c
		}
	}
	return stmt.Const{}
}

// args reduces a call's positional arguments.
func args(fn node) []stmt.Const {
	var out []stmt.Const
	for _, a := range list(fn["arguments"]) {
		if an, ok := a.(node); ok {
			out = append(out, constant(an["expression"]))
		}
	}
	return out
}

// bound finds what limits a recursive CTE (anchor UNION [ALL] recursive
// arm): a constant LIMIT, or a counter column that starts at a constant,
// moves by a constant step and is compared with a constant in the
// recursive arm's WHERE; nil when neither is visible.
func bound(name string, aliases []any, n node) *stmt.Bound {
	for _, m := range list(n["modifiers"]) {
		if mn, ok := m.(node); ok && mn["type"] == "LIMIT_MODIFIER" && mn["limit_type"] != "PERCENTAGE" {
			if c := constant(mn["limit"]); c.Kind == stmt.ConstNumber && c.Number > 0 {
				return &stmt.Bound{Limit: int64(c.Number)}
			}
		}
	}
	anchor, _ := n["left"].(node)
	rec, _ := n["right"].(node)
	if anchor == nil || rec == nil || anchor["type"] != "SELECT_NODE" || rec["type"] != "SELECT_NODE" {
		return nil
	}
	aSel, rSel := list(anchor["select_list"]), list(rec["select_list"])
	var names []string
	for _, a := range aliases {
		names = append(names, strings.ToLower(str(a)))
	}
	if len(names) == 0 {
		for _, e := range aSel {
			en, _ := e.(node)
			nm := str(en["alias"])
			if nm == "" && str(en["class"]) == "COLUMN_REF" {
				if p := list(en["column_names"]); len(p) > 0 {
					nm = str(p[len(p)-1])
				}
			}
			names = append(names, strings.ToLower(nm))
		}
	}
	from, _ := rec["from_table"].(node)
	if from == nil || from["type"] != "BASE_TABLE" || !strings.EqualFold(str(from["table_name"]), name) {
		return nil
	}
	self := strings.ToLower(str(from["alias"]))
	if self == "" {
		self = strings.ToLower(name)
	}
	col := func(v any) int {
		cn, ok := v.(node)
		if !ok || str(cn["class"]) != "COLUMN_REF" {
			return -1
		}
		p := list(cn["column_names"])
		if len(p) == 0 || len(p) > 2 || len(p) == 2 && strings.ToLower(str(p[0])) != self {
			return -1
		}
		f := strings.ToLower(str(p[len(p)-1]))
		for i, nm := range names {
			if nm == f {
				return i
			}
		}
		return -1
	}
	var terms []any
	if w, ok := rec["where_clause"].(node); ok {
		if str(w["type"]) == "CONJUNCTION_AND" {
			terms = list(w["children"])
		} else {
			terms = []any{w}
		}
	}
	ops := map[string]string{"COMPARE_LESSTHAN": "<", "COMPARE_LESSTHANOREQUALTO": "<=", "COMPARE_GREATERTHAN": ">", "COMPARE_GREATERTHANOREQUALTO": ">="}
	flip := map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}
	for _, t := range terms {
		tn, ok := t.(node)
		if !ok || str(tn["class"]) != "COMPARISON" {
			continue
		}
		op := ops[str(tn["type"])]
		k, stop := col(tn["left"]), constant(tn["right"])
		if k < 0 {
			k, stop, op = col(tn["right"]), constant(tn["left"]), flip[op]
		}
		if op == "" || k < 0 || stop.Kind == stmt.ConstNone || k >= len(aSel) || k >= len(rSel) {
			continue
		}
		start := constant(aSel[k])
		step := stepOf(rSel[k], func(v any) bool { return col(v) == k })
		if start.Kind == stmt.ConstNone || step.Kind == stmt.ConstNone {
			continue
		}
		return &stmt.Bound{Start: start, Step: step, Stop: stop, Descending: op == ">" || op == ">="}
	}
	return nil
}

// stepOf reads counter + constant, constant + counter or counter -
// constant from the recursive arm's select list.
func stepOf(v any, counter func(any) bool) stmt.Const {
	n, ok := v.(node)
	if !ok || str(n["class"]) != "FUNCTION" || n["is_operator"] != true {
		return stmt.Const{}
	}
	a := list(n["arguments"])
	if len(a) != 2 {
		return stmt.Const{}
	}
	l, _ := a[0].(node)
	r, _ := a[1].(node)
	switch str(n["function_name"]) {
	case "+":
		if counter(l["expression"]) {
			return constant(r["expression"])
		}
		if counter(r["expression"]) {
			return constant(l["expression"])
		}
	case "-":
		if counter(l["expression"]) {
			if c := constant(r["expression"]); c.Kind == stmt.ConstNumber {
				c.Number = -c.Number
				return c
			}
		}
	}
	return stmt.Const{}
}

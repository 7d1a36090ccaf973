package duckdb

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/texttosql/text2sql/validate/stmt"
)

type node = map[string]any

// describer reduces DuckDB's JSON parse tree to the neutral description.
// Every typed object it reads is marked; the net (net.go) then refuses
// any typed object it did not read and any key it does not know.
type describer struct {
	sql      string
	findings []stmt.Finding
	seen     map[uintptr]bool
	lambdas  []map[string]bool // lambda parameters in scope
}

func describe(root node, sql string) *stmt.Statement {
	d := &describer{sql: sql, seen: map[uintptr]bool{}}
	s := &stmt.Statement{Verb: "SELECT"}
	if n, ok := root["node"].(node); ok && d.knownKeys(root, "statement") {
		s.Query = d.query(n)
	} else {
		d.unsupported(root, "a statement without a query")
	}
	d.net(root)
	s.Findings = d.findings
	return s
}

func (d *describer) add(code string, pos int, format string, args ...any) {
	d.findings = append(d.findings, stmt.Finding{Code: code, Message: fmt.Sprintf(format, args...), Pos: pos})
}

func (d *describer) unsupported(n node, what string) {
	d.add(stmt.CodeUnsupportedSyntax, d.pos(n), "unsupported syntax: %s", what)
}

// mark records that the describer read n.
func (d *describer) mark(n node) { d.seen[reflect.ValueOf(n).Pointer()] = true }

// pos is n's query_location when it lies in the text.
func (d *describer) pos(n node) int {
	if v, ok := n["query_location"].(json.Number); ok {
		if i, err := v.Int64(); err == nil && i >= 0 && int(i) <= len(d.sql) {
			return int(i)
		}
	}
	return -1
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func ident(s string) stmt.Ident { return stmt.Ident{Name: s} }

// query describes a query node: SELECT_NODE, SET_OPERATION_NODE or
// RECURSIVE_CTE_NODE.
func (d *describer) query(n node) *stmt.Query {
	q := &stmt.Query{Pos: d.pos(n)}
	kind := str(n["type"])
	switch kind {
	case "INSERT_QUERY_NODE", "UPDATE_QUERY_NODE", "DELETE_QUERY_NODE", "MERGE_INTO_QUERY_NODE":
		d.mark(n)
		d.add(stmt.CodeNotReadOnly, d.pos(n), "the statement would run %s; only read-only queries are accepted",
			strings.TrimSuffix(strings.TrimSuffix(kind, "_QUERY_NODE"), "_INTO"))
		return q
	}
	if !d.knownKeys(n, "node:"+kind) {
		return q
	}
	d.ctes(q, n["cte_map"])
	switch kind {
	case "SELECT_NODE":
		d.selectNode(q, n)
	case "SET_OPERATION_NODE":
		q.Op = str(n["setop_type"])
		if n["setop_all"] == true {
			q.Op += " ALL"
		}
		arms := list(n["children"])
		if len(arms) == 0 {
			arms = []any{n["left"], n["right"]}
		}
		for _, a := range arms {
			if an, ok := a.(node); ok {
				q.Arms = append(q.Arms, d.query(an))
			}
		}
		d.modifiers(q, n, true)
	case "RECURSIVE_CTE_NODE":
		q.Op = "UNION"
		if n["union_all"] == true {
			q.Op += " ALL"
		}
		for _, k := range []string{"left", "right"} {
			if an, ok := n[k].(node); ok {
				q.Arms = append(q.Arms, d.query(an))
			}
		}
		if len(list(n["key_targets"])) > 0 {
			d.unsupported(n, "USING KEY in a recursive CTE")
		}
		d.modifiers(q, n, true)
	default:
		d.unsupported(n, "query node "+kind)
	}
	return q
}

func (d *describer) ctes(q *stmt.Query, v any) {
	m, ok := v.(node)
	if !ok {
		return
	}
	d.mark(m)
	for _, e := range list(m["map"]) {
		entry, _ := e.(node)
		val, _ := entry["value"].(node)
		if entry == nil || val == nil {
			continue
		}
		d.mark(entry)
		d.mark(val)
		body, _ := val["query_node"].(node)
		if body == nil {
			continue
		}
		if len(list(val["key_targets"])) > 0 || len(list(val["payload_aggregates"])) > 0 {
			d.unsupported(val, "USING KEY in a CTE")
		}
		c := &stmt.CTE{Name: ident(str(entry["key"])), Pos: d.pos(body)}
		for _, a := range list(val["aliases"]) {
			c.Columns = append(c.Columns, ident(str(a)))
		}
		if str(body["type"]) == "RECURSIVE_CTE_NODE" {
			q.Recursive = true
		}
		c.Query = d.query(body)
		if str(body["type"]) == "RECURSIVE_CTE_NODE" {
			c.Bound = bound(c.Name.Name, list(val["aliases"]), body)
		}
		q.With = append(q.With, c)
	}
}

func (d *describer) selectNode(q *stmt.Query, n node) {
	if from, ok := n["from_table"].(node); ok {
		d.tableRef(q, from)
	}
	for _, e := range list(n["select_list"]) {
		en, ok := e.(node)
		if !ok {
			continue
		}
		t := stmt.Target{Name: ident(str(en["alias"]))}
		switch str(en["class"]) {
		case "STAR":
			if !d.isColumnsExpr(en) {
				st := d.star(q, en)
				t.Star = &st
			} else {
				d.expr(q, en, stmt.AliasNever)
			}
		case "COLUMN_REF":
			if t.Name.Name == "" {
				parts := list(en["column_names"])
				if len(parts) > 0 {
					t.Name = ident(str(parts[len(parts)-1]))
				}
			}
			d.expr(q, en, stmt.AliasNever)
		default:
			d.expr(q, en, stmt.AliasNever)
		}
		q.Targets = append(q.Targets, t)
	}
	d.expr(q, n["where_clause"], stmt.AliasFallback)
	for _, g := range list(n["group_expressions"]) {
		d.expr(q, g, stmt.AliasFallback)
	}
	d.expr(q, n["having"], stmt.AliasFallback)
	d.expr(q, n["qualify"], stmt.AliasFallback)
	d.modifiers(q, n, false)
}

// modifiers describes ORDER BY, LIMIT/OFFSET and DISTINCT ON.
func (d *describer) modifiers(q *stmt.Query, n node, setOp bool) {
	for _, m := range list(n["modifiers"]) {
		mn, ok := m.(node)
		if !ok {
			continue
		}
		kind := str(mn["type"])
		if !d.knownKeys(mn, "modifier:"+kind) {
			continue
		}
		switch kind {
		case "ORDER_MODIFIER":
			d.orders(q, mn, stmt.AliasFirst)
		case "LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER":
			d.expr(q, mn["limit"], stmt.AliasNever)
			d.expr(q, mn["offset"], stmt.AliasNever)
		case "DISTINCT_MODIFIER":
			for _, e := range list(mn["distinct_on_targets"]) {
				d.expr(q, e, stmt.AliasFallback)
			}
		}
	}
}

func (d *describer) orders(q *stmt.Query, mn node, rule stmt.AliasRule) {
	d.mark(mn)
	for _, o := range list(mn["orders"]) {
		on, ok := o.(node)
		if !ok || !d.knownKeys(on, "order") {
			continue
		}
		d.expr(q, on["expression"], rule)
	}
}

// isColumnsExpr says whether a STAR is COLUMNS(...) or *COLUMNS(...) with
// a pattern or lambda rather than a plain star.
func (d *describer) isColumnsExpr(n node) bool { return n["expr"] != nil }

// star describes * and t.* (with EXCLUDE, REPLACE, RENAME, or COLUMNS(*)).
func (d *describer) star(q *stmt.Query, n node) stmt.Star {
	d.knownKeys(n, "expr:STAR")
	st := stmt.Star{Pos: d.pos(n)}
	if r := str(n["relation_name"]); r != "" {
		st.Qualifier = []stmt.Ident{ident(r)}
	}
	for _, r := range list(n["replace_list"]) {
		if rn, ok := r.(node); ok {
			d.mark(rn)
			d.expr(q, rn["value"], stmt.AliasNever)
		}
	}
	if len(list(n["qualified_exclude_list"])) > 0 {
		d.unsupported(n, "a qualified EXCLUDE list")
	}
	q.Stars = append(q.Stars, st)
	return st
}

// tableRef describes one FROM item and returns the source it added (nil
// for a join or no FROM), so a join can put USING and NATURAL on its
// right side.
func (d *describer) tableRef(q *stmt.Query, n node) *stmt.Source {
	kind := str(n["type"])
	if !d.knownKeys(n, "ref:"+kind) {
		return nil
	}
	if n["at_clause"] != nil {
		d.unsupported(n, "AT (time travel)")
	}
	src := &stmt.Source{Pos: d.pos(n)}
	if a := str(n["alias"]); a != "" {
		al := ident(a)
		src.Alias = &al
	}
	for _, c := range list(n["column_name_alias"]) {
		src.ColumnAliases = append(src.ColumnAliases, ident(str(c)))
	}
	switch kind {
	case "EMPTY":
		return nil
	case "BASE_TABLE":
		name := str(n["table_name"])
		if looksLikeFile(name) {
			d.add(stmt.CodeUnknownTable, d.pos(n), "%q reads a file or URL; only the database's tables may be read", name)
			return nil
		}
		for _, p := range []string{str(n["catalog_name"]), str(n["schema_name"])} {
			if p != "" {
				src.Name = append(src.Name, ident(p))
			}
		}
		src.Name = append(src.Name, ident(name))
		src.Kind = stmt.SourceTable
	case "SUBQUERY":
		sub, _ := n["subquery"].(node)
		body, _ := sub["node"].(node)
		if body == nil {
			d.unsupported(n, "a derived table without a query")
			return nil
		}
		d.mark(sub)
		src.Kind, src.Query, src.Lateral = stmt.SourceSubquery, d.query(body), true
	case "TABLE_FUNCTION":
		fn, _ := n["function"].(node)
		if fn == nil || str(fn["class"]) != "FUNCTION" {
			d.unsupported(n, "a table function that is not a call")
			return nil
		}
		src.Kind, src.Lateral = stmt.SourceFunction, true
		n := len(q.Funcs)
		d.function(q, fn, stmt.FuncTable)
		if len(q.Funcs) > n && q.Funcs[n].Pos < 0 {
			q.Funcs[n].Pos = src.Pos // the call itself carries no location
		}
	case "EXPRESSION_LIST":
		// VALUES in FROM: its columns are the aliases (or col0, col1, ...).
		src.Kind = stmt.SourceFunction
		for _, row := range list(n["values"]) {
			for _, e := range list(row) {
				d.expr(q, e, stmt.AliasNever)
			}
		}
		for _, c := range list(n["expected_names"]) {
			src.ColumnAliases = append(src.ColumnAliases, ident(str(c)))
		}
	case "JOIN":
		left, _ := n["left"].(node)
		right, _ := n["right"].(node)
		if left == nil || right == nil {
			d.unsupported(n, "a join without two sides")
			return nil
		}
		d.tableRef(q, left)
		before := len(q.From)
		r := d.tableRef(q, right)
		switch str(n["ref_type"]) {
		case "NATURAL":
			if r == nil {
				d.unsupported(n, "a NATURAL join with a side that is no relation")
				return nil
			}
			r.Natural = true
		case "REGULAR", "CROSS", "POSITIONAL", "ASOF", "DEPENDENT":
		default:
			d.unsupported(n, "join type "+str(n["ref_type"]))
		}
		if using := list(n["using_columns"]); len(using) > 0 {
			if r == nil || len(q.From) != before+1 {
				d.unsupported(n, "USING with a side that is no single relation")
				return nil
			}
			for _, u := range using {
				r.Using = append(r.Using, ident(str(u)))
			}
		}
		d.expr(q, n["condition"], stmt.AliasNever)
		d.expr(q, n["ranking_expression"], stmt.AliasNever)
		if len(list(n["duplicate_eliminated_columns"])) > 0 {
			d.unsupported(n, "a join with duplicate-eliminated columns")
		}
		return nil
	default:
		d.unsupported(n, "FROM item "+kind)
		return nil
	}
	q.From = append(q.From, src)
	return src
}

// looksLikeFile says whether a table name is one DuckDB would read as a
// file, URL or object-store path (a replacement scan).
func looksLikeFile(name string) bool {
	return strings.ContainsAny(name, "/\\:.*?")
}

// expr describes an expression; rule is how a one-part column name may
// refer to an output column of the query.
func (d *describer) expr(q *stmt.Query, v any, rule stmt.AliasRule) {
	n, ok := v.(node)
	if !ok {
		return
	}
	class := str(n["class"])
	if !d.knownKeys(n, "expr:"+class) {
		return
	}
	switch class {
	case "CONSTANT", "POSITIONAL_REFERENCE":
	case "COLUMN_REF":
		var parts []stmt.Ident
		for _, p := range list(n["column_names"]) {
			parts = append(parts, ident(str(p)))
		}
		if len(parts) == 0 {
			d.unsupported(n, "an empty column reference")
			return
		}
		if len(parts) == 1 && d.lambdaParam(parts[0].Name) {
			return
		}
		if len(parts) == 1 && keywordFunctions[strings.ToLower(parts[0].Name)] {
			// CURRENT_DATE and its kin arrive as names the binder turns
			// into function calls when no column has the name.
			q.Funcs = append(q.Funcs, stmt.Func{Name: []stmt.Ident{ident(strings.ToLower(parts[0].Name))}, Kind: stmt.FuncKeyword, Pos: d.pos(n)})
			return
		}
		q.Refs = append(q.Refs, stmt.ColumnRef{Parts: parts, Alias: rule, Pos: d.pos(n)})
	case "FUNCTION":
		d.function(q, n, stmt.FuncScalar)
	case "WINDOW":
		name := str(n["function_name"])
		q.Funcs = append(q.Funcs, d.funcName(n, name, stmt.FuncWindow))
		for _, k := range []string{"arguments", "partitions"} {
			for _, a := range list(n[k]) {
				d.expr(q, a, stmt.AliasNever)
			}
		}
		for _, k := range []string{"orders", "arg_orders"} {
			for _, o := range list(n[k]) {
				if on, ok := o.(node); ok && d.knownKeys(on, "order") {
					d.expr(q, on["expression"], stmt.AliasNever)
				}
			}
		}
		for _, k := range []string{"filter_expr", "start_expr", "end_expr", "offset_expr", "default_expr"} {
			d.expr(q, n[k], stmt.AliasNever)
		}
	case "SUBQUERY":
		sub, _ := n["subquery"].(node)
		body, _ := sub["node"].(node)
		if body == nil {
			d.unsupported(n, "a subquery without a query")
			return
		}
		d.mark(sub)
		q.Subqueries = append(q.Subqueries, d.query(body))
		d.expr(q, n["child"], rule)
	case "CASE":
		for _, c := range list(n["case_checks"]) {
			if cn, ok := c.(node); ok {
				d.mark(cn)
				d.expr(q, cn["when_expr"], rule)
				d.expr(q, cn["then_expr"], rule)
			}
		}
		d.expr(q, n["else_expr"], rule)
	case "CAST":
		d.expr(q, n["child"], rule)
		d.expr(q, n["type_expr"], rule)
	case "TYPE":
		for _, c := range list(n["children"]) {
			d.expr(q, c, stmt.AliasNever)
		}
	case "COLLATE":
		d.expr(q, n["child"], rule)
	case "COMPARISON":
		d.expr(q, n["left"], rule)
		d.expr(q, n["right"], rule)
	case "CONJUNCTION", "OPERATOR":
		for _, c := range list(n["children"]) {
			d.expr(q, c, rule)
		}
	case "BETWEEN":
		for _, k := range []string{"input", "lower", "upper"} {
			d.expr(q, n[k], rule)
		}
	case "LAMBDA":
		params := map[string]bool{}
		d.lambdaParams(n["lhs"], params)
		d.lambdas = append(d.lambdas, params)
		d.expr(q, n["expr"], rule)
		d.lambdas = d.lambdas[:len(d.lambdas)-1]
	case "STAR":
		// COLUMNS(...) and *COLUMNS(...) pick columns by pattern or
		// lambda: treat them as a star over their relation.
		d.star(q, n)
		if e, ok := n["expr"].(node); ok {
			d.expr(q, e, rule)
		}
	case "PARAMETER":
		d.add(stmt.CodeUnsupportedSyntax, d.pos(n), "query parameters cannot be run; write the value into the statement")
	default:
		d.unsupported(n, "expression "+class)
	}
}

// keywordFunctions are the special forms written without parentheses.
var keywordFunctions = map[string]bool{
	"current_date": true, "current_time": true, "current_timestamp": true, "localtime": true,
	"localtimestamp": true, "current_user": true, "current_role": true, "session_user": true,
	"user": true, "current_catalog": true, "current_schema": true,
}

// lambdaParams collects a lambda's parameter names (x, or (x, y)).
func (d *describer) lambdaParams(v any, into map[string]bool) {
	n, ok := v.(node)
	if !ok {
		return
	}
	switch str(n["class"]) {
	case "COLUMN_REF":
		d.mark(n)
		if parts := list(n["column_names"]); len(parts) == 1 {
			into[strings.ToLower(str(parts[0]))] = true
			return
		}
		d.unsupported(n, "a qualified lambda parameter")
	case "FUNCTION":
		// (x, y) -> ... arrives as row(x, y).
		d.mark(n)
		for _, a := range list(n["arguments"]) {
			if an, ok := a.(node); ok {
				d.mark(an)
				d.lambdaParams(an["expression"], into)
			}
		}
	default:
		d.unsupported(n, "a lambda parameter list")
	}
}

func (d *describer) lambdaParam(name string) bool {
	for i := len(d.lambdas) - 1; i >= 0; i-- {
		if d.lambdas[i][strings.ToLower(name)] {
			return true
		}
	}
	return false
}

func (d *describer) funcName(n node, name string, kind stmt.FuncKind) stmt.Func {
	f := stmt.Func{Kind: kind, Pos: d.pos(n), Args: args(n)}
	for _, p := range []string{str(n["catalog"]), str(n["schema"])} {
		if p != "" {
			f.Name = append(f.Name, ident(p))
		}
	}
	f.Name = append(f.Name, ident(strings.ToLower(name)))
	return f
}

// function describes a call: its name is judged against the allowlist,
// its arguments, FILTER and ORDER BY are read.
func (d *describer) function(q *stmt.Query, n node, kind stmt.FuncKind) {
	if !d.knownKeys(n, "expr:FUNCTION") {
		return
	}
	name := str(n["function_name"])
	if n["export_state"] == true {
		d.unsupported(n, "EXPORT_STATE")
	}
	q.Funcs = append(q.Funcs, d.funcName(n, name, kind))
	for _, a := range list(n["arguments"]) {
		an, ok := a.(node)
		if !ok {
			continue
		}
		d.mark(an)
		d.expr(q, an["expression"], stmt.AliasNever)
	}
	d.expr(q, n["filter"], stmt.AliasNever)
	if ob, ok := n["order_bys"].(node); ok {
		d.orders(q, ob, stmt.AliasNever)
	}
}

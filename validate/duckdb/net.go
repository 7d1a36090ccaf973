package duckdb

import (
	"reflect"
	"sort"
	"strings"
)

// The coverage net. DuckDB's tree is JSON: every object the describer
// reads must be of a kind it knows and hold only keys it knows (a newer
// DuckDB adding a clause fails closed), and after describing, every typed
// object anywhere in the tree must have been read.

// common keys of every expression and FROM item.
var common = []string{"class", "type", "alias", "query_location", "query_location_length"}

var knownKinds = func() map[string]map[string]bool {
	kinds := map[string][]string{
		"statement": {"node", "named_param_map"},

		"node:SELECT_NODE":        {"type", "modifiers", "cte_map", "select_list", "from_table", "where_clause", "group_expressions", "group_sets", "aggregate_handling", "having", "sample", "qualify"},
		"node:SET_OPERATION_NODE": {"type", "modifiers", "cte_map", "setop_type", "setop_all", "left", "right", "children"},
		"node:RECURSIVE_CTE_NODE": {"type", "modifiers", "cte_map", "cte_name", "union_all", "left", "right", "aliases", "key_targets"},

		"modifier:ORDER_MODIFIER":         {"type", "orders"},
		"modifier:LIMIT_MODIFIER":         {"type", "limit", "offset", "limit_type"},
		"modifier:LIMIT_PERCENT_MODIFIER": {"type", "limit", "offset"},
		"modifier:DISTINCT_MODIFIER":      {"type", "distinct_on_targets"},
		"order":                           {"type", "null_order", "expression"},

		"ref:EMPTY":           append([]string{"sample"}, common...),
		"ref:BASE_TABLE":      append([]string{"sample", "schema_name", "table_name", "column_name_alias", "catalog_name", "at_clause", "qualified_name"}, common...),
		"ref:SUBQUERY":        append([]string{"sample", "subquery", "column_name_alias"}, common...),
		"ref:TABLE_FUNCTION":  append([]string{"sample", "function", "column_name_alias", "with_ordinality"}, common...),
		"ref:EXPRESSION_LIST": append([]string{"sample", "values", "expected_names", "expected_types"}, common...),
		"ref:JOIN": append([]string{"sample", "left", "right", "condition", "join_type", "ref_type", "using_columns",
			"delim_flipped", "duplicate_eliminated_columns", "is_implicit", "ranking_expression", "nearest_count",
			"nearest_order_type", "nearest_approx"}, common...),

		"expr:CONSTANT":             append([]string{"literal", "value"}, common...),
		"expr:POSITIONAL_REFERENCE": append([]string{"index"}, common...),
		"expr:COLUMN_REF":           append([]string{"column_names"}, common...),
		"expr:FUNCTION":             append([]string{"function_name", "schema", "catalog", "filter", "order_bys", "distinct", "is_operator", "export_state", "arguments", "qualified_name"}, common...),
		"expr:WINDOW": append([]string{"function_name", "schema", "catalog", "arguments", "partitions", "orders", "arg_orders",
			"filter_expr", "start", "end", "start_expr", "end_expr", "offset_expr", "default_expr", "exclude_clause",
			"ignore_nulls", "has_ignore_nulls", "distinct", "qualified_name"}, common...),
		"expr:SUBQUERY":    append([]string{"subquery", "subquery_type", "child", "comparison_type"}, common...),
		"expr:CASE":        append([]string{"case_checks", "else_expr"}, common...),
		"expr:CAST":        append([]string{"child", "try_cast", "type_expr", "cast_type"}, common...),
		"expr:TYPE":        append([]string{"catalog", "schema", "type_name", "children", "qualified_name"}, common...),
		"expr:COLLATE":     append([]string{"child", "collation"}, common...),
		"expr:COMPARISON":  append([]string{"left", "right"}, common...),
		"expr:CONJUNCTION": append([]string{"children"}, common...),
		"expr:OPERATOR":    append([]string{"children"}, common...),
		"expr:BETWEEN":     append([]string{"input", "lower", "upper"}, common...),
		"expr:LAMBDA":      append([]string{"lhs", "expr", "syntax_type"}, common...),
		"expr:STAR":        append([]string{"relation_name", "exclude_list", "replace_list", "rename_list", "columns", "expr", "qualified_exclude_list"}, common...),
		"expr:PARAMETER":   append([]string{"identifier"}, common...),
	}
	out := make(map[string]map[string]bool, len(kinds))
	for k, keys := range kinds {
		out[k] = map[string]bool{}
		for _, key := range keys {
			out[k][key] = true
		}
	}
	return out
}()

// knownKeys marks n as read and checks its kind and keys; an unknown one
// is refused (and the caller skips the object).
func (d *describer) knownKeys(n node, kind string) bool {
	d.mark(n)
	keys, ok := knownKinds[kind]
	if !ok {
		d.unsupported(n, strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(kind, "expr:"), "ref:"), "node:"))
		return false
	}
	var extra []string
	for k := range n {
		if !keys[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		d.unsupported(n, kind+" with "+strings.Join(extra, ", "))
		return false
	}
	return true
}

// net walks the whole tree and refuses any typed object the describer
// never read: a clause it forgot to walk would otherwise pass unseen.
// Objects whose "type" is not a string are values (a literal's type, a
// sample size) rather than tree nodes.
func (d *describer) net(v any) {
	if len(d.findings) > 0 {
		return // already refused; more reports would bury the reason
	}
	var walk func(v any, depth int) bool
	walk = func(v any, depth int) bool {
		if depth > 4*maxNesting+64 {
			d.add("UNSUPPORTED_SYNTAX", -1, "the statement's tree is nested too deeply to be checked")
			return false
		}
		switch x := v.(type) {
		case map[string]any:
			_, typed := x["type"].(string)
			if _, c := x["class"].(string); c {
				typed = true
			}
			if typed && !d.seen[reflect.ValueOf(x).Pointer()] {
				d.unsupported(x, str(x["type"])+" in a place the validator does not examine")
				return false
			}
			for _, c := range x {
				if !walk(c, depth+1) {
					return false
				}
			}
		case []any:
			for _, c := range x {
				if !walk(c, depth+1) {
					return false
				}
			}
		}
		return true
	}
	walk(v, 0)
}

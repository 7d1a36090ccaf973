// Package hostile makes statements shaped to hurt a parser: long chains of
// one operator, deep nesting of every kind the SQL grammars know, huge
// lists, at any size. Tests and fuzz targets of every dialect use them to
// show that each ends in a verdict and to time the slowest one.
//
// The shapes are written in the SQL most dialects share; a shape a dialect
// cannot parse is still a fair test (it must be refused, not crash).
package hostile

import (
	"strings"
)

// Shape is one hostile form of statement, grown to a size by repeating a
// unit: Head + Unit×n + Tail, or, for nesting, Head + Open×n + Core +
// Close×n + Tail.
type Shape struct {
	// Name says what the shape is, "class/form" ("chain/+", "nest/subquery").
	Name string
	// Class is the first part of Name: chain, unary, nest, list, setop,
	// join, cte, literal.
	Class string

	head, unit, open, core, close, tail string
}

// SQL returns the shape grown to at most size bytes (or its smallest form
// when size is smaller than that).
func (s Shape) SQL(size int) string {
	step := len(s.unit) + len(s.open) + len(s.close)
	fixed := len(s.head) + len(s.core) + len(s.tail)
	n := 1
	if size > fixed+step {
		n = (size - fixed) / step
	}
	var b strings.Builder
	b.Grow(fixed + n*step)
	b.WriteString(s.head)
	if s.unit != "" {
		for range n {
			b.WriteString(s.unit)
		}
	} else {
		for range n {
			b.WriteString(s.open)
		}
		b.WriteString(s.core)
		for range n {
			b.WriteString(s.close)
		}
	}
	b.WriteString(s.tail)
	return b.String()
}

func chain(form, head, unit, tail string) Shape {
	return Shape{Name: "chain/" + form, Class: "chain", head: head, unit: unit, tail: tail}
}

func nest(class, form, head, open, core, close, tail string) Shape {
	return Shape{Name: class + "/" + form, Class: class, head: head, open: open, core: core, close: close, tail: tail}
}

func repeat(class, form, head, unit, tail string) Shape {
	return Shape{Name: class + "/" + form, Class: class, head: head, unit: unit, tail: tail}
}

// shapes is every shape, in a fixed order.
var shapes = func() []Shape {
	var out []Shape
	// Binary operators chained without parentheses: parsers build these
	// left-deep, one level per operator.
	for _, op := range []string{"+", "-", "*", "/", "%", "^", "&", "|", "<<", ">>", "=", "<", "<=", "<>", "!="} {
		out = append(out, chain(op, "SELECT 1", op+"1", ""))
	}
	out = append(out,
		chain("||", "SELECT 'a'", "||'a'", ""),
		chain("AND", "SELECT 1 WHERE 1=1", " AND 1=1", ""),
		chain("OR", "SELECT 1 WHERE 1=0", " OR 1=0", ""),
		chain("AND-OR", "SELECT 1 WHERE 1=1", " AND 1=1 OR 1=0", ""),
		chain("LIKE", "SELECT 'a'", " LIKE 'a'", ""),
		chain("IS", "SELECT 1 IS NULL", " IS NULL", ""),
		chain("COLLATE", "SELECT 'a'", ` COLLATE "C"`, ""),
		chain("::", "SELECT 1", "::int", ""),
		chain("->", "SELECT '{}'", "->'a'", ""),
		chain("->>", "SELECT '{}'", "->>'a'", ""),
		chain("#>", "SELECT '{}'", "#>'{a}'", ""),
		chain("subscript", "SELECT a", "[1]", " FROM t"),
		chain("field", "SELECT (a)", ".b", " FROM t"),
		chain("a+b-c", "SELECT a", "+b-c", " FROM t"),
	)
	// Unary operators stacked on one operand.
	out = append(out,
		repeat("unary", "NOT", "SELECT 1 WHERE ", "NOT ", "1=1"),
		repeat("unary", "-", "SELECT ", "- ", "1"),
		repeat("unary", "+", "SELECT ", "+ ", "1"),
		repeat("unary", "~", "SELECT ", "~ ", "1"),
		repeat("unary", "!", "SELECT ", "! ", "1"),
		repeat("unary", "EXISTS", "SELECT 1 WHERE ", "NOT EXISTS (SELECT 1) AND ", "1=1"),
	)
	// Nesting that each open bracket (or keyword) deepens.
	out = append(out,
		nest("nest", "parentheses", "SELECT ", "(", "1", ")", ""),
		nest("nest", "row", "SELECT ", "ROW(1,", "1", ")", ""),
		nest("nest", "scalar-subquery", "SELECT ", "(SELECT ", "1", ")", ""),
		nest("nest", "derived-table", "SELECT * FROM ", "(SELECT * FROM ", "t", ") x", ""),
		nest("nest", "exists", "SELECT 1 WHERE ", "EXISTS (SELECT 1 WHERE ", "1=1", ")", ""),
		nest("nest", "in-subquery", "SELECT 1 WHERE 1 IN ", "(SELECT 1 WHERE 1 IN ", "(1)", ")", ""),
		nest("nest", "case-then", "SELECT ", "CASE WHEN 1=1 THEN ", "1", " END", ""),
		nest("nest", "case-else", "SELECT ", "CASE WHEN 1=0 THEN 0 ELSE ", "1", " END", ""),
		nest("nest", "case-operand", "SELECT ", "CASE ", "1", " WHEN 1 THEN 1 END", ""),
		nest("nest", "cast", "SELECT ", "CAST(", "1", " AS int)", ""),
		nest("nest", "function", "SELECT ", "abs(", "1", ")", ""),
		nest("nest", "coalesce", "SELECT ", "coalesce(", "1", ", 1)", ""),
		nest("nest", "aggregate", "SELECT ", "max(", "1", ")", ""),
		nest("nest", "array", "SELECT ", "ARRAY[", "1", "]", ""),
		nest("nest", "json-function", "SELECT ", "json_extract(", "'{}'", ", '$.a')", ""),
		nest("nest", "window", "SELECT ", "sum(", "1", ") OVER ()", ""),
		nest("nest", "union-parenthesized", "", "(SELECT 1 UNION ", "SELECT 1", ")", ""),
		nest("nest", "join-parenthesized", "SELECT 1 FROM ", "(t JOIN ", "t", " ON 1=1)", ""),
		nest("nest", "with", "", "WITH a AS (", "SELECT 1", ") SELECT * FROM a", ""),
		nest("nest", "cte-body", "WITH a AS ", "(WITH b AS ", "(SELECT 1)", " SELECT * FROM b)", " SELECT * FROM a"),
		nest("nest", "lateral", "SELECT * FROM t", ", LATERAL (SELECT * FROM t", "", ") x", ""),
		nest("nest", "comment", "SELECT 1 ", "/* ", "", " */", ""),
	)
	// Set operations and joins chained without parentheses.
	out = append(out,
		repeat("setop", "UNION", "SELECT 1", " UNION SELECT 1", ""),
		repeat("setop", "UNION-ALL", "SELECT 1", " UNION ALL SELECT 1", ""),
		repeat("setop", "INTERSECT", "SELECT 1", " INTERSECT SELECT 1", ""),
		repeat("setop", "EXCEPT", "SELECT 1", " EXCEPT SELECT 1", ""),
		repeat("setop", "mixed", "SELECT 1 FROM t WHERE a=1", " UNION SELECT 1 FROM t WHERE a=1 AND b=2", ""),
		repeat("join", "JOIN", "SELECT 1 FROM t", " JOIN t ON 1=1", ""),
		repeat("join", "LEFT-JOIN", "SELECT 1 FROM t", " LEFT JOIN t ON 1=1 AND 2=2", ""),
		repeat("join", "CROSS-JOIN", "SELECT 1 FROM t", " CROSS JOIN t", ""),
		repeat("join", "comma", "SELECT 1 FROM t", ", t", ""),
	)
	// WITH lists: many CTEs, each reading the one before.
	out = append(out,
		repeat("cte", "chain", "WITH c AS (SELECT 1 AS x)", ", c AS (SELECT x FROM c)", " SELECT * FROM c"),
		repeat("cte", "recursive", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<9)", ", d AS (SELECT * FROM c)", " SELECT * FROM c"),
	)
	// Long flat lists: wide but not deep.
	out = append(out,
		repeat("list", "IN", "SELECT 1 WHERE 1 IN (1", ",1", ")"),
		repeat("list", "select-list", "SELECT 1", ",1", ""),
		repeat("list", "CASE-WHEN", "SELECT CASE", " WHEN 1=0 THEN 1", " END"),
		repeat("list", "VALUES", "VALUES (1)", ",(1)", ""),
		repeat("list", "function-arguments", "SELECT coalesce(1", ",1", ")"),
		repeat("list", "GROUP-BY", "SELECT 1 FROM t GROUP BY 1", ",1", ""),
		repeat("list", "statements", "SELECT 1", ";SELECT 1", ""),
	)
	// Single huge tokens.
	out = append(out,
		repeat("literal", "string-body", "SELECT '", "a", "'"),
		repeat("literal", "identifier", "SELECT ", "a", " FROM t"),
		repeat("literal", "quoted-identifier", `SELECT "`, "a", `"`),
		repeat("literal", "number", "SELECT 1", "0", ""),
		repeat("literal", "line-comments", "SELECT 1", "\n-- x", ""),
		repeat("literal", "block-comment", "SELECT 1 /*", " x", " */"),
		repeat("literal", "whitespace", "SELECT 1", " ", ""),
		repeat("literal", "unterminated-string", "SELECT '", "a", ""),
		repeat("literal", "unbalanced-open", "SELECT ", "(", "1"),
		repeat("literal", "unbalanced-close", "SELECT 1", ")", ""),
	)
	return out
}()

// Shapes returns every shape. The slice is shared: do not change it.
func Shapes() []Shape { return shapes }

// Sizes returns the sizes to try up to limit bytes: powers of four from
// 64, and limit itself.
func Sizes(limit int) []int {
	var out []int
	for n := 64; n < limit; n *= 4 {
		out = append(out, n)
	}
	return append(out, limit)
}

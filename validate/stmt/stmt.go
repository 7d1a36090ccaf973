// Package stmt is the dialect-neutral description of one SQL statement that
// every dialect adapter reduces its parse tree to, and the contract those
// adapters implement. The policy in package validate judges only this
// description, so a rule is written once for every dialect.
//
// Adapters fail closed: a node they do not understand becomes a Finding with
// code UNSUPPORTED_SYNTAX, never a silent pass.
package stmt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Violation codes. Adapters use the parse-level ones in ParseError and the
// tree-level ones in Finding; the policy adds the rest.
const (
	CodeParseError         = "PARSE_ERROR"
	CodeEmptyQuery         = "EMPTY_QUERY"
	CodeMultipleStatements = "MULTIPLE_STATEMENTS"
	CodeNotReadOnly        = "NOT_READ_ONLY"
	CodeIntoClause         = "INTO_CLAUSE"
	CodeLockingClause      = "LOCKING_CLAUSE"
	CodeUnknownTable       = "UNKNOWN_TABLE"
	CodeTableNotAllowed    = "TABLE_NOT_ALLOWED"
	CodeSystemCatalog      = "SYSTEM_CATALOG"
	CodeUnknownColumn      = "UNKNOWN_COLUMN"
	CodeColumnNotAllowed   = "COLUMN_NOT_ALLOWED"
	CodeFunctionNotAllowed = "FUNCTION_NOT_ALLOWED"
	CodeVariableNotAllowed = "VARIABLE_NOT_ALLOWED"
	CodeUnsupportedSyntax  = "UNSUPPORTED_SYNTAX"
	CodeDialectUnsupported = "DIALECT_UNSUPPORTED"
	CodeUnknownDatabase    = "UNKNOWN_DATABASE"
	// The returned text holds a template delimiter that Superset's Jinja
	// rendering would act on.
	CodeTemplateSyntax = "TEMPLATE_SYNTAX"
	// A recursive CTE without a bound the judge can see, or with one above
	// the policy's cap.
	CodeUnboundedRecursion = "UNBOUNDED_RECURSION"
	// A row generator or string amplifier whose size is not constant, or
	// above the policy's cap.
	CodeGeneratorTooLarge = "GENERATOR_TOO_LARGE"
	// More joins without any join predicate than the policy allows.
	CodeCartesianJoin = "CARTESIAN_JOIN"
	CodeTooComplex    = "TOO_COMPLEX"
)

// Parser is one dialect family's adapter. Implementations must be safe for
// concurrent use.
type Parser interface {
	// Parse parses sql, which must hold exactly one statement. Its error is
	// always a *ParseError.
	Parse(sql string) (Parsed, error)
	// Dialect returns the rules of the dialect that the judge needs.
	Dialect() *Dialect
}

// Parsed is one parsed statement.
type Parsed interface {
	// Describe reduces the parse tree to the neutral description.
	Describe() *Statement
	// Print prints the statement with the dialect's own printer. When
	// maxRows > 0 the outermost query's row count is first capped: a LIMIT
	// is added when there is none and lowered when it is larger, or not a
	// constant. Print may be called once per Parsed.
	Print(maxRows int) (string, error)
}

// ReleasingParser is implemented by a Parser whose statements can hold on
// to parser state that Parse would otherwise clean up after every
// statement. ParseReleasable is Parse, but the caller promises to call
// Release (see Releaser) after the statement's last use.
type ReleasingParser interface {
	ParseReleasable(sql string) (Parsed, error)
}

// Releaser is implemented by a Parsed that may hold resources its parser
// can reuse for later statements. After Release the Parsed must not be
// used; a description it returned stays valid. Not calling Release is
// correct, only slower.
type Releaser interface {
	Release()
}

// ParseError is a statement the parser could not take: a syntax error, no
// statement at all, or more than one.
type ParseError struct {
	Code    string // CodeParseError, CodeEmptyQuery or CodeMultipleStatements
	Message string
	Pos     int // 0-based byte offset into the SQL, -1 when unknown
}

func (e *ParseError) Error() string { return e.Message }

// Dialect holds what the judge needs to know about a dialect family.
type Dialect struct {
	// Name is the family: "postgresql" or "mysql".
	Name string
	// CaseInsensitive says that identifiers compare ignoring case (MySQL
	// family). When false, names compare exactly, as the parser already
	// folded unquoted identifiers (PostgreSQL folds them to lower case).
	CaseInsensitive bool
	// WholeRowRefs says that a bare table name or alias used as a column
	// (row_to_json(c), SELECT c FROM customers c) denotes the whole row.
	WholeRowRefs bool
	// SystemSchemas are schemas that hold the server's own catalogs; any
	// relation in them is refused. Lower case.
	SystemSchemas []string
	// SystemTablePrefix marks unqualified names that resolve to a system
	// catalog before the search path (PostgreSQL: "pg_"), when the schema
	// does not know them; empty when the dialect has none.
	SystemTablePrefix string
	// Functions is the built-in read-only functions, lower case, without schema.
	Functions map[string]bool
	// FunctionSchemas are schemas under which the built-ins may also be
	// named (PostgreSQL: pg_catalog). Lower case.
	FunctionSchemas []string
}

// Statement describes one statement.
type Statement struct {
	// Verb says what the statement is, in upper case: "SELECT", "INSERT",
	// "CREATE TABLE", "EXPLAIN", "SET", ...
	Verb string
	// Query is set when the statement is a read query (SELECT, a set
	// operation, VALUES, TABLE, WITH ... SELECT) and nil otherwise.
	Query *Query
	// Findings are rule breaks the adapter saw in the tree itself: INTO,
	// locking clauses, data-modifying CTEs, variables, syntax it does not
	// understand.
	Findings []Finding
	// Types are the type names the statement mentions (casts, column
	// definition lists). A table's name is also the name of its row type,
	// and using that type shows the table's columns.
	Types []TypeRef
}

// TypeRef is one type name as written, [schema.]name.
type TypeRef struct {
	Name []Ident
	Pos  int
}

// Finding is one rule break found by an adapter.
type Finding struct {
	Code    string
	Message string
	Pos     int // 0-based byte offset, -1 when unknown
}

// Query is one query expression: a SELECT block, a set operation, or a
// VALUES list. Its scope holds its own WITH list and FROM items; nested
// subqueries see it as their outer scope.
type Query struct {
	Pos int
	// With is the WITH list declared on this query; its names are visible
	// to this query, its subqueries and (when Recursive) the CTE bodies.
	With      []*CTE
	Recursive bool

	// Op is the set operator ("UNION", "UNION ALL", "EXCEPT", "INTERSECT",
	// ...) when this query is a set operation; Arms are its operands in
	// order, and Refs then hold the ORDER BY names, which resolve against
	// the output names of the first arm.
	Op   string
	Arms []*Query

	// From is every FROM item of a SELECT block, joins flattened left to
	// right.
	From []*Source
	// Targets is the select list in order; the output columns of the query.
	Targets []Target
	// Refs is every column reference in any clause of this block (select
	// list, ON, USING, WHERE, GROUP BY, HAVING, WINDOW, ORDER BY, arguments
	// of table functions), not those inside nested subqueries.
	Refs []ColumnRef
	// Stars is every * and t.* in this block: select-list items and
	// arguments such as count(t.*) or row_to_json(t.*). count(*) is not a star.
	Stars []Star
	// Funcs is every function called in this block, including table
	// functions in FROM and special forms such as CURRENT_DATE.
	Funcs []Func
	// Subqueries are the queries nested in expressions of this block
	// (scalar, IN, EXISTS, ANY, ARRAY(...)); they see this block's sources.
	Subqueries []*Query
	// Links are the top-level AND terms of the block's WHERE that compare
	// column references on both sides (a.x = b.y), each given as the
	// qualifiers of its column references; they connect FROM items as a
	// join condition does. An adapter that leaves them out makes every
	// comma join count as one without a predicate.
	Links []Link
}

// Link is one WHERE term comparing columns: the table qualifiers its
// column references carry (the correlation name before the column), and
// whether any reference had none, in which case the judge cannot tell
// which items it connects and counts it as connecting them all.
type Link struct {
	Qualifiers  []Ident
	Unqualified bool
}

// CTE is one WITH item.
type CTE struct {
	Name    Ident
	Columns []Ident // the optional column list: WITH x(a, b) AS (...)
	Query   *Query
	Pos     int
	// Bound is what limits the iterations of a recursive CTE, as far as the
	// adapter could see one; nil when it saw none. The judge decides which
	// CTEs recurse (their body names themselves, or a later CTE of the
	// same recursive WITH) and refuses those without a Bound, so an
	// adapter that does not fill it fails closed.
	Bound *Bound
}

// Bound is a visible limit on a recursive CTE: a constant LIMIT on its
// query, or a counter column that starts at a constant in the first arm,
// moves by a constant step in the recursive arm's select list, and is
// compared with a constant in a top-level AND term of that arm's WHERE.
type Bound struct {
	// Limit is a constant LIMIT on the CTE's query; 0 when none.
	Limit int64
	// Start, Step and Stop describe the counter; Step's Kind is ConstNone
	// when there is no counter. Step may be negative (a countdown);
	// Descending says the WHERE term is > or >= rather than < or <=.
	Start, Step, Stop Const
	Descending        bool
}

// ConstKind says what a constant is.
type ConstKind uint8

const (
	// ConstNone: not a constant the adapter could read.
	ConstNone ConstKind = iota
	// ConstNumber: Number holds it.
	ConstNumber
	// ConstText: a string literal, Text; Type is the type it was cast to
	// ("date", "timestamp", "interval", ...; lower case), "" when none.
	ConstText
	// ConstInterval: Number of Unit (MySQL INTERVAL 1 DAY).
	ConstInterval
	// ConstAnchored: a moment relative to the statement's own clock,
	// Number seconds after the anchor Text names (an adapter-chosen key
	// such as "current_date" or "date_trunc(day,now())"). Two anchored
	// constants with one key are a known distance apart: a rolling
	// calendar (current_date - 29 .. current_date) is sized by it.
	ConstAnchored
)

// Const is a constant as the adapter reduced it: a literal, a negated
// numeric literal, or a literal cast to a type.
type Const struct {
	Kind   ConstKind
	Number float64
	Text   string
	Type   string
	// Unit is ConstInterval's unit, lower case and singular: "second",
	// "minute", "hour", "day", "week", "month", "quarter", "year".
	Unit string
}

// SourceKind says what a FROM item is.
type SourceKind int

const (
	// SourceTable is a named relation: a real table or view, or a CTE.
	SourceTable SourceKind = iota
	// SourceSubquery is a derived table.
	SourceSubquery
	// SourceFunction is a table function; its output columns are unknown
	// unless ColumnAliases name them.
	SourceFunction
)

// Source is one FROM item.
type Source struct {
	Kind SourceKind
	// Name is the relation as written, [[catalog.]schema.]name (SourceTable).
	Name []Ident
	// Query is the derived table (SourceSubquery).
	Query *Query
	// Alias is the correlation name, if any.
	Alias *Ident
	// ColumnAliases rename the source's columns: AS t(a, b).
	ColumnAliases []Ident
	// Lateral says the item sees the FROM items before it (LATERAL
	// subqueries, and table functions, which are implicitly lateral).
	Lateral bool
	// Joined says the item is joined to the items before it with a
	// condition of its own: ON with a column reference in it, USING, or
	// NATURAL. A comma or CROSS JOIN item, or ON TRUE, leaves it false;
	// Query.Links may still connect it. The first FROM item has none.
	Joined bool
	// Using lists the columns of a JOIN ... USING (...) whose right side is
	// this source; each names a column of this source and of the sources
	// before it.
	Using []Ident
	// Natural says this source is the right side of a NATURAL join: it
	// compares every column name it shares with the sources before it.
	Natural bool
	Pos     int
}

// Target is one select-list item.
type Target struct {
	// Name is the output column name: the alias, or the column name of a
	// plain column reference. Empty when the dialect would invent one.
	Name Ident
	// Star is set for * and t.* items (which also appear in Query.Stars).
	Star *Star
}

// AliasRule says whether a column name may denote an output column of the
// query it is in, rather than an input column.
type AliasRule uint8

const (
	// AliasNever: only input columns (WHERE, ON, select list, ...).
	AliasNever AliasRule = iota
	// AliasFirst: an output column name wins over an input column
	// (PostgreSQL and MySQL ORDER BY of a simple name).
	AliasFirst
	// AliasFallback: an input column wins; an output name is used when no
	// input column matches (GROUP BY, and MySQL HAVING).
	AliasFallback
)

// ColumnRef is one column reference.
type ColumnRef struct {
	// Parts is the reference as written: [col], [table, col],
	// [schema, table, col] or [catalog, schema, table, col].
	Parts []Ident
	Alias AliasRule
	Pos   int
}

// Star is * (Qualifier empty) or t.* / schema.t.* .
type Star struct {
	Qualifier []Ident
	Pos       int
}

// FuncKind says how a function is used.
type FuncKind uint8

const (
	FuncScalar FuncKind = iota
	FuncAggregate
	FuncWindow
	FuncTable
	// FuncKeyword is a special form written without parentheses, such as
	// CURRENT_DATE or CURRENT_USER.
	FuncKeyword
)

// Func is one function call.
type Func struct {
	// Name is [schema.]name as written; the last part is the function.
	Name []Ident
	Kind FuncKind
	Pos  int
	// Args are the call's positional arguments in order, each reduced to
	// a constant where the adapter could (Kind ConstNone otherwise). The
	// judge caps row generators and string amplifiers by them and refuses
	// those whose sizing arguments are not constants, so an adapter that
	// leaves Args empty fails closed for them.
	Args []Const
}

// Ident is one identifier as the dialect's lexer read it: Name is the
// unquoted text, already case-folded where the dialect folds unquoted names,
// and Quoted says it was quoted. The judge compares it with the names the
// catalog holds under the dialect's rules, in one place.
type Ident struct {
	Name   string
	Quoted bool
}

// Idents makes unquoted identifiers, for tests and adapters.
func Idents(names ...string) []Ident {
	out := make([]Ident, len(names))
	for i, n := range names {
		out[i] = Ident{Name: n}
	}
	return out
}

// unitSeconds are interval units at their shortest, so that a series
// sized by them is never undercounted (a month counts as 28 days).
var unitSeconds = map[string]float64{
	"microsecond": 1e-6, "millisecond": 1e-3, "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600,
	"day": 86400, "week": 7 * 86400, "month": 28 * 86400, "mon": 28 * 86400, "quarter": 89 * 86400, "year": 365 * 86400,
}

// IntervalSeconds reads an interval constant as seconds, each unit at its
// shortest: a ConstInterval, or a ConstText such as '1 day', '2 weeks' or
// '-1 mon'.
func IntervalSeconds(c Const) (float64, bool) {
	n, unit := c.Number, c.Unit
	switch c.Kind {
	case ConstInterval:
	case ConstText:
		f := strings.Fields(strings.ToLower(c.Text))
		if len(f) != 2 {
			return 0, false
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, false
		}
		n, unit = v, f[1]
	default:
		return 0, false
	}
	sec, ok := unitSeconds[strings.TrimSuffix(strings.ToLower(unit), "s")]
	if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n * sec, true
}

// MaxNesting is how many levels deep one statement may nest, in every
// dialect. Parsers recurse once per level of the tree somewhere (libpg_query's
// C code on the thread's stack, where running out kills the process; Go
// code on a goroutine stack that grows with it), so every adapter refuses a
// deeper statement with CodeTooComplex before that recursion runs. Analyst
// SQL nests a few dozen levels; the bound leaves libpg_query's deepest
// recursion under 1 MiB of stack (see validate/nesting).
const MaxNesting = 1000

// TooComplex is the refusal of a statement nested deeper than MaxNesting:
// depth is the depth measured (0 when only "more than" is known) and pos
// the 0-based byte offset where the limit was passed (-1 when unknown).
func TooComplex(depth, pos int) *ParseError {
	measured := fmt.Sprintf("more than %d levels deep", MaxNesting)
	if depth > MaxNesting {
		measured = fmt.Sprintf("%d levels deep, more than the limit of %d", depth, MaxNesting)
	}
	return &ParseError{Code: CodeTooComplex, Pos: pos, Message: "the statement is too deeply nested to be checked safely: it nests " + measured +
		" (each operator of a chain written without parentheses, each parenthesis, function call, CASE, cast, subquery, JOIN and set operation is a level). " +
		"Simplify it: replace a long chain of operators by a function over a list (concat(a, b, c) rather than a || b || c, an IN list rather than ORs of comparisons, sum() over rows rather than added terms), " +
		"and turn nested subqueries into WITH clauses"}
}

// Package stmt is the dialect-neutral description of one SQL statement that
// every dialect adapter reduces its parse tree to, and the contract those
// adapters implement. The policy in package validate judges only this
// description, so a rule is written once for every dialect.
//
// Adapters fail closed: a node they do not understand becomes a Finding with
// code UNSUPPORTED_SYNTAX, never a silent pass.
package stmt

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
}

// CTE is one WITH item.
type CTE struct {
	Name    Ident
	Columns []Ident // the optional column list: WITH x(a, b) AS (...)
	Query   *Query
	Pos     int
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

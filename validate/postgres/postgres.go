// Package postgres is the PostgreSQL-family adapter of the validator: it
// parses with PostgreSQL's own parser (libpg_query through pg_query_go),
// reduces the tree to the neutral stmt.Statement, and prints the statement
// back with pg_query's deparser after capping its row count.
package postgres

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"

	"github.com/texttosql/text2sql/validate/stmt"
)

// Parser is the PostgreSQL adapter. It holds no state and is safe for
// concurrent use; libpg_query keeps its memory per thread.
type Parser struct{}

// New returns the PostgreSQL adapter.
func New() *Parser { return &Parser{} }

var _ stmt.Parser = (*Parser)(nil)

// Parse parses sql, which must hold exactly one statement.
func (*Parser) Parse(sql string) (stmt.Parsed, error) {
	// libpg_query takes a C string: a NUL byte would silently end the
	// input, so the parser would see less than the caller sent.
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL contains a NUL byte", Pos: i}
	}
	if !utf8.ValidString(sql) {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL is not valid UTF-8", Pos: firstInvalidUTF8(sql)}
	}
	// The parser hands its tree over by recursing through it in C, where
	// running out of stack kills the process: bound the depth first.
	if pe := tooDeep(sql); pe != nil {
		return nil, pe
	}
	// pg_query.Parse is these two steps; the protobuf bytes are kept so
	// that Print can hand them to the deparser without encoding the tree
	// again.
	pb, err := pgparser.ParseToProtobuf(sql)
	var tree *pg_query.ParseResult
	if err == nil {
		tree = &pg_query.ParseResult{}
		err = proto.Unmarshal(pb, tree)
	}
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: pe.Message, Pos: cursorToOffset(sql, pe.Cursorpos)}
		}
		// The tree arrives as protobuf; decoding it fails only when it is
		// nested beyond the decoder's recursion limit.
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the statement is nested too deeply to be checked: " + err.Error(), Pos: -1}
	}
	switch n := len(tree.Stmts); {
	case n == 0 || tree.Stmts[0].GetStmt() == nil:
		return nil, &stmt.ParseError{Code: stmt.CodeEmptyQuery, Message: "the SQL holds no statement", Pos: -1}
	case n > 1:
		return nil, &stmt.ParseError{
			Code:    stmt.CodeMultipleStatements,
			Message: fmt.Sprintf("the SQL holds %d statements; exactly one is allowed", n),
			Pos:     skipSpace(sql, int(tree.Stmts[1].StmtLocation)),
		}
	}
	return &parsed{tree: tree, pb: pb, src: sql}, nil
}

// cursorToOffset turns libpg_query's cursor position (1-based, counted in
// characters; 0 when unknown) into a 0-based byte offset.
func cursorToOffset(sql string, cursor int) int {
	if cursor <= 0 {
		return -1
	}
	chars := 0
	for i := range sql {
		if chars == cursor-1 {
			return i
		}
		chars++
	}
	return len(sql)
}

// skipSpace moves pos past white space, to where the next statement's text
// starts.
func skipSpace(sql string, pos int) int {
	for pos >= 0 && pos < len(sql) && strings.IndexByte(" \t\n\r\f\v", sql[pos]) >= 0 {
		pos++
	}
	return pos
}

func firstInvalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return -1
}

// parsed is one statement's tree.
type parsed struct {
	tree *pg_query.ParseResult
	src  string // the statement as given
	pb   []byte // the tree as the parser encoded it
	once sync.Once
	desc *stmt.Statement
}

// Describe reduces the tree to the neutral description. The result is
// computed once and shared by later calls.
func (p *parsed) Describe() *stmt.Statement {
	p.once.Do(func() { p.desc = describe(p.tree.Stmts[0]) })
	return p.desc
}

var dialect = &stmt.Dialect{
	Name:              "postgresql",
	CaseInsensitive:   false,
	WholeRowRefs:      true,
	SystemSchemas:     []string{"pg_catalog", "information_schema", "pg_toast"},
	SystemTablePrefix: "pg_",
	Functions:         builtinFunctions,
	FunctionSchemas:   []string{"pg_catalog"},
}

// Dialect returns the PostgreSQL rules. The value is shared: read it, do not
// change it.
func (*Parser) Dialect() *stmt.Dialect { return dialect }

// Package duckdb is the DuckDB adapter of the validator (MotherDuck
// included). DuckDB's own parser reads the statement: json_serialize_sql
// returns its whole parse tree as JSON (and refuses anything that is not a
// SELECT). The tree is reduced to the neutral description, and the answer
// is printed back from the tree by json_deserialize_sql with the row cap
// applied in the tree.
package duckdb

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/texttosql/text2sql/validate/stmt"
)

// Parser is the DuckDB adapter: a bounded pool of connections to one
// empty in-memory DuckDB database, used only to parse and print. It is
// safe for concurrent use.
type Parser struct {
	db *sql.DB
}

// maxConns bounds the parsing connections; parseTimeout bounds one call.
const (
	maxConns     = 4
	parseTimeout = 5 * time.Second
)

// New opens the in-memory database the adapter parses with. Nothing is
// ever run against it but json_serialize_sql and json_deserialize_sql on
// bound strings; it is still shut off from files, the network and
// extensions, and its settings are locked.
func New() (*Parser, error) {
	conn, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		for _, s := range []string{
			"SET autoinstall_known_extensions = false",
			"SET autoload_known_extensions = false",
			"SET enable_external_access = false",
			"SET lock_configuration = true",
		} {
			if _, err := ex.ExecContext(context.Background(), s, nil); err != nil {
				// Settings already locked by an earlier connection of the
				// same database are fine; anything else is not.
				if strings.Contains(err.Error(), "lock_configuration") || strings.Contains(err.Error(), "locked") {
					return nil
				}
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return &Parser{db: db}, nil
}

var _ stmt.Parser = (*Parser)(nil)

var dialect = &stmt.Dialect{
	Name:            "duckdb",
	CaseInsensitive: true,
	// SELECT c FROM customers c returns the row of c as a struct.
	WholeRowRefs:    true,
	SystemSchemas:   []string{"information_schema", "pg_catalog", "system", "temp"},
	Functions:       builtinFunctions,
	FunctionSchemas: []string{"main", "system", "pg_catalog"},
}

// Dialect returns the DuckDB rules. The value is shared: read it, do not
// change it.
func (*Parser) Dialect() *stmt.Dialect { return dialect }

// serialized is json_serialize_sql's answer.
type serialized struct {
	Error        bool              `json:"error"`
	ErrorType    string            `json:"error_type"`
	ErrorMessage string            `json:"error_message"`
	Position     json.Number       `json:"position"`
	Statements   []json.RawMessage `json:"statements"`
}

// serialize asks DuckDB's parser for the tree of sql.
func (p *Parser) serialize(sql string) (*serialized, error) {
	ctx, cancel := context.WithTimeout(context.Background(), parseTimeout)
	defer cancel()
	var out string
	if err := p.db.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", sql).Scan(&out); err != nil {
		return nil, err
	}
	var s serialized
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Parse parses sql, which must hold exactly one statement.
func (p *Parser) Parse(sql string) (stmt.Parsed, error) {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL contains a NUL byte", Pos: i}
	}
	if !utf8.ValidString(sql) {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL is not valid UTF-8", Pos: -1}
	}
	sc := scan(sql)
	if sc.tooComplex != "" {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: sc.tooComplex, Pos: sc.at}
	}
	if sc.second >= 0 {
		return nil, &stmt.ParseError{Code: stmt.CodeMultipleStatements, Message: "the SQL holds more than one statement; exactly one is allowed", Pos: sc.second}
	}
	s, err := p.serialize(sql)
	if err != nil {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "DuckDB's parser failed: " + err.Error(), Pos: -1}
	}
	if s.Error {
		if strings.Contains(s.ErrorMessage, "Only SELECT statements") {
			// Parsed, but not a query: COPY, ATTACH, SET, PRAGMA, INSTALL, ...
			return &parsed{desc: &stmt.Statement{Verb: sc.verb}}, nil
		}
		pos := -1
		if n, err := s.Position.Int64(); err == nil && n >= 0 && int(n) <= len(sql) {
			pos = int(n)
		}
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: s.ErrorMessage, Pos: pos}
	}
	switch len(s.Statements) {
	case 0:
		return nil, &stmt.ParseError{Code: stmt.CodeEmptyQuery, Message: "the SQL holds no statement", Pos: -1}
	case 1:
	default:
		return nil, &stmt.ParseError{Code: stmt.CodeMultipleStatements, Message: fmt.Sprintf("the SQL holds %d statements; exactly one is allowed", len(s.Statements)), Pos: -1}
	}
	tree, err := decode(s.Statements[0])
	if err != nil {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the parse tree could not be read: " + err.Error(), Pos: -1}
	}
	root, _ := tree.(map[string]any)
	return &parsed{p: p, sql: sql, tree: root, desc: describe(root, sql)}, nil
}

// decode reads JSON keeping numbers as written: query locations are
// unsigned 64-bit and would lose precision as float64.
func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// parsed is one statement's tree.
type parsed struct {
	p    *Parser
	sql  string
	tree map[string]any // {"node": ..., "named_param_map": ...}
	desc *stmt.Statement
}

func (x *parsed) Describe() *stmt.Statement { return x.desc }

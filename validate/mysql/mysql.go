// Package mysql is the MySQL-family adapter of the validator: it parses with
// the TiDB parser (the MySQL grammar in pure Go), reduces the tree to the
// neutral description of package stmt, and prints the statement back with
// the row cap applied.
package mysql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	// The parser needs a value-expression driver; test_driver is the one
	// that lives in the parser module itself (the full one pulls in TiDB).
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/texttosql/text2sql/validate/stmt"
)

// mysql8DefaultSQLMode is the sql_mode a MySQL 8.0 server starts with.
const mysql8DefaultSQLMode = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// dialect is built once; callers must not modify it.
var dialect = sync.OnceValue(func() *stmt.Dialect {
	return &stmt.Dialect{
		Name:            "mysql",
		CaseInsensitive: true,
		WholeRowRefs:    false,
		SystemSchemas:   []string{"information_schema", "mysql", "performance_schema", "sys"},
		Functions:       functions,
	}
})

// Options configure a Parser for one server.
type Options struct {
	// SQLMode is the server's sql_mode (comma-separated, combinations such
	// as ANSI allowed). Empty means the MySQL 8 default. It changes how text
	// is read: ANSI_QUOTES makes "x" an identifier, PIPES_AS_CONCAT makes ||
	// concatenation, NO_BACKSLASH_ESCAPES changes where a string ends.
	SQLMode string
	// MariaDB enables the parser's MariaDB extensions.
	MariaDB bool
}

// Parser is the MySQL-family stmt.Parser. It is safe for concurrent use.
type Parser struct {
	mode    tmysql.SQLMode
	mariaDB bool
	pool    sync.Pool
}

var _ stmt.Parser = (*Parser)(nil)

// New returns a Parser for a server running with o.SQLMode.
func New(o Options) (*Parser, error) {
	modeStr := o.SQLMode
	if strings.TrimSpace(modeStr) == "" {
		modeStr = mysql8DefaultSQLMode
	}
	parts := strings.Split(modeStr, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	mode, err := tmysql.GetSQLMode(tmysql.FormatSQLModeStr(strings.Join(parts, ",")))
	if err != nil {
		return nil, fmt.Errorf("sql_mode %q: %w", o.SQLMode, err)
	}
	p := &Parser{mode: mode, mariaDB: o.MariaDB}
	// TiDB parser objects keep state between calls and are not safe for
	// concurrent use, so each statement borrows one from the pool.
	p.pool.New = func() any {
		tp := parser.New()
		p.configure(tp)
		return tp
	}
	return p, nil
}

func (p *Parser) configure(tp *parser.Parser) {
	tp.SetSQLMode(p.mode)
	tp.SetMariaDB(p.mariaDB)
}

// Dialect returns the MySQL family's rules.
func (p *Parser) Dialect() *stmt.Dialect { return dialect() }

// Parse parses exactly one statement.
func (p *Parser) Parse(sql string) (stmt.Parsed, error) { return p.parseOne(sql, false) }

// ParseReleasable is Parse for a caller that releases the statement after
// its last use, which spares clearing the parser after every statement.
func (p *Parser) ParseReleasable(sql string) (stmt.Parsed, error) { return p.parseOne(sql, true) }

func (p *Parser) parseOne(sql string, hold bool) (stmt.Parsed, error) {
	// The parser replaces invalid bytes in names with '?', so the tree would
	// not say what the text says; a utf8mb4 server refuses such text too.
	if !utf8.ValidString(sql) {
		pos := 0
		for pos < len(sql) {
			r, size := utf8.DecodeRuneInString(sql[pos:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			pos += size
		}
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: fmt.Sprintf("the SQL is not valid UTF-8 (byte %d)", pos), Pos: pos}
	}
	if pe := tooDeep(sql); pe != nil {
		return nil, pe
	}
	tp, root, n, next, err := p.parse(sql, hold)
	if err != nil {
		if pe, ok := err.(*stmt.ParseError); ok {
			return nil, pe
		}
		return nil, syntaxError(sql, err)
	}
	switch {
	case n == 0:
		return nil, &stmt.ParseError{Code: stmt.CodeEmptyQuery, Message: "no SQL statement found (the text is empty or only comments)", Pos: -1}
	case n > 1:
		return nil, &stmt.ParseError{
			Code:    stmt.CodeMultipleStatements,
			Message: fmt.Sprintf("found %d SQL statements; send exactly one (the second starts at line %d)", n, 1+strings.Count(sql[:max(next, 0)], "\n")),
			Pos:     next,
		}
	}
	return &parsed{src: sql, root: root, mode: p.mode, owner: p, tp: tp}, nil
}

// parse runs a pooled TiDB parser. A panic inside it becomes a ParseError,
// and that parser object, whose state is then unknown, is dropped.
//
// The parser's value stack keeps pointers into the tree it built, and its
// next parse writes node offsets through stale ones while another
// goroutine may read the tree. So either the parser is cleared (Reset
// empties the whole stack, and the mode) before it goes back to the pool,
// or, with hold, it stays with the tree (returned as tp) until the
// statement is released. A parser whose statement is not handed out goes
// back at once: nothing reads its tree.
//
// next is the byte offset where a second statement starts, or -1.
func (p *Parser) parse(sql string, hold bool) (tp *parser.Parser, root ast.StmtNode, n, next int, err error) {
	tp = p.pool.Get().(*parser.Parser)
	next = -1
	defer func() {
		if r := recover(); r != nil {
			tp, root, n, next = nil, nil, 0, -1
			err = &stmt.ParseError{Code: stmt.CodeParseError, Message: fmt.Sprintf("the parser failed on this statement (%v); rewrite it more simply", r), Pos: -1}
		}
	}()
	stmts, _, err := tp.ParseSQL(sql)
	// The returned slice is the parser's own buffer; keep only the nodes,
	// which are freshly allocated on every call.
	n = len(stmts)
	if n > 0 {
		root = stmts[0]
	}
	if n > 1 {
		// Each statement keeps its own slice of the text, in order.
		first, second := stmts[0].OriginalText(), stmts[1].OriginalText()
		if strings.HasPrefix(sql, first) && strings.HasPrefix(sql[len(first):], second) {
			next = len(first) + len(second) - len(strings.TrimLeft(second, " \t\r\n"))
		}
	}
	switch {
	case err != nil || n != 1:
		p.pool.Put(tp)
		tp = nil
	case !hold:
		tp.Reset()
		p.configure(tp)
		p.pool.Put(tp)
		tp = nil
	}
	return tp, root, n, next, err
}

// parsed is one statement and the text it came from; positions in the tree
// are byte offsets into src.
type parsed struct {
	src     string
	root    ast.StmtNode
	mode    tmysql.SQLMode
	desc    *stmt.Statement
	printed bool
	fixed   bool // printFixer's changes are made
	owner   *Parser
	tp      *parser.Parser // the parser that built root, until Release
}

// Release hands the parser that built the tree (ParseReleasable) back for
// other statements. The statement must not be used afterwards: the
// parser's next run writes into this tree. A statement never released
// only costs a parser.
func (p *parsed) Release() {
	if p.tp != nil {
		p.owner.pool.Put(p.tp)
		p.tp = nil
	}
}

// syntaxRE matches the scanner's error text: `line L column C near "REST"...`
// where REST is the input from the offending token on (cut at 2048 bytes,
// then followed by "(total length N)").
var syntaxRE = regexp.MustCompile(`(?s)^line (\d+) column (\d+) near "(.*)$`)

// syntaxError turns a TiDB parse error into a ParseError whose message
// quotes the offending text and whose position is the byte offset where the
// parser stopped.
func syntaxError(sql string, err error) *stmt.ParseError {
	msg := err.Error()
	m := syntaxRE.FindStringSubmatch(msg)
	if m == nil {
		return &stmt.ParseError{Code: stmt.CodeParseError, Message: "cannot parse SQL: " + msg, Pos: -1}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	pos := nearOffset(sql, m[3], lineColOffset(sql, line, col))
	if pos < 0 {
		return &stmt.ParseError{Code: stmt.CodeParseError, Message: "syntax error at line " + m[1] + ": " + msg, Pos: -1}
	}
	return &stmt.ParseError{Code: stmt.CodeParseError, Message: describeSyntaxError(sql, pos, line), Pos: pos}
}

// nearOffset finds where the quoted rest of the input starts: the largest
// offset o no further than limit such that rest begins with sql[o:] and a
// closing quote, or the total length the scanner reported.
func nearOffset(sql, rest string, limit int) int {
	if i := strings.LastIndex(rest, "(total length "); i >= 0 {
		if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest[i+len("(total length "):]), ")")); err == nil && n <= len(sql) {
			return len(sql) - n
		}
	}
	if limit > len(sql) || limit < 0 {
		limit = len(sql)
	}
	for o := limit; o >= 0; o-- {
		if strings.HasPrefix(rest, sql[o:]+`"`) {
			return o
		}
	}
	return -1
}

// lineColOffset converts the scanner's 1-based line and column (the
// position after the last token it read) to a byte offset.
func lineColOffset(sql string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(sql[off:], '\n')
		if i < 0 {
			return len(sql)
		}
		off += i + 1
	}
	// The scanner counts the newline itself as column 0 of the next line.
	if line > 1 {
		col--
	}
	if off+col > len(sql) || col < 0 {
		return len(sql)
	}
	return off + col
}

// describeSyntaxError says where the parser stopped, quoting a little of
// the text from there.
func describeSyntaxError(sql string, pos, line int) string {
	near := strings.TrimSpace(sql[pos:])
	if near == "" {
		return fmt.Sprintf("syntax error at line %d: the statement ends unexpectedly", line)
	}
	const max = 40
	if len(near) > max {
		cut := max
		for cut > 0 && !isRuneStart(near[cut]) {
			cut--
		}
		near = near[:cut] + "..."
	}
	if i := strings.IndexAny(near, "\r\n"); i >= 0 {
		near = near[:i] + "..."
	}
	return fmt.Sprintf("syntax error at line %d near %q", line, near)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

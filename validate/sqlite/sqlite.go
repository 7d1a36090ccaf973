// Package sqlite is the SQLite adapter of the validator. The most faithful
// reader of SQLite's dialect is SQLite, so the adapter prepares each
// statement (never runs it) against an empty in-memory shadow of the
// catalog's tables, with SQLite's authorizer reporting every table and
// column read, every function called and every other action, and
// sqlite3_stmt_readonly as a second net. What SQLite reports becomes the
// neutral description that the one judge rules on.
package sqlite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/stmt"
)

// Parser holds the shadows of every catalog version it has seen (a bounded
// cache). It is safe for concurrent use.
type Parser struct {
	cache *cache
}

// New returns the SQLite adapter.
func New() *Parser { return &Parser{cache: newCache()} }

// For returns the adapter for one database: its statements are prepared
// against that database's shadow.
func (p *Parser) For(db *schema.Database) (stmt.Parser, error) {
	sh, err := p.cache.get(db)
	if err != nil {
		return nil, err
	}
	return &bound{sh: sh}, nil
}

var dialect = &stmt.Dialect{
	Name:            "sqlite",
	CaseInsensitive: true,
	Functions:       builtinFunctions,
}

// bound is the adapter for one catalog version.
type bound struct{ sh *shadow }

func (*bound) Dialect() *stmt.Dialect { return dialect }

// noSuchColumn is SQLite's message for a name that resolves to nothing;
// for a double-quoted name it adds a hint that it may be meant as a string.
var noSuchColumn = regexp.MustCompile(`^no such column: "?(.+?)"?(?: - should this be a string literal in single-quotes\?)?$`)

// maxRetries bounds the double-quoted names turned into strings.
const maxRetries = 64

func (b *bound) Parse(sql string) (stmt.Parsed, error) {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL contains a NUL byte", Pos: i}
	}
	if !utf8.ValidString(sql) {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: "the SQL is not valid UTF-8", Pos: -1}
	}
	toks := lex(sql)
	if msg, pos := tooComplex(sql, toks); msg != "" {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: msg, Pos: pos}
	}
	c, err := b.sh.get()
	if err != nil {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: err.Error(), Pos: -1}
	}
	defer b.sh.put(c)
	var p prepared
	for range maxRetries {
		p = c.prepare(sql)
		m := noSuchColumn.FindStringSubmatch(p.err)
		if m == nil {
			break
		}
		// SQLite's own rule for double-quoted text: a name that is no
		// column is a string. Make it one in the text itself, so the text
		// that runs later cannot mean anything else.
		fixed, ok := stringify(sql, toks, m[1])
		if !ok {
			break
		}
		sql, toks = fixed, lex(fixed)
	}
	if p.err != "" {
		return failed(b.sh, &p, sql, toks)
	}
	if p.empty {
		return nil, &stmt.ParseError{Code: stmt.CodeEmptyQuery, Message: "the SQL holds no statement", Pos: -1}
	}
	if at := more(c, sql, len(p.text)); at >= 0 {
		return nil, &stmt.ParseError{Code: stmt.CodeMultipleStatements, Message: "the SQL holds more than one statement; exactly one is allowed", Pos: at}
	}
	stoks := lex(p.text)
	if p.readonly && !p.explain && queryVerb(verb(p.text, code(stoks))) {
		reads, err := programReads(b.sh, c, p.text)
		if err != nil {
			return nil, &stmt.ParseError{Code: stmt.CodeUnsupportedSyntax, Message: "the statement's program could not be read: " + err.Error(), Pos: -1}
		}
		p.trace = append(p.trace, reads...)
	}
	return &parsed{sh: b.sh, text: p.text, toks: stoks, trace: p.trace, desc: describe(b.sh, &p, p.text, code(stoks))}, nil
}

// failed explains why SQLite refused to prepare the statement.
func failed(sh *shadow, p *prepared, sql string, toks []token) (stmt.Parsed, error) {
	ct := code(toks)
	if f := net(p.trace, positions(sql, ct)); len(f) > 0 {
		// The authorizer denied it: the findings say why. A query keeps
		// an (empty) description so that the judge does not also call it
		// something other than a query.
		desc := &stmt.Statement{Verb: verb(sql, ct), Findings: f}
		if queryVerb(desc.Verb) {
			desc.Query = &stmt.Query{}
		}
		return &parsed{sh: sh, refused: true, desc: desc}, nil
	}
	code := ""
	switch {
	case strings.HasPrefix(p.err, "no such table:"):
		code = stmt.CodeUnknownTable
	case strings.HasPrefix(p.err, "no such column:"):
		code = stmt.CodeUnknownColumn
	case strings.HasPrefix(p.err, "no such function:"), strings.HasPrefix(p.err, "unknown function:"):
		code = stmt.CodeFunctionNotAllowed
	}
	if code == "" {
		return nil, &stmt.ParseError{Code: stmt.CodeParseError, Message: p.err, Pos: p.errOffset}
	}
	desc := &stmt.Statement{Verb: verb(sql, ct), Query: &stmt.Query{}}
	desc.Findings = []stmt.Finding{{Code: code, Message: p.err, Pos: p.errOffset}}
	return &parsed{sh: sh, refused: true, desc: desc}, nil
}

// stringify turns the double-quoted tokens spelling name (and not part of
// a qualified name) into string literals.
func stringify(sql string, toks []token, name string) (string, bool) {
	var b strings.Builder
	changed := false
	for i, t := range toks {
		txt := t.text(sql)
		if t.kind == tokQuoted && txt[0] == '"' && unquote(txt) == name && !dotted(sql, toks, i) {
			b.WriteString("'" + strings.ReplaceAll(unquote(txt), "'", "''") + "'")
			changed = true
			continue
		}
		b.WriteString(txt)
	}
	return b.String(), changed
}

// dotted says whether token i is part of a qualified name a.b.
func dotted(sql string, toks []token, i int) bool {
	for _, step := range []int{-1, 1} {
		for j := i + step; j >= 0 && j < len(toks); j += step {
			if toks[j].kind == tokSpace || toks[j].kind == tokComment {
				continue
			}
			if toks[j].kind == tokPunct && sql[toks[j].start] == '.' {
				return true
			}
			break
		}
	}
	return false
}

// more reports where a second statement starts after the first, which
// ended at offset end; -1 when only white space, comments and semicolons
// follow. SQLite itself decides where each statement ends.
func more(c *conn, sql string, end int) int {
	for rest := end; rest < len(sql); {
		p := c.prepare(sql[rest:])
		if p.err != "" || !p.empty {
			return rest + len(sql[rest:]) - len(strings.TrimLeft(sql[rest:], " \t\r\n\f;"))
		}
		next := len(sql) - len(p.rest)
		if next <= rest {
			return -1
		}
		rest = next
	}
	return -1
}

// parsed is one prepared statement.
type parsed struct {
	sh      *shadow
	text    string  // the statement as SQLite delimited it
	toks    []token // its tokens
	trace   []event // what the authorizer reported for it
	desc    *stmt.Statement
	refused bool // SQLite did not prepare it; it is never printed
}

func (p *parsed) Describe() *stmt.Statement { return p.desc }

func (p *parsed) Print(maxRows int) (string, error) {
	if p.refused {
		return "", fmt.Errorf("the statement did not prepare")
	}
	out, appended, err := capRows(p.text, p.toks, maxRows)
	if err != nil {
		return "", err
	}
	err = p.prove(out)
	if err != nil && appended {
		// A statement ending in VALUES takes no LIMIT of its own.
		text, _, _ := capRows(p.text, p.toks, 0)
		wrapped := "SELECT * FROM (" + text + ") LIMIT " + strconv.Itoa(maxRows)
		if p.prove(wrapped) == nil {
			return wrapped, nil
		}
	}
	if err != nil {
		return "", err
	}
	return out, nil
}

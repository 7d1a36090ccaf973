// Package validate decides whether one SQL statement may be handed out as
// runnable: the dialect's real parser reads it (validate/mysql,
// validate/postgres), the adapter reduces the tree to a neutral description
// (validate/stmt), and one policy judges that description for every dialect.
//
// The returned text is what runs, so every adapter's Print holds to one
// contract, checked for every dialect by one test (TestReturnedTextContract)
// and by the fuzz targets: the text holds no comments, no optimizer hints
// (MySQL /*+ MAX_EXECUTION_TIME */, SET_VAR, ...) and no executable
// comments (/*! */, MariaDB /*M! */), nor anything another SQL lexer on the
// way could read as one; it parses to the statement that was judged, with
// the row cap applied. Validate then refuses (TEMPLATE_SYNTAX) a text that
// Superset's Jinja rendering would change, unless the policy says the
// database's SQL is not rendered: that check is made here, on the printed
// text, so it holds for every adapter.
package validate

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate/mysql"
	"github.com/texttosql/text2sql/validate/postgres"
	"github.com/texttosql/text2sql/validate/stmt"
)

// DefaultMaxSQLBytes is the size of statement the service accepts by
// default: every hostile shape (validate/hostile) up to this size is tested
// to end in a verdict, and BenchmarkHostileShapes times the slowest.
const DefaultMaxSQLBytes = 256 << 10

// Violation is one reason a statement is refused.
type Violation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Position is a 1-based character offset into the SQL; 0 when unknown.
	Position int `json:"position,omitempty"`
	// Line and Column locate Position, both 1-based; 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// Result is the verdict on one statement.
type Result struct {
	Valid      bool
	Violations []Violation
	// SQL is the text that may run, as the dialect's adapter returns it
	// (see the package comment) with the row cap applied; empty unless
	// Valid.
	SQL string
	// Tables are the real tables read, sorted, each named as the policy
	// names it: "schema.table", or "catalog.schema.table" when the table
	// has a catalog.
	Tables []string
	// Dialect is the family that parsed the statement ("" when none could).
	Dialect string
}

// Request is one statement to judge.
type Request struct {
	SQL      string
	Database *schema.Database
	// Rules is the compiled policy for Database, possibly narrowed to the
	// caller's scope. Nil means DefaultPolicy.
	Rules *Rules
	// MaxRows lowers the rules' row cap for this request when > 0.
	MaxRows int
}

// Validator parses and judges statements. It is safe for concurrent use.
type Validator struct {
	pg    stmt.Parser
	mu    sync.Mutex
	mysql map[mysql.Options]stmt.Parser
}

// New returns a Validator.
func New() *Validator {
	return &Validator{pg: postgres.New(), mysql: map[mysql.Options]stmt.Parser{}}
}

// parser returns the adapter for db's backend, or a violation saying why
// there is none.
func (v *Validator) parser(db *schema.Database) (stmt.Parser, *Violation) {
	switch db.Dialect() {
	case schema.DialectPostgres:
		return v.pg, nil
	case schema.DialectMySQL:
		o := mysql.Options{SQLMode: db.SQLMode, MariaDB: db.Backend == "mariadb"}
		v.mu.Lock()
		defer v.mu.Unlock()
		if p, ok := v.mysql[o]; ok {
			return p, nil
		}
		p, err := mysql.New(o)
		if err != nil {
			return nil, &Violation{Code: stmt.CodeDialectUnsupported,
				Message: fmt.Sprintf("database %s: cannot configure the MySQL parser: %v", db.Name, err)}
		}
		v.mysql[o] = p
		return p, nil
	}
	return nil, &Violation{Code: stmt.CodeDialectUnsupported,
		Message: fmt.Sprintf("database %s has backend %q, for which there is no SQL parser; queries against it are refused", db.Name, db.Backend)}
}

// Validate judges req. It never panics: a failure inside a parser is a
// refusal, not a crash.
func (v *Validator) Validate(req Request) (res *Result) {
	res = &Result{}
	defer func() {
		if r := recover(); r != nil {
			*res = Result{Dialect: res.Dialect, Violations: []Violation{{Code: stmt.CodeUnsupportedSyntax,
				Message: fmt.Sprintf("the statement could not be analysed (parser failure: %v); rewrite it more simply", r)}}}
		}
	}()
	if req.Database == nil {
		res.Violations = []Violation{{Code: stmt.CodeUnknownDatabase, Message: "no database given"}}
		return res
	}
	p, bad := v.parser(req.Database)
	if bad != nil {
		res.Violations = []Violation{*bad}
		return res
	}
	d := p.Dialect()
	res.Dialect = d.Name
	rules := req.Rules
	if rules == nil {
		rules, _ = DefaultPolicy().Compile(req.Database)
	}
	var parsed stmt.Parsed
	var err error
	if rp, ok := p.(stmt.ReleasingParser); ok {
		parsed, err = rp.ParseReleasable(req.SQL)
	} else {
		parsed, err = p.Parse(req.SQL)
	}
	if err != nil {
		var pe *stmt.ParseError
		if !errors.As(err, &pe) {
			pe = &stmt.ParseError{Code: stmt.CodeParseError, Message: err.Error(), Pos: -1}
		}
		res.Violations = []Violation{locate(req.SQL, pe.Code, pe.Message, pe.Pos)}
		return res
	}
	if r, ok := parsed.(stmt.Releaser); ok {
		defer r.Release()
	}
	j := judge{sql: req.SQL, dialect: d, db: req.Database, rules: rules}
	j.statement(parsed.Describe())
	res.Violations = j.violations
	if len(res.Violations) > 0 {
		return res
	}
	maxRows := rules.MaxRows()
	if req.MaxRows > 0 && req.MaxRows < maxRows {
		maxRows = req.MaxRows
	}
	out, err := parsed.Print(maxRows)
	if err != nil {
		res.Violations = []Violation{{Code: stmt.CodeUnsupportedSyntax,
			Message: fmt.Sprintf("the statement could not be printed back by the %s printer: %v", d.Name, err)}}
		return res
	}
	if bad := templateViolation(rules, out); bad != nil {
		res.Violations = []Violation{*bad}
		return res
	}
	res.Valid, res.SQL = true, out
	for _, t := range j.read {
		res.Tables = append(res.Tables, rules.qualifiedName(t))
	}
	sort.Strings(res.Tables)
	return res
}

// locate makes a violation, turning a 0-based byte offset into the 1-based
// character position, line and column a person sees in an editor.
func locate(sql, code, msg string, pos int) Violation {
	v := Violation{Code: code, Message: msg}
	if pos < 0 || pos > len(sql) {
		return v
	}
	v.Position = utf8.RuneCountInString(sql[:pos]) + 1
	v.Line, v.Column = 1, 1
	for _, r := range sql[:pos] {
		if r == '\n' {
			v.Line++
			v.Column = 1
		} else {
			v.Column++
		}
	}
	return v
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
	"github.com/texttosql/text2sql/validate/stmt"
)

func init() {
	register(&command{name: "validate", summary: "check SQL against a schema and policy, one statement or JSON lines", run: runValidate})
}

type validateOptions struct {
	schemaPath, policyPath string
	database               string
	jsonl                  bool
	workers                int
	maxRows                int
}

func validateSettings(o *validateOptions) *settings {
	s := &settings{
		command: "validate",
		args:    " [SQL]",
		summary: "Checks SQL the way the service does: parsed by the database's dialect parser, judged by the policy.\n" +
			"Without --jsonl it checks the SQL given as arguments (or read from stdin) and prints a verdict;\n" +
			"exit status 0 valid, 1 invalid, 2 usage error.\n" +
			"With --jsonl it reads lines {\"id\": ..., \"database\": ..., \"sql\": ...} from stdin and writes one line\n" +
			"{\"id\":...,\"valid\":...,\"violations\":[{\"code\":...,\"message\":...}],\"sql\":...,\"tables\":[...]} per input line,\n" +
			"in input order; exit status 0 once every line is answered, 2 when stdin cannot be read.",
	}
	s.String(&o.schemaPath, "schema", "", "schema file (YAML or JSON); empty uses the embedded sample catalog")
	s.String(&o.policyPath, "policy", "", "policy file (YAML); empty uses the sample policy with the sample catalog, else allows every table")
	s.String(&o.database, "database", "", "database name or id; may be left out when the schema has one database")
	s.Bool(&o.jsonl, "jsonl", false, "read JSON lines from stdin and write one JSON verdict per line")
	s.Int(&o.workers, "workers", runtime.GOMAXPROCS(0), "statements validated at once with --jsonl")
	s.Int(&o.maxRows, "max-rows", 0, "row cap for this run; only lowers the policy's cap (0 = the policy's)")
	return s
}

// checker validates statements against one catalog and policy.
type checker struct {
	catalog   *schema.Catalog
	rules     map[*schema.Database]*validate.Rules
	validator *validate.Validator
	maxRows   int
}

func newChecker(c *schema.Catalog, p *validate.Policy, maxRows int, warn io.Writer) *checker {
	rules, warnings := p.CompileAll(c.Databases)
	for _, w := range warnings {
		fmt.Fprintf(warn, "text2sql validate: policy: %s\n", w)
	}
	return &checker{catalog: c, rules: rules, validator: validate.New(), maxRows: maxRows}
}

func (ch *checker) names() string {
	names := make([]string, 0, len(ch.catalog.Databases))
	for _, d := range ch.catalog.Databases {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// lookup finds the database to validate against, or says why there is none.
func (ch *checker) lookup(name string) (*schema.Database, *validate.Violation) {
	if name == "" {
		if len(ch.catalog.Databases) == 1 {
			return ch.catalog.Databases[0], nil
		}
		return nil, &validate.Violation{Code: stmt.CodeUnknownDatabase,
			Message: fmt.Sprintf("no database given: set \"database\" or --database (the schema has %s)", ch.names())}
	}
	d := ch.catalog.Database(name)
	if d == nil {
		return nil, &validate.Violation{Code: stmt.CodeUnknownDatabase,
			Message: fmt.Sprintf("unknown database %q (the schema has %s)", name, ch.names())}
	}
	return d, nil
}

func (ch *checker) check(d *schema.Database, sql string) *validate.Result {
	return ch.validator.Validate(validate.Request{SQL: sql, Database: d, Rules: ch.rules[d], MaxRows: ch.maxRows})
}

func runValidate(ctx context.Context, env *environ, args []string) int {
	var o validateOptions
	s := validateSettings(&o)
	rest, err := s.parse(env, args)
	if err != nil {
		return s.fail(env, err)
	}
	if o.workers < 1 {
		return s.fail(env, errors.New("--workers must be at least 1"))
	}
	if o.maxRows < 0 {
		return s.fail(env, errors.New("--max-rows must not be negative"))
	}
	catalog, policy, err := loadCatalog(o.schemaPath, o.policyPath)
	if err != nil {
		return s.fail(env, err)
	}
	ch := newChecker(catalog, policy, o.maxRows, env.stderr)
	if o.jsonl {
		if len(rest) > 0 {
			return s.fail(env, errors.New("--jsonl reads stdin; SQL arguments are not allowed with it"))
		}
		if err := ch.jsonl(ctx, env.stdin, env.stdout, o.database, o.workers); err != nil {
			fmt.Fprintf(env.stderr, "text2sql validate: %v\n", err)
			return exitUsage
		}
		return exitOK
	}

	sql := strings.Join(rest, " ")
	if len(rest) == 0 {
		data, err := io.ReadAll(env.stdin)
		if err != nil {
			return s.fail(env, fmt.Errorf("reading stdin: %v", err))
		}
		sql = string(data)
	}
	d, bad := ch.lookup(o.database)
	if bad != nil {
		return s.fail(env, errors.New(bad.Message))
	}
	res := ch.check(d, sql)
	printVerdict(env.stdout, d, res)
	if !res.Valid {
		return exitFailure
	}
	return exitOK
}

// printVerdict writes a verdict for a person to read.
func printVerdict(w io.Writer, d *schema.Database, res *validate.Result) {
	dialect := res.Dialect
	if dialect == "" {
		dialect = "no parser"
	}
	if res.Valid {
		fmt.Fprintf(w, "valid (database %s, %s)\n", d.Name, dialect)
		fmt.Fprintf(w, "tables: %s\n\n%s\n", strings.Join(res.Tables, ", "), res.SQL)
		return
	}
	fmt.Fprintf(w, "invalid (database %s, %s): %d violation(s)\n", d.Name, dialect, len(res.Violations))
	for _, v := range res.Violations {
		where := ""
		if v.Line > 0 {
			where = fmt.Sprintf(" at line %d, column %d", v.Line, v.Column)
		}
		fmt.Fprintf(w, "  %s%s: %s\n", v.Code, where, v.Message)
	}
}

// jsonlInput is one input line. Fields other than these are ignored, so
// evaluation sets can be fed as they are.
type jsonlInput struct {
	ID       json.RawMessage `json:"id"`
	Database string          `json:"database"`
	SQL      string          `json:"sql"`
}

// jsonlOutput is the contract of one output line; field order is part of
// it, and violations and tables are never null.
type jsonlOutput struct {
	ID         string           `json:"id"`
	Valid      bool             `json:"valid"`
	Violations []jsonlViolation `json:"violations"`
	SQL        string           `json:"sql"`
	Tables     []string         `json:"tables"`
}

type jsonlViolation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// maxLine bounds one input line; a longer one is answered with a violation
// and skipped, without holding it in memory.
const maxLine = 16 << 20

type jsonlJob struct {
	n       int // 1-based input line number
	line    []byte
	tooLong bool
	out     chan []byte
}

// jsonl streams stdin to stdout: one reader, workers validating in
// parallel, and a writer that waits for each result in input order. The
// queues are bounded, so memory stays flat however long the input.
func (ch *checker) jsonl(ctx context.Context, in io.Reader, out io.Writer, defaultDB string, workers int) error {
	jobs := make(chan *jsonlJob, workers)
	order := make(chan *jsonlJob, 4*workers)
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		r := bufio.NewReaderSize(in, 64<<10)
		for n := 1; ; n++ {
			line, tooLong, err := readLine(r, maxLine)
			if len(bytes.TrimSpace(line)) > 0 || tooLong {
				j := &jsonlJob{n: n, line: line, tooLong: tooLong, out: make(chan []byte, 1)}
				order <- j
				jobs <- j
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
			if ctx.Err() != nil {
				readErr <- ctx.Err()
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				j.out <- ch.answer(j, defaultDB)
			}
		}()
	}
	w := bufio.NewWriterSize(out, 64<<10)
	var werr error
	for j := range order {
		line := <-j.out
		if werr == nil {
			_, werr = w.Write(line)
		}
		// Flush when nothing else is ready, so a consumer reading the
		// output as it comes is not kept waiting behind the buffer.
		if werr == nil && len(order) == 0 {
			werr = w.Flush()
		}
	}
	if werr == nil {
		werr = w.Flush()
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("writing stdout: %w", werr)
	}
	return nil
}

// answer validates one input line and encodes its output line.
func (ch *checker) answer(j *jsonlJob, defaultDB string) []byte {
	o := jsonlOutput{Violations: []jsonlViolation{}, Tables: []string{}}
	fail := func(code, msg string) []byte {
		o.Violations = append(o.Violations, jsonlViolation{Code: code, Message: msg})
		return encodeLine(&o)
	}
	if j.tooLong {
		return fail(stmt.CodeParseError, fmt.Sprintf("input line %d is longer than %d bytes", j.n, maxLine))
	}
	var in jsonlInput
	if err := json.Unmarshal(j.line, &in); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fail(stmt.CodeParseError, fmt.Sprintf("input line %d is not valid JSON: %v", j.n, err))
		}
		// Decoding goes on past a field of the wrong type, so the id is
		// usually known and worth echoing.
		o.ID = idString(in.ID)
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fail(stmt.CodeParseError, fmt.Sprintf("input line %d: %q must be a string (got %s)", j.n, typ.Field, typ.Value))
		}
		return fail(stmt.CodeParseError, fmt.Sprintf("input line %d is not an object {\"id\", \"database\", \"sql\"}", j.n))
	}
	o.ID = idString(in.ID)
	db := in.Database
	if db == "" {
		db = defaultDB
	}
	d, bad := ch.lookup(db)
	if bad != nil {
		return fail(bad.Code, bad.Message)
	}
	res := ch.check(d, in.SQL)
	o.Valid, o.SQL = res.Valid, res.SQL
	for _, v := range res.Violations {
		o.Violations = append(o.Violations, jsonlViolation{Code: v.Code, Message: v.Message})
	}
	if res.Tables != nil {
		o.Tables = res.Tables
	}
	return encodeLine(&o)
}

// idString echoes the input id: a string as it is, a number as its digits,
// anything else (absent, null) as "".
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func encodeLine(o *jsonlOutput) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// SQL is full of < and >; escaping them as \u003c helps no reader.
	enc.SetEscapeHTML(false)
	// Only strings, bools and slices of them: encoding cannot fail.
	_ = enc.Encode(o)
	return buf.Bytes()
}

// readLine reads one line without its end of line. A line longer than max
// is consumed and reported as tooLong with no content.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // +2 for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, tooLong, err
	}
}

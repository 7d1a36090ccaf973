package mysql

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/validate/stmt"
)

// e2eCase is one case of ../testdata/mysql/*.yaml, the end-to-end files
// the judge runs with its schema and policy.
type e2eCase struct {
	file    string
	Name    string   `yaml:"name"`
	SQL     string   `yaml:"sql"`
	Valid   bool     `yaml:"valid"`
	Tables  []string `yaml:"tables"`
	Codes   []string `yaml:"codes"`
	Only    bool     `yaml:"only"` // the judge's concern: no other codes
	SQLOut  string   `yaml:"sql_out"`
	MaxRows int      `yaml:"max_rows"`
}

func loadE2ECases(t testing.TB) []e2eCase {
	t.Helper()
	files, err := filepath.Glob("../testdata/mysql/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no ../testdata/mysql/*.yaml: %v", err)
	}
	var out []e2eCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf struct {
			Schema   string    `yaml:"schema"`
			Policy   string    `yaml:"policy"`
			Database string    `yaml:"database"`
			Cases    []e2eCase `yaml:"cases"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cf.Cases {
			c.file = filepath.Base(f)
			out = append(out, c)
		}
	}
	return out
}

// The end-to-end files are written against ../testdata/policy.yaml, which
// denies table users and columns customers.email and customers.phone, and
// ../testdata/shop_mysql.yaml, whose default schema is store.
var (
	e2eDeniedTables  = []string{"users"}
	e2eDeniedColumns = []string{"email", "phone"}
)

const e2eDefaultSchema = "store"

// TestE2ECasesAtAdapterLevel checks what the adapter alone can tell about
// the end-to-end cases: accepted ones describe a clean query over exactly
// the expected tables with allowlisted functions only; refused ones show
// the evidence for each expected code in the description.
func TestE2ECasesAtAdapterLevel(t *testing.T) {
	p := parserFor(t, "")
	d := p.Dialect()
	for _, c := range loadE2ECases(t) {
		t.Run(c.file+"/"+c.Name, func(t *testing.T) {
			parsed, err := p.Parse(c.SQL)
			var pe *stmt.ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("Parse returned %T, not a *stmt.ParseError", err)
			}
			if c.Valid {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				st := parsed.Describe()
				if st.Query == nil || len(st.Findings) > 0 {
					t.Fatalf("not a clean query: %s %+v", st.Verb, st.Findings)
				}
				for _, f := range collect(st).funcs {
					name := strings.SplitN(f, "/", 2)[0]
					if !d.Functions[name] {
						t.Errorf("function %s is not on the allowlist", name)
					}
				}
				if got := readTables(st); c.Tables != nil && !slices.Equal(got, c.Tables) {
					t.Errorf("tables %q, want %q", got, c.Tables)
				}
				return
			}
			for _, code := range c.Codes {
				if !evidence(t, code, parsed, pe, d) {
					t.Errorf("no evidence for %s in the description", code)
				}
			}
		})
	}
}

// evidence reports whether the parse result shows what code refuses.
func evidence(t *testing.T, code string, parsed stmt.Parsed, pe *stmt.ParseError, d *stmt.Dialect) bool {
	switch code {
	case stmt.CodeParseError, stmt.CodeEmptyQuery, stmt.CodeMultipleStatements:
		return pe != nil && pe.Code == code
	}
	if pe != nil {
		t.Fatalf("Parse: %v", pe)
	}
	st := parsed.Describe()
	f := collect(st)
	switch code {
	case stmt.CodeNotReadOnly:
		return st.Query == nil || slices.Contains(f.findings, code)
	case stmt.CodeIntoClause, stmt.CodeLockingClause, stmt.CodeVariableNotAllowed, stmt.CodeUnsupportedSyntax:
		return slices.Contains(f.findings, code)
	case stmt.CodeFunctionNotAllowed:
		for _, fn := range f.funcs {
			if !d.Functions[strings.SplitN(fn, "/", 2)[0]] {
				return true
			}
		}
	case stmt.CodeSystemCatalog:
		for _, tb := range f.tables {
			if parts := strings.Split(strings.ToLower(tb), "."); len(parts) == 2 && slices.Contains(d.SystemSchemas, parts[0]) {
				return true
			}
		}
	case stmt.CodeTableNotAllowed:
		for _, tb := range f.tables {
			parts := strings.Split(strings.ToLower(tb), ".")
			if slices.Contains(e2eDeniedTables, parts[len(parts)-1]) {
				return true
			}
		}
	case stmt.CodeColumnNotAllowed:
		if len(f.stars) > 0 {
			return true
		}
		for _, r := range f.refs {
			name := strings.ToLower(strings.SplitN(r, "|", 2)[0])
			parts := strings.Split(name, ".")
			if slices.Contains(e2eDeniedColumns, parts[len(parts)-1]) {
				return true
			}
		}
		return usesDenied(st.Query)
	default:
		// Codes that need the schema (UNKNOWN_*) are the judge's alone.
		return true
	}
	return false
}

func usesDenied(q *stmt.Query) bool {
	found := false
	walkQueries(q, func(q *stmt.Query) {
		for _, s := range q.From {
			for _, u := range s.Using {
				if slices.Contains(e2eDeniedColumns, strings.ToLower(u.Name)) {
					found = true
				}
			}
		}
	})
	return found
}

func walkQueries(q *stmt.Query, f func(*stmt.Query)) {
	if q == nil {
		return
	}
	f(q)
	for _, c := range q.With {
		walkQueries(c.Query, f)
	}
	for _, a := range q.Arms {
		walkQueries(a, f)
	}
	for _, s := range q.From {
		walkQueries(s.Query, f)
	}
	for _, s := range q.Subqueries {
		walkQueries(s, f)
	}
}

// readTables lists schema.table for every FROM item that is not the name
// of a CTE of the statement, the way the judge reports them.
func readTables(st *stmt.Statement) []string {
	ctes := map[string]bool{}
	walkQueries(st.Query, func(q *stmt.Query) {
		for _, c := range q.With {
			ctes[strings.ToLower(c.Name.Name)] = true
		}
	})
	var out []string
	walkQueries(st.Query, func(q *stmt.Query) {
		for _, s := range q.From {
			if s.Kind != stmt.SourceTable {
				continue
			}
			name := strings.ToLower(joinIdents(s.Name))
			if len(s.Name) == 1 {
				if ctes[name] {
					continue
				}
				name = e2eDefaultSchema + "." + name
			}
			out = append(out, name)
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

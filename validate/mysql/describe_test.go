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

// describeCase is one entry of testdata/describe/*.yaml, parse.yaml or
// print.yaml. Keys left out are
// not checked; an empty list checks that there is nothing.
type describeCase struct {
	Name    string `yaml:"name"`
	SQL     string `yaml:"sql"`
	SQLMode string `yaml:"sql_mode"`

	// Parse failures.
	Error    string `yaml:"error"`
	ErrorPos *int   `yaml:"error_pos"`

	Verb     string    `yaml:"verb"`
	Query    *bool     `yaml:"query"`
	Tables   *[]string `yaml:"tables"`   // every named FROM item, at any depth
	CTEs     *[]string `yaml:"ctes"`     // name(col, ...) of every CTE
	Refs     *[]string `yaml:"refs"`     // a.b, with |first or |fallback
	Stars    *[]string `yaml:"stars"`    // *, t.*
	Funcs    *[]string `yaml:"funcs"`    // name/kind
	Findings *[]string `yaml:"findings"` // codes
	Sources  *[]string `yaml:"sources"`  // the outermost block's FROM items
	Targets  *[]string `yaml:"targets"`  // output names of the outermost block
	Subqs    *int      `yaml:"subqueries"`
	Print    string    `yaml:"print"` // Print(MaxRows) output
	MaxRows  *int      `yaml:"max_rows"`
	// Positions maps a finding code to the text expected at its position.
	At map[string]string `yaml:"at"`
}

type describeFile struct {
	Cases []describeCase `yaml:"cases"`
}

func loadDescribeCases(t testing.TB) map[string][]describeCase {
	t.Helper()
	files, err := filepath.Glob("testdata/describe/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/describe/*.yaml: %v", err)
	}
	// Parse errors and printed text are cases of the same form, kept in
	// their own files as in every adapter.
	files = append(files, "testdata/parse.yaml", "testdata/print.yaml")
	out := map[string][]describeCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var df describeFile
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&df); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = df.Cases
	}
	return out
}

var parsers = map[string]*Parser{}

func parserFor(t testing.TB, mode string) *Parser {
	t.Helper()
	if p, ok := parsers[mode]; ok {
		return p
	}
	p, err := New(Options{SQLMode: mode})
	if err != nil {
		t.Fatalf("New(%q): %v", mode, err)
	}
	parsers[mode] = p
	return p
}

func TestDescribe(t *testing.T) {
	for file, cases := range loadDescribeCases(t) {
		for _, c := range cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) { runDescribeCase(t, c) })
		}
	}
}

func runDescribeCase(t *testing.T, c describeCase) {
	p := parserFor(t, c.SQLMode)
	parsed, err := p.Parse(c.SQL)
	if c.Error != "" {
		var pe *stmt.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse: want %s, got %v", c.Error, err)
		}
		if pe.Code != c.Error {
			t.Fatalf("Parse: code %s (%s), want %s", pe.Code, pe.Message, c.Error)
		}
		if c.ErrorPos != nil && pe.Pos != *c.ErrorPos {
			t.Errorf("Parse: pos %d, want %d (%s)", pe.Pos, *c.ErrorPos, pe.Message)
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	st := parsed.Describe()
	f := collect(st)
	if c.Verb != "" && st.Verb != c.Verb {
		t.Errorf("verb %q, want %q", st.Verb, c.Verb)
	}
	if c.Query != nil && (st.Query != nil) != *c.Query {
		t.Errorf("query set = %v, want %v", st.Query != nil, *c.Query)
	}
	check := func(what string, want *[]string, got []string) {
		if want == nil {
			return
		}
		w := slices.Clone(*want)
		g := slices.Clone(got)
		slices.Sort(w)
		slices.Sort(g)
		if !slices.Equal(w, g) {
			t.Errorf("%s:\n got  %q\n want %q", what, g, w)
		}
	}
	check("tables", c.Tables, f.tables)
	check("ctes", c.CTEs, f.ctes)
	check("refs", c.Refs, f.refs)
	check("stars", c.Stars, f.stars)
	check("funcs", c.Funcs, f.funcs)
	check("findings", c.Findings, f.findings)
	if st.Query != nil {
		check("sources", c.Sources, sourceStrings(st.Query))
		check("targets", c.Targets, targetStrings(st.Query))
		if c.Subqs != nil && len(st.Query.Subqueries) != *c.Subqs {
			t.Errorf("subqueries %d, want %d", len(st.Query.Subqueries), *c.Subqs)
		}
	}
	for code, text := range c.At {
		found := false
		for _, fd := range st.Findings {
			if fd.Code == code && fd.Pos >= 0 && strings.HasPrefix(c.SQL[fd.Pos:], text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s finding positioned at %q: %+v", code, text, st.Findings)
		}
	}
	for _, fd := range st.Findings {
		if fd.Message == "" || fd.Pos < -1 || fd.Pos >= len(c.SQL) {
			t.Errorf("bad finding %+v", fd)
		}
	}
	if st.Query != nil && len(st.Findings) == 0 {
		checkRoundTrip(t, p, c.SQL, parsed, st)
	}
	if c.Print != "" {
		max := 100
		if c.MaxRows != nil {
			max = *c.MaxRows
		}
		again, err := p.Parse(c.SQL)
		if err != nil {
			t.Fatal(err)
		}
		out, err := again.Print(max)
		if err != nil {
			t.Fatalf("Print: %v", err)
		}
		if out != c.Print {
			t.Errorf("Print(%d):\n got  %s\n want %s", max, out, c.Print)
		}
	}
}

// checkRoundTrip asserts the property the fuzz target also checks: a clean
// query prints to text that parses to one clean query over the same tables.
func checkRoundTrip(t testing.TB, p *Parser, sql string, parsed stmt.Parsed, st *stmt.Statement) {
	t.Helper()
	out, err := parsed.Print(100)
	if err != nil {
		t.Fatalf("Print(%q): %v", sql, err)
	}
	again, err := p.Parse(out)
	if err != nil {
		t.Fatalf("printed text does not parse:\n in  %s\n out %s\n err %v", sql, out, err)
	}
	st2 := again.Describe()
	if st2.Query == nil || len(st2.Findings) > 0 {
		t.Fatalf("printed text is not a clean query:\n in  %s\n out %s\n %s %+v", sql, out, st2.Verb, st2.Findings)
	}
	t1, t2 := tableSet(st), tableSet(st2)
	if !slices.Equal(t1, t2) {
		t.Fatalf("printed text reads other tables:\n in  %s\n out %s\n %q vs %q", sql, out, t1, t2)
	}
}

func tableSet(st *stmt.Statement) []string {
	ts := collect(st).tables
	for i := range ts {
		ts[i] = strings.ToLower(ts[i])
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// facts are the description flattened over every query at any depth.
type facts struct {
	tables, ctes, refs, stars, funcs, findings []string
}

func collect(st *stmt.Statement) facts {
	var f facts
	for _, fd := range st.Findings {
		f.findings = append(f.findings, fd.Code)
	}
	var walk func(q *stmt.Query)
	walk = func(q *stmt.Query) {
		if q == nil {
			return
		}
		for _, c := range q.With {
			var cols []string
			for _, col := range c.Columns {
				cols = append(cols, col.Name)
			}
			name := c.Name.Name
			if len(cols) > 0 {
				name += "(" + strings.Join(cols, ",") + ")"
			}
			f.ctes = append(f.ctes, name)
			walk(c.Query)
		}
		for _, a := range q.Arms {
			walk(a)
		}
		for _, s := range q.From {
			if s.Kind == stmt.SourceTable {
				f.tables = append(f.tables, joinIdents(s.Name))
			}
			walk(s.Query)
		}
		for _, r := range q.Refs {
			s := joinIdents(r.Parts)
			switch r.Alias {
			case stmt.AliasFirst:
				s += "|first"
			case stmt.AliasFallback:
				s += "|fallback"
			}
			f.refs = append(f.refs, s)
		}
		for _, s := range q.Stars {
			f.stars = append(f.stars, joinIdents(append(slices.Clone(s.Qualifier), stmt.Ident{Name: "*"})))
		}
		for _, fn := range q.Funcs {
			f.funcs = append(f.funcs, joinIdents(fn.Name)+"/"+funcKind(fn.Kind))
		}
		for _, s := range q.Subqueries {
			walk(s)
		}
	}
	walk(st.Query)
	return f
}

func funcKind(k stmt.FuncKind) string {
	switch k {
	case stmt.FuncAggregate:
		return "aggregate"
	case stmt.FuncWindow:
		return "window"
	case stmt.FuncTable:
		return "table"
	case stmt.FuncKeyword:
		return "keyword"
	}
	return "scalar"
}

func joinIdents(ids []stmt.Ident) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Name
	}
	return strings.Join(s, ".")
}

func sourceStrings(q *stmt.Query) []string {
	var out []string
	for _, s := range q.From {
		var b strings.Builder
		switch s.Kind {
		case stmt.SourceTable:
			b.WriteString("table " + joinIdents(s.Name))
		case stmt.SourceSubquery:
			b.WriteString("subquery")
		case stmt.SourceFunction:
			b.WriteString("function")
		}
		if s.Alias != nil {
			b.WriteString(" AS " + s.Alias.Name)
		}
		if len(s.ColumnAliases) > 0 {
			b.WriteString("(" + joinIdents(s.ColumnAliases) + ")")
		}
		if s.Lateral {
			b.WriteString(" LATERAL")
		}
		if s.Natural {
			b.WriteString(" NATURAL")
		}
		if len(s.Using) > 0 {
			names := make([]string, len(s.Using))
			for i, u := range s.Using {
				names[i] = u.Name
			}
			b.WriteString(" USING(" + strings.Join(names, ",") + ")")
		}
		out = append(out, b.String())
	}
	return out
}

func targetStrings(q *stmt.Query) []string {
	var out []string
	for _, t := range q.Targets {
		switch {
		case t.Star != nil:
			out = append(out, joinIdents(append(slices.Clone(t.Star.Qualifier), stmt.Ident{Name: "*"})))
		default:
			out = append(out, t.Name.Name)
		}
	}
	return out
}

// testSQL is one statement of the test data, from any file.
type testSQL struct{ name, sql, mode string }

// allTestSQL gathers the statements of testdata/describe and of the
// end-to-end cases in ../testdata/mysql.
func allTestSQL(t testing.TB) []testSQL {
	var out []testSQL
	for file, cases := range loadDescribeCases(t) {
		for _, c := range cases {
			out = append(out, testSQL{file + "/" + c.Name, c.SQL, c.SQLMode})
		}
	}
	for _, c := range loadE2ECases(t) {
		out = append(out, testSQL{c.file + "/" + c.Name, c.SQL, ""})
	}
	return out
}

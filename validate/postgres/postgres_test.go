package postgres

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/validate/stmt"
)

// describeCase is one entry of testdata/describe/*.yaml: a statement and the
// facts its description must show. A fact left out is not checked.
type describeCase struct {
	Name string `yaml:"name"`
	SQL  string `yaml:"sql"`
	// Verb defaults to SELECT.
	Verb string `yaml:"verb"`
	// Findings is the exact set of finding codes (order ignored).
	Findings []string `yaml:"findings"`
	// Tables, Funcs, Refs and Stars are collected from every query in the
	// statement (CTEs, arms, derived tables, subqueries), sorted.
	Tables []string `yaml:"tables"`
	Funcs  []string `yaml:"funcs"`
	Refs   []string `yaml:"refs"`
	Stars  []string `yaml:"stars"`
	// Targets and Sources are those of the outermost query, in order.
	Targets []string `yaml:"targets"`
	Sources []string `yaml:"sources"`
	CTEs    []string `yaml:"ctes"`
	Op      string   `yaml:"op"`
	Arms    int      `yaml:"arms"`
	// Subqueries counts expression subqueries at every depth.
	Subqueries *int `yaml:"subqueries"`
}

func loadYAML[T any](t testing.TB, pattern string) map[string][]T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test data %s: %v", pattern, err)
	}
	out := map[string][]T{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []T
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = cases
	}
	return out
}

func TestDescribe(t *testing.T) {
	p := New()
	for file, cases := range loadYAML[describeCase](t, "describe/*.yaml") {
		for _, c := range cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				parsed, err := p.Parse(c.SQL)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				st := parsed.Describe()
				f := collect(st)
				want := c.Verb
				if want == "" {
					want = "SELECT"
				}
				if st.Verb != want {
					t.Errorf("verb = %q, want %q", st.Verb, want)
				}
				if (st.Query != nil) != (want == "SELECT") {
					t.Errorf("query = %v for verb %s", st.Query != nil, st.Verb)
				}
				check := func(what string, got, want []string, sorted bool) {
					t.Helper()
					if want == nil {
						return
					}
					if sorted {
						want = slices.Clone(want)
						slices.Sort(want)
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s =\n  %q\nwant\n  %q", what, got, want)
					}
				}
				if c.Findings == nil {
					c.Findings = []string{}
				}
				check("findings", f.findings, c.Findings, true)
				if len(f.findings) > 0 && !slices.Equal(f.findings, sortedCopy(c.Findings)) {
					for _, fd := range st.Findings {
						t.Logf("finding %s at %d: %s", fd.Code, fd.Pos, fd.Message)
					}
				}
				check("tables", f.tables, c.Tables, true)
				check("funcs", f.funcs, c.Funcs, true)
				check("refs", f.refs, c.Refs, true)
				check("stars", f.stars, c.Stars, true)
				if st.Query == nil {
					return
				}
				q := st.Query
				check("targets", targets(q), c.Targets, false)
				check("sources", sources(q), c.Sources, false)
				check("ctes", ctes(q), c.CTEs, false)
				if c.Op != "" && q.Op != c.Op {
					t.Errorf("op = %q, want %q", q.Op, c.Op)
				}
				if c.Arms != 0 && len(q.Arms) != c.Arms {
					t.Errorf("arms = %d, want %d", len(q.Arms), c.Arms)
				}
				if c.Subqueries != nil && f.subqueries != *c.Subqueries {
					t.Errorf("subqueries = %d, want %d", f.subqueries, *c.Subqueries)
				}
			})
		}
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// facts are a description flattened to strings for comparison.
type facts struct {
	findings, tables, funcs, refs, stars []string
	subqueries                           int
}

func collect(st *stmt.Statement) facts {
	f := facts{findings: []string{}}
	for _, fd := range st.Findings {
		f.findings = append(f.findings, fd.Code)
	}
	if st.Query != nil {
		f.query(st.Query)
	}
	for _, l := range []*[]string{&f.findings, &f.tables, &f.funcs, &f.refs, &f.stars} {
		slices.Sort(*l)
		if *l == nil {
			*l = []string{}
		}
	}
	f.findings = slices.Compact(f.findings)
	f.tables = slices.Compact(f.tables)
	return f
}

func (f *facts) query(q *stmt.Query) {
	for _, c := range q.With {
		f.query(c.Query)
	}
	for _, a := range q.Arms {
		f.query(a)
	}
	for _, s := range q.From {
		switch s.Kind {
		case stmt.SourceTable:
			f.tables = append(f.tables, dotted(s.Name))
		case stmt.SourceSubquery:
			f.query(s.Query)
		}
	}
	for _, r := range q.Refs {
		f.refs = append(f.refs, dotted(r.Parts)+[...]string{"", "@first", "@fallback"}[r.Alias])
	}
	for _, s := range q.Stars {
		f.stars = append(f.stars, strings.TrimPrefix(dotted(s.Qualifier)+".*", "."))
	}
	for _, fn := range q.Funcs {
		f.funcs = append(f.funcs, dotted(fn.Name)+":"+kindName(fn.Kind))
	}
	for _, s := range q.Subqueries {
		f.subqueries++
		f.query(s)
	}
}

func kindName(k stmt.FuncKind) string {
	return [...]string{"scalar", "aggregate", "window", "table", "keyword"}[k]
}

func dotted(parts []stmt.Ident) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = p.Name
	}
	return strings.Join(s, ".")
}

func targets(q *stmt.Query) []string {
	out := []string{}
	for _, t := range q.Targets {
		switch {
		case t.Star != nil:
			out = append(out, strings.TrimPrefix(dotted(t.Star.Qualifier)+".*", "."))
		default:
			out = append(out, t.Name.Name)
		}
	}
	return out
}

// sources renders FROM items as "kind name [as alias(cols)] [lateral]
// [using(a,b)] [natural]".
func sources(q *stmt.Query) []string {
	out := []string{}
	for _, s := range q.From {
		var b strings.Builder
		switch s.Kind {
		case stmt.SourceTable:
			b.WriteString("table " + dotted(s.Name))
		case stmt.SourceSubquery:
			b.WriteString("subquery")
		case stmt.SourceFunction:
			b.WriteString("function")
		}
		if s.Alias != nil {
			b.WriteString(" as " + s.Alias.Name)
		}
		if len(s.ColumnAliases) > 0 {
			b.WriteString("(" + strings.ReplaceAll(dotted(s.ColumnAliases), ".", ",") + ")")
		}
		if s.Lateral {
			b.WriteString(" lateral")
		}
		if len(s.Using) > 0 {
			b.WriteString(" using(" + strings.ReplaceAll(dotted(s.Using), ".", ",") + ")")
		}
		if s.Natural {
			b.WriteString(" natural")
		}
		out = append(out, b.String())
	}
	return out
}

func ctes(q *stmt.Query) []string {
	out := []string{}
	for _, c := range q.With {
		s := c.Name.Name
		if len(c.Columns) > 0 {
			s += "(" + strings.ReplaceAll(dotted(c.Columns), ".", ",") + ")"
		}
		out = append(out, s)
	}
	return out
}

// printCase is one entry of testdata/print.yaml.
type printCase struct {
	Name    string `yaml:"name"`
	SQL     string `yaml:"sql"`
	MaxRows int    `yaml:"max_rows"`
	Want    string `yaml:"want"`
	// Error, when set, is a substring of the expected error.
	Error string `yaml:"error"`
}

func TestPrint(t *testing.T) {
	p := New()
	for file, cases := range loadYAML[printCase](t, "print.yaml") {
		for _, c := range cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				parsed, err := p.Parse(c.SQL)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				before := collect(parsed.Describe())
				got, err := parsed.Print(c.MaxRows)
				if c.Error != "" {
					if err == nil || !strings.Contains(err.Error(), c.Error) {
						t.Fatalf("Print error = %v, want one containing %q", err, c.Error)
					}
					return
				}
				if err != nil {
					t.Fatalf("Print: %v", err)
				}
				if got != c.Want {
					t.Errorf("Print(%d) =\n  %s\nwant\n  %s", c.MaxRows, got, c.Want)
				}
				// Print leaves the tree as it was: printing again gives the
				// same text and the description is unchanged.
				again, err := parsed.Print(c.MaxRows)
				if err != nil || again != got {
					t.Errorf("second Print = %q, %v; want %q", again, err, got)
				}
				if after := collect(parsed.Describe()); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("Print changed the description")
				}
			})
		}
	}
}

// parseErrorCase is one entry of testdata/parse.yaml.
type parseErrorCase struct {
	Name    string `yaml:"name"`
	SQL     string `yaml:"sql"`
	Code    string `yaml:"code"`
	Pos     int    `yaml:"pos"`
	Message string `yaml:"message"`
}

func TestParseErrors(t *testing.T) {
	p := New()
	for file, cases := range loadYAML[parseErrorCase](t, "parse.yaml") {
		for _, c := range cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				parsed, err := p.Parse(c.SQL)
				if err == nil {
					t.Fatalf("Parse succeeded: %+v", parsed.Describe())
				}
				var pe *stmt.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T %v is not a *stmt.ParseError", err, err)
				}
				if pe.Code != c.Code || pe.Pos != c.Pos || !strings.Contains(pe.Message, c.Message) {
					t.Errorf("got %s at %d: %q; want %s at %d containing %q", pe.Code, pe.Pos, pe.Message, c.Code, c.Pos, c.Message)
				}
			})
		}
	}
}

func TestDialect(t *testing.T) {
	d := New().Dialect()
	if d.Name != "postgresql" || d.CaseInsensitive || !d.WholeRowRefs || d.SystemTablePrefix != "pg_" {
		t.Errorf("dialect = %+v", d)
	}
	for _, s := range []string{"pg_catalog", "information_schema", "pg_toast"} {
		if !slices.Contains(d.SystemSchemas, s) {
			t.Errorf("system schema %s missing", s)
		}
	}
	if !slices.Equal(d.FunctionSchemas, []string{"pg_catalog"}) {
		t.Errorf("function schemas = %v", d.FunctionSchemas)
	}
	// Every name the grammar turns syntax into (EXTRACT, TRIM, SUBSTRING
	// ... FROM, AT TIME ZONE, LIKE ... ESCAPE, SIMILAR TO, OVERLAPS, IS
	// NORMALIZED, XMLEXISTS) and the analyst basics must be allowed.
	for _, f := range []string{
		"extract", "btrim", "ltrim", "rtrim", "substring", "position", "overlay", "timezone",
		"like_escape", "similar_to_escape", "overlaps", "normalize", "is_normalized", "xmlexists",
		"count", "sum", "avg", "min", "max", "string_agg", "array_agg", "jsonb_agg", "json_object_agg",
		"percentile_cont", "percentile_disc", "mode", "bool_and", "stddev", "var_samp", "corr", "regr_slope",
		"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
		"first_value", "last_value", "nth_value", "date_trunc", "date_part", "age", "now", "make_date",
		"make_interval", "to_char", "to_date", "to_timestamp", "date_bin", "lower", "upper", "length",
		"split_part", "regexp_replace", "concat_ws", "generate_series", "unnest", "jsonb_array_elements",
		"jsonb_each_text", "jsonb_extract_path_text", "jsonb_build_object", "to_jsonb", "row_to_json",
		"jsonb_path_query", "jsonb_typeof", "current_date", "current_timestamp", "localtimestamp",
	} {
		if !d.Functions[f] {
			t.Errorf("function %s is not allowed", f)
		}
	}
	// Anything that sleeps, reads files or server state, writes, locks or
	// tells who is asking must stay out.
	for _, f := range []string{
		"pg_sleep", "pg_sleep_for", "pg_sleep_until", "pg_read_file", "pg_read_binary_file", "pg_ls_dir",
		"pg_ls_waldir", "pg_stat_file", "lo_import", "lo_export", "lo_get", "dblink", "dblink_exec",
		"set_config", "current_setting", "nextval", "setval", "currval", "lastval", "setseed",
		"pg_advisory_lock", "pg_try_advisory_lock", "pg_cancel_backend", "pg_terminate_backend",
		"pg_reload_conf", "pg_rotate_logfile", "txid_current", "pg_current_xact_id", "query_to_xml",
		"table_to_xml", "database_to_xml", "cursor_to_xml", "version", "inet_client_addr",
		"inet_server_addr", "current_user", "session_user", "user", "current_role", "system_user",
		"current_schema", "current_schemas", "current_catalog", "current_database", "pg_backend_pid",
		"has_table_privilege", "pg_get_viewdef", "pg_get_functiondef", "pg_relation_size",
		"pg_database_size", "pg_total_relation_size", "ts_stat", "ts_rewrite", "to_regclass",
		"pg_typeof", "format_type", "obj_description",
	} {
		if d.Functions[f] {
			t.Errorf("function %s must not be allowed", f)
		}
	}
	for f := range d.Functions {
		if strings.HasPrefix(f, "pg_") || strings.HasPrefix(f, "lo_") || strings.HasPrefix(f, "inet_") ||
			strings.HasPrefix(f, "txid") || strings.HasPrefix(f, "has_") || strings.HasPrefix(f, "dblink") ||
			strings.HasSuffix(f, "_to_xml") {
			t.Errorf("function %s is in a family that must stay out", f)
		}
	}
}

// TestConcurrentUse parses, describes and prints from several goroutines
// at once; run with -race to check the adapter shares no state.
func TestConcurrentUse(t *testing.T) {
	p := New()
	queries := []string{
		"SELECT o.id, sum(i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id",
		"WITH t AS (SELECT 1 AS a) SELECT a FROM t UNION ALL SELECT 2 ORDER BY 1 LIMIT 1000",
		"SELECT * FROM generate_series(now() - interval '7 days', now(), '1 day') AS g(day)",
	}
	want := make([]string, len(queries))
	for i, q := range queries {
		parsed, err := p.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if want[i], err = parsed.Print(50); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				i := k % len(queries)
				parsed, err := p.Parse(queries[i])
				if err != nil {
					t.Error(err)
					return
				}
				parsed.Describe()
				if got, err := parsed.Print(50); err != nil || got != want[i] {
					t.Errorf("Print = %q, %v; want %q", got, err, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestHiddenReads checks that a table read from any clause (window frames,
// FILTER, aggregate ORDER BY, LIMIT, JSON_TABLE PASSING, TABLESAMPLE, ...)
// reaches the description.
func TestHiddenReads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "hidden_reads.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		parsed, err := p.Parse(line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		f := collect(parsed.Describe())
		if len(f.findings) > 0 || !slices.Contains(f.tables, "users") {
			t.Errorf("%s\n  findings %v, tables %v; want no findings and users among the tables", line, f.findings, f.tables)
		}
	}
	if n < 30 {
		t.Fatalf("only %d statements in hidden_reads.txt", n)
	}
}

// TestDeepNesting checks that statements nested beyond stmt.MaxNesting
// are refused as TOO_COMPLEX, and never printed: libpg_query recurses in C
// once per level, on the thread's stack, and overflowing it kills the
// process. Long operator chains are refused before the parser sees them;
// statements the measure lets through but whose tree is still too deep are
// refused by the coverage net. Deep but reasonable nesting still works end
// to end.
func TestDeepNesting(t *testing.T) {
	p := New()
	for _, sql := range []string{
		"SELECT 1" + strings.Repeat("+1", 24000),
		"SELECT 'a'" + strings.Repeat("||'a'", 25000),
		"SELECT 1" + strings.Repeat("::int", 1500),
		"SELECT 1" + strings.Repeat(" UNION SELECT 1", 1500),
		"SELECT 1 FROM t" + strings.Repeat(" JOIN t ON true", 1500),
		"SELECT " + strings.Repeat("coalesce(", 2000) + "1" + strings.Repeat(")", 2000),
		"SELECT 1 WHERE " + strings.Repeat("NOT ", 1200) + "true",
	} {
		_, err := p.Parse(sql)
		var pe *stmt.ParseError
		if !errors.As(err, &pe) || pe.Code != stmt.CodeTooComplex || pe.Pos < 0 || pe.Pos >= len(sql) {
			t.Errorf("%.30s... (%d bytes): got %v, want TOO_COMPLEX with a position", sql, len(sql), err)
		}
	}
	for _, sql := range []string{
		"SELECT " + strings.Repeat("1+", 600) + "1",
		"SELECT " + strings.Repeat("(SELECT ", 300) + "1" + strings.Repeat(")", 300),
	} {
		parsed, err := p.Parse(sql)
		if err != nil {
			t.Errorf("%.30s...: %v", sql, err)
			continue
		}
		found := false
		for _, f := range parsed.Describe().Findings {
			found = found || f.Code == stmt.CodeTooComplex
		}
		if !found {
			t.Errorf("%.30s... (%d bytes): findings %+v lack TOO_COMPLEX", sql, len(sql), parsed.Describe().Findings)
		}
		if _, err := parsed.Print(0); err == nil {
			t.Errorf("%.30s...: printed", sql)
		}
	}
	// A subtree refused for another reason is not searched for depth, so a
	// refused statement must not reach the deparser either.
	deepDelete := "WITH d AS (DELETE FROM orders WHERE " + strings.Repeat("1+", 900) + "1 = 0 RETURNING id) SELECT id FROM d"
	if parsed, err := p.Parse(deepDelete); err != nil {
		t.Errorf("deep delete: %v", err)
	} else if _, err := parsed.Print(0); err == nil {
		t.Errorf("deep delete: printed")
	}
	for _, sql := range []string{
		"SELECT " + strings.Repeat("1+", 300) + "1",
		"SELECT " + strings.Repeat("(SELECT ", 100) + "1" + strings.Repeat(")", 100),
		"SELECT " + strings.Repeat("ARRAY[", 200) + "1" + strings.Repeat("]", 200),
		// Long flat lists are not deep, however long.
		"SELECT 1 WHERE " + strings.Repeat("true AND ", 3000) + "true",
		"SELECT 1 WHERE 1 IN (" + strings.Repeat("1, ", 5000) + "1)",
		"SELECT " + strings.Repeat("1+1, ", 3000) + "1",
	} {
		parsed, err := p.Parse(sql)
		if err != nil {
			t.Errorf("%.30s...: %v", sql, err)
			continue
		}
		if st := parsed.Describe(); len(st.Findings) > 0 {
			t.Errorf("%.30s...: findings %+v", sql, st.Findings)
		}
		if _, err := parsed.Print(100); err != nil {
			t.Errorf("%.30s...: Print: %v", sql, err)
		}
	}
}

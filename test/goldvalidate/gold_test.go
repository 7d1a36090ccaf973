package goldvalidate

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// minAccepted is the share of gold queries that must be accepted, overall,
// in every dialect, and in every set of at least minSetSize queries (in a
// smaller set one refusal alone would cross it; those count in their
// dialect's share).
const (
	minAccepted = 0.995
	minSetSize  = 100
)

// goldPolicy allows every table. Generators sized by the data
// (generate_series between a table's first and last date) are allowed, as
// for a database whose dry run has a cost ceiling: the gold measures how
// much analyst SQL each dialect reads, not the work bounds.
func goldPolicy() *validate.Policy {
	p := validate.DefaultPolicy()
	unsized := true
	p.UnsizedGenerators = &unsized
	return p
}

// EnvReport names a file to write the rejection report to; by default it
// goes to text2sql-goldvalidate/report.txt under the system temp directory.
const EnvReport = "GOLDVALIDATE_REPORT"

type goldSet struct {
	name      string
	catalog   func(dir string) (*schema.Catalog, error)
	questions func(dir string) ([]benchdata.Question, error)
}

func sets() []goldSet {
	defog := func(set string) func(string) ([]benchdata.Question, error) {
		return func(dir string) ([]benchdata.Question, error) { return benchdata.DefogQuestions(dir, set) }
	}
	return []goldSet{
		{benchdata.SetBirdPostgres, benchdata.BirdPostgresCatalog,
			func(dir string) ([]benchdata.Question, error) {
				return benchdata.BirdQuestions(dir, schema.DialectPostgres)
			}},
		{benchdata.SetBirdMySQL, benchdata.BirdMySQLCatalog,
			func(dir string) ([]benchdata.Question, error) {
				return benchdata.BirdQuestions(dir, schema.DialectMySQL)
			}},
		{benchdata.SetSpiderMan, benchdata.SpiderManCatalog, benchdata.SpiderManQuestions},
		{benchdata.SetBirdSQLite, benchdata.BirdSQLiteCatalog,
			func(dir string) ([]benchdata.Question, error) {
				return benchdata.BirdQuestions(dir, schema.DialectSQLite)
			}},
		{benchdata.SetSpiderDev, benchdata.SpiderCatalog, benchdata.SpiderDevQuestions},
		{benchdata.SetSpider2Local, benchdata.Spider2LocalCatalog, benchdata.Spider2LocalQuestions},
		{benchdata.SetDefogQuestionsGen, benchdata.DefogCatalog, defog(benchdata.SetDefogQuestionsGen)},
		{benchdata.SetDefogInstructBasic, benchdata.DefogCatalog, defog(benchdata.SetDefogInstructBasic)},
		{benchdata.SetDefogInstructAdvanced, benchdata.DefogCatalog, defog(benchdata.SetDefogInstructAdvanced)},
	}
}

// outcome is the verdict on one concrete gold query.
type outcome struct {
	set, id, db string
	dialect     string
	alt         int
	sql         string
	res         *validate.Result
	wantTables  []string
	// tablesUnknown: no independent parser read the gold's tables.
	tablesUnknown bool
}

func (o outcome) label() string { return fmt.Sprintf("%s %s#%d (%s)", o.set, o.id, o.alt, o.db) }

// concrete returns a gold query's concrete forms: Defog's column sets
// expanded, anything else as is.
func concrete(q *benchdata.Question, g benchdata.Gold) ([]string, error) {
	if q.Dialect != schema.DialectPostgres {
		return []string{g.SQL}, nil
	}
	return benchdata.ExpandColumnSets(g.SQL)
}

// run validates every concrete gold query of set s against cat, with every
// table of its database allowed.
func run(t *testing.T, v *validate.Validator, s goldSet, cat *schema.Catalog, qs []benchdata.Question) []outcome {
	t.Helper()
	rules := map[string]*validate.Rules{}
	var outs []outcome
	for qi := range qs {
		q := &qs[qi]
		db := cat.Database(q.Database)
		if db == nil {
			t.Fatalf("%s %s: database %q not in the catalog", s.name, q.ID, q.Database)
		}
		r, ok := rules[db.Name]
		if !ok {
			var warnings []string
			r, warnings = goldPolicy().Compile(db)
			if len(warnings) > 0 {
				t.Errorf("%s: policy warnings: %v", db.Name, warnings)
			}
			rules[db.Name] = r
		}
		n := 0
		for _, g := range q.Gold {
			if g.Err != nil {
				t.Errorf("%s %s: gold query does not parse: %v", s.name, q.ID, g.Err)
			}
			found, missing := benchdata.Resolve(db, g.Tables)
			want := benchdata.QualifiedNames(found)
			if len(missing) > 0 {
				want = append(want, fmt.Sprintf("(missing from catalog: %v)", missing))
			}
			alts, err := concrete(q, g)
			if err != nil {
				t.Errorf("%s %s: %v", s.name, q.ID, err)
				continue
			}
			for _, sql := range alts {
				res := v.Validate(validate.Request{SQL: sql, Database: db, Rules: r})
				outs = append(outs, outcome{set: s.name, id: q.ID, db: db.Name, dialect: db.Dialect(), alt: n, sql: sql, res: res, wantTables: want, tablesUnknown: g.TablesUnknown})
				n++
			}
		}
	}
	return outs
}

func load(t *testing.T, dir string, s goldSet) (*schema.Catalog, []benchdata.Question) {
	t.Helper()
	cat, err := s.catalog(dir)
	if err != nil {
		t.Fatalf("%s: catalog: %v", s.name, err)
	}
	qs, err := s.questions(dir)
	if err != nil {
		t.Fatalf("%s: questions: %v", s.name, err)
	}
	return cat, qs
}

// TestGoldQueriesAccepted runs every gold query of the PostgreSQL, MySQL
// and SQLite sets (BIRD mini-dev in all three dialects, SpiderMan, Spider
// dev, Defog's three files with every alternative) through the validator against the derived catalogs.
func TestGoldQueriesAccepted(t *testing.T) {
	dir := benchdata.Require(t)
	v := validate.New()
	var report strings.Builder
	total, accepted := 0, 0
	perDialect := map[string][2]int{} // accepted, total
	for _, s := range sets() {
		cat, qs := load(t, dir, s)
		outs := run(t, v, s, cat, qs)
		ok, tableDiffs, unknown := 0, 0, 0
		fmt.Fprintf(&report, "== %s\n", s.name)
		for _, o := range outs {
			if !o.res.Valid {
				fmt.Fprintf(&report, "REJECTED %s\n  sql: %s\n", o.label(), o.sql)
				for _, vi := range o.res.Violations {
					fmt.Fprintf(&report, "  %s at %d:%d: %s\n", vi.Code, vi.Line, vi.Column, vi.Message)
				}
				continue
			}
			ok++
			if o.tablesUnknown {
				unknown++
				continue
			}
			got := append([]string{}, o.res.Tables...)
			sort.Strings(got)
			if !reflect.DeepEqual(got, o.wantTables) && !(len(got) == 0 && len(o.wantTables) == 0) {
				tableDiffs++
				fmt.Fprintf(&report, "TABLES %s: validator %v, gold %v\n  sql: %s\n", o.label(), got, o.wantTables, o.sql)
				t.Errorf("%s: validator reports tables %v, the gold query reads %v", o.label(), got, o.wantTables)
			}
		}
		share := float64(ok) / float64(len(outs))
		line := fmt.Sprintf("%s: %d of %d gold queries accepted (%.2f%%), %d table-set differences", s.name, ok, len(outs), 100*share, tableDiffs)
		if unknown > 0 {
			line += fmt.Sprintf(", %d accepted without an independent table list", unknown)
		}
		fmt.Fprintln(&report, line)
		t.Log(line)
		for _, o := range outs {
			d := perDialect[o.dialect]
			if o.res.Valid {
				d[0]++
			}
			d[1]++
			perDialect[o.dialect] = d
		}
		if len(outs) == 0 {
			t.Errorf("%s: no gold queries", s.name)
		} else if share < minAccepted && len(outs) >= minSetSize {
			t.Errorf("%s: acceptance %.2f%% is below %.1f%%", s.name, 100*share, 100*minAccepted)
		}
		total += len(outs)
		accepted += ok
	}
	if total == 0 {
		t.Fatal("no gold queries at all")
	}
	dialects := make([]string, 0, len(perDialect))
	for d := range perDialect {
		dialects = append(dialects, d)
	}
	sort.Strings(dialects)
	for _, d := range dialects {
		c := perDialect[d]
		share := float64(c[0]) / float64(c[1])
		line := fmt.Sprintf("dialect %s: %d of %d gold queries accepted (%.2f%%)", d, c[0], c[1], 100*share)
		fmt.Fprintln(&report, line)
		t.Log(line)
		if share < minAccepted {
			t.Errorf("dialect %s: acceptance %.2f%% is below %.1f%%", d, 100*share, 100*minAccepted)
		}
	}
	share := float64(accepted) / float64(total)
	line := fmt.Sprintf("overall: %d of %d gold queries accepted (%.2f%%)", accepted, total, 100*share)
	fmt.Fprintln(&report, line)
	t.Log(line)
	if share < minAccepted {
		t.Errorf("overall acceptance %.2f%% is below %.1f%%", 100*share, 100*minAccepted)
	}
	writeReport(t, report.String())
}

// TestAcceptanceNeedsTheRightCatalog guards the acceptance test against
// passing for the wrong reason: the same gold queries against catalogs that
// are slightly wrong must be refused in large numbers. Dropping each
// table's first column (usually its key) must break many queries in every
// set; and BIRD's PostgreSQL queries must fail against the published
// spelling, which is why the catalog applies PostgreSQL's case folding.
func TestAcceptanceNeedsTheRightCatalog(t *testing.T) {
	dir := benchdata.Require(t)
	v := validate.New()
	rejected := func(outs []outcome) float64 {
		n := 0
		for _, o := range outs {
			if !o.res.Valid {
				n++
			}
		}
		return float64(n) / float64(len(outs))
	}
	for _, s := range sets() {
		cat, qs := load(t, dir, s)
		for _, db := range cat.Databases {
			for _, tb := range db.Tables {
				tb.Columns = tb.Columns[1:]
			}
			db.Index()
		}
		if r := rejected(run(t, v, s, cat, qs)); r < 0.2 {
			t.Errorf("%s: with every first column dropped only %.1f%% of gold queries are refused", s.name, 100*r)
		} else {
			t.Logf("%s: %.1f%% refused with every first column dropped", s.name, 100*r)
		}
	}
	s := sets()[0]
	published, err := benchdata.BirdMySQLCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range published.Databases {
		db.Backend, db.DefaultSchema = "postgresql", "public"
		for _, tb := range db.Tables {
			tb.Schema = "public"
		}
		db.Index()
	}
	_, qs := load(t, dir, s)
	if r := rejected(run(t, v, s, published, qs)); r < 0.2 {
		t.Errorf("%s: against the published (unfolded) spelling only %.1f%% are refused", s.name, 100*r)
	} else {
		t.Logf("%s: %.1f%% refused against the published (unfolded) spelling", s.name, 100*r)
	}
}

// writeReport writes the report where EnvReport says (or under the temp
// directory) and logs the rejections so they show in a failing run.
func writeReport(t *testing.T, text string) {
	t.Helper()
	path := os.Getenv(EnvReport)
	if path == "" {
		path = filepath.Join(os.TempDir(), "text2sql-goldvalidate", "report.txt")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("report: %v", err)
		return
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Errorf("report: %v", err)
		return
	}
	t.Logf("report written to %s", path)
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "REJECTED") || strings.HasPrefix(l, "  ") {
			t.Log(l)
		}
	}
}

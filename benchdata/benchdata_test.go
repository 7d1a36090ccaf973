package benchdata

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

// The benchmark files are read once per test binary; loading parses a few
// thousand queries and about a thousand CREATE TABLEs.
var (
	loadOnce sync.Once
	loaded   struct {
		spider, spiderMan, birdPG, birdMy, defog *schema.Catalog
		warehouse                                *schema.Database
		sets                                     map[string][]Question
		err                                      error
	}
)

func load(t *testing.T) {
	t.Helper()
	dir := Require(t)
	loadOnce.Do(func() {
		l := &loaded
		steps := []func() error{
			func() (err error) { l.spider, err = SpiderCatalog(dir); return },
			func() (err error) { l.spiderMan, err = SpiderManCatalog(dir); return },
			func() (err error) { l.birdPG, err = BirdPostgresCatalog(dir); return },
			func() (err error) { l.birdMy, err = BirdMySQLCatalog(dir); return },
			func() (err error) { l.defog, err = DefogCatalog(dir); return },
			func() (err error) { l.warehouse, err = Warehouse(dir); return },
		}
		l.sets = map[string][]Question{}
		set := func(name string, f func() ([]Question, error)) func() error {
			return func() error {
				qs, err := f()
				l.sets[name] = qs
				return err
			}
		}
		steps = append(steps,
			set(SetBirdPostgres, func() ([]Question, error) { return BirdQuestions(dir, schema.DialectPostgres) }),
			set(SetBirdMySQL, func() ([]Question, error) { return BirdQuestions(dir, schema.DialectMySQL) }),
			set(SetSpiderDev, func() ([]Question, error) { return SpiderDevQuestions(dir) }),
			set(SetSpiderMan, func() ([]Question, error) { return SpiderManQuestions(dir) }),
		)
		for s := range DefogFiles {
			steps = append(steps, set(s, func() ([]Question, error) { return DefogQuestions(dir, s) }))
		}
		for _, f := range steps {
			if err := f(); err != nil {
				l.err = err
				return
			}
		}
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
}

func countTables(c *schema.Catalog) int {
	n := 0
	for _, d := range c.Databases {
		n += len(d.Tables)
	}
	return n
}

func countFKColumns(c *schema.Catalog) int {
	n := 0
	for _, d := range c.Databases {
		for _, t := range d.Tables {
			for _, fk := range t.ForeignKeys {
				n += len(fk.Columns)
			}
		}
	}
	return n
}

func TestCatalogCounts(t *testing.T) {
	load(t)
	dir := Require(t)
	// Expected figures are computed from the source files themselves, so a
	// derivation that drops or invents tables fails.
	spiderJSON, err := readSpiderTables(filepath.Join(dir, "spider_dev", "tables.json"))
	if err != nil {
		t.Fatal(err)
	}
	birdJSON, err := readSpiderTables(filepath.Join(dir, birdRelease, "dev_tables.json"))
	if err != nil {
		t.Fatal(err)
	}
	sumTables := func(dbs []spiderDB) (n, fks int) {
		for _, d := range dbs {
			n += len(d.TableNamesOriginal)
			fks += len(d.ForeignKeys)
		}
		return
	}
	spiderTables, _ := sumTables(spiderJSON)
	birdTables, birdFKs := sumTables(birdJSON)
	ddlTables := func(glob string) int {
		files, err := filepath.Glob(filepath.Join(dir, glob))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n += strings.Count(strings.ToUpper(string(b)), "CREATE TABLE")
		}
		return n
	}

	cases := []struct {
		name        string
		cat         *schema.Catalog
		dbs, tables int
		backend     string
	}{
		{"spider", loaded.spider, 166, spiderTables, "sqlite"},
		{"spiderman", loaded.spiderMan, 157, ddlTables("spiderman_mysql/databases/*/schema.sql"), "mysql"},
		{"bird postgresql", loaded.birdPG, 11, birdTables, "postgresql"},
		{"bird mysql", loaded.birdMy, 11, birdTables, "mysql"},
		{"defog", loaded.defog, 11, ddlTables("defog_sql_eval/databases/*/*.sql"), "postgresql"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := len(c.cat.Databases); got != c.dbs {
				t.Errorf("databases = %d, want %d", got, c.dbs)
			}
			if got := countTables(c.cat); got != c.tables {
				t.Errorf("tables = %d, want %d", got, c.tables)
			}
			for _, d := range c.cat.Databases {
				if d.Backend != c.backend {
					t.Errorf("%s: backend %q, want %q", d.Name, d.Backend, c.backend)
				}
				for _, tb := range d.Tables {
					if len(tb.Columns) == 0 {
						t.Errorf("%s.%s has no columns", d.Name, tb.QualifiedName())
					}
				}
			}
			if err := c.cat.Normalize(); err != nil {
				t.Errorf("Normalize: %v", err)
			}
			checkKeys(t, c.cat)
			t.Logf("%d databases, %d tables, %d foreign-key columns", len(c.cat.Databases), countTables(c.cat), countFKColumns(c.cat))
		})
	}
	t.Run("bird foreign keys", func(t *testing.T) {
		for _, c := range []*schema.Catalog{loaded.birdPG, loaded.birdMy} {
			if got := countFKColumns(c); got != birdFKs {
				t.Errorf("foreign key columns = %d, want %d (one per published pair)", got, birdFKs)
			}
		}
	})
	t.Run("warehouse", func(t *testing.T) {
		w := loaded.warehouse
		want := countTables(loaded.spider) + countTables(loaded.birdPG) + countTables(loaded.defog)
		if len(w.Tables) != want {
			t.Errorf("warehouse tables = %d, want %d", len(w.Tables), want)
		}
		t.Logf("warehouse: %d tables", len(w.Tables))
		if len(w.Tables) < 900 {
			t.Errorf("warehouse has %d tables; it is meant to be about a thousand", len(w.Tables))
		}
		c := &schema.Catalog{Databases: []*schema.Database{w}}
		if err := c.Normalize(); err != nil {
			t.Errorf("Normalize: %v", err)
		}
		checkKeys(t, c)
		schemas := map[string]bool{}
		for _, tb := range w.Tables {
			schemas[tb.Schema] = true
		}
		if len(schemas) < 166+11+11 {
			t.Errorf("warehouse has %d schemas, want one per benchmark database (%d)", len(schemas), 166+11+11)
		}
	})
}

// checkKeys asserts that every key names real columns and every foreign key
// points at a real table and columns.
func checkKeys(t *testing.T, c *schema.Catalog) {
	t.Helper()
	var bad []string
	for _, d := range c.Databases {
		for _, tb := range d.Tables {
			for _, k := range tb.PrimaryKey {
				if tb.Column(k) == nil {
					bad = append(bad, fmt.Sprintf("%s: %s: primary key column %q", d.Name, tb.QualifiedName(), k))
				}
			}
			for _, fk := range tb.ForeignKeys {
				for _, k := range fk.Columns {
					if tb.Column(k) == nil {
						bad = append(bad, fmt.Sprintf("%s: %s: foreign key column %q", d.Name, tb.QualifiedName(), k))
					}
				}
				ref := d.Table(fk.References.Schema, fk.References.Table)
				if ref == nil && d.Dialect() != schema.DialectPostgres {
					if ts := d.TablesFold(fk.References.Schema, fk.References.Table); len(ts) == 1 {
						ref = ts[0]
					}
				}
				if ref == nil {
					bad = append(bad, fmt.Sprintf("%s: %s: foreign key to missing %s.%s", d.Name, tb.QualifiedName(), fk.References.Schema, fk.References.Table))
					continue
				}
				for _, k := range fk.References.Columns {
					if ref.ColumnFold(k) == nil {
						bad = append(bad, fmt.Sprintf("%s: %s: foreign key to missing column %s.%s", d.Name, tb.QualifiedName(), ref.QualifiedName(), k))
					}
				}
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d key problems:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

func TestQuestionCounts(t *testing.T) {
	load(t)
	want := map[string]int{
		SetBirdPostgres:          498,
		SetBirdMySQL:             498,
		SetSpiderDev:             1034,
		SetSpiderMan:             1034,
		SetDefogQuestionsGen:     210,
		SetDefogInstructBasic:    40,
		SetDefogInstructAdvanced: 64,
	}
	for set, n := range want {
		qs := loaded.sets[set]
		if len(qs) != n {
			t.Errorf("%s: %d questions, want %d", set, len(qs), n)
		}
		ids := map[string]bool{}
		for _, q := range qs {
			if ids[q.ID] {
				t.Errorf("%s: id %s twice", set, q.ID)
			}
			ids[q.ID] = true
			if q.Question == "" || q.Database == "" || len(q.Gold) == 0 {
				t.Errorf("%s %s: question, database or gold missing", set, q.ID)
			}
			for _, g := range q.Gold {
				if strings.TrimSpace(g.SQL) == "" {
					t.Errorf("%s %s: empty gold query", set, q.ID)
				}
			}
		}
	}
}

// TestBirdGoldFiles checks that the *_gold.sql files agree with the JSON
// records the questions are read from, line for line.
func TestBirdGoldFiles(t *testing.T) {
	dir := Require(t)
	for _, dialect := range []string{schema.DialectPostgres, schema.DialectMySQL} {
		lines, err := BirdGoldLines(dir, dialect)
		if err != nil {
			t.Fatal(err)
		}
		file := map[string]string{schema.DialectPostgres: "mini_dev_postgresql.json", schema.DialectMySQL: "mini_dev_mysql.json"}[dialect]
		data, err := os.ReadFile(filepath.Join(dir, birdRelease, file))
		if err != nil {
			t.Fatal(err)
		}
		var recs []birdRecord
		if err := json.Unmarshal(data, &recs); err != nil {
			t.Fatal(err)
		}
		if len(lines) != len(recs) {
			t.Fatalf("%s: %d gold lines, %d records", dialect, len(lines), len(recs))
		}
		for i, r := range recs {
			// The gold file holds each query on one line.
			want := strings.TrimSpace(strings.ReplaceAll(r.SQL, "\n", " "))
			if strings.TrimSpace(lines[i][0]) != want || lines[i][1] != r.DBID {
				t.Errorf("%s line %d (question %d): gold file differs from the record", dialect, i+1, r.QuestionID)
			}
		}
	}
}

// TestSpiderManMatchesSpiderDev checks SOURCES.md's claim that every
// SpiderMan (database, question) pair is a Spider dev question, and that the
// two independent ways of finding gold tables agree: the TiDB parser over
// SpiderMan's MySQL queries, and Spider's own parse of its SQLite queries.
func TestSpiderManMatchesSpiderDev(t *testing.T) {
	load(t)
	type key [2]string
	dev := map[key][]*Question{}
	for i := range loaded.sets[SetSpiderDev] {
		q := &loaded.sets[SetSpiderDev][i]
		k := key{q.Database, q.Question}
		dev[k] = append(dev[k], q)
	}
	lowerSet := func(names []TableName) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[strings.ToLower(n.Name)] = true
		}
		return m
	}
	used := map[key]int{}
	for _, q := range loaded.sets[SetSpiderMan] {
		k := key{q.Database, q.Question}
		if used[k] >= len(dev[k]) {
			t.Errorf("SpiderMan row %s (%s: %q) is not a Spider dev question", q.ID, q.Database, q.Question)
			continue
		}
		used[k]++
		mine := lowerSet(q.Tables())
		agree := false
		for _, d := range dev[k] {
			if reflect.DeepEqual(lowerSet(d.Tables()), mine) {
				agree = true
			}
		}
		if !agree {
			t.Errorf("SpiderMan row %s (%s): MySQL gold reads %v, Spider's parse names %v", q.ID, q.Database, q.Tables(), dev[k][0].Tables())
		}
	}
}

// catalogFor returns the catalog a question set's databases live in.
func catalogFor(set string) *schema.Catalog {
	switch set {
	case SetBirdPostgres:
		return loaded.birdPG
	case SetBirdMySQL:
		return loaded.birdMy
	case SetSpiderDev:
		return loaded.spider
	case SetSpiderMan:
		return loaded.spiderMan
	}
	return loaded.defog
}

// TestGoldTablesInCatalogs parses every gold query with its dialect's parser
// and checks that each table it reads exists in the derived catalog.
func TestGoldTablesInCatalogs(t *testing.T) {
	load(t)
	for set, qs := range loaded.sets {
		t.Run(set, func(t *testing.T) {
			cat := catalogFor(set)
			var parseErrs, misses []string
			for _, q := range qs {
				db := cat.Database(q.Database)
				if db == nil {
					misses = append(misses, fmt.Sprintf("%s: database %q not in catalog", q.ID, q.Database))
					continue
				}
				for i, g := range q.Gold {
					if g.Err != nil {
						parseErrs = append(parseErrs, fmt.Sprintf("%s#%d: %v", q.ID, i, g.Err))
						continue
					}
					if len(g.Tables) == 0 && !strings.Contains(strings.ToUpper(g.SQL), "FROM") {
						continue
					}
					if len(g.Tables) == 0 {
						misses = append(misses, fmt.Sprintf("%s#%d: no tables read from %q", q.ID, i, g.SQL))
					}
					_, missing := Resolve(db, g.Tables)
					for _, m := range missing {
						misses = append(misses, fmt.Sprintf("%s#%d (%s): table %s not in catalog", q.ID, i, q.Database, m))
					}
				}
			}
			if len(parseErrs) > 0 {
				t.Errorf("%d gold queries the parser rejects:\n%s", len(parseErrs), strings.Join(parseErrs, "\n"))
			}
			if len(misses) > 0 {
				t.Errorf("%d gold tables missing from the catalog:\n%s", len(misses), strings.Join(misses, "\n"))
			}
		})
	}
}

// TestWarehouseHoldsGoldTables maps each question's gold tables into the
// warehouse and checks they are there, which is what a warehouse-scale
// linking measurement relies on.
func TestWarehouseHoldsGoldTables(t *testing.T) {
	load(t)
	w := loaded.warehouse
	sets := []struct {
		set, bench string
		cat        *schema.Catalog
	}{
		{SetBirdPostgres, BenchBird, loaded.birdPG},
		{SetSpiderDev, BenchSpider, loaded.spider},
		{SetDefogQuestionsGen, BenchDefog, loaded.defog},
		{SetDefogInstructBasic, BenchDefog, loaded.defog},
		{SetDefogInstructAdvanced, BenchDefog, loaded.defog},
	}
	for _, s := range sets {
		var miss []string
		for _, q := range loaded.sets[s.set] {
			db := s.cat.Database(q.Database)
			found, _ := Resolve(db, q.Tables())
			for _, tb := range found {
				ws := WarehouseSchema(s.bench, db.Name, tb.Schema, db.DefaultSchema)
				if len(w.TablesFold(ws, tb.Name)) != 1 {
					miss = append(miss, fmt.Sprintf("%s %s: %s.%s", s.set, q.ID, ws, tb.Name))
				}
			}
		}
		if len(miss) > 0 {
			t.Errorf("%d gold tables missing from the warehouse:\n%s", len(miss), strings.Join(miss, "\n"))
		}
	}
}

// TestDefogAlternatives checks the split and expansion of Defog's gold
// text over the whole files: every concrete alternative parses as one
// PostgreSQL statement, and splitting never cuts a literal (the pieces
// rejoin to the published text).
func TestDefogAlternatives(t *testing.T) {
	load(t)
	total, multi := 0, 0
	for set := range DefogFiles {
		for _, q := range loaded.sets[set] {
			if len(q.Gold) > 1 {
				multi++
			}
			for _, alt := range q.Alternatives() {
				total++
				names, err := ReadTables(schema.DialectPostgres, alt)
				if err != nil {
					t.Errorf("%s %s: alternative does not parse: %v\n%s", set, q.ID, err, alt)
				}
				if len(names) == 0 {
					t.Errorf("%s %s: alternative reads no table: %s", set, q.ID, alt)
				}
				if strings.ContainsAny(alt, "{}") && !strings.Contains(alt, "'") {
					t.Errorf("%s %s: braces left after expansion: %s", set, q.ID, alt)
				}
			}
		}
	}
	t.Logf("Defog PostgreSQL: %d concrete gold alternatives; %d questions with several gold queries", total, multi)
	if multi == 0 {
		t.Error("no Defog question has several gold queries; splitting is broken")
	}
}

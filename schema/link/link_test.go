package link

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
)

func loadShop(t testing.TB) *schema.Database {
	t.Helper()
	c, err := schema.LoadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Databases[0]
}

func newLinker(t testing.TB, opts Options) *Linker {
	t.Helper()
	tok, err := NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	return New(tok, opts)
}

type linkCase struct {
	Name     string            `yaml:"name"`
	Question string            `yaml:"question"`
	Budget   int               `yaml:"budget"`
	Top      []string          `yaml:"top"`
	Include  []string          `yaml:"include"`
	Exclude  []string          `yaml:"exclude"`
	Reasons  map[string]string `yaml:"reasons"`
}

func TestCases(t *testing.T) {
	data, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []linkCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	db := loadShop(t)
	l := newLinker(t, Options{})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			budget := tc.Budget
			if budget == 0 {
				budget = 2000
			}
			res, err := l.Link(db, Query{Question: tc.Question, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			names := res.Names()
			if len(names) < len(tc.Top) {
				t.Fatalf("linked %v, want %v first", names, tc.Top)
			}
			if got := slices.Sorted(slices.Values(names[:len(tc.Top)])); !slices.Equal(got, slices.Sorted(slices.Values(tc.Top))) {
				t.Errorf("first %d tables %v, want %v (all: %v)", len(tc.Top), names[:len(tc.Top)], tc.Top, names)
			}
			for _, n := range tc.Include {
				if !slices.Contains(names, n) {
					t.Errorf("%s not linked: %v", n, names)
				}
			}
			for _, n := range tc.Exclude {
				if slices.Contains(names, n) {
					t.Errorf("%s linked: %v", n, names)
				}
			}
			for n, want := range tc.Reasons {
				for _, lt := range res.Tables {
					if lt.Name == n && lt.Reason != want {
						t.Errorf("%s linked for %q, want %q", n, lt.Reason, want)
					}
				}
			}
		})
	}
}

// The text holds exactly the linked tables, in order, and its token count
// is exact and within budget, however small the budget.
func TestBudgetRespected(t *testing.T) {
	db := loadShop(t)
	l := newLinker(t, Options{MinScoreRatio: -1})
	questions := []string{
		"Which products did each customer buy?",
		"What was the total revenue of each campaign?",
		"Show each employee with the name of their department.",
		"orders customers products categories shipments warehouses campaigns employees",
	}
	for _, q := range questions {
		prev := -1
		for _, budget := range []int{1, 10, 25, 40, 60, 100, 150, 250, 400, 700, 1200, 5000} {
			res, err := l.Link(db, Query{Question: q, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tokens > budget {
				t.Errorf("%q budget %d: %d tokens", q, budget, res.Tokens)
			}
			if n := l.Tokenizer().Count(res.Text); n != res.Tokens {
				t.Errorf("%q budget %d: Tokens %d, text counts %d", q, budget, res.Tokens, n)
			}
			var created []string
			for _, line := range strings.Split(res.Text, "\n") {
				if name, ok := strings.CutPrefix(line, "CREATE TABLE "); ok {
					created = append(created, strings.TrimSuffix(name, " ("))
				}
			}
			var want []string
			r := renderer{dialect: db.Dialect()}
			for _, lt := range res.Tables {
				want = append(want, r.tableName(lt.Table.Catalog, lt.Table.Schema, lt.Table.Name))
			}
			if !slices.Equal(created, want) {
				t.Errorf("%q budget %d: text creates %v, result lists %v", q, budget, created, want)
			}
			if len(res.Tables) < prev && budget > 100 {
				t.Logf("%q: fewer tables at budget %d (%d) than before (%d)", q, budget, len(res.Tables), prev)
			}
			prev = len(res.Tables)
		}
		// A budget large enough for everything links the tables with
		// evidence; a tiny one links none rather than overflow.
		tiny, _ := l.Link(db, Query{Question: q, Budget: 1})
		if len(tiny.Tables) != 0 || tiny.Text != "" {
			t.Errorf("%q budget 1: linked %v", q, tiny.Names())
		}
	}
}

// Hiding a table must leave the result exactly as if the table were not in
// the catalog at all: it is not linked, not rendered, not named by another
// table's foreign key, not walked through on a join path, and its words do
// not change anyone's score.
func TestHiddenTablesHaveNoInfluence(t *testing.T) {
	questions := []string{
		"Which products did each customer buy?",
		"How many orders did each customer place?",
		"How many archived orders were returned?",
		"Which city is the warehouse of shipment 17 in?",
	}
	for _, hidden := range []string{"sales.orders", "archive.orders", "ops.warehouses", "sales.order_items"} {
		full := loadShop(t)
		without := loadShop(t)
		without.Tables = slices.DeleteFunc(without.Tables, func(t *schema.Table) bool { return t.QualifiedName() == hidden })
		without.Index()
		l := newLinker(t, Options{})
		for _, q := range questions {
			got, err := l.Link(full, Query{Question: q, Budget: 2000, Visibility: testVisibility{db: full, table: func(t *schema.Table) bool { return t.QualifiedName() != hidden }}})
			if err != nil {
				t.Fatal(err)
			}
			want, err := l.Link(without, Query{Question: q, Budget: 2000})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(got.Names(), hidden) {
				t.Errorf("hidden %s linked for %q", hidden, q)
			}
			// The hidden name must not appear anywhere: not as a table,
			// not as a foreign key's target.
			r := renderer{dialect: full.Dialect()}
			s, n, _ := strings.Cut(hidden, ".")
			if strings.Contains(got.Text, r.tableName("", s, n)+" ") {
				t.Errorf("hidden %s named in the text for %q:\n%s", hidden, q, got.Text)
			}
			assertSameResult(t, hidden+": "+q, got, want)
		}
	}
}

// Denying a column must leave the result as if the column did not exist,
// with the keys that use it gone too.
func TestDeniedColumnsHaveNoInfluence(t *testing.T) {
	type deny struct{ table, column string }
	denies := []deny{
		{"sales.customers", "email"},
		{"sales.customers", "CustomerID"},
		{"sales.order_items", "unit_price"},
		{"broker.sbtransaction", "sbtxamount"},
	}
	questions := []string{
		"Which email addresses did customers give for receipts?",
		"How many orders did each customer place?",
		"What price was paid per unit for line 2?",
		"What is the total transaction amount per customer name?",
	}
	for _, d := range denies {
		full := loadShop(t)
		without := loadShop(t)
		for _, tb := range without.Tables {
			if tb.QualifiedName() == d.table {
				removeColumn(tb, d.column)
			}
			// A key elsewhere that references the column goes too.
			tb.ForeignKeys = slices.DeleteFunc(tb.ForeignKeys, func(fk schema.ForeignKey) bool {
				return fk.References.Schema+"."+fk.References.Table == d.table && slices.Contains(fk.References.Columns, d.column)
			})
		}
		l := newLinker(t, Options{})
		colVis := func(t *schema.Table, c string) bool { return !(t.QualifiedName() == d.table && c == d.column) }
		for _, q := range questions {
			got, err := l.Link(full, Query{Question: q, Budget: 2000, Visibility: testVisibility{db: full, column: colVis}})
			if err != nil {
				t.Fatal(err)
			}
			want, err := l.Link(without, Query{Question: q, Budget: 2000})
			if err != nil {
				t.Fatal(err)
			}
			r := renderer{dialect: full.Dialect()}
			for _, lt := range got.Tables {
				if lt.Name == d.table && slices.Contains(lt.Columns, d.column) {
					t.Errorf("denied %s.%s rendered for %q", d.table, d.column, q)
				}
			}
			if d.column != "CustomerID" && strings.Contains(got.Text, r.ident(d.column)) {
				t.Errorf("denied %s named in the text for %q:\n%s", d.column, q, got.Text)
			}
			assertSameResult(t, d.table+"."+d.column+": "+q, got, want)
		}
	}
}

// removeColumn drops a column and every key that uses it.
func removeColumn(t *schema.Table, col string) {
	t.Columns = slices.DeleteFunc(t.Columns, func(c schema.Column) bool { return c.Name == col })
	if slices.Contains(t.PrimaryKey, col) {
		t.PrimaryKey = nil
	}
	t.ForeignKeys = slices.DeleteFunc(t.ForeignKeys, func(fk schema.ForeignKey) bool { return slices.Contains(fk.Columns, col) })
}

func assertSameResult(t *testing.T, what string, got, want *Result) {
	t.Helper()
	if !slices.Equal(got.Names(), want.Names()) {
		t.Errorf("%s: linked %v, want %v", what, got.Names(), want.Names())
	}
	if got.Text != want.Text {
		t.Errorf("%s: text differs:\n--- got\n%s\n--- want\n%s", what, got.Text, want.Text)
	}
	if got.Tokens != want.Tokens {
		t.Errorf("%s: %d tokens, want %d", what, got.Tokens, want.Tokens)
	}
	if len(got.Candidates) != len(want.Candidates) {
		t.Errorf("%s: %d candidates, want %d", what, len(got.Candidates), len(want.Candidates))
		return
	}
	for i := range got.Candidates {
		g, w := got.Candidates[i], want.Candidates[i]
		if g.Name != w.Name || g.Score != w.Score || g.Reason != w.Reason {
			t.Errorf("%s: candidate %d is %+v, want %+v", what, i, g, w)
		}
	}
}

func TestDeterministic(t *testing.T) {
	db := loadShop(t)
	q := Query{Question: "orders of customers and their products", Budget: 600}
	first, err := newLinker(t, Options{}).Link(db, q)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		// A fresh linker builds a fresh index: map orders differ.
		again, err := newLinker(t, Options{}).Link(loadShop(t), q)
		if err != nil {
			t.Fatal(err)
		}
		assertSameResult(t, "rerun", again, first)
	}
}

func TestBadInput(t *testing.T) {
	l := newLinker(t, Options{})
	if _, err := l.Link(nil, Query{Question: "x"}); err == nil {
		t.Error("nil database: no error")
	}
	if _, err := l.Link(loadShop(t), Query{Question: "orders", Budget: -5}); err == nil {
		t.Error("negative budget: no error")
	}
	res, err := l.Link(loadShop(t), Query{Question: ""})
	if err != nil || len(res.Tables) != 0 || res.Tokens != 0 {
		t.Errorf("empty question: %v %v", res, err)
	}
	res, err = l.Link(&schema.Database{Name: "empty", Backend: "postgresql"}, Query{Question: "orders"})
	if err != nil || len(res.Tables) != 0 {
		t.Errorf("empty database: %v %v", res, err)
	}
	if _, err := NewTokenizer("p99k"); err == nil {
		t.Error("unknown encoding: no error")
	}
	// A default budget applies when the query gives none.
	res, err = newLinker(t, Options{Budget: 120}).Link(loadShop(t), Query{Question: "orders customers products"})
	if err != nil || res.Budget != 120 || res.Tokens > 120 {
		t.Errorf("default budget: %+v %v", res, err)
	}
}

func TestIndexCachedByVersion(t *testing.T) {
	l := newLinker(t, Options{})
	db := loadShop(t)
	a := l.Index(db, "")
	if b := l.Index(loadShop(t), ""); a != b {
		t.Error("same catalog content built twice")
	}
	changed := loadShop(t)
	changed.Tables[0].Description = "changed"
	if c := l.Index(changed, ""); c == a || c.Version() == a.Version() {
		t.Error("changed catalog served the old index")
	}
	// A stale version given by the caller with a different table list is
	// caught rather than misplacing tables.
	smaller := loadShop(t)
	smaller.Tables = smaller.Tables[:3]
	res, err := l.Link(smaller, Query{Question: "orders", Version: a.Version()})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Names() {
		if s, name, _ := strings.Cut(n, "."); smaller.Table(s, name) == nil {
			t.Errorf("linked %s, not in the catalog", n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	l := newLinker(t, Options{})
	db := loadShop(t)
	want, err := l.Link(db, Query{Question: "Which products did each customer buy?", Budget: 800})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := l.Link(db, Query{Question: "Which products did each customer buy?", Budget: 800})
			if err != nil {
				t.Error(err)
				return
			}
			if got.Text != want.Text {
				t.Error("concurrent result differs")
			}
		}()
	}
	wg.Wait()
}

// testVisibility hides what its functions reject (nil: nothing), and keys
// by the columns and tables they name, as validate.Rules does.
type testVisibility struct {
	table  func(*schema.Table) bool
	column func(*schema.Table, string) bool
	metric func(*schema.Table, schema.Metric) bool
	db     *schema.Database // resolves keys
}

func (v testVisibility) TableAllowed(t *schema.Table) bool { return v.table == nil || v.table(t) }

func (v testVisibility) ColumnAllowed(t *schema.Table, c string) bool {
	return v.column == nil || v.column(t, c)
}

func (v testVisibility) ForeignKeyAllowed(t *schema.Table, fk schema.ForeignKey) bool {
	ref := v.db.ForeignKeyTarget(t, fk)
	if ref == nil || !v.TableAllowed(ref) {
		return false
	}
	for _, c := range fk.Columns {
		if !v.ColumnAllowed(t, c) {
			return false
		}
	}
	for _, c := range fk.References.Columns {
		if !v.ColumnAllowed(ref, c) {
			return false
		}
	}
	return true
}

func (v testVisibility) MetricAllowed(t *schema.Table, m schema.Metric) bool {
	return v.metric == nil || v.metric(t, m)
}

// A hidden saved metric leaves the result as if the metric did not exist:
// not rendered, and no say in the ranking.
func TestHiddenMetricsHaveNoInfluence(t *testing.T) {
	questions := []string{
		"What is the number of orders per status?",
		"How many orders were placed per customer?",
		"order count by month",
	}
	full := loadShop(t)
	without := loadShop(t)
	for _, tb := range without.Tables {
		tb.Metrics = nil
	}
	hide := testVisibility{db: full, metric: func(*schema.Table, schema.Metric) bool { return false }}
	l := newLinker(t, Options{})
	for _, q := range questions {
		got, err := l.Link(full, Query{Question: q, Budget: 2000, Visibility: hide})
		if err != nil {
			t.Fatal(err)
		}
		want, err := l.Link(without, Query{Question: q, Budget: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got.Text, "metric") {
			t.Errorf("a hidden metric is rendered for %q:\n%s", q, got.Text)
		}
		assertSameResult(t, q, got, want)
	}
}

package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/link"
)

// item is one benchmark question asked of the warehouse, with the warehouse
// tables its gold query reads.
type item struct {
	set      string
	id       string
	question string
	gold     []string // "schema.table" in the warehouse
}

// corpus is the warehouse and every question whose gold tables resolve in
// it.
type corpus struct {
	warehouse *schema.Database
	version   string
	items     []item
	// skipped counts, per set, questions left out because their gold query
	// did not parse or named a table the catalog lacks.
	skipped map[string]int
}

// load reads the warehouse and the question sets: BIRD mini-dev
// (PostgreSQL), Spider dev and Defog's three PostgreSQL sets. Each
// question's gold tables are resolved in its own benchmark database and
// renamed to where Warehouse put them. withEvidence appends the hint a
// benchmark publishes with a question (BIRD's evidence, Defog's
// instructions) to the question text.
func load(dir string, withEvidence bool) (*corpus, error) {
	w, err := benchdata.Warehouse(dir)
	if err != nil {
		return nil, err
	}
	c := &corpus{warehouse: w, version: w.Version(), skipped: map[string]int{}}

	type source struct {
		bench   string
		catalog func(string) (*schema.Catalog, error)
		qs      func(string) ([]benchdata.Question, error)
		name    func(string) string
	}
	same := func(s string) string { return s }
	sources := []source{
		{benchdata.BenchBird, benchdata.BirdPostgresCatalog, func(d string) ([]benchdata.Question, error) {
			return benchdata.BirdQuestions(d, schema.DialectPostgres)
		}, same},
		{benchdata.BenchSpider, benchdata.SpiderCatalog, benchdata.SpiderDevQuestions, benchdata.PostgresName},
		{benchdata.BenchDefog, benchdata.DefogCatalog, benchdata.AllDefogQuestions, same},
	}
	for _, src := range sources {
		cat, err := src.catalog(dir)
		if err != nil {
			return nil, err
		}
		qs, err := src.qs(dir)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			db := cat.Database(q.Database)
			names := q.Tables()
			if db == nil || len(names) == 0 {
				c.skipped[q.Set]++
				continue
			}
			found, missing := benchdata.Resolve(db, names)
			if len(missing) > 0 {
				c.skipped[q.Set]++
				continue
			}
			var gold []string
			ok := true
			for _, t := range found {
				ws := benchdata.WarehouseSchema(src.bench, db.Name, t.Schema, db.DefaultSchema)
				wt := w.Table(ws, src.name(t.Name))
				if wt == nil {
					ok = false
					break
				}
				gold = append(gold, wt.QualifiedName())
			}
			if !ok {
				c.skipped[q.Set]++
				continue
			}
			slices.Sort(gold)
			gold = slices.Compact(gold)
			text := q.Question
			if withEvidence && strings.TrimSpace(q.Evidence) != "" {
				text += "\n" + q.Evidence
			}
			c.items = append(c.items, item{set: q.Set, id: q.ID, question: text, gold: gold})
		}
	}
	return c, nil
}

// outcome is one question linked at one budget.
type outcome struct {
	item   item
	tables []string
	tokens int
	kept   int // gold tables kept
	took   time.Duration
}

func (o outcome) all() bool { return o.kept == len(o.item.gold) }

// run links every question at budget.
func run(l *link.Linker, c *corpus, budget int) ([]outcome, error) {
	out := make([]outcome, 0, len(c.items))
	for _, it := range c.items {
		start := time.Now()
		res, err := l.Link(c.warehouse, link.Query{Question: it.question, Budget: budget, Version: c.version})
		if err != nil {
			return nil, err
		}
		o := outcome{item: it, tables: res.Names(), tokens: res.Tokens, took: time.Since(start)}
		for _, g := range it.gold {
			if slices.Contains(o.tables, g) {
				o.kept++
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// stats summarises outcomes.
type stats struct {
	n                  int
	recall             float64 // questions with every gold table kept
	tableRecall        float64 // gold tables kept
	medianTok, p90Tok  int
	meanTables         float64
	meanTook, maxTook  time.Duration
	goldTables, goldIn int
}

func summarise(os []outcome) stats {
	s := stats{n: len(os)}
	if len(os) == 0 {
		return s
	}
	toks := make([]int, len(os))
	var all, tables int
	var took time.Duration
	for i, o := range os {
		toks[i] = o.tokens
		if o.all() {
			all++
		}
		s.goldTables += len(o.item.gold)
		s.goldIn += o.kept
		tables += len(o.tables)
		took += o.took
		s.maxTook = max(s.maxTook, o.took)
	}
	sort.Ints(toks)
	s.recall = float64(all) / float64(len(os))
	s.tableRecall = float64(s.goldIn) / float64(max(s.goldTables, 1))
	s.medianTok = percentile(toks, 0.5)
	s.p90Tok = percentile(toks, 0.9)
	s.meanTables = float64(tables) / float64(len(os))
	s.meanTook = took / time.Duration(len(os))
	return s
}

// percentile returns the nearest-rank percentile of sorted xs.
func percentile(xs []int, p float64) int {
	if len(xs) == 0 {
		return 0
	}
	k := int(p*float64(len(xs))+0.999999) - 1
	return xs[min(max(k, 0), len(xs)-1)]
}

// bySet groups outcomes by question set, sets in a fixed order, with "all"
// last.
func bySet(os []outcome) ([]string, map[string][]outcome) {
	m := map[string][]outcome{}
	for _, o := range os {
		m[o.item.set] = append(m[o.item.set], o)
	}
	var sets []string
	for s := range m {
		sets = append(sets, s)
	}
	sort.Strings(sets)
	m["all"] = os
	return append(sets, "all"), m
}

func printHeader(w io.Writer) {
	fmt.Fprintf(w, "%-34s %6s %5s %9s %9s %7s %7s %7s %9s\n",
		"set", "budget", "n", "recall@q", "tables", "median", "p90", "linked", "ms/q")
}

func printRow(w io.Writer, set string, budget int, s stats) {
	fmt.Fprintf(w, "%-34s %6d %5d %8.1f%% %8.1f%% %7d %7d %7.1f %9.1f\n",
		set, budget, s.n, 100*s.recall, 100*s.tableRecall, s.medianTok, s.p90Tok, s.meanTables,
		float64(s.meanTook.Microseconds())/1000)
}

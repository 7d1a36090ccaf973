// Package link does schema linking: for a question about a database it picks
// the tables and columns the question is about and renders them as compact
// DDL that fits a token budget, ready to go into a prompt.
//
// Ranking is lexical. Names (split on case changes, underscores and digits),
// verbose names, metric names and descriptions are analysed into stemmed
// terms without stop words, and a question's terms are weighed by IDF over
// the tables the caller may see, so common words ("id", "name") count for
// little. Whole table names and column phrases said in the question add to
// a table's score; in a catalog of many schemas, the schema that explains the
// question best (including words of its name) is preferred; tables joined by
// foreign keys to strong hits, and tables on the join path between two
// strong hits, are brought in. The best tables are then packed into the
// budget, counted with a real BPE tokenizer over the exact text returned.
//
// A Linker builds the index of a catalog once per catalog version and keeps
// a few in an LRU cache; it is safe for concurrent use.
package link

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/texttosql/text2sql/schema"
)

// Options configure a Linker. Zero fields take the defaults shown.
type Options struct {
	// Budget is the token budget used when a Query gives none (3000).
	Budget int
	// MaxTables caps how many tables are linked (50).
	MaxTables int
	// MinScoreRatio drops tables scoring below this fraction of the best
	// table's score (0.2), so a focused question takes fewer tokens than
	// the budget. Set a negative value to keep every table with any
	// evidence.
	MinScoreRatio float64
	// FullTables is how many of the best tables are rendered in full before
	// the rest are added in bare form (2). Bare tables are upgraded in rank
	// order while the budget allows.
	FullTables int
	// MaxColumns caps the columns of a table rendered in full; wider tables
	// keep their key columns and the columns the question names first (60).
	MaxColumns int
	// MaxDescription caps the table's description and those of the key
	// columns and the columns the question names, in characters (200);
	// other columns' descriptions are cut at 80.
	MaxDescription int
	// CacheSize is how many catalog indexes are kept (8).
	CacheSize int
	// Weights tune the ranking; zero fields take DefaultWeights.
	Weights Weights
}

func (o Options) withDefaults() Options {
	if o.Budget <= 0 {
		o.Budget = 3000
	}
	if o.MaxTables <= 0 {
		o.MaxTables = 50
	}
	if o.MinScoreRatio == 0 {
		o.MinScoreRatio = 0.2
	}
	if o.MinScoreRatio < 0 {
		o.MinScoreRatio = 0
	}
	if o.FullTables <= 0 {
		o.FullTables = 2
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = 60
	}
	if o.MaxDescription <= 0 {
		o.MaxDescription = 200
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 8
	}
	o.Weights = o.Weights.withDefaults()
	return o
}

// Linker links questions to the tables of a catalog. It is safe for
// concurrent use.
type Linker struct {
	tok    Tokenizer
	opts   Options
	cache  *lru.Cache[string, *Index]
	builds singleflight.Group
}

// New returns a Linker that counts tokens with tok.
func New(tok Tokenizer, opts Options) *Linker {
	opts = opts.withDefaults()
	c, err := lru.New[string, *Index](opts.CacheSize)
	if err != nil {
		// Only a non-positive size fails, and withDefaults rules that out.
		panic(err)
	}
	return &Linker{tok: tok, opts: opts, cache: c}
}

var defaultLinker = sync.OnceValues(func() (*Linker, error) {
	tok, err := NewTokenizer(DefaultEncoding)
	if err != nil {
		return nil, err
	}
	return New(tok, Options{}), nil
})

// Default returns a shared Linker with the default encoding and options.
func Default() (*Linker, error) { return defaultLinker() }

// Tokenizer returns the tokenizer the Linker counts with.
func (l *Linker) Tokenizer() Tokenizer { return l.tok }

// Query is one question to link.
type Query struct {
	// Question is the caller's question in plain language.
	Question string
	// Budget is the most tokens the rendered schema may take; 0 means the
	// Linker's default.
	Budget int
	// Visibility is what the caller may see; nil means everything. A table
	// it hides is never ranked, linked, rendered, or walked through on a
	// join path; a column it hides adds nothing to the ranking and is never
	// rendered, nor is a key or metric it hides.
	Visibility Visibility
	// Version is the database's Version() when the caller already has it
	// (catalog stores carry it); empty means it is computed, which hashes
	// the whole catalog.
	Version string
}

// Visibility is what one caller may read. *validate.Rules implements it:
// the validator's rules decide what may be shown, so linking never puts in
// a prompt what the validator would refuse.
type Visibility interface {
	TableAllowed(t *schema.Table) bool
	ColumnAllowed(t *schema.Table, column string) bool
	ForeignKeyAllowed(t *schema.Table, fk schema.ForeignKey) bool
	MetricAllowed(t *schema.Table, m schema.Metric) bool
}

// Result is the outcome of linking one question.
type Result struct {
	// Tables are the linked tables, best first, as rendered in Text.
	Tables []Linked
	// Text is the schema context for the prompt: one CREATE TABLE statement
	// per linked table, in the order of Tables.
	Text string
	// Tokens is the number of tokens in Text; it never exceeds the budget.
	Tokens int
	// Budget is the token budget that applied.
	Budget int
	// Candidates are the tables considered, best first, with their scores,
	// whether or not they fit; for debugging.
	Candidates []Candidate
	// Version is the catalog version the index was built from.
	Version string
}

// Linked is one table chosen for the prompt.
type Linked struct {
	// Name is "schema.table".
	Name  string
	Table *schema.Table
	Score float64
	// Reason is ReasonMatch, ReasonJoinPath or ReasonForeignKey.
	Reason string
	// Columns are the columns rendered, in table order.
	Columns []string
	// OmittedColumns is how many visible columns were left out to save
	// tokens (the text says so too).
	OmittedColumns int
}

// Candidate is a ranked table, for debugging.
type Candidate struct {
	Name string
	// Score is the final score; Lexical the score from the question's words
	// alone, before schema focus and join expansion.
	Score, Lexical float64
	Reason         string
	// Linked is true when the table made it into the result.
	Linked bool
}

// Names returns the linked tables as "schema.table", best first.
func (r *Result) Names() []string {
	out := make([]string, len(r.Tables))
	for i, t := range r.Tables {
		out[i] = t.Name
	}
	return out
}

// ErrNoDatabase is returned by Link for a nil database.
var ErrNoDatabase = errors.New("link: no database")

// Index returns the index of db, building it (once, however many callers
// ask at the same time) when the cache has none for its version. version may
// be empty, in which case db.Version() is computed.
func (l *Linker) Index(db *schema.Database, version string) *Index {
	if version == "" {
		version = db.Version()
	}
	if ix, ok := l.cache.Get(version); ok {
		return ix
	}
	v, _, _ := l.builds.Do(version, func() (any, error) {
		if ix, ok := l.cache.Get(version); ok {
			return ix, nil
		}
		ix := BuildIndex(db, version)
		l.cache.Add(version, ix)
		return ix, nil
	})
	return v.(*Index)
}

// Link ranks db's tables for q.Question and renders the best that fit the
// budget. The result is deterministic for a given catalog, question, scope
// and budget.
func (l *Linker) Link(db *schema.Database, q Query) (*Result, error) {
	if db == nil {
		return nil, ErrNoDatabase
	}
	if q.Budget < 0 {
		return nil, fmt.Errorf("link: negative token budget %d", q.Budget)
	}
	budget := q.Budget
	if budget == 0 {
		budget = l.opts.Budget
	}
	ix := l.Index(db, q.Version)
	if ix.ntables != len(db.Tables) {
		// Same version but a different table list means the caller's
		// version is stale; rebuild rather than misplace tables.
		ix = BuildIndex(db, db.Version())
	}

	sc := &scope{tables: db.Tables, visible: make([]bool, len(db.Tables)), vis: q.Visibility, colMemo: map[int64]bool{}, termsMemo: map[int]int{}}
	for i, t := range db.Tables {
		if t != nil && (q.Visibility == nil || q.Visibility.TableAllowed(t)) {
			sc.visible[i] = true
			sc.nvis++
		}
	}

	res := &Result{Budget: budget, Version: ix.version}
	aq := analyseQuestion(q.Question)
	scored, colHits := ix.rank(aq, sc, l.opts.Weights)
	cut := 0.0
	switch {
	case len(scored) > 0:
		cut = scored[0].score * l.opts.MinScoreRatio
	case len(aq.seq) > 0:
		// A question in words the catalog does not use ("how are we doing
		// this quarter?") still deserves an answer or a reasoned refusal
		// from the model: show it the catalog's most connected tables.
		scored = ix.overview(db, sc)
	}
	if len(scored) == 0 {
		return res, nil
	}
	var cands []ranked
	for _, r := range scored {
		if r.score < cut || len(cands) >= l.opts.MaxTables {
			break
		}
		cands = append(cands, r)
	}

	rd := renderer{dialect: ix.dialect, maxColumns: l.opts.MaxColumns, maxDescription: l.opts.MaxDescription,
		catalogs: len(db.Catalogs()) > 1, defaultCatalog: db.DefaultCatalog}
	if rd.dialect == "" {
		rd.dialect = db.Dialect()
	}
	p := &packer{l: l, db: db, rd: rd, sc: sc, hits: colHits, budget: budget}
	chosen := p.pack(cands)

	in := map[int]bool{}
	var blocks []string
	for _, c := range chosen {
		in[c.table] = true
		t := db.Tables[c.table]
		res.Tables = append(res.Tables, Linked{
			Name: t.QualifiedName(), Table: t, Score: c.score, Reason: c.reason,
			Columns: c.r.columns, OmittedColumns: c.r.omitted,
		})
		blocks = append(blocks, c.r.text)
	}
	res.Text = strings.Join(blocks, "\n")
	res.Tokens = p.count(res.Text)
	for _, r := range cands {
		t := db.Tables[r.table]
		res.Candidates = append(res.Candidates, Candidate{
			Name: t.QualifiedName(), Score: r.score, Lexical: r.own, Reason: r.reason, Linked: in[r.table],
		})
	}
	return res, nil
}

// packer fits ranked tables into a token budget.
type packer struct {
	l      *Linker
	db     *schema.Database
	rd     renderer
	sc     *scope
	hits   hits
	budget int
	memo   map[string]int
}

// choice is a table with the form it is rendered in.
type choice struct {
	ranked
	lvl detail
	r   rendered
	n   int // tokens of r.text, counted alone
}

func (p *packer) count(s string) int {
	if p.memo == nil {
		p.memo = map[string]int{}
	}
	if n, ok := p.memo[s]; ok {
		return n
	}
	n := p.l.tok.Count(s)
	p.memo[s] = n
	return n
}

func (p *packer) render(r ranked, lvl detail) choice {
	t := p.sc.tables[r.table]
	v := view{
		hit:       func(i int) float64 { return p.hits.get(r.table, i) },
		fkVisible: func(fk schema.ForeignKey) bool { return p.fkVisible(t, fk) },
	}
	if vis := p.sc.vis; vis != nil {
		v.colVisible = func(i int) bool { return p.sc.columnVisible(int32(r.table), int32(i)) }
		v.metricVisible = func(m schema.Metric) bool { return vis.MetricAllowed(t, m) }
	}
	out := p.rd.render(t, lvl, v)
	return choice{ranked: r, lvl: lvl, r: out, n: p.count(out.text)}
}

// fkVisible reports whether a key of t may be printed: it resolves to a
// table of the catalog (a key to a table outside it could not be used) and
// the caller may see both sides.
func (p *packer) fkVisible(t *schema.Table, fk schema.ForeignKey) bool {
	if p.sc.vis == nil {
		return p.db.ForeignKeyTarget(t, fk) != nil
	}
	return p.sc.vis.ForeignKeyAllowed(t, fk)
}

// pack chooses the form of each candidate: the first FullTables candidates
// in the richest form that fits, then the others in bare form while they
// fit, then upgrades in rank order while the budget allows. The sum of the
// tables' own counts is a close estimate of the joined text's count; the
// joined text is then counted exactly and trimmed from the end until it
// fits.
func (p *packer) pack(cands []ranked) []choice {
	var chosen []choice
	used := 0
	fits := func(n int) bool { return used+n+1 <= p.budget }

	core := min(p.l.opts.FullTables, len(cands))
	for _, r := range cands[:core] {
		for _, lvl := range []detail{detailFull, detailCompact, detailBare} {
			if c := p.render(r, lvl); fits(c.n) {
				chosen = append(chosen, c)
				used += c.n + 1
				break
			}
		}
	}
	for _, r := range cands[core:] {
		if c := p.render(r, detailBare); fits(c.n) {
			chosen = append(chosen, c)
			used += c.n + 1
		}
	}
	for i := range chosen {
		for _, lvl := range []detail{detailFull, detailCompact} {
			if lvl >= chosen[i].lvl {
				break
			}
			c := p.render(chosen[i].ranked, lvl)
			if d := c.n - chosen[i].n; used+d <= p.budget {
				chosen[i] = c
				used += d
				break
			}
		}
	}

	for len(chosen) > 0 {
		blocks := make([]string, len(chosen))
		for i, c := range chosen {
			blocks[i] = c.r.text
		}
		if p.count(strings.Join(blocks, "\n")) <= p.budget {
			break
		}
		// Downgrade the lowest-ranked table that can still shrink, else drop
		// the last one.
		shrunk := false
		for i := len(chosen) - 1; i >= 0 && !shrunk; i-- {
			if chosen[i].lvl < detailBare {
				chosen[i] = p.render(chosen[i].ranked, chosen[i].lvl+1)
				shrunk = true
			}
		}
		if !shrunk {
			chosen = chosen[:len(chosen)-1]
		}
	}
	return chosen
}

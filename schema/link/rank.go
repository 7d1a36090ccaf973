package link

import (
	"math"
	"slices"
	"sort"

	"github.com/texttosql/text2sql/schema"
)

// Weights tune the ranking. The zero value of a field means its default
// (DefaultWeights); set a negative value to switch a signal off.
type Weights struct {
	// TableName, ColumnName, ColumnVerbose, Metric, TableDescription and
	// ColumnDescription weigh a question word found in that place.
	TableName, ColumnName, ColumnVerbose, Metric, TableDescription, ColumnDescription float64
	// FullName is added, per unit of IDF, when every word of a table's name
	// is in the question; ColumnPhrase likewise for the best column name of
	// two or more words.
	FullName, ColumnPhrase float64
	// SchemaName weighs a question word found in a schema's name.
	SchemaName float64
	// SchemaFocus is how strongly tables of the schema that best covers the
	// question are preferred over tables of other schemas (0 to 1).
	SchemaFocus float64
	// Neighbour is the share of a table's score given to the tables joined
	// to it by a foreign key.
	Neighbour float64
	// Bridge is the share of the weaker of two strong tables' scores given
	// to the tables on the shortest join path between them.
	Bridge float64
	// Length is how much a table's many words count against it (BM25's b,
	// 0 to 1): a wide table matches more words by chance.
	Length float64
	// Sibling is the share of a schema's best table score given to every
	// other table of that schema, scaled down for schemas of more than
	// SiblingSize tables: the tables of a small schema tend to be used
	// together.
	Sibling     float64
	SiblingSize float64
}

// DefaultWeights are the weights used when Options.Weights leaves them zero.
var DefaultWeights = Weights{
	TableName:         2.5,
	ColumnName:        1.8,
	ColumnVerbose:     1.5,
	Metric:            0.8,
	TableDescription:  0.7,
	ColumnDescription: 0.5,
	FullName:          1.5,
	ColumnPhrase:      0.8,
	SchemaName:        2.0,
	SchemaFocus:       0.6,
	Neighbour:         0.5,
	Bridge:            0.8,
	Length:            0.3,
	Sibling:           0.5,
	SiblingSize:       8,
}

func (w Weights) withDefaults() Weights {
	pick := func(v, d float64) float64 {
		switch {
		case v == 0:
			return d
		case v < 0:
			return 0
		}
		return v
	}
	d := DefaultWeights
	return Weights{
		TableName:         pick(w.TableName, d.TableName),
		ColumnName:        pick(w.ColumnName, d.ColumnName),
		ColumnVerbose:     pick(w.ColumnVerbose, d.ColumnVerbose),
		Metric:            pick(w.Metric, d.Metric),
		TableDescription:  pick(w.TableDescription, d.TableDescription),
		ColumnDescription: pick(w.ColumnDescription, d.ColumnDescription),
		FullName:          pick(w.FullName, d.FullName),
		ColumnPhrase:      pick(w.ColumnPhrase, d.ColumnPhrase),
		SchemaName:        pick(w.SchemaName, d.SchemaName),
		SchemaFocus:       math.Min(pick(w.SchemaFocus, d.SchemaFocus), 1),
		Neighbour:         pick(w.Neighbour, d.Neighbour),
		Bridge:            pick(w.Bridge, d.Bridge),
		Length:            math.Min(pick(w.Length, d.Length), 1),
		Sibling:           pick(w.Sibling, d.Sibling),
		SiblingSize:       pick(w.SiblingSize, d.SiblingSize),
	}
}

func (w Weights) field(f field) float64 {
	switch f {
	case fTableName:
		return w.TableName
	case fColumnName:
		return w.ColumnName
	case fColumnVerbose:
		return w.ColumnVerbose
	case fMetric:
		return w.Metric
	case fTableDesc:
		return w.TableDescription
	}
	return w.ColumnDescription
}

// Reasons a table is linked.
const (
	// ReasonMatch: the question's words match the table.
	ReasonMatch = "match"
	// ReasonJoinPath: the table lies on the join path between two matched
	// tables.
	ReasonJoinPath = "join path"
	// ReasonForeignKey: the table is joined by a foreign key to a matched
	// table.
	ReasonForeignKey = "foreign key"
	// ReasonSchema: the table shares a small schema with matched tables.
	ReasonSchema = "schema"
	// ReasonOverview: nothing matched the question, and the table is among
	// the most connected of the catalog.
	ReasonOverview = "overview"
)

// overview ranks the visible tables by how many foreign keys join them to
// other visible tables, the hubs of a catalog first, for questions that
// match nothing. Ties keep catalog order.
func (ix *Index) overview(db *schema.Database, sc *scope) []ranked {
	degree := make([]int, len(db.Tables))
	for i := range db.Tables {
		if !sc.visible[i] {
			continue
		}
		for _, e := range ix.tables[i].edges {
			if j := int(e.b); int(e.a) == i && sc.visible[j] {
				degree[i]++
				degree[j]++
			}
		}
	}
	var out []ranked
	for i := range db.Tables {
		if sc.visible[i] {
			out = append(out, ranked{table: i, score: float64(degree[i] + 1), reason: ReasonOverview})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].score > out[b].score })
	return out
}

// query is an analysed question.
type query struct {
	seq     []string            // the question's terms in order
	raws    map[string][]string // the words each term came from
	weights map[string]float64  // each distinct term (and run-together pair) and its weight
	order   []string            // the keys of weights, sorted, for a fixed iteration order
}

func analyseQuestion(question string) query {
	var a analyzer // no memo: safe for concurrent use
	toks := a.tokens(question)
	q := query{weights: map[string]float64{}, raws: map[string][]string{}}
	for _, t := range toks {
		q.seq = append(q.seq, t.term)
		if !slices.Contains(q.raws[t.term], t.raw) {
			q.raws[t.term] = append(q.raws[t.term], t.raw)
		}
		// A word said twice is a little more important, not twice as much.
		if q.weights[t.term] == 0 {
			q.weights[t.term] = 1
		} else {
			q.weights[t.term] = math.Min(q.weights[t.term]+0.25, 1.5)
		}
	}
	// Adjacent words run together meet names written solid ("first name" →
	// firstname). They only add evidence where such a name exists.
	for i := 0; i+1 < len(toks); i++ {
		pair := a.stem(toks[i].raw + toks[i+1].raw)
		if _, ok := q.weights[pair]; !ok {
			q.weights[pair] = 0.8
		}
	}
	for t := range q.weights {
		q.order = append(q.order, t)
	}
	sort.Strings(q.order)
	return q
}

// scope is what the caller may see, resolved against one index.
type scope struct {
	tables  []*schema.Table
	visible []bool
	nvis    int
	vis     Visibility // nil: everything
	colMemo map[int64]bool
	fkMemo  map[int64]bool
	// metricMemo holds, per table with a hidden metric, the terms of its
	// visible metrics (nil: no metric of the table is hidden).
	metricMemo map[int32]map[string]bool
	// termsMemo caches Index.terms when some columns are hidden.
	termsMemo map[int]int
}

// edgeVisible reports whether the caller may see a foreign key.
func (s *scope) edgeVisible(e fkEdge) bool {
	if s.vis == nil {
		return true
	}
	k := int64(e.a)<<32 | int64(e.fk)
	if v, ok := s.fkMemo[k]; ok {
		return v
	}
	if s.fkMemo == nil {
		s.fkMemo = map[int64]bool{}
	}
	t := s.tables[e.a]
	v := s.vis.ForeignKeyAllowed(t, t.ForeignKeys[e.fk])
	s.fkMemo[k] = v
	return v
}

// visibleMetricTerms returns the terms of table t's saved metrics that the
// caller may see, or nil when it may see them all. Only tables with a
// hidden metric pay for the check.
func (s *scope) visibleMetricTerms(ix *Index, t int32) map[string]bool {
	if s.vis == nil {
		return nil
	}
	if terms, ok := s.metricMemo[t]; ok {
		return terms
	}
	if s.metricMemo == nil {
		s.metricMemo = map[int32]map[string]bool{}
	}
	tab := s.tables[t]
	var terms map[string]bool
	for _, m := range tab.Metrics {
		if !s.vis.MetricAllowed(tab, m) {
			terms = map[string]bool{}
			break
		}
	}
	if terms != nil {
		for i, m := range tab.Metrics {
			if s.vis.MetricAllowed(tab, m) {
				for _, x := range ix.tables[t].metricTerms[i] {
					terms[x] = true
				}
			}
		}
	}
	s.metricMemo[t] = terms
	return terms
}

func (s *scope) columnVisible(t, c int32) bool {
	if s.vis == nil {
		return true
	}
	k := int64(t)<<32 | int64(c)
	if v, ok := s.colMemo[k]; ok {
		return v
	}
	tab := s.tables[t]
	v := c >= 0 && int(c) < len(tab.Columns) && s.vis.ColumnAllowed(tab, tab.Columns[c].Name)
	s.colMemo[k] = v
	return v
}

// ranked is one table's score with how it was reached.
type ranked struct {
	table  int
	score  float64
	own    float64 // lexical score before schema focus and join expansion
	reason string
}

// hits maps table<<32|column to how strongly the question names the column.
type hits map[int64]float64

func (h hits) get(t, c int) float64 { return h[int64(t)<<32|int64(c)] }

// rank scores every visible table against the question and returns those
// with a positive score, best first, with the column hits found on the way.
func (ix *Index) rank(q query, sc *scope, w Weights) ([]ranked, hits) {
	n := ix.ntables
	own := make([]float64, n)
	colHits := hits{}
	nschemas := len(ix.schemas)
	schemaScore := make([]float64, nschemas)
	schemaBest := make([]float64, nschemas)
	// Only schemas with a table the caller may see take part.
	schemaVisible := make([]bool, nschemas)
	visibleSchemas := 0
	for ti, v := range sc.visible {
		if si := ix.tables[ti].schema; v && !schemaVisible[si] {
			schemaVisible[si] = true
			visibleSchemas++
		}
	}

	present := map[string]bool{}
	for _, t := range q.seq {
		present[t] = true
	}

	// Evidence per table for the current term: best field weight and how
	// many distinct columns matched.
	best := make([]float64, n)
	count := make([]int, n)
	var touched []int32
	idfOf := map[string]float64{}

	var an analyzer
	var ps []weighted
	for _, term := range q.order {
		qw := q.weights[term]
		ps = ps[:0]
		for _, p := range ix.postings[term] {
			ps = append(ps, weighted{p, 1})
		}
		for _, raw := range q.raws[term] {
			ps = append(ps, ix.compounds.find(raw, term, &an)...)
		}
		touched = touched[:0]
		for _, p := range ps {
			if !sc.visible[p.table] {
				continue
			}
			if p.col >= 0 && !sc.columnVisible(p.table, p.col) {
				continue
			}
			if p.field == fMetric {
				if vm := sc.visibleMetricTerms(ix, p.table); vm != nil && !vm[term] {
					continue
				}
			}
			fw := w.field(p.field) * p.factor
			if fw == 0 {
				continue
			}
			if best[p.table] == 0 {
				touched = append(touched, p.table)
			}
			if fw > best[p.table] {
				best[p.table] = fw
			}
			if p.col >= 0 {
				count[p.table]++
			}
		}
		df := len(touched)
		idf := 0.0
		if df > 0 {
			idf = math.Log(1 + (float64(sc.nvis)-float64(df)+0.5)/(float64(df)+0.5))
		}
		if df == 0 {
			// A word in no table may still name a schema.
			idf = math.Log(1 + (float64(sc.nvis)+0.5)/0.5)
		}
		idfOf[term] = idf

		for i := range schemaBest {
			schemaBest[i] = 0
		}
		for _, ti := range touched {
			e := best[ti]
			if c := count[ti]; c > 1 {
				// More columns with the word add a little, saturating.
				e *= 1 + 0.1*math.Min(float64(c-1), 3)
			}
			if w.Length > 0 {
				e /= 1 - w.Length + w.Length*math.Sqrt(float64(ix.terms(int(ti), sc))/lengthPivot)
			}
			s := qw * idf * e
			own[ti] += s
			if si := ix.tables[ti].schema; s > schemaBest[si] {
				schemaBest[si] = s
			}
			best[ti] = 0
			count[ti] = 0
		}
		for i, v := range schemaBest {
			schemaScore[i] += v
		}
		if w.SchemaName > 0 {
			for _, si := range ix.schemaTerms[term] {
				if schemaVisible[si] {
					schemaScore[si] += qw * idf * w.SchemaName
				}
			}
		}
		// Column hits, for trimming and phrase boosts.
		for _, p := range ps {
			if p.col < 0 || !sc.visible[p.table] || !sc.columnVisible(p.table, p.col) {
				continue
			}
			colHits[int64(p.table)<<32|int64(p.col)] += qw * idf * w.field(p.field) * p.factor
		}
	}

	// Name boosts: every word of a table's name in the question, and the
	// best column name of several words said in full.
	for ti := range ix.tables {
		if !sc.visible[ti] || own[ti] == 0 {
			continue
		}
		info := &ix.tables[ti]
		if w.FullName > 0 && len(info.name) > 0 && covered(info.name, present) {
			own[ti] += w.FullName * sumIDF(info.name, idfOf)
		}
		if w.ColumnPhrase > 0 {
			bestPhrase := 0.0
			for ci, c := range info.cols {
				if len(c.name) < 2 || !covered(c.name, present) || !sc.columnVisible(int32(ti), int32(ci)) {
					continue
				}
				v := sumIDF(c.name, idfOf)
				colHits[int64(ti)<<32|int64(ci)] += v
				bestPhrase = math.Max(bestPhrase, v)
			}
			own[ti] += w.ColumnPhrase * bestPhrase
		}
	}

	// Schema focus: tables of the schema that explains the question best
	// keep their score; others are scaled down by how much less their
	// schema explains. With one schema this changes nothing.
	score := make([]float64, n)
	copy(score, own)
	if visibleSchemas > 1 && w.SchemaFocus > 0 {
		top := 0.0
		for _, v := range schemaScore {
			top = math.Max(top, v)
		}
		if top > 0 {
			for ti := range score {
				if score[ti] == 0 {
					continue
				}
				rel := schemaScore[ix.tables[ti].schema] / top
				score[ti] *= 1 - w.SchemaFocus + w.SchemaFocus*rel
			}
		}
	}

	reason := make([]string, n)
	for ti, v := range score {
		if v > 0 {
			reason[ti] = ReasonMatch
		}
	}
	ix.expandJoins(score, reason, sc, w)
	if w.Sibling > 0 {
		ix.expandSchemas(score, reason, sc, w)
	}

	var out []ranked
	for ti, v := range score {
		if v > 0 && sc.visible[ti] {
			out = append(out, ranked{table: ti, score: v, own: own[ti], reason: reason[ti]})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].score != out[b].score {
			return out[a].score > out[b].score
		}
		na, nb := lowerName(sc.tables[out[a].table]), lowerName(sc.tables[out[b].table])
		if na != nb {
			return na < nb
		}
		return out[a].table < out[b].table
	})
	return out, colHits
}

// expandSchemas gives every visible table a share of the best score in its
// schema, the share shrinking with the schema's size.
func (ix *Index) expandSchemas(score []float64, reason []string, sc *scope, w Weights) {
	best := make([]float64, len(ix.schemas))
	size := make([]int, len(ix.schemas))
	for ti, v := range score {
		if !sc.visible[ti] {
			continue
		}
		si := ix.tables[ti].schema
		size[si]++
		best[si] = math.Max(best[si], v)
	}
	for ti := range score {
		si := ix.tables[ti].schema
		if !sc.visible[ti] || best[si] == 0 {
			continue
		}
		add := w.Sibling * best[si] * math.Min(1, w.SiblingSize/float64(size[si]))
		if score[ti] == 0 {
			reason[ti] = ReasonSchema
		}
		score[ti] += add
	}
}

func covered(terms []string, present map[string]bool) bool {
	for _, t := range terms {
		if !present[t] {
			return false
		}
	}
	return true
}

func sumIDF(terms []string, idf map[string]float64) float64 {
	seen := map[string]bool{}
	s := 0.0
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			s += idf[t]
		}
	}
	return s
}

// lengthPivot is the number of distinct terms of a table of ordinary
// wordiness: tables with more are scored down, tables with fewer up (as
// BM25's average document length, but fixed, so that no table the caller
// may not see has any say in the ranking).
const lengthPivot = 25

// terms counts the distinct terms of table ti that the caller may see.
func (ix *Index) terms(ti int, sc *scope) int {
	info := &ix.tables[ti]
	if sc.vis == nil {
		return info.allTerms
	}
	if n, ok := sc.termsMemo[ti]; ok {
		return n
	}
	n := info.ownTerms
	if vm := sc.visibleMetricTerms(ix, int32(ti)); vm != nil {
		n += len(vm) - info.metricTermCount
	}
	for ci, c := range info.cols {
		if sc.columnVisible(int32(ti), int32(ci)) {
			n += c.terms
		}
	}
	sc.termsMemo[ti] = n
	return n
}

// strongLimit is how many of the best tables count as strong hits whose
// join paths and neighbours are brought in.
const strongLimit = 6

// maxHops bounds the join paths searched between two strong hits.
const maxHops = 3

// expandJoins adds the foreign-key evidence: tables on the shortest join
// path between two strong hits score like the weaker of the two (times
// Weights.Bridge), and every neighbour of a strong hit gets a share of its
// score (Weights.Neighbour). Only visible tables are walked, so a join path
// never runs through a table the caller may not see.
func (ix *Index) expandJoins(score []float64, reason []string, sc *scope, w Weights) {
	type hit struct {
		t int
		s float64
	}
	var strong []hit
	for ti, v := range score {
		if v > 0 && sc.visible[ti] {
			strong = append(strong, hit{ti, v})
		}
	}
	sort.Slice(strong, func(a, b int) bool {
		if strong[a].s != strong[b].s {
			return strong[a].s > strong[b].s
		}
		return strong[a].t < strong[b].t
	})
	if len(strong) == 0 {
		return
	}
	cut := strong[0].s * 0.35
	k := 0
	for k < len(strong) && k < strongLimit && strong[k].s >= cut {
		k++
	}
	strong = strong[:k]
	base := make([]float64, len(score))
	copy(base, score)

	raise := func(ti int, v float64, why string) {
		if v > score[ti] {
			if base[ti] == 0 {
				reason[ti] = why
			}
			score[ti] = v
		}
	}
	if w.Bridge > 0 {
		for a := 0; a < len(strong); a++ {
			for b := a + 1; b < len(strong); b++ {
				path := ix.joinPath(strong[a].t, strong[b].t, sc)
				if len(path) < 3 {
					continue
				}
				v := math.Min(strong[a].s, strong[b].s) * w.Bridge
				for _, ti := range path[1 : len(path)-1] {
					raise(ti, v, ReasonJoinPath)
				}
			}
		}
	}
	if w.Neighbour > 0 {
		for _, h := range strong {
			for _, nb := range ix.neighbours(h.t, sc) {
				raise(nb, base[nb]+h.s*w.Neighbour, ReasonForeignKey)
			}
		}
	}
}

// joinPath returns the shortest foreign-key path from a to b through
// visible tables (both ends included), or nil when there is none within
// maxHops. Neighbours are visited in index order, so the path is the same
// on every run.
func (ix *Index) joinPath(a, b int, sc *scope) []int {
	if a == b {
		return []int{a}
	}
	prev := map[int]int{a: -1}
	frontier := []int{a}
	for hop := 0; hop < maxHops && len(frontier) > 0; hop++ {
		var next []int
		for _, u := range frontier {
			for _, v := range ix.neighbours(u, sc) {
				if _, seen := prev[v]; seen {
					continue
				}
				prev[v] = u
				if v == b {
					var path []int
					for x := b; x != -1; x = prev[x] {
						path = append(path, x)
					}
					for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
						path[i], path[j] = path[j], path[i]
					}
					return path
				}
				next = append(next, v)
			}
		}
		frontier = next
	}
	return nil
}

package link

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/texttosql/text2sql/schema"
)

// field says where in a table a term was found; each kind of place carries
// its own weight when scoring.
type field uint8

const (
	fTableName field = iota
	fColumnName
	fColumnVerbose
	fMetric
	fTableDesc
	fColumnDesc
	nFields
)

// posting is one occurrence of a term: in table, in column col (or on the
// table itself when col is -1), in field.
type posting struct {
	table int32
	col   int32
	field field
}

// tableInfo is what the index keeps of one table, by its position in
// Database.Tables.
type tableInfo struct {
	schema int32
	// name is the table's name terms (no run-together term), in order.
	name []string
	cols []colInfo
	// edges are the foreign keys from and to this table, ordered by the
	// table at the other end.
	edges []fkEdge
	// ownTerms is how many distinct terms the table's name, description
	// and metrics hold. With the columns' terms it measures how wordy a
	// table is: wide tables with long descriptions match words by chance.
	ownTerms int
	allTerms int // ownTerms and every column's terms
	// metricTerms are the terms of each saved metric, in t.Metrics order,
	// and metricTermCount how many distinct ones they are, so that a metric
	// the caller may not see adds nothing to the ranking.
	metricTerms     [][]string
	metricTermCount int
}

type colInfo struct {
	name  []string // the column name's terms, in order
	isKey bool     // in the primary key or a foreign key
	terms int      // distinct terms of the column's name and descriptions
}

// Index is the searchable form of one database's catalog. It is built once
// per catalog version and only read afterwards, so it is safe for concurrent
// use. It refers to tables by position in Database.Tables: any Database with
// the same Version has the same tables in the same order.
type Index struct {
	version  string
	dialect  string
	ntables  int
	tables   []tableInfo
	postings map[string][]posting
	// schemas are the distinct schema names (catalog.schema when the
	// database has several catalogs), sorted; schemaTerms maps a term of a
	// schema's (or its catalog's) name to the schemas it names.
	schemas     []string
	schemaTerms map[string][]int32
	compounds   *compounds
}

// Version is the catalog version (Database.Version) the index was built from.
func (ix *Index) Version() string { return ix.version }

// BuildIndex analyses every table of db. It costs one pass over the catalog's
// names and descriptions; Linker caches the result per catalog version.
func BuildIndex(db *schema.Database, version string) *Index {
	a := newAnalyzer()
	ix := &Index{
		version:     version,
		dialect:     db.Dialect(),
		ntables:     len(db.Tables),
		tables:      make([]tableInfo, len(db.Tables)),
		postings:    map[string][]posting{},
		schemaTerms: map[string][]int32{},
		compounds:   newCompounds(),
	}
	compoundIDs := map[string]int32{}

	// With several catalogs, a schema is a catalog's schema: sales of one
	// project is not sales of another.
	multi := len(db.Catalogs()) > 1
	namespace := func(t *schema.Table) string {
		if multi {
			return t.Catalog + "." + t.Schema
		}
		return t.Schema
	}
	schemaID := map[string]int32{}
	words := map[string][]string{} // the names whose terms name each schema
	for _, t := range db.Tables {
		ns := namespace(t)
		if _, ok := schemaID[ns]; !ok {
			schemaID[ns] = 0
			ix.schemas = append(ix.schemas, ns)
			words[ns] = []string{t.Schema}
			if multi && t.Catalog != "" {
				words[ns] = append(words[ns], t.Catalog)
			}
		}
	}
	sort.Strings(ix.schemas)
	for i, s := range ix.schemas {
		schemaID[s] = int32(i)
		seen := map[string]bool{}
		for _, w := range words[s] {
			for _, term := range a.nameTerms(w) {
				if !seen[term] {
					seen[term] = true
					ix.schemaTerms[term] = append(ix.schemaTerms[term], int32(i))
				}
			}
		}
	}

	type key struct {
		term  string
		col   int32
		field field
	}
	seen := map[key]bool{}
	for ti, t := range db.Tables {
		clear(seen)
		info := &ix.tables[ti]
		info.schema = schemaID[namespace(t)]
		add := func(terms []string, col int32, f field) {
			for _, term := range terms {
				k := key{term, col, f}
				if seen[k] {
					continue
				}
				seen[k] = true
				ix.postings[term] = append(ix.postings[term], posting{int32(ti), col, f})
			}
		}
		prose := func(s string) []string {
			toks := a.tokens(s)
			out := make([]string, len(toks))
			for i, tk := range toks {
				out[i] = tk.term
			}
			return out
		}

		for _, tk := range a.tokens(t.Name) {
			info.name = append(info.name, tk.term)
		}
		add(a.nameTerms(t.Name), -1, fTableName)
		ix.compounds.add(compoundIDs, t.Name, int32(ti), -1, fTableName)
		add(prose(t.Description), -1, fTableDesc)
		metricTerms := map[string]bool{}
		for _, m := range t.Metrics {
			terms := append(append(a.nameTerms(m.Name), prose(m.VerboseName)...), prose(m.Description)...)
			info.metricTerms = append(info.metricTerms, terms)
			add(terms, -1, fMetric)
			for _, x := range terms {
				metricTerms[x] = true
			}
		}
		info.metricTermCount = len(metricTerms)
		info.ownTerms = len(seen)

		keys := map[string]bool{}
		for _, c := range t.PrimaryKey {
			keys[c] = true
		}
		for _, fk := range t.ForeignKeys {
			for _, c := range fk.Columns {
				keys[c] = true
			}
		}
		info.cols = make([]colInfo, len(t.Columns))
		for ci, c := range t.Columns {
			ct := a.tokens(c.Name)
			names := make([]string, len(ct))
			for i, tk := range ct {
				names[i] = tk.term
			}
			before := len(seen)
			add(a.nameTerms(c.Name), int32(ci), fColumnName)
			ix.compounds.add(compoundIDs, c.Name, int32(ti), int32(ci), fColumnName)
			add(prose(c.VerboseName), int32(ci), fColumnVerbose)
			add(prose(c.Description), int32(ci), fColumnDesc)
			info.cols[ci] = colInfo{name: names, isKey: keys[c.Name], terms: len(seen) - before}
		}
		info.allTerms = len(seen)
	}
	ix.linkForeignKeys(db)
	return ix
}

// linkForeignKeys records, for every table, the tables it joins to by a
// foreign key in either direction, with the columns on both sides. A key
// naming a table or column the catalog does not hold is ignored.
func (ix *Index) linkForeignKeys(db *schema.Database) {
	pos := make(map[*schema.Table]int32, len(db.Tables))
	for i, t := range db.Tables {
		pos[t] = int32(i)
	}
	colPos := func(t *schema.Table, names []string) ([]int32, bool) {
		out := make([]int32, len(names))
		for k, n := range names {
			i := slices.IndexFunc(t.Columns, func(c schema.Column) bool { return c.Name == n })
			if i < 0 {
				return nil, false
			}
			out[k] = int32(i)
		}
		return out, true
	}
	for i, t := range db.Tables {
		for k, fk := range t.ForeignKeys {
			ref := db.ForeignKeyTarget(t, fk)
			if ref == nil {
				continue
			}
			j := pos[ref]
			if j == int32(i) {
				continue
			}
			from, ok1 := colPos(t, fk.Columns)
			to, ok2 := colPos(ref, fk.References.Columns)
			if !ok1 || !ok2 {
				continue
			}
			e := fkEdge{a: int32(i), b: j, fk: int32(k), aCols: from, bCols: to}
			ix.tables[i].edges = append(ix.tables[i].edges, e)
			ix.tables[j].edges = append(ix.tables[j].edges, e)
		}
	}
	for i := range ix.tables {
		es := ix.tables[i].edges
		// Neighbours in index order, so that walks are the same every run.
		slices.SortStableFunc(es, func(x, y fkEdge) int {
			return cmp.Compare(x.other(int32(i)), y.other(int32(i)))
		})
	}
}

// fkEdge is one foreign key between tables a (which holds it, as its
// ForeignKeys[fk]) and b.
type fkEdge struct {
	a, b, fk     int32
	aCols, bCols []int32
}

func (e fkEdge) other(t int32) int32 {
	if e.a == t {
		return e.b
	}
	return e.a
}

// neighbours returns the visible tables joined to table t by a key whose
// columns the caller may all see, in index order, without repeats.
func (ix *Index) neighbours(t int, sc *scope) []int {
	var out []int
	for _, e := range ix.tables[t].edges {
		o := int(e.other(int32(t)))
		if !sc.visible[o] || (len(out) > 0 && out[len(out)-1] == o) || !sc.edgeVisible(e) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// keyColumns returns the set of t's columns that are in its primary key or
// one of its foreign keys.
func keyColumns(t *schema.Table) map[string]bool {
	keys := map[string]bool{}
	for _, c := range t.PrimaryKey {
		keys[c] = true
	}
	for _, fk := range t.ForeignKeys {
		for _, c := range fk.Columns {
			keys[c] = true
		}
	}
	return keys
}

// schemaOf returns the schema name of table i.
func (ix *Index) schemaOf(i int) string { return ix.schemas[ix.tables[i].schema] }

// lowerName is used for stable tie-breaking between tables.
func lowerName(t *schema.Table) string { return strings.ToLower(t.QualifiedName()) }

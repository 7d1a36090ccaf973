package execdb

import (
	"fmt"
	"slices"
	"strings"
)

// CompareOptions says how two results are matched.
type CompareOptions struct {
	// Ordered makes row order matter: set it when the gold query sorts its
	// outermost result (HasOuterOrderBy), as Spider's execution evaluation
	// does. Otherwise rows are compared as multisets.
	Ordered bool
	// Distinct drops duplicate rows from both results first, as Defog
	// sql-eval's normalize_table does (df.drop_duplicates). Off by default:
	// a query returning every row twice is not the same answer.
	Distinct bool
	// Digits is the number of significant digits non-integer numbers are
	// rounded to before matching (DefaultDigits when zero), so that the same
	// quantity computed as NUMERIC and as double precision matches, like
	// sql-eval's optional decimal_points rounding and the relative tolerance
	// of pandas' assert_series_equal in its subset_df. Integers below 1e40
	// are always compared exactly.
	Digits int
}

// DefaultDigits is the significant digits numbers are compared to.
const DefaultDigits = 12

// Verdict is the outcome of comparing a generated result with a gold one.
type Verdict struct {
	// Exact: both results have the same number of columns and some
	// one-to-one pairing of gold and generated columns (names and column
	// order ignored) makes the rows equal.
	Exact bool
	// Subset: every gold column pairs with a distinct generated column
	// (the generated result may have more columns) and the rows restricted
	// to the paired columns are equal. An exact match is also a subset
	// match; a gold result without rows is a subset only of an exact match,
	// as in sql-eval's subset_df.
	Subset bool
	// Mapping[i] is the generated column paired with gold column i, when
	// Subset.
	Mapping []int
	// Reason says why the match is not exact (empty when Exact).
	Reason string
}

// maxAssignments bounds the pairings of columns tried when several
// generated columns hold the same values in a different row arrangement.
const maxAssignments = 20000

// Compare matches a generated result against the gold result, following
// Defog sql-eval's compare_query_results (eval/eval.py):
//
//   - compare_df gives the exact match. Column names do not matter there
//     (it compares df.values positionally, then again after sorting the
//     columns by name); here any one-to-one pairing of columns is tried,
//     as Spider's test-suite evaluation does. Row order does not matter
//     unless ordering is asked for; NULL equals NULL (its fillna(-99999));
//     numbers are equal across integer, decimal and float types (numpy
//     holds 5 == 5.0 == Decimal("5.00")).
//   - subset_df gives the "correct" match: each gold column must find its
//     own generated column holding the same values once both are sorted,
//     then the rows of the matched columns must be equal; an empty gold
//     result is never a subset (df_sub.empty returns False). sql-eval takes
//     the first generated column with the same values; here the pairing is
//     searched, so a wrong first choice does not hide a match.
//
// Deliberate differences from sql-eval: duplicate rows count (its
// normalize_table drops them; see Distinct); order matters when Ordered,
// not when the question's wording mentions ordering; numbers are rounded to
// Digits significant digits rather than compared exactly; timestamps at
// midnight equal their date and zoned timestamps compare in UTC (see
// DateTimeValue). CompareAny applies Compare over the gold alternatives.
func Compare(gold, gen *Result, opt CompareOptions) Verdict {
	if opt.Digits <= 0 {
		opt.Digits = DefaultDigits
	}
	g := newTable(gold, opt)
	h := newTable(gen, opt)
	v := Verdict{}
	ng, nh := len(g.cols), len(h.cols)
	if ng == 0 {
		v.Reason = "gold result has no columns"
		return v
	}
	if g.nrows != h.nrows {
		v.Reason = fmt.Sprintf("row count differs: gold %d, generated %d", g.nrows, h.nrows)
		return v
	}
	if nh < ng {
		v.Reason = fmt.Sprintf("generated result has %d columns, gold %d", nh, ng)
		return v
	}
	// Candidate generated columns of each gold column: same values in the
	// same order when ordered, the same multiset of values otherwise
	// (subset_df's per-column sort_values + assert_series_equal).
	cands := make([][]int, ng)
	for i := range g.cols {
		for j := range h.cols {
			var same bool
			if opt.Ordered {
				same = h.colKey[j] == g.colKey[i]
			} else {
				same = h.bagKey[j] == g.bagKey[i]
			}
			if same {
				cands[i] = append(cands[i], j)
			}
		}
		if len(cands[i]) == 0 {
			v.Reason = fmt.Sprintf("no generated column holds the values of gold column %d (%s)", i+1, colName(gold, i))
			if opt.Ordered && g.nrows > 0 {
				if m, ok := match(g, h, cands2unordered(g, h), false); ok && m != nil {
					v.Reason = "same rows, different order"
				}
			}
			return v
		}
	}
	mapping, ok := match(g, h, cands, opt.Ordered)
	if !ok {
		v.Reason = fmt.Sprintf("gave up after %d column pairings", maxAssignments)
		return v
	}
	if mapping == nil {
		v.Reason = "every gold column has a matching generated column, but the rows differ"
		return v
	}
	v.Mapping = mapping
	v.Exact = ng == nh
	v.Subset = v.Exact || g.nrows > 0
	if !v.Exact {
		v.Reason = fmt.Sprintf("generated result has %d extra columns", nh-ng)
	}
	return v
}

func colName(r *Result, i int) string {
	if r != nil && i < len(r.Columns) {
		return r.Columns[i]
	}
	return "?"
}

// cands2unordered returns the candidates of an unordered comparison, used
// only to tell "different order" apart from "different values".
func cands2unordered(g, h *table) [][]int {
	cands := make([][]int, len(g.cols))
	for i := range g.cols {
		for j := range h.cols {
			if h.bagKey[j] == g.bagKey[i] {
				cands[i] = append(cands[i], j)
			}
		}
	}
	return cands
}

// match searches for an injective pairing of gold columns to generated
// columns, each gold column taking one of its candidates, under which the
// rows agree. It returns the pairing (nil when there is none) and false if
// it gave up.
func match(g, h *table, cands [][]int, ordered bool) ([]int, bool) {
	for _, c := range cands {
		if len(c) == 0 {
			return nil, true
		}
	}
	var goldBag map[string]int
	if !ordered {
		goldBag = g.rowBag(identity(len(g.cols)))
	}
	used := make([]bool, len(h.cols))
	mapping := make([]int, len(g.cols))
	tries, gaveUp := 0, false
	var rec func(i int) bool
	rec = func(i int) bool {
		if i == len(g.cols) {
			tries++
			// In order, equal columns imply equal rows; as multisets the
			// rows must be checked.
			return ordered || h.rowBagEqual(mapping, goldBag)
		}
		// Unused generated columns holding identical sequences are
		// interchangeable here: try only the first of each.
		tried := map[string]bool{}
		for _, j := range cands[i] {
			if used[j] || tried[h.colKey[j]] {
				continue
			}
			tried[h.colKey[j]] = true
			if tries >= maxAssignments {
				gaveUp = true
				return false
			}
			used[j] = true
			mapping[i] = j
			if rec(i + 1) {
				return true
			}
			used[j] = false
		}
		return false
	}
	if rec(0) {
		return slices.Clone(mapping), true
	}
	return nil, !gaveUp
}

func identity(n int) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = i
	}
	return m
}

// table is a result reduced to comparison keys.
type table struct {
	nrows  int
	cols   [][]string // cols[j][r]: key of row r, column j
	colKey []string   // the column's keys in row order
	bagKey []string   // the column's keys sorted (multiset)
}

func newTable(r *Result, opt CompareOptions) *table {
	t := &table{}
	if r == nil {
		return t
	}
	rows := r.Rows
	if opt.Distinct {
		seen := map[string]bool{}
		rows = nil
		for _, row := range r.Rows {
			k := rowKey(row, opt.Digits)
			if !seen[k] {
				seen[k] = true
				rows = append(rows, row)
			}
		}
	}
	t.nrows = len(rows)
	t.cols = make([][]string, len(r.Columns))
	for j := range t.cols {
		col := make([]string, len(rows))
		for i, row := range rows {
			if j < len(row) {
				col[i] = valueKey(row[j], opt.Digits)
			} else {
				col[i] = valueKey(NullValue, opt.Digits)
			}
		}
		t.cols[j] = col
	}
	t.colKey = make([]string, len(t.cols))
	t.bagKey = make([]string, len(t.cols))
	for j, col := range t.cols {
		t.colKey[j] = strings.Join(col, "\x1e")
		s := slices.Clone(col)
		slices.Sort(s)
		t.bagKey[j] = strings.Join(s, "\x1e")
	}
	return t
}

func (t *table) rowBag(mapping []int) map[string]int {
	bag := make(map[string]int, t.nrows)
	for r := 0; r < t.nrows; r++ {
		bag[t.rowKey(r, mapping)]++
	}
	return bag
}

func (t *table) rowBagEqual(mapping []int, want map[string]int) bool {
	got := make(map[string]int, len(want))
	for r := 0; r < t.nrows; r++ {
		k := t.rowKey(r, mapping)
		got[k]++
		if got[k] > want[k] {
			return false
		}
	}
	return true // same row count and no key over its count: equal bags
}

func (t *table) rowKey(r int, mapping []int) string {
	var b strings.Builder
	for _, j := range mapping {
		b.WriteString(t.cols[j][r])
		b.WriteByte(0x1f)
	}
	return b.String()
}

// valueKey is the comparison key of a value: its kind and normalized text.
func valueKey(v Value, digits int) string {
	s := v.S
	if v.Kind == Number {
		s = canonicalNumber(s, digits)
	}
	// Kind as a letter keeps kinds apart; separators cannot occur in
	// normalized non-text values, and text is length-prefixed.
	return fmt.Sprintf("%c%d:%s", 'a'+byte(v.Kind), len(s), s)
}

func rowKey(row []Value, digits int) string {
	var b strings.Builder
	for _, v := range row {
		b.WriteString(valueKey(v, digits))
		b.WriteByte(0x1f)
	}
	return b.String()
}

// Gold is one acceptable gold result with the options to compare against
// it (Ordered set from its own query).
type Gold struct {
	Result  *Result
	Options CompareOptions
}

// CompareAny compares gen with every gold alternative the way
// compare_query_results loops over get_all_minimal_queries: the first exact
// match wins; failing that, the first subset match; failing that, the
// verdict against the first alternative. It returns the verdict and the
// index of the alternative it is against (-1 when there are none).
func CompareAny(golds []Gold, gen *Result) (Verdict, int) {
	best, at := Verdict{Reason: "no gold result"}, -1
	for i, g := range golds {
		v := Compare(g.Result, gen, g.Options)
		switch {
		case v.Exact:
			return v, i
		case v.Subset && !best.Subset:
			best, at = v, i
		case at == -1:
			best, at = v, i
		}
	}
	return best, at
}

package validate

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/texttosql/text2sql/validate/stmt"
)

// workBounds are the policy's limits on work that a row cap on the outer
// query does not bound.
type workBounds struct {
	templates    bool // Superset renders Jinja over the SQL
	unsized      bool // generators of non-constant size are allowed
	maxGenerated float64
	maxString    float64
	maxCross     int
}

func (r Rule) workBounds() workBounds {
	w := workBounds{templates: r.TemplateProcessing == nil || *r.TemplateProcessing,
		maxGenerated: DefaultMaxGeneratedRows, maxString: DefaultMaxStringLength, maxCross: DefaultMaxCrossJoins}
	if r.MaxGeneratedRows > 0 {
		w.maxGenerated = float64(r.MaxGeneratedRows)
	}
	if r.MaxStringLength > 0 {
		w.maxString = float64(r.MaxStringLength)
	}
	if r.MaxCrossJoins != nil {
		w.maxCross = *r.MaxCrossJoins
	}
	w.unsized = r.UnsizedGenerators != nil && *r.UnsizedGenerators
	return w
}

// sizing says which arguments of a generator or amplifier set its size.
type sizing uint8

const (
	// series(start, stop[, step]): rows = (stop-start)/step + 1.
	sizeSeries sizing = iota
	// rows(n) or rows(offset, n): the last argument is a row count.
	sizeCount
	// range(n) counts rows; range(start, stop[, step]) is a series.
	sizeRange
	// repeat(s, n): n copies of s.
	sizeRepeat
	// pad(s, n[, fill]): a string of n characters.
	sizePad
	// blob(n), space(n): n bytes or spaces.
	sizeLength
)

// sized are the built-in row generators and string amplifiers of the
// supported and planned dialects, by lower-case name. Names are matched
// in every dialect: a function of that name that is not a generator is
// held to the same constant-argument rule, which only costs a rewrite.
var sized = map[string]sizing{
	"generate_series":          sizeSeries, // PostgreSQL, DuckDB
	"generate_array":           sizeSeries, // BigQuery
	"generate_date_array":      sizeSeries, // BigQuery
	"generate_timestamp_array": sizeSeries, // BigQuery
	"sequence":                 sizeSeries, // Spark, Trino
	"range":                    sizeRange,  // DuckDB, ClickHouse
	"numbers":                  sizeCount,  // ClickHouse
	"generator":                sizeCount,  // Snowflake GENERATOR(ROWCOUNT => n)
	"repeat":                   sizeRepeat,
	"replicate":                sizeRepeat,
	"lpad":                     sizePad,
	"rpad":                     sizePad,
	"space":                    sizeLength,
	"zeroblob":                 sizeLength,
	"randomblob":               sizeLength,
}

// bounds applies the work limits to one query: its recursive CTEs, the
// generators and amplifiers it calls, and its joins without predicates.
func (j *judge) bounds(q *stmt.Query) {
	if q.Recursive {
		for i, c := range q.With {
			if j.recurses(c.Query, q.With[i:]) {
				j.recursion(c)
			}
		}
	}
	for i := range q.Funcs {
		j.sized(&q.Funcs[i])
	}
	j.crossJoins(q)
}

// recurses reports whether q reads any of the names in with (the CTE
// itself and those declared after it in the same recursive WITH): a
// reference to one of them is a recursive reference, or a forward one that
// could close a cycle. An inner WITH reusing a name counts too: it is only
// stricter.
func (j *judge) recurses(q *stmt.Query, with []*stmt.CTE) bool {
	if q == nil {
		return false
	}
	for _, src := range q.From {
		if src.Kind == stmt.SourceTable && len(src.Name) == 1 {
			for _, c := range with {
				if j.eq(src.Name[0].Name, c.Name.Name) {
					return true
				}
			}
		}
		if j.recurses(src.Query, with) {
			return true
		}
	}
	for _, c := range q.With {
		if j.recurses(c.Query, with) {
			return true
		}
	}
	for _, sub := range slices.Concat(q.Arms, q.Subqueries) {
		if j.recurses(sub, with) {
			return true
		}
	}
	return false
}

// recursion refuses a recursive CTE unless its bound is visible and
// within the generated-rows cap.
func (j *judge) recursion(c *stmt.CTE) {
	capRows := j.rules.work.maxGenerated
	b := c.Bound
	if b != nil && b.Limit > 0 {
		if float64(b.Limit) <= capRows {
			return
		}
		j.add(stmt.CodeUnboundedRecursion, c.Pos, "recursive WITH %s stops only after LIMIT %d rows, above the cap of %.0f", c.Name.Name, b.Limit, capRows)
		return
	}
	if b != nil && b.Step.Kind != stmt.ConstNone {
		n, ok := steps(b.Start, b.Stop, b.Step, b.Descending)
		if ok && n <= capRows {
			return
		}
		if ok {
			j.add(stmt.CodeUnboundedRecursion, c.Pos, "recursive WITH %s runs about %.0f times, above the cap of %.0f; narrow its range", c.Name.Name, n, capRows)
			return
		}
	}
	j.add(stmt.CodeUnboundedRecursion, c.Pos, "recursive WITH %s has no bound the checker can see, so it could run until the server stops it; "+
		"give it a counter column that starts at a constant, moves by a constant step in the recursive part "+
		"and is compared with a constant in that part's WHERE (e.g. WHERE depth < 10, WHERE day < '2024-12-31'), "+
		"or a LIMIT where the database allows one", c.Name.Name)
}

// sized caps a generator's rows or an amplifier's length by its constant
// arguments.
func (j *judge) sized(f *stmt.Func) {
	if len(f.Name) == 0 || f.Kind == stmt.FuncKeyword {
		return
	}
	name := strings.ToLower(f.Name[len(f.Name)-1].Name)
	kind, ok := sized[name]
	if !ok {
		return
	}
	if len(f.Name) > 1 && !slices.Contains(j.dialect.FunctionSchemas, strings.ToLower(f.Name[0].Name)) {
		return
	}
	if kind == sizeRange {
		kind = sizeCount
		if len(f.Args) >= 2 {
			kind = sizeSeries
		}
	}
	var n float64
	ok = false
	limit, what := j.rules.work.maxGenerated, "rows"
	switch kind {
	case sizeSeries:
		if len(f.Args) >= 2 {
			step := stmt.Const{Kind: stmt.ConstNumber, Number: 1}
			if len(f.Args) >= 3 {
				step = f.Args[2]
			} else if f.Args[0].Kind == stmt.ConstText {
				step = stmt.Const{Kind: stmt.ConstInterval, Number: 1, Unit: "day"}
			}
			desc := step.Number < 0
			if v, ok := num(step); ok {
				desc = v < 0
			}
			n, ok = steps(f.Args[0], f.Args[1], step, desc)
		}
	case sizeCount:
		if len(f.Args) >= 1 {
			n, ok = count(f.Args[len(f.Args)-1])
		}
	case sizeRepeat:
		limit, what = j.rules.work.maxString, "characters"
		if len(f.Args) >= 2 {
			n, ok = count(f.Args[1])
			if s := f.Args[0]; ok && s.Kind == stmt.ConstText {
				n *= float64(max(1, len([]rune(s.Text))))
			}
		}
	case sizePad:
		limit, what = j.rules.work.maxString, "characters"
		if len(f.Args) >= 2 {
			n, ok = count(f.Args[1])
		}
	case sizeLength:
		limit, what = j.rules.work.maxString, "characters"
		if len(f.Args) >= 1 {
			n, ok = count(f.Args[0])
		}
	}
	switch {
	case !ok && j.rules.work.unsized && (kind == sizeSeries || kind == sizeCount):
	case !ok:
		j.add(stmt.CodeGeneratorTooLarge, f.Pos, "%s(...) makes as many %s as its arguments say, and they are not constants the checker can read; "+
			"write its size with literal numbers (or literal dates and a literal interval step)", joinIdents(f.Name), what)
	case n > limit:
		j.add(stmt.CodeGeneratorTooLarge, f.Pos, "%s(...) makes about %.0f %s, above the cap of %.0f; narrow its arguments", joinIdents(f.Name), n, what, limit)
	}
}

// crossJoins limits the FROM items of a block that no join condition
// connects to the others.
func (j *judge) crossJoins(q *stmt.Query) {
	if len(q.From) < 2 {
		return
	}
	// Components of the FROM items: an item joined with a condition hangs
	// on the ones before it; WHERE terms comparing columns of two items
	// connect those.
	parent := make([]int, len(q.From))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	parts := len(q.From)
	union := func(a, b int) {
		if a, b = find(a), find(b); a != b {
			parent[a] = b
			parts--
		}
	}
	for i, src := range q.From {
		if i > 0 && src.Joined {
			union(i, i-1)
		}
	}
	unqualified := 0
	for _, l := range q.Links {
		first := -1
		for _, qual := range l.Qualifiers {
			k := j.fromItem(q.From, qual)
			if k < 0 {
				continue
			}
			if first < 0 {
				first = k
			} else {
				union(first, k)
			}
		}
		if l.Unqualified {
			unqualified++
		}
	}
	// A term with an unqualified column may connect any two items; it is
	// counted as connecting one more pair.
	cross := max(0, parts-1-unqualified)
	if cross > j.rules.work.maxCross {
		j.add(stmt.CodeCartesianJoin, q.From[0].Pos, "%d of this query's joins have no join condition (ON, USING, or a WHERE term comparing columns of both sides), "+
			"so they multiply row counts; at most %d is allowed: add the join conditions", cross, j.rules.work.maxCross)
	}
}

// fromItem is the index of the FROM item that qual names (its alias, or
// the last part of its name when it has none), or -1.
func (j *judge) fromItem(from []*stmt.Source, qual stmt.Ident) int {
	for i, src := range from {
		switch {
		case src.Alias != nil:
			if j.eq(src.Alias.Name, qual.Name) {
				return i
			}
		case len(src.Name) > 0:
			if j.eq(src.Name[len(src.Name)-1].Name, qual.Name) {
				return i
			}
		}
	}
	return -1
}

// num reads a numeric constant: a number, or a string literal that is a
// number and not cast to a non-numeric type.
func num(c stmt.Const) (float64, bool) {
	switch c.Kind {
	case stmt.ConstNumber:
		return c.Number, true
	case stmt.ConstText:
		switch c.Type {
		case "", "numeric", "decimal", "int", "int2", "int4", "int8", "integer", "bigint", "smallint", "float4", "float8":
		default:
			return 0, false
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(c.Text), 64); err == nil && !math.IsNaN(f) {
			return f, true
		}
	}
	return 0, false
}

// count reads a constant size argument.
func count(c stmt.Const) (float64, bool) {
	f, ok := num(c)
	return max(0, f), ok
}

// steps is how many values a series from start to stop by step holds:
// numbers, or dates and times with an interval step. Descending says the
// series counts down. false when the constants do not make a series the
// checker can size (a step of zero or pointing away from stop included).
func steps(start, stop, step stmt.Const, descending bool) (float64, bool) {
	if a, ok := num(start); ok {
		b, ok := num(stop)
		s, oks := num(step)
		if !ok || !oks || s == 0 || (s > 0) == descending {
			return 0, false
		}
		return series(a, b, s)
	}
	if start.Kind == stmt.ConstAnchored || stop.Kind == stmt.ConstAnchored {
		d, okd := interval(step)
		if start.Kind != stop.Kind || start.Text != stop.Text || !okd || d == 0 || (d > 0) == descending {
			return 0, false
		}
		return series(start.Number, stop.Number, d.Seconds())
	}
	t0, ok0 := timeOf(start)
	t1, ok1 := timeOf(stop)
	d, okd := interval(step)
	if step.Kind == stmt.ConstNumber && start.Type == "date" {
		// date + n adds n days.
		d, okd = time.Duration(step.Number*float64(24*time.Hour)), true
	}
	if !ok0 || !ok1 || !okd || d == 0 || (d > 0) == descending {
		return 0, false
	}
	return series(float64(t0.Unix()), float64(t1.Unix()), d.Seconds())
}

func series(a, b, s float64) (float64, bool) {
	n := math.Floor((b-a)/s) + 1
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return max(1, n), true
}

var timeLayouts = []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05Z07:00"}

// timeOf reads a date or timestamp literal.
func timeOf(c stmt.Const) (time.Time, bool) {
	if c.Kind != stmt.ConstText {
		return time.Time{}, false
	}
	s := strings.TrimSpace(c.Text)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// interval reads an interval step.
func interval(c stmt.Const) (time.Duration, bool) {
	sec, ok := stmt.IntervalSeconds(c)
	return time.Duration(sec * float64(time.Second)), ok
}

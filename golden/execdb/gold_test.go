package execdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
)

// goldTimeout bounds each gold query.
const goldTimeout = 30 * time.Second

// check is the outcome of running one gold query twice.
type check struct {
	res     *Result // first run
	ordered bool    // compared in order (outer ORDER BY)
	tie     bool    // its LIMIT cuts through rows tied on the sort keys
	differ  bool    // the two runs differed, explained by tie
	fail    string  // why it failed; empty if it did not
}

// selfCheck runs sql twice and compares the first result with itself and
// the second with the first (as gold and generated): both must match
// exactly. A query whose LIMIT cuts through rows tied on its ORDER BY keys
// (TieAtLimit) may return different rows on each run: such a gold query is
// nondeterministic upstream, and its runs differing is not a failure.
func selfCheck(ctx context.Context, r Runner, dialect, db, sql string) check {
	var c check
	var err error
	if c.ordered, err = HasOuterOrderBy(dialect, sql); err != nil {
		c.fail = "parse: " + err.Error()
		return c
	}
	first, err := r.Run(ctx, db, sql, goldTimeout)
	if err != nil {
		c.fail = "run: " + err.Error()
		return c
	}
	second, err := r.Run(ctx, db, sql, goldTimeout)
	if err != nil {
		c.fail = "second run: " + err.Error()
		return c
	}
	if c.ordered {
		if c.tie, err = TieAtLimit(ctx, r, dialect, db, sql, goldTimeout); err != nil && !errors.Is(err, ErrTieProbeUnsupported) {
			c.fail = "tie probe: " + err.Error()
			return c
		}
	}
	opt := CompareOptions{Ordered: c.ordered}
	if v := Compare(first, first, opt); !v.Exact {
		c.fail = "result does not match itself: " + v.Reason
		return c
	}
	if v := Compare(first, second, opt); !v.Exact {
		if !c.tie {
			c.fail = "second run differs: " + v.Reason
			return c
		}
		c.differ = true
	}
	c.res = first
	return c
}

// TestGoldSelfMatchDefog runs every gold query of Defog sql-eval's three
// PostgreSQL question sets (every alternative, every column-set
// expansion) against the loaded databases; each must execute and match
// itself. It also compares, for information, each alternative with the
// first and each column-set expansion with the full one.
//
//	go test ./golden/execdb -run TestGoldSelfMatchDefog -v
func TestGoldSelfMatchDefog(t *testing.T) {
	e := RequireEnv(t)
	dir := benchdata.Require(t)
	qs, err := benchdata.AllDefogQuestions(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var (
		queries                    int
		st                         stats
		altPairs, altExact, altSub int
		expPairs, expSub           int
		failures                   []string
		altNotes                   []string
	)
	for _, q := range qs {
		db := DefogDatabase(q.Database)
		var primary *Result
		var primaryOrdered bool
		for k, g := range q.Gold {
			exps, err := benchdata.ExpandColumnSets(g.SQL)
			if err != nil {
				queries++
				failures = append(failures, fmt.Sprintf("%s/%s gold %d: expand: %v", q.Set, q.ID, k, err))
				continue
			}
			var full *Result
			results := make([]*Result, len(exps))
			for x, sql := range exps {
				queries++
				c := selfCheck(ctx, e.Postgres, schema.DialectPostgres, db, sql)
				where := fmt.Sprintf("%s/%s gold %d expansion %d (%s)", q.Set, q.ID, k, x, db)
				if c.fail != "" {
					failures = append(failures, fmt.Sprintf("%s: %s\n    %s", where, c.fail, oneLine(sql)))
					continue
				}
				st.count(c, where+": "+oneLine(sql))
				results[x] = c.res
				if x == len(exps)-1 {
					full = c.res
					if k == 0 {
						primary, primaryOrdered = c.res, c.ordered
					}
				}
			}
			// Each expansion as gold against the full column set as
			// generated: the full query is a correct answer (subset).
			if full != nil {
				for x, res := range results[:len(results)-1] {
					if res == nil {
						continue
					}
					expPairs++
					ord, _ := HasOuterOrderBy(schema.DialectPostgres, exps[x])
					if v := Compare(res, full, CompareOptions{Ordered: ord}); v.Subset {
						expSub++
					} else {
						altNotes = append(altNotes, fmt.Sprintf("%s/%s gold %d expansion %d vs full set: %s", q.Set, q.ID, k, x, v.Reason))
					}
				}
			}
			if k > 0 && primary != nil && full != nil {
				altPairs++
				v := Compare(primary, full, CompareOptions{Ordered: primaryOrdered})
				switch {
				case v.Exact:
					altExact++
					altSub++
				case v.Subset:
					altSub++
				default:
					altNotes = append(altNotes, fmt.Sprintf("%s/%s alternative %d vs first: %s", q.Set, q.ID, k, v.Reason))
				}
			}
		}
	}
	t.Logf("Defog PostgreSQL: %d questions, %d gold queries (alternatives and column-set expansions), %d failed; %s",
		len(qs), queries, len(failures), st)
	st.log(t)
	t.Logf("alternatives vs first: %d pairs, %d exact, %d subset or exact", altPairs, altExact, altSub)
	t.Logf("column-set expansion vs full set: %d pairs, %d subset", expPairs, expSub)
	for _, n := range altNotes {
		t.Log("  differs: " + n)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// TestGoldSelfMatchSpiderMan runs every gold query of SpiderMan's
// test_queries.csv against the loaded MariaDB databases; each must execute
// and match itself. Questions reading a table the benchmark ships no rows
// for (LoadReport.Empty: wta_1's rankings) are excluded and listed.
//
//	go test ./golden/execdb -run TestGoldSelfMatchSpiderMan -v
func TestGoldSelfMatchSpiderMan(t *testing.T) {
	e := RequireEnv(t)
	dir := benchdata.Require(t)
	qs, err := benchdata.SpiderManQuestions(dir)
	if err != nil {
		t.Fatal(err)
	}
	empty := map[string]bool{}
	for _, r := range e.SpiderMan {
		for _, tb := range r.Empty {
			empty[strings.ToLower(r.Database+"."+tb)] = true
		}
	}
	ctx := context.Background()
	var (
		st       stats
		excluded []string
		failures []string
	)
	for _, q := range qs {
		g := q.Gold[0]
		if g.Err != nil {
			failures = append(failures, fmt.Sprintf("%s (%s): gold tables: %v", q.ID, q.Database, g.Err))
			continue
		}
		var without []string
		for _, tn := range g.Tables {
			s := tn.Schema
			if s == "" {
				s = q.Database
			}
			if empty[strings.ToLower(s+"."+tn.Name)] {
				without = append(without, tn.String())
			}
		}
		if len(without) > 0 {
			excluded = append(excluded, fmt.Sprintf("%s (%s) reads %s, which has no data: %s", q.ID, q.Database, strings.Join(without, ", "), q.Question))
			continue
		}
		c := selfCheck(ctx, e.MariaDB, schema.DialectMySQL, q.Database, g.SQL)
		if c.fail != "" {
			failures = append(failures, fmt.Sprintf("%s (%s): %s\n    %s", q.ID, q.Database, c.fail, oneLine(g.SQL)))
			continue
		}
		st.count(c, fmt.Sprintf("%s (%s) %q: %s", q.ID, q.Database, q.Question, oneLine(g.SQL)))
	}
	t.Logf("SpiderMan MySQL: %d questions, %d excluded, %d failed; %s",
		len(qs), len(excluded), len(failures), st)
	st.log(t)
	for _, x := range excluded {
		t.Log("  excluded: " + x)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// stats counts the gold queries that passed selfCheck.
type stats struct {
	ok, ordered, differed int
	ties                  []string
}

func (s *stats) count(c check, what string) {
	s.ok++
	if c.ordered {
		s.ordered++
	}
	if c.tie {
		note := what
		if c.differ {
			s.differed++
			note = "(runs differed) " + note
		}
		s.ties = append(s.ties, note)
	}
}

func (s stats) String() string {
	return fmt.Sprintf("%d executed and matched themselves (%d compared in order); %d cut tied rows with LIMIT (nondeterministic upstream), %d of which differed between runs this time",
		s.ok, s.ordered, len(s.ties), s.differed)
}

func (s stats) log(t *testing.T) {
	for _, n := range s.ties {
		t.Log("  LIMIT cuts ties: " + n)
	}
}

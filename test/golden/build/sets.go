package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/golden"
	"github.com/texttosql/text2sql/golden/execdb"
	"github.com/texttosql/text2sql/schema"
)

// defogFiles are Defog's PostgreSQL question files in set order, with the
// id prefix of their cases.
var defogFiles = []struct{ set, prefix string }{
	{benchdata.SetDefogQuestionsGen, "gen"},
	{benchdata.SetDefogInstructBasic, "basic"},
	{benchdata.SetDefogInstructAdvanced, "adv"},
}

const defogHeader = `#
# Defog sql-eval's PostgreSQL questions, one case per row of
# questions_gen_postgres.csv (defog-gen-NNN), instruct_basic_postgres.csv
# (defog-basic-NNN) and instruct_advanced_postgres.csv (defog-adv-NNN), NNN
# being the 0-based row. A question's instructions, when it has some,
# follow it the way sql-eval's prompt puts them: after a blank line and
# "Follow the instructions below to generate the query:", one sentence to
# a line. gold lists every acceptable query: the published ones split at
# ";", each column set ("{a, b}", any non-empty subset of the columns)
# expanded, repeats dropped; gold_subset marks the cases that had column
# sets. expect.tables are the tables every gold query reads.
`

// instructionsIntro is what sql-eval's prepare_questions_df puts before a
// question's instructions.
const instructionsIntro = "Follow the instructions below to generate the query:"

// defogQuestion is the question as sql-eval's prompt presents it: the
// instructions (one sentence to a line) under an introduction, after a
// blank line.
func defogQuestion(q benchdata.Question) string {
	if q.Evidence == "" {
		return q.Question
	}
	return q.Question + "\n\n" + instructionsIntro + "\n" + strings.ReplaceAll(q.Evidence, ". ", ".\n")
}

// defogSet returns one case per question of Defog's three PostgreSQL
// files.
func defogSet(bench string, cat *schema.Catalog) (*golden.Set, error) {
	defogDBs := 0
	for _, db := range cat.Databases {
		if strings.HasPrefix(db.Name, execdb.DefogPrefix) {
			defogDBs++
		}
	}
	s := &golden.Set{
		Name:        "defog-postgres",
		Description: fmt.Sprintf("Defog sql-eval's PostgreSQL questions (questions_gen, instruct_basic, instruct_advanced) on its %d databases", defogDBs),
		Catalog:     catalogFile,
		Policy:      policyFile,
	}
	for _, f := range defogFiles {
		qs, err := benchdata.DefogQuestions(bench, f.set)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			row, err := strconv.Atoi(q.ID)
			if err != nil {
				return nil, fmt.Errorf("%s: question id %q is not a row number", f.set, q.ID)
			}
			c := golden.Case{
				ID:       fmt.Sprintf("defog-%s-%03d", f.prefix, row),
				Database: execdb.DefogDatabase(q.Database),
				Question: defogQuestion(q),
				Tags:     []string{q.Database},
			}
			if q.Category != "" {
				c.Tags = append(c.Tags, q.Category)
			}
			db := cat.Database(c.Database)
			if db == nil {
				return nil, fmt.Errorf("%s: database %s is not in the catalog", c.ID, c.Database)
			}
			seen := map[string]bool{}
			var reads [][]string
			for k, g := range q.Gold {
				if g.Err != nil {
					return nil, fmt.Errorf("%s gold %d: %w", c.ID, k, g.Err)
				}
				exps, err := benchdata.ExpandColumnSets(g.SQL)
				if err != nil {
					return nil, fmt.Errorf("%s gold %d: column sets: %w", c.ID, k, err)
				}
				if len(exps) != 1 || exps[0] != g.SQL {
					c.GoldSubset = true
				}
				for _, sql := range exps {
					if seen[sql] {
						continue
					}
					seen[sql] = true
					tables, err := goldTables(db, sql)
					if err != nil {
						return nil, fmt.Errorf("%s gold %d: %w", c.ID, k, err)
					}
					c.Gold = append(c.Gold, sql)
					reads = append(reads, tables)
				}
			}
			if len(c.Gold) == 0 {
				return nil, fmt.Errorf("%s: no gold query", c.ID)
			}
			c.Expect.Tables = intersect(reads)
			s.Cases = append(s.Cases, c)
		}
	}
	return s, nil
}

// exclusion is a SpiderMan question left out of the set, and why.
type exclusion struct {
	ID, Database, Question, Reason string
}

// The reasons a SpiderMan question is left out.
const (
	reasonNoData = "its database ships no rows"
	reasonEmpty  = "it reads a table that has no rows in the benchmark snapshot"
	reasonTie    = "its result is not deterministic: the LIMIT cuts between rows that tie on the ORDER BY keys (execdb.TieAtLimit), so the server may return either"
	// execdb.TieAtLimit cannot rewrite DISTINCT queries and set operations
	// into a probe.
	reasonUnprobed = "whether its result is deterministic cannot be checked: ORDER BY ... LIMIT on a DISTINCT query or a set operation is beyond what execdb.TieAtLimit can probe"
)

// spiderSet returns one case per SpiderMan question whose result can be
// checked on the loaded databases, and the questions left out. Which those
// are is read from the data: tables the loader left empty, and gold
// queries whose LIMIT cuts through tied rows (execdb.TieAtLimit) or that
// the tie probe cannot examine.
func spiderSet(ctx context.Context, e env, cat *schema.Catalog) (*golden.Set, []exclusion, error) {
	qs, err := benchdata.SpiderManQuestions(e.Bench)
	if err != nil {
		return nil, nil, err
	}
	hasData := map[string]bool{}
	empty := map[string]bool{}
	for _, r := range e.SpiderMan {
		hasData[r.Database] = true
		for _, t := range r.Empty {
			empty[strings.ToLower(r.Database+"."+t)] = true
		}
	}
	s := &golden.Set{
		Name:        "spider-mysql",
		Description: fmt.Sprintf("Spider dev questions with SpiderMan's MySQL gold queries, on the %d dev databases SpiderMan ships rows for", len(hasData)),
		Catalog:     catalogFile,
		Policy:      policyFile,
	}
	var excluded []exclusion
	for _, q := range qs {
		row, err := strconv.Atoi(q.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("question id %q is not a row number", q.ID)
		}
		id := fmt.Sprintf("spider-%04d", row)
		leave := func(reason string) {
			excluded = append(excluded, exclusion{ID: id, Database: q.Database, Question: q.Question, Reason: reason})
		}
		if !hasData[q.Database] {
			leave(reasonNoData)
			continue
		}
		db := cat.Database(q.Database)
		if db == nil {
			return nil, nil, fmt.Errorf("%s: database %s is not in the catalog", id, q.Database)
		}
		if len(q.Gold) != 1 {
			return nil, nil, fmt.Errorf("%s: want one gold query, got %d", id, len(q.Gold))
		}
		if err := q.Gold[0].Err; err != nil {
			return nil, nil, fmt.Errorf("%s: gold query: %w", id, err)
		}
		sql := q.Gold[0].SQL
		tables, err := goldTables(db, sql)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", id, err)
		}
		var unfilled []string
		for _, t := range tables {
			if empty[strings.ToLower(t)] {
				unfilled = append(unfilled, t)
			}
		}
		if len(unfilled) > 0 {
			leave(reasonEmpty + " (" + strings.Join(unfilled, ", ") + ")")
			continue
		}
		tie, err := execdb.TieAtLimit(ctx, e.MariaDB, schema.DialectMySQL, q.Database, sql, goldTimeout)
		if err != nil {
			if errors.Is(err, execdb.ErrTieProbeUnsupported) {
				// Kept out rather than assumed deterministic: a gold
				// result that changes between runs makes scores flap.
				leave(reasonUnprobed)
				continue
			}
			return nil, nil, fmt.Errorf("%s: %w", id, err)
		}
		if tie {
			leave(reasonTie)
			continue
		}
		s.Cases = append(s.Cases, golden.Case{
			ID:       id,
			Database: q.Database,
			Question: q.Question,
			Gold:     []string{sql},
			Expect:   golden.Expect{Tables: tables},
			Tags:     []string{q.Database},
		})
	}
	s.Description += fmt.Sprintf("; %d of %d questions; the file header lists the others and why", len(s.Cases), len(qs))
	return s, excluded, nil
}

// spiderHeader is the set's header comment, listing the questions left out
// grouped by reason.
func spiderHeader(excluded []exclusion) string {
	var b strings.Builder
	b.WriteString(`#
# SpiderMan's MySQL edition of the Spider dev questions
# (test_queries.csv), one case per row whose database ships rows, ids
# spider-NNNN, NNNN being the 0-based row. gold is SpiderMan's query,
# expect.tables the tables it reads.
`)
	if len(excluded) == 0 {
		b.WriteString("#\n# No question is left out.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "#\n# Left out: %d questions, found by rules applied to the loaded data.\n", len(excluded))
	for _, r := range reasonsOf(excluded) {
		var lines []string
		for _, x := range excluded {
			if x.Reason == r {
				lines = append(lines, fmt.Sprintf("#   %s (%s) %s", x.ID, x.Database, oneLine(x.Question)))
			}
		}
		fmt.Fprintf(&b, "#\n%s\n%s\n", wrapComment(fmt.Sprintf("%d because %s:", len(lines), r)), strings.Join(lines, "\n"))
	}
	return b.String()
}

// wrapComment turns text into comment lines of at most 78 characters
// (longer only for a word that does not fit).
func wrapComment(text string) string {
	var lines []string
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line) > 1 && len(line)+1+len(w) > 78 {
			lines = append(lines, line)
			line = "#"
		}
		line += " " + w
	}
	return strings.Join(append(lines, line), "\n")
}

// reasonsOf returns the distinct reasons, sorted.
func reasonsOf(excluded []exclusion) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range excluded {
		if !seen[x.Reason] {
			seen[x.Reason] = true
			out = append(out, x.Reason)
		}
	}
	sort.Strings(out)
	return out
}

// goldTables reads the tables sql reads with the dialect's parser and
// resolves them in db: "schema.table" as the catalog spells them, sorted.
func goldTables(db *schema.Database, sql string) ([]string, error) {
	names, err := benchdata.ReadTables(db.Dialect(), sql)
	if err != nil {
		return nil, err
	}
	found, missing := benchdata.Resolve(db, names)
	if len(missing) > 0 {
		return nil, fmt.Errorf("reads tables that are not in database %s: %v", db.Name, missing)
	}
	return benchdata.QualifiedNames(found), nil
}

// intersect returns the names present in every list, sorted.
func intersect(lists [][]string) []string {
	if len(lists) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, l := range lists {
		seen := map[string]bool{}
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				count[x]++
			}
		}
	}
	var out []string
	for x, n := range count {
		if n == len(lists) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

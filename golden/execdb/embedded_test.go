package execdb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/validate"
)

// TestGoldSelfMatchEmbedded loads SpiderMan's rows into SQLite and DuckDB
// files and runs Spider dev's SQLite gold queries against them, twice each:
// every run must succeed and match the first exactly. SQLite runs the gold
// as published. DuckDB runs the text the validator returns for it (SQLite's
// double-quoted strings written as strings); the queries whose SQLite
// dialect DuckDB cannot run are listed, not counted.
//
//	go test ./golden/execdb -run TestGoldSelfMatchEmbedded -v
func TestGoldSelfMatchEmbedded(t *testing.T) {
	dir := benchdata.Require(t)
	qs, err := benchdata.SpiderDevQuestions(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := benchdata.SpiderCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := validate.New()
	ctx := context.Background()
	out := t.TempDir()
	for _, engine := range []string{EngineSQLite, EngineDuckDB} {
		t.Run(engine, func(t *testing.T) {
			reports, err := EmbeddedLoader{Engine: engine, Dir: dir, Out: out}.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			loaded, empty := map[string]bool{}, map[string]bool{}
			rows := int64(0)
			for _, r := range reports {
				loaded[r.Database] = true
				rows += r.Rows
				for _, tb := range r.Empty {
					empty[strings.ToLower(r.Database+"."+tb)] = true
				}
			}
			e := &Embedded{Engine: engine, Dir: out}
			defer e.Close()
			var ran, matched, excluded int
			var cannot, failures []string
			for _, q := range qs {
				if !loaded[q.Database] {
					t.Fatalf("%s: database %s was not loaded", q.ID, q.Database)
				}
				skip := false
				for _, tn := range q.Gold[0].Tables {
					skip = skip || empty[strings.ToLower(q.Database+"."+tn.Name)]
				}
				if skip {
					excluded++
					continue
				}
				sql := q.Gold[0].SQL
				if engine == EngineDuckDB {
					res := v.Validate(validate.Request{SQL: sql, Database: cat.Database(q.Database)})
					if !res.Valid {
						failures = append(failures, fmt.Sprintf("%s (%s): refused by the validator: %v", q.ID, q.Database, res.Violations))
						continue
					}
					sql = res.SQL
				}
				first, err := e.Run(ctx, q.Database, sql, goldTimeout)
				if err != nil {
					if engine == EngineDuckDB {
						cannot = append(cannot, fmt.Sprintf("%s (%s): %s", q.ID, q.Database, firstLine(err.Error())))
						continue
					}
					failures = append(failures, fmt.Sprintf("%s (%s): %v\n    %s", q.ID, q.Database, err, oneLine(sql)))
					continue
				}
				ran++
				second, err := e.Run(ctx, q.Database, sql, goldTimeout)
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s (%s): second run: %v", q.ID, q.Database, err))
					continue
				}
				if v := Compare(first, first, CompareOptions{}); !v.Exact {
					failures = append(failures, fmt.Sprintf("%s (%s): does not match itself: %s", q.ID, q.Database, v.Reason))
					continue
				}
				if v := Compare(first, second, CompareOptions{}); !v.Exact {
					failures = append(failures, fmt.Sprintf("%s (%s): second run differs: %s", q.ID, q.Database, v.Reason))
					continue
				}
				matched++
			}
			t.Logf("%s: %d databases, %d rows loaded; %d questions, %d excluded (no data), %d ran, %d matched themselves (%.2f%%), %d not runnable in this engine",
				engine, len(reports), rows, len(qs), excluded, ran, matched, 100*float64(matched)/float64(max(ran, 1)), len(cannot))
			for _, c := range cannot {
				t.Log("  cannot run: " + c)
			}
			for _, f := range failures {
				t.Error(f)
			}
			if ran == 0 {
				t.Error("nothing ran")
			}
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

package main

import (
	"testing"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema/link"
)

// TestWarehouseRecall links every benchmark question against the warehouse
// at a 3,000-token budget and holds the linker to the quality it reaches:
// every gold table kept for at least 95% of all questions, with a median
// schema context of at most 3,000 tokens. It guards the ranking against
// regressions; the figures themselves come from `go run ./test/linkeval`.
func TestWarehouseRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("links about 1,800 questions, too many for -short; `go test ./test/linkeval` runs it")
	}
	dir := benchdata.Require(t)
	c, err := load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.items) < 1500 {
		t.Fatalf("only %d questions resolved against the warehouse", len(c.items))
	}
	tok, err := link.NewTokenizer("")
	if err != nil {
		t.Fatal(err)
	}
	const budget = 3000
	out, err := run(link.New(tok, link.Options{}), c, budget)
	if err != nil {
		t.Fatal(err)
	}
	sets, m := bySet(out)
	floors := map[string]float64{
		"all":                          0.95,
		benchdata.SetSpiderDev:         0.95,
		benchdata.SetBirdPostgres:      0.93,
		benchdata.SetDefogQuestionsGen: 0.95,
	}
	for _, set := range sets {
		s := summarise(m[set])
		t.Logf("%-34s n=%4d recall@q=%.1f%% tables=%.1f%% median=%d p90=%d", set, s.n, 100*s.recall, 100*s.tableRecall, s.medianTok, s.p90Tok)
		for _, o := range m[set] {
			if o.tokens > budget {
				t.Errorf("%s %s: %d tokens over the %d budget", set, o.item.id, o.tokens, budget)
			}
		}
		if f, ok := floors[set]; ok && s.recall < f {
			t.Errorf("%s: every gold table kept for %.1f%% of questions, want at least %.0f%%", set, 100*s.recall, 100*f)
		}
		if set == "all" && s.medianTok > budget {
			t.Errorf("median schema tokens %d over %d", s.medianTok, budget)
		}
	}
}

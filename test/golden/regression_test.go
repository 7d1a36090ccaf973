package golden_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/golden"
	"github.com/texttosql/text2sql/golden/execdb"
	"github.com/texttosql/text2sql/llm"
	"github.com/texttosql/text2sql/test/fakellm"
)

// The replay must fail when a recorded answer no longer matches the gold
// result, no longer validates, or was never recorded.
func TestReplayCatchesRegressions(t *testing.T) {
	set, err := golden.Load("../../golden/defog_postgres.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set.Cases = set.Cases[:1]
	cas, err := set.LoadCassette()
	if err != nil {
		t.Fatal(err)
	}
	var recorded golden.Exchange
	for _, e := range cas.Exchanges {
		if e.Case == set.Cases[0].ID {
			recorded = e
		}
	}
	if recorded.Key == "" {
		t.Fatalf("no exchange recorded for %s", set.Cases[0].ID)
	}
	cat, _, err := set.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	env := execdb.RequireEnv(t)
	exec := &golden.Executors{Postgres: env.Postgres, MariaDB: env.MariaDB, Timeout: 30 * time.Second}
	for _, tc := range []struct {
		name, answer string
		// every: the answer is given to every attempt, not only the
		// recorded first one.
		every bool
		want  func(*golden.Outcome) bool
	}{
		{"the recorded answer still passes", recorded.Answer, false, func(o *golden.Outcome) bool { return o.Correct() }},
		{"another result", "```sql\nSELECT 1 AS x\n```", false, func(o *golden.Outcome) bool {
			return !o.Correct() && o.Executed && !o.Exact && !o.Subset && o.ExecErr != ""
		}},
		{"no longer valid", "```sql\nSELECT * FROM pg_catalog.pg_authid\n```", true, func(o *golden.Outcome) bool {
			return !o.Correct() && o.Refused && strings.Contains(strings.Join(o.Problems, " "), "SYSTEM_CATALOG")
		}},
		{"not recorded", "", false, func(o *golden.Outcome) bool { return !o.Correct() && len(o.Missing) == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &golden.Cassette{}
			if tc.answer != "" {
				c.Exchanges = []golden.Exchange{{Key: recorded.Key, Case: recorded.Case, Attempt: 1, Answer: tc.answer}}
			}
			rep := golden.NewReplayer(c)
			var model generate.Model = rep
			if tc.every {
				// A model that always answers the same, reached over the
				// wire by the real client.
				fake := fakellm.NewTest(t, fakellm.Text(tc.answer))
				client, err := llm.New(llm.Config{BaseURL: fake.URL(), Model: "fixed", APIKey: "k", MaxRetries: llm.NoRetries})
				if err != nil {
					t.Fatal(err)
				}
				model = client
			}
			st, err := golden.StartStack(set, model, golden.StackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, o := range golden.Run(context.Background(), set, st, cat, golden.RunOptions{Exec: exec, Replayer: rep, Transports: []string{golden.GRPC}}) {
				if !tc.want(o) {
					t.Errorf("outcome %+v", o)
				}
			}
		})
	}
}

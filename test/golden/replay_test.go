package golden_test

import (
	"context"
	"testing"
	"time"

	"github.com/texttosql/text2sql/golden"
	"github.com/texttosql/text2sql/golden/execdb"
)

// TestReplay runs every shipped golden set through the real service, over
// HTTP and gRPC, with the model played by the set's cassette: answers must
// be valid, read the expected tables, be refused where they must, and, for
// sets with gold SQL, return the gold result on the loaded databases.
func TestReplay(t *testing.T) {
	paths, err := golden.Sets("../../golden")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden sets: %v", err)
	}
	for _, path := range paths {
		set, err := golden.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(set.Name, func(t *testing.T) {
			cas, err := set.LoadCassette()
			if err != nil {
				t.Fatal(err)
			}
			if len(cas.Exchanges) == 0 {
				t.Fatalf("%s has no cassette; %s", set.Name, set.RecordHint())
			}
			cat, _, err := set.LoadCatalog()
			if err != nil {
				t.Fatal(err)
			}
			var exec *golden.Executors
			if set.HasGold() {
				env := execdb.RequireEnv(t)
				exec = &golden.Executors{Postgres: env.Postgres, MariaDB: env.MariaDB, Timeout: 30 * time.Second}
			}
			rep := golden.NewReplayer(cas)
			st, err := golden.StartStack(set, rep, golden.StackOptions{SupersetURL: "https://superset.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			outcomes := golden.Run(context.Background(), set, st, cat, golden.RunOptions{Exec: exec, Replayer: rep})
			missing := 0
			for _, o := range outcomes {
				if o.Correct() {
					continue
				}
				missing += len(o.Missing)
				why := o.Problems
				if o.ExecErr != "" {
					why = append(why, "result differs from the gold one: "+o.ExecErr)
				}
				t.Errorf("%s over %s: %v\n  sql: %s", o.Case.ID, o.Transport, why, o.SQL)
			}
			if missing > 0 {
				t.Errorf("%d model requests were not recorded: the prompt, linking or a question changed; %s", missing, set.RecordHint())
			}
			for _, s := range golden.Summarize(set.Name, outcomes) {
				t.Logf("%s over %s: %d cases, %d correct, execution accuracy %s, validity %s, mean attempts %.2f",
					s.Set, s.Transport, s.Cases, s.Correct, golden.Percent(s.ExecutionAccuracy()), golden.Percent(s.Validity()), s.MeanAttempts())
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/golden"
	"github.com/texttosql/text2sql/golden/execdb"
)

const regenerate = "go run ./test/golden/build (from the repository root)"

// generate runs the builder into a temporary directory against the loaded
// benchmark databases. Without the servers the test is skipped (and fails
// under CI=true).
func generate(t *testing.T) (env, string) {
	t.Helper()
	e := execdb.RequireEnv(t)
	dir := benchdata.Require(t)
	en := env{Bench: dir, Postgres: e.Postgres, MariaDB: e.MariaDB, SpiderMan: e.SpiderMan}
	out := t.TempDir()
	if _, err := build(context.Background(), en, out); err != nil {
		t.Fatalf("build: %v", err)
	}
	return en, out
}

// TestCommittedFilesAreCurrent regenerates the golden files and compares
// them byte for byte with the committed ones in golden/.
func TestCommittedFilesAreCurrent(t *testing.T) {
	_, out := generate(t)
	for _, name := range []string{catalogFile, policyFile, defogFile, spiderFile} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "..", "golden", name))
		if err != nil {
			t.Errorf("golden/%s: %v; generate it with: %s", name, err, regenerate)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("golden/%s is not what the builder writes from the benchmark data (%s); regenerate it with: %s",
				name, firstDifference(want, got), regenerate)
		}
	}
}

// firstDifference describes the first line at which two files differ.
func firstDifference(committed, built []byte) string {
	a := strings.Split(string(committed), "\n")
	b := strings.Split(string(built), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y || i >= len(a) || i >= len(b) {
			return fmt.Sprintf("line %d: committed %q, built %q", i+1, clip(x), clip(y))
		}
	}
	return "same lines"
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// TestBuildIsDeterministic builds twice and expects identical bytes.
func TestBuildIsDeterministic(t *testing.T) {
	en, first := generate(t)
	second := t.TempDir()
	if _, err := build(context.Background(), en, second); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{catalogFile, policyFile, defogFile, spiderFile} {
		a, _ := os.ReadFile(filepath.Join(first, name))
		b, _ := os.ReadFile(filepath.Join(second, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: two builds differ or are empty (%s)", name, firstDifference(a, b))
		}
	}
}

// TestCheckRefusesBadGold spoils generated sets in the ways check must
// catch and expects each spoiled case to be named in its error.
func TestCheckRefusesBadGold(t *testing.T) {
	en, out := generate(t)
	defog, err := golden.Load(filepath.Join(out, defogFile))
	if err != nil {
		t.Fatal(err)
	}
	spider, err := golden.Load(filepath.Join(out, spiderFile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	spoil := func(s *golden.Set, i int, why string, f func(c *golden.Case)) {
		f(&s.Cases[i])
		want[s.Cases[i].ID] = why
	}
	spoil(defog, 0, "does not read expected tables", func(c *golden.Case) {
		c.Expect.Tables = append(c.Expect.Tables, "public.cite")
	})
	spoil(defog, 1, "does not run", func(c *golden.Case) {
		c.Gold = []string{"SELECT 1 / 0 AS x FROM author"}
		c.Expect.Tables = []string{"public.author"}
	})
	spoil(defog, 2, "refused by the validator", func(c *golden.Case) {
		c.Gold = []string{"DELETE FROM publication"}
	})
	spoil(spider, 0, "refused by the validator", func(c *golden.Case) {
		c.Gold = []string{"SELECT no_such_column FROM ship"}
	})

	dir := t.TempDir()
	for name, s := range map[string]*golden.Set{defogFile: defog, spiderFile: spider} {
		data, err := setYAML(s, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{catalogFile, policyFile} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err = check(context.Background(), en, dir, &summary{})
	if err == nil {
		t.Fatal("check accepted spoiled sets")
	}
	lines := strings.Split(err.Error(), "\n")
	for id, why := range want {
		found := false
		for _, l := range lines {
			if strings.Contains(l, " "+id+" ") && strings.Contains(l, why) {
				found = true
			}
		}
		if !found {
			t.Errorf("check's error does not say that %s %s:\n%v", id, why, err)
		}
	}

	// A row cap below the size of a gold result must be caught too.
	if err := os.WriteFile(filepath.Join(dir, policyFile), []byte("allow_tables: ['*']\nmax_rows: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = check(context.Background(), en, dir, &summary{})
	if err == nil || !strings.Contains(err.Error(), "more than the policy's max_rows 1") {
		t.Errorf("check did not catch gold results above the row cap: %v", err)
	}
}

func TestDefogQuestion(t *testing.T) {
	for _, tc := range []struct{ question, instructions, want string }{
		{"How many?", "", "How many?"},
		{"How many?", "Count rows.", "How many?\n\nFollow the instructions below to generate the query:\nCount rows."},
		{"Top 5?", "Join a and b. Sum c. Use 0.5 as the cut.",
			"Top 5?\n\nFollow the instructions below to generate the query:\nJoin a and b.\nSum c.\nUse 0.5 as the cut."},
	} {
		got := defogQuestion(benchdata.Question{Question: tc.question, Evidence: tc.instructions})
		if got != tc.want {
			t.Errorf("defogQuestion(%q, %q) = %q, want %q", tc.question, tc.instructions, got, tc.want)
		}
	}
}

func TestIntersect(t *testing.T) {
	for _, tc := range []struct {
		in   [][]string
		want string
	}{
		{nil, ""},
		{[][]string{{"b", "a"}}, "a,b"},
		{[][]string{{"a", "b", "c"}, {"c", "a"}, {"a", "c", "d"}}, "a,c"},
		{[][]string{{"a"}, {"b"}}, ""},
		{[][]string{{"a", "a"}, {"a"}}, "a"},
	} {
		if got := strings.Join(intersect(tc.in), ","); got != tc.want {
			t.Errorf("intersect(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

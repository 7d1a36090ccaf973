package postgres

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/benchdata"
)

// TestBenchmarkCorpus runs the gold PostgreSQL queries of the public
// text-to-SQL benchmarks (BIRD mini-dev, Defog sql-eval, the pg-compatible
// BIRD/Spider subsets) through Parse, Describe and Print: real analyst SQL
// must be described without findings and print back. The queries are read
// from the repository's testdata/benchmarks (see benchdata).
func TestBenchmarkCorpus(t *testing.T) {
	dir := benchdata.Require(t)
	queries := corpusQueries(t, dir)
	if len(queries) < 1000 {
		t.Fatalf("only %d queries found under %s", len(queries), dir)
	}
	p := New()
	accepted, skipped := 0, 0
	for _, q := range queries {
		parsed, err := p.Parse(q)
		if err != nil {
			// PostgreSQL's own parser decides what is SQL; the corpus also
			// holds templated placeholders ({user_id}), answers given as
			// several alternative statements, and a few rows of prose.
			skipped++
			continue
		}
		st := parsed.Describe()
		if st.Query == nil || len(st.Findings) > 0 {
			t.Errorf("%s %+v\n  %s", st.Verb, st.Findings, q)
			continue
		}
		if _, err := parsed.Print(100); err != nil {
			t.Errorf("Print: %v\n  %s", err, q)
			continue
		}
		accepted++
	}
	t.Logf("%d queries: %d described and printed cleanly, %d not one PostgreSQL statement", len(queries), accepted, skipped)
}

func corpusQueries(t *testing.T, dir string) []string {
	var out []string
	gold, err := os.ReadFile(filepath.Join(dir, "bird_minidev/release_2024/mini_dev_postgresql_gold.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(gold), "\n") {
		if sql, _, _ := strings.Cut(line, "\t"); strings.TrimSpace(sql) != "" {
			out = append(out, sql)
		}
	}
	for _, name := range []string{"instruct_advanced_postgres.csv", "instruct_basic_postgres.csv", "questions_gen_postgres.csv"} {
		f, err := os.Open(filepath.Join(dir, "defog_sql_eval/questions", name))
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.LazyQuotes, r.FieldsPerRecord = true, -1
		rows, err := r.ReadAll()
		f.Close()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		col := -1
		for i, h := range rows[0] {
			if h == "query" {
				col = i
			}
		}
		for _, row := range rows[1:] {
			if col >= 0 && col < len(row) {
				out = append(out, row[col])
			}
		}
	}
	for _, name := range []string{"bird_clean_dataset.jsonl", "spider_clean_dataset.jsonl", "spider_dk_clean_dataset.jsonl"} {
		f, err := os.Open(filepath.Join(dir, "pg_compatible_subsets_pourreza", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err == nil && rec.Query != "" {
				out = append(out, rec.Query)
			}
		}
		f.Close()
	}
	return out
}

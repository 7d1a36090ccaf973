package execdb

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/texttosql/text2sql/benchdata"
)

var reload = flag.Bool("execdb.reload", false, "TestLoadBenchmarks: reload both benchmark sets from scratch first (cold load)")

// copyBench copies the synthetic benchmark of testdata/bench into a
// temporary directory the test may change.
func copyBench(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "bench")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

type loader interface {
	Load(context.Context) ([]LoadReport, error)
}

// loadOnce loads and checks that exactly one database was handled, loaded
// (with a reason holding reason) or only verified (reason "").
func loadOnce(t *testing.T, l loader, reason string) LoadReport {
	t.Helper()
	reps, err := l.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 {
		t.Fatalf("reports %v", reps)
	}
	r := reps[0]
	if reason == "" && r.Loaded {
		t.Fatalf("loaded again (%s), want verified", r.Reason)
	}
	if reason != "" && (!r.Loaded || !strings.Contains(r.Reason, reason)) {
		t.Fatalf("%s, want loaded because %q", r, reason)
	}
	return r
}

func TestDefogLoader(t *testing.T) {
	url := RequirePostgres(t)
	dir := copyBench(t)
	ctx := context.Background()
	l := DefogLoader{URL: url, Dir: dir, Prefix: "execdb_test_", Force: true}
	db := "execdb_test_tiny"
	admin := pgAdmin(t)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	p, err := NewPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	query := func(sql string) string {
		t.Helper()
		res, err := p.Run(ctx, db, sql, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Rows)
	}

	r := loadOnce(t, l, "forced")
	if r.Database != db || r.Tables != 2 || r.Rows != 6 {
		t.Fatalf("first load: %s", r)
	}
	if got := query("SELECT id, name, price, added FROM item ORDER BY id"); got != `[[1 "semi;colon" 1.50 2024-01-02] [2 "it's" NULL NULL] [3 "" 0.00 2023-12-31]]` {
		t.Errorf("item: %s", got)
	}
	if got := query("SELECT count(*) FROM side.tag"); got != "[[3]]" {
		t.Errorf("side.tag: %s", got)
	}

	l.Force = false
	loadOnce(t, l, "")

	// A changed source file reloads.
	sqlFile := filepath.Join(dir, "defog_sql_eval", "databases", "tiny", "tiny.sql")
	appendFile(t, sqlFile, "\nINSERT INTO side.tag VALUES (2, 'd');\n")
	if r := loadOnce(t, l, "source files changed"); r.Rows != 7 {
		t.Errorf("after change: %s", r)
	}
	loadOnce(t, l, "")

	// Rows changed behind the loader's back reload.
	cfg, _ := pgx.ParseConfig(url)
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "DELETE FROM side.tag WHERE tag = 'a'"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	loadOnce(t, l, "row counts changed")
	if got := query("SELECT count(*) FROM side.tag"); got != "[[4]]" {
		t.Errorf("side.tag after reload: %s", got)
	}

	// A load that fails half way leaves no marker; the next one redoes it.
	orig, _ := os.ReadFile(sqlFile)
	appendFile(t, sqlFile, "\nINSERT INTO missing_table VALUES (1);\n")
	if _, err := l.Load(ctx); err == nil || !strings.Contains(err.Error(), "missing_table") {
		t.Fatalf("broken file loaded: %v", err)
	}
	if err := os.WriteFile(sqlFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	loadOnce(t, l, "no load marker")
	loadOnce(t, l, "")
}

func TestSpiderManLoader(t *testing.T) {
	dsn := RequireMariaDB(t)
	dir := copyBench(t)
	ctx := context.Background()
	root := filepath.Join(dir, "spiderman_mysql", "databases")
	l := SpiderManLoader{DSN: dsn, Root: root, Force: true}
	db := "execdb_test_sm"
	m, err := NewMariaDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	admin, err := m.db("mysql")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+db) })
	query := func(sql string) string {
		t.Helper()
		res, err := m.Run(ctx, db, sql, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Rows)
	}

	r := loadOnce(t, l, "forced")
	if r.Database != db || r.Tables != 3 || r.Rows != 7 || fmt.Sprint(r.Empty) != "[no_data]" {
		t.Fatalf("first load: %s", r)
	}
	// NULL is SQL NULL, the text null stays text, an empty field is the
	// empty string, CSV quoting is undone, numbers and dates take their
	// column types.
	if got := query("SELECT id, parent_id, note FROM a_child ORDER BY id"); got != `[[1 1 "comma, inside"] [2 2 "say \"hi\""] [3 2 "null"] [4 1 NULL] [5 2 ""]]` {
		t.Errorf("a_child: %s", got)
	}
	if got := query("SELECT id, `Name`, score, born, seen FROM `Parent` ORDER BY id"); got != `[[1 "Zoë" 1.5 1990-05-01 2007-11-28 12:50:21] [2 NULL NULL NULL NULL]]` {
		t.Errorf("Parent: %s", got)
	}
	// Column types and keys are the file's.
	if got := query("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Parent' ORDER BY ORDINAL_POSITION"); got != `[["id" "int"] ["Name" "text"] ["score" "double"] ["born" "date"] ["seen" "datetime"]]` {
		t.Errorf("Parent columns: %s", got)
	}

	l.Force = false
	loadOnce(t, l, "")

	csvFile := filepath.Join(root, db, "data", "a_child.csv")
	appendFile(t, csvFile, "6,1,added\r\n")
	if r := loadOnce(t, l, "source files changed"); r.Rows != 8 {
		t.Errorf("after change: %s", r)
	}
	loadOnce(t, l, "")

	if _, err := admin.ExecContext(ctx, "DELETE FROM "+db+".a_child WHERE id = 6"); err != nil {
		t.Fatal(err)
	}
	loadOnce(t, l, "row counts changed")

	// A row the column type cannot take fails the load (strict mode)
	// before the marker is written; the next load redoes it.
	orig, _ := os.ReadFile(csvFile)
	appendFile(t, csvFile, "seven,1,bad id\r\n")
	if _, err := l.Load(ctx); err == nil || !strings.Contains(err.Error(), "a_child.csv") {
		t.Fatalf("bad row loaded: %v", err)
	}
	if err := os.WriteFile(csvFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	loadOnce(t, l, "no load marker")
	loadOnce(t, l, "")
}

// TestLoadBenchmarks loads (or verifies) Defog's and SpiderMan's databases
// and logs the time each set takes. Warm (verify only):
//
//	go test ./golden/execdb -run TestLoadBenchmarks -v
//
// Cold (drop and reload everything first, then verify):
//
//	go test ./golden/execdb -run TestLoadBenchmarks -v -args -execdb.reload
func TestLoadBenchmarks(t *testing.T) {
	dir := benchdata.Require(t)
	pgURL := RequirePostgres(t)
	myDSN := RequireMariaDB(t)
	ctx := context.Background()
	sets := []struct {
		name string
		l    func(force bool) loader
	}{
		{"Defog (PostgreSQL)", func(force bool) loader { return DefogLoader{URL: pgURL, Dir: dir, Force: force} }},
		{"SpiderMan (MariaDB)", func(force bool) loader { return SpiderManLoader{DSN: myDSN, Dir: dir, Force: force} }},
	}
	for _, s := range sets {
		passes := []bool{false}
		if *reload {
			passes = []bool{true, false}
		}
		for _, force := range passes {
			start := time.Now()
			reps, err := s.l(force).Load(ctx)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			var loaded, tables int
			var rows int64
			for _, r := range reps {
				if r.Loaded {
					loaded++
				}
				tables += r.Tables
				rows += r.Rows
				if len(r.Empty) > 0 {
					t.Logf("  %s: no data file for %s (left empty)", r.Database, strings.Join(r.Empty, ", "))
				}
			}
			kind := "warm"
			if force {
				kind = "cold"
			}
			t.Logf("%s %s: %d databases (%d loaded, %d verified), %d tables, %d rows in %s",
				s.name, kind, len(reps), loaded, len(reps)-loaded, tables, rows, elapsed.Round(time.Millisecond))
			if !force && loaded > 0 {
				// Only a first load on a fresh server (or changed files)
				// loads here; a pass right after it must only verify.
				again, err := s.l(false).Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range again {
					if r.Loaded {
						t.Errorf("%s loaded twice in a row (%s)", r.Database, r.Reason)
					}
				}
			}
		}
	}
}

package benchdata

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // SQLite reads the published DDL

	"github.com/texttosql/text2sql/schema"
)

// SetSpider2Local is Spider 2.0-lite's local (SQLite) questions that
// publish a gold query.
const SetSpider2Local = "spider2_lite_local"

// BenchSpider2 names Spider 2.0-lite.
const BenchSpider2 = "spider2_lite"

// Spider2LocalCatalog returns Spider 2.0-lite's SQLite databases with the
// tables and columns of their DDL.csv files. SQLite itself reads the DDL:
// each CREATE TABLE runs in an empty in-memory database, whose
// table_info then gives the columns and declared types.
func Spider2LocalCatalog(dir string) (*schema.Catalog, error) {
	root := filepath.Join(dir, "spider2_lite", "databases", "sqlite")
	dbs, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	c := &schema.Catalog{}
	for _, e := range dbs {
		if !e.IsDir() {
			continue
		}
		db, err := spider2Database(e.Name(), filepath.Join(root, e.Name(), "DDL.csv"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		c.Databases = append(c.Databases, db)
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

func spider2Database(name, path string) (*schema.Database, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	if err != nil {
		return nil, err
	}
	conn, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	db := &schema.Database{Name: name, Backend: "sqlite", DefaultSchema: "main"}
	for i, r := range rows {
		if i == 0 || len(r) < 2 || strings.HasPrefix(strings.ToLower(r[0]), "sqlite_") {
			continue // the header, and SQLite's own tables, which it makes itself
		}
		if _, err := conn.Exec(r[1]); err != nil {
			// A few published DDLs leave a reserved word or a name such as
			// qty_sold(kg) unquoted (the databases themselves quote it):
			// quote the name that starts each column line and retry.
			// Failing that, the name is all but the line's last word
			// ("Unnamed: 2 REAL").
			if _, err2 := conn.Exec(quoteColumnNames(r[1], columnLine)); err2 != nil {
				if _, err3 := conn.Exec(quoteColumnNames(r[1], columnLineWide)); err3 != nil {
					return nil, fmt.Errorf("table %s: %w", r[0], err)
				}
			}
		}
	}
	names, err := conn.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for names.Next() {
		var n string
		if err := names.Scan(&n); err != nil {
			return nil, err
		}
		tables = append(tables, n)
	}
	names.Close()
	for _, tn := range tables {
		t := &schema.Table{Schema: "main", Name: tn}
		cols, err := conn.Query(`SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, tn)
		if err != nil {
			return nil, err
		}
		for cols.Next() {
			var c schema.Column
			if err := cols.Scan(&c.Name, &c.Type); err != nil {
				return nil, err
			}
			t.Columns = append(t.Columns, c)
		}
		cols.Close()
		db.Tables = append(db.Tables, t)
	}
	return db, nil
}

// columnLine is one column definition on a line of its own.
var columnLine = regexp.MustCompile(`(?m)^(\s+)([^\s"]+)(\s)`)

// columnLineWide takes all of a column line but its last word as the name.
var columnLineWide = regexp.MustCompile(`(?m)^(\s+)([^"\n]+?)(\s+\S+,?\s*)$`)

// quoteColumnNames double-quotes the name (as line matches it) on every
// indented line of a CREATE TABLE written one column per line.
func quoteColumnNames(ddl string, line *regexp.Regexp) string {
	return line.ReplaceAllString(ddl, `$1"$2"$3`)
}

// Spider2LocalQuestions returns the local questions of Spider 2.0-lite
// whose gold query is published (gold/sql/local*.sql). Their tables are
// read with the MySQL parser where it can read the SQLite text; where it
// cannot, the gold's tables are unknown (TablesUnknown) and only
// acceptance can be checked.
func Spider2LocalQuestions(dir string) ([]Question, error) {
	base := filepath.Join(dir, "spider2_lite")
	data, err := os.ReadFile(filepath.Join(base, "spider2-lite.jsonl"))
	if err != nil {
		return nil, err
	}
	type rec struct {
		ID       string `json:"instance_id"`
		DB       string `json:"db"`
		Question string `json:"question"`
	}
	byID := map[string]rec{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, err
		}
		byID[r.ID] = r
	}
	// The question file spells a few database names unlike their
	// directories (Db-IMDB for DB_IMDB).
	dirs, err := os.ReadDir(filepath.Join(base, "databases", "sqlite"))
	if err != nil {
		return nil, err
	}
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }
	dirOf := map[string]string{}
	for _, d := range dirs {
		dirOf[fold(d.Name())] = d.Name()
	}
	files, err := filepath.Glob(filepath.Join(base, "gold", "sql", "local*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Question
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".sql")
		r, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%s: no question in spider2-lite.jsonl", id)
		}
		text, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		g := newGold(DialectSQLite, strings.TrimSpace(string(text)), "main")
		if g.Err != nil {
			g.Err, g.TablesUnknown = nil, true
		}
		dbName, ok := dirOf[fold(r.DB)]
		if !ok {
			return nil, fmt.Errorf("%s: database %s has no DDL", id, r.DB)
		}
		out = append(out, Question{ID: id, Set: SetSpider2Local, Benchmark: BenchSpider2, Database: dbName,
			Dialect: DialectSQLite, Question: r.Question, Gold: []Gold{g}})
	}
	return out, nil
}

package benchdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/texttosql/text2sql/schema"
)

// Question set names.
const (
	SetBirdPostgres          = "bird_minidev_postgresql"
	SetBirdMySQL             = "bird_minidev_mysql"
	SetBirdSQLite            = "bird_minidev_sqlite"
	SetSpiderDev             = "spider_dev"
	SetSpiderMan             = "spiderman_mysql"
	SetDefogQuestionsGen     = "defog_questions_gen_postgres"
	SetDefogInstructBasic    = "defog_instruct_basic_postgres"
	SetDefogInstructAdvanced = "defog_instruct_advanced_postgres"
)

// Question is one benchmark question with its gold queries.
type Question struct {
	// ID identifies the question within its set: BIRD's question_id,
	// otherwise the 0-based row of the source file.
	ID        string
	Set       string
	Benchmark string
	Database  string
	Dialect   string
	Question  string
	// Evidence is the hint published with the question (BIRD's evidence,
	// Defog's instructions), if any.
	Evidence   string
	Difficulty string
	Category   string
	// Gold holds the acceptable gold queries, the first being the primary.
	Gold []Gold
}

// Gold is one acceptable gold query.
type Gold struct {
	// SQL is the query as published. Defog's may hold column sets
	// ("{a, b}"); see ExpandColumnSets.
	SQL string
	// Tables are the tables the query reads, as the dialect's parser reads
	// them; unqualified names carry the database's default schema.
	Tables []TableName
	// Err is set when the dialect's parser rejects the query; Tables is
	// then empty.
	Err error
	// TablesUnknown says that no parser independent of the validator
	// could read the query's tables; Tables is then empty.
	TablesUnknown bool
}

// Alternatives returns every concrete gold query: each Gold with its column
// sets expanded. A query whose sets cannot be expanded is returned as is.
func (q *Question) Alternatives() []string {
	var out []string
	for _, g := range q.Gold {
		if q.Dialect != schema.DialectPostgres {
			out = append(out, g.SQL)
			continue
		}
		exp, err := ExpandColumnSets(g.SQL)
		if err != nil {
			out = append(out, g.SQL)
			continue
		}
		out = append(out, exp...)
	}
	return out
}

// Tables returns the tables of the primary gold query.
func (q *Question) Tables() []TableName {
	if len(q.Gold) == 0 {
		return nil
	}
	return q.Gold[0].Tables
}

// newGold reads the tables of sql in dialect. Column sets are expanded
// first (to their full form) so the parser sees plain SQL.
func newGold(dialect, sql, defaultSchema string) Gold {
	g := Gold{SQL: sql}
	parsable := sql
	if dialect == schema.DialectPostgres {
		exp, err := ExpandColumnSets(sql)
		if err != nil {
			g.Err = err
			return g
		}
		parsable = exp[len(exp)-1]
	}
	names, err := ReadTables(dialect, parsable)
	if err != nil {
		g.Err = err
		return g
	}
	g.Tables = qualify(names, defaultSchema)
	return g
}

// --- BIRD mini-dev ---

type birdRecord struct {
	QuestionID int    `json:"question_id"`
	DBID       string `json:"db_id"`
	Question   string `json:"question"`
	Evidence   string `json:"evidence"`
	SQL        string `json:"SQL"`
	Difficulty string `json:"difficulty"`
}

// BirdQuestions returns BIRD mini-dev's questions in dialect
// (schema.DialectPostgres or schema.DialectMySQL from the 2024 release,
// schema.DialectSQLite from the 2025-07 one). The release
// lists questions 137 and 138 twice with identical rows; the repeats are
// dropped, leaving 498. Gold tables are qualified with the database's
// default schema in the matching catalog (public, or the db_id for MySQL).
func BirdQuestions(dir, dialect string) ([]Question, error) {
	var file, set string
	release := birdRelease
	switch dialect {
	case schema.DialectPostgres:
		file, set = "mini_dev_postgresql.json", SetBirdPostgres
	case schema.DialectMySQL:
		file, set = "mini_dev_mysql.json", SetBirdMySQL
	case schema.DialectSQLite:
		// The 2025-07 update has all 500 questions, without repeats.
		file, set, release = "mini_dev_sqlite.json", SetBirdSQLite, birdRelease2025
	default:
		return nil, fmt.Errorf("BIRD mini-dev has no %q questions here", dialect)
	}
	path := filepath.Join(dir, release, file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []birdRecord
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The SQLite gold is read with the MySQL parser; where that parser
	// cannot read it, the tables come from the same question's MySQL gold.
	var mysqlTables map[string][]TableName
	if dialect == schema.DialectSQLite {
		mq, err := BirdQuestions(dir, schema.DialectMySQL)
		if err != nil {
			return nil, err
		}
		mysqlTables = map[string][]TableName{}
		for _, q := range mq {
			for _, t := range q.Tables() {
				mysqlTables[q.ID] = append(mysqlTables[q.ID], TableName{Schema: "main", Name: t.Name})
			}
		}
	}
	seen := map[int]birdRecord{}
	var out []Question
	for _, r := range recs {
		if prev, ok := seen[r.QuestionID]; ok {
			if prev != r {
				return nil, fmt.Errorf("%s: question_id %d appears twice with different content", path, r.QuestionID)
			}
			continue
		}
		seen[r.QuestionID] = r
		id := strconv.Itoa(r.QuestionID)
		def := "public"
		switch dialect {
		case schema.DialectMySQL:
			def = r.DBID
		case schema.DialectSQLite:
			def = "main"
		}
		g := newGold(dialect, r.SQL, def)
		if g.Err != nil && mysqlTables[id] != nil {
			g.Tables, g.Err = mysqlTables[id], nil
		}
		out = append(out, Question{
			ID:         id,
			Set:        set,
			Benchmark:  BenchBird,
			Database:   r.DBID,
			Dialect:    dialect,
			Question:   r.Question,
			Evidence:   r.Evidence,
			Difficulty: r.Difficulty,
			Gold:       []Gold{g},
		})
	}
	return out, nil
}

// BirdGoldLines returns the lines of the release's <dialect>_gold.sql file
// as (SQL, db_id) pairs, in file order, repeats included.
func BirdGoldLines(dir, dialect string) ([][2]string, error) {
	name := map[string]string{
		schema.DialectPostgres: "mini_dev_postgresql_gold.sql",
		schema.DialectMySQL:    "mini_dev_mysql_gold.sql",
	}[dialect]
	if name == "" {
		return nil, fmt.Errorf("no gold file for %q", dialect)
	}
	data, err := os.ReadFile(filepath.Join(dir, birdRelease, name))
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		tab := strings.LastIndexByte(line, '\t')
		if tab < 0 {
			return nil, fmt.Errorf("%s line %d: no tab", name, i+1)
		}
		out = append(out, [2]string{line[:tab], line[tab+1:]})
	}
	return out, nil
}

// --- Spider ---

type spiderRecord struct {
	DBID     string          `json:"db_id"`
	Query    string          `json:"query"`
	Question string          `json:"question"`
	SQL      json.RawMessage `json:"sql"`
}

// SpiderDevQuestions returns Spider's 1,034 dev questions with their SQLite
// gold queries. Their gold tables come from the parse Spider publishes with
// each query (every "table_unit" it names), qualified with SQLite's main
// schema, matching SpiderCatalog.
func SpiderDevQuestions(dir string) ([]Question, error) {
	tables, err := readSpiderTables(filepath.Join(dir, "spider_dev", "tables.json"))
	if err != nil {
		return nil, err
	}
	byDB := map[string]*spiderDB{}
	for i := range tables {
		byDB[tables[i].DBID] = &tables[i]
	}
	path := filepath.Join(dir, "spider_dev", "dev.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []spiderRecord
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]Question, 0, len(recs))
	for i, r := range recs {
		db := byDB[r.DBID]
		if db == nil {
			return nil, fmt.Errorf("%s: row %d: database %q not in tables.json", path, i, r.DBID)
		}
		g := Gold{SQL: r.Query}
		idx, err := spiderTableUnits(r.SQL)
		if err != nil {
			g.Err = err
		}
		for _, t := range idx {
			if t < 0 || t >= len(db.TableNamesOriginal) {
				g.Err = fmt.Errorf("table index %d out of range", t)
				break
			}
			g.Tables = append(g.Tables, TableName{Schema: "main", Name: db.TableNamesOriginal[t]})
		}
		out = append(out, Question{
			ID:        strconv.Itoa(i),
			Set:       SetSpiderDev,
			Benchmark: BenchSpider,
			Database:  r.DBID,
			Dialect:   DialectSQLite,
			Question:  r.Question,
			Gold:      []Gold{g},
		})
	}
	return out, nil
}

// spiderTableUnits returns the distinct table indexes of every
// ["table_unit", n] in a Spider parse, in order of appearance.
func spiderTableUnits(raw json.RawMessage) ([]int, error) {
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var out []int
	seen := map[int]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			if len(x) == 2 {
				if s, ok := x[0].(string); ok && s == "table_unit" {
					if n, ok := x[1].(json.Number); ok {
						if i, err := strconv.Atoi(n.String()); err == nil && !seen[i] {
							seen[i] = true
							out = append(out, i)
						}
					}
					return
				}
			}
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(tree)
	return out, nil
}

// SpiderManQuestions returns SpiderMan's 1,034 Spider dev questions with
// their MySQL gold queries (test_queries.csv). Gold tables are qualified
// with the database's name, its schema in SpiderManCatalog.
func SpiderManQuestions(dir string) ([]Question, error) {
	rows, err := readCSV(filepath.Join(dir, "spiderman_mysql", "test_queries.csv"))
	if err != nil {
		return nil, err
	}
	out := make([]Question, 0, len(rows))
	for i, r := range rows {
		out = append(out, Question{
			ID:        strconv.Itoa(i),
			Set:       SetSpiderMan,
			Benchmark: BenchSpider,
			Database:  r["database"],
			Dialect:   schema.DialectMySQL,
			Question:  r["question"],
			Gold:      []Gold{newGold(schema.DialectMySQL, r["sql"], r["database"])},
		})
	}
	return out, nil
}

// --- Defog ---

// DefogFiles are the PostgreSQL question files of sql-eval, by set.
var DefogFiles = map[string]string{
	SetDefogQuestionsGen:     "questions_gen_postgres.csv",
	SetDefogInstructBasic:    "instruct_basic_postgres.csv",
	SetDefogInstructAdvanced: "instruct_advanced_postgres.csv",
}

// DefogQuestions returns the questions of one Defog PostgreSQL set (see
// DefogFiles). A published query may hold several acceptable queries
// separated by semicolons; they are split with PostgreSQL's own scanner, so
// a semicolon inside a literal does not split. Gold tables are qualified
// with public.
func DefogQuestions(dir, set string) ([]Question, error) {
	file, ok := DefogFiles[set]
	if !ok {
		return nil, fmt.Errorf("unknown Defog set %q", set)
	}
	path := filepath.Join(dir, "defog_sql_eval", "questions", file)
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	out := make([]Question, 0, len(rows))
	for i, r := range rows {
		alts, err := SplitStatements(r["query"])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", path, i, err)
		}
		q := Question{
			ID:        strconv.Itoa(i),
			Set:       set,
			Benchmark: BenchDefog,
			Database:  r["db_name"],
			Dialect:   schema.DialectPostgres,
			Question:  r["question"],
			Evidence:  strings.TrimSpace(r["instructions"]),
			Category:  r["query_category"],
		}
		for _, a := range alts {
			q.Gold = append(q.Gold, newGold(schema.DialectPostgres, a, "public"))
		}
		out = append(out, q)
	}
	return out, nil
}

// AllDefogQuestions returns the three Defog PostgreSQL sets in the order
// questions_gen, instruct_basic, instruct_advanced.
func AllDefogQuestions(dir string) ([]Question, error) {
	var out []Question
	for _, set := range []string{SetDefogQuestionsGen, SetDefogInstructBasic, SetDefogInstructAdvanced} {
		qs, err := DefogQuestions(dir, set)
		if err != nil {
			return nil, err
		}
		out = append(out, qs...)
	}
	return out, nil
}

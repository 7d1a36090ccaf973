package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
)

// queryFile is what export writes for one dialect and both tools read.
type queryFile struct {
	Dialect string `json:"dialect"`
	// NodeDatabase is node-sql-parser's database option for the dialect.
	NodeDatabase string `json:"nodeDatabase"`
	// Sets counts the queries taken from each question set, in order.
	Sets []setCount `json:"sets"`
	// Databases holds the whitelists of every database a query names, keyed
	// by "<source>/<database>" (see sources).
	Databases map[string]whitelist `json:"databases"`
	Queries   []query              `json:"queries"`
}

type setCount struct {
	Set     string `json:"set"`
	Queries int    `json:"queries"`
}

// whitelist is node-sql-parser's authority format for "every table of the
// database allowed": entries are regular expressions that whiteListCheck
// anchors and matches ignoring case against "select::<db>::<table>" and
// "select::<table>::<column>" (table null when unqualified, "(.*)" for a
// star).
type whitelist struct {
	Tables []string `json:"tables"`
	// Columns has one entry per table naming all its columns; ColumnsFlat
	// has one entry per column. Both allow the same authorities; the first
	// is the cheaper for whiteListCheck, which tries entries one by one.
	Columns     []string `json:"columns"`
	ColumnsFlat []string `json:"columnsFlat"`
}

type query struct {
	Set string `json:"set"`
	ID  string `json:"id"`
	Alt int    `json:"alt"`
	DB  string `json:"db"`
	SQL string `json:"sql"`
}

// source is one question set with the catalog its databases come from.
type source struct {
	key       string // prefix of the database keys in queryFile.Databases
	set       string
	catalog   func(dir string) (*schema.Catalog, error)
	questions func(dir string) ([]benchdata.Question, error)
}

type dialectSpec struct {
	name         string // schema.DialectMySQL or schema.DialectPostgres
	nodeDatabase string
	sources      []source
}

func dialects() []dialectSpec {
	bird := func(d string) func(string) ([]benchdata.Question, error) {
		return func(dir string) ([]benchdata.Question, error) { return benchdata.BirdQuestions(dir, d) }
	}
	return []dialectSpec{
		{schema.DialectMySQL, "MySQL", []source{
			{"spiderman", benchdata.SetSpiderMan, benchdata.SpiderManCatalog, benchdata.SpiderManQuestions},
			{"bird", benchdata.SetBirdMySQL, benchdata.BirdMySQLCatalog, bird(schema.DialectMySQL)},
		}},
		{schema.DialectPostgres, "PostgresQL", []source{
			{"defog", "defog (3 sets)", benchdata.DefogCatalog, benchdata.AllDefogQuestions},
			{"bird", benchdata.SetBirdPostgres, benchdata.BirdPostgresCatalog, bird(schema.DialectPostgres)},
		}},
	}
}

func queryPath(dir, dialect string) string { return filepath.Join(dir, "queries-"+dialect+".json") }
func nodePath(dir, dialect string) string  { return filepath.Join(dir, "node-"+dialect+".json") }

func runExport(args []string) error {
	fs := flag.NewFlagSet("export", flag.ExitOnError)
	out := fs.String("out", "", "directory to write the query files to")
	_ = fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("export: -out is required")
	}
	dir, err := benchdata.Dir()
	if err != nil {
		return err
	}
	for _, d := range dialects() {
		f := queryFile{Dialect: d.name, NodeDatabase: d.nodeDatabase, Databases: map[string]whitelist{}}
		for _, s := range d.sources {
			cat, err := s.catalog(dir)
			if err != nil {
				return fmt.Errorf("%s catalog: %w", s.set, err)
			}
			qs, err := s.questions(dir)
			if err != nil {
				return fmt.Errorf("%s questions: %w", s.set, err)
			}
			n := 0
			for _, q := range qs {
				db := cat.Database(q.Database)
				if db == nil {
					return fmt.Errorf("%s %s: database %q not in its catalog", s.set, q.ID, q.Database)
				}
				key := s.key + "/" + db.Name
				if _, ok := f.Databases[key]; !ok {
					f.Databases[key] = whitelistOf(db)
				}
				for i, sql := range q.Alternatives() {
					f.Queries = append(f.Queries, query{Set: q.Set, ID: q.ID, Alt: i, DB: key, SQL: sql})
					n++
				}
			}
			f.Sets = append(f.Sets, setCount{Set: s.set, Queries: n})
		}
		data, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(queryPath(*out, d.name), data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s: %d queries over %d databases\n", queryPath(*out, d.name), len(f.Queries), len(f.Databases))
	}
	return nil
}

// whitelistOf lists every table and column of db as node-sql-parser
// authorities. Names are regexp-quoted because whiteListCheck compiles each
// entry as a pattern; Go's quoting produces escapes JavaScript reads alike.
func whitelistOf(db *schema.Database) whitelist {
	var w whitelist
	q := regexp.QuoteMeta
	star := q("(.*)")
	w.Columns = append(w.Columns, "select::null::"+star)
	w.ColumnsFlat = append(w.ColumnsFlat, "select::null::"+star)
	for _, t := range db.Tables {
		w.Tables = append(w.Tables, fmt.Sprintf("select::(null|%s)::%s", q(t.Schema), q(t.Name)))
		owner := fmt.Sprintf("select::(null|%s)::", q(t.Name))
		cols := []string{star}
		for _, c := range t.Columns {
			cols = append(cols, q(c.Name))
			w.ColumnsFlat = append(w.ColumnsFlat, owner+q(c.Name))
		}
		w.Columns = append(w.Columns, owner+"("+strings.Join(cols, "|")+")")
		w.ColumnsFlat = append(w.ColumnsFlat, fmt.Sprintf("select::%s::%s", q(t.Name), star))
	}
	return w
}

package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
)

// caseFile is one file of end-to-end cases under testdata/<dialect>/.
type caseFile struct {
	Schema   string     `yaml:"schema"`
	Policy   string     `yaml:"policy"`
	Database string     `yaml:"database"`
	Cases    []testCase `yaml:"cases"`
}

type testCase struct {
	Name   string   `yaml:"name"`
	SQL    string   `yaml:"sql"`
	Valid  bool     `yaml:"valid"`
	Tables []string `yaml:"tables"`
	Codes  []string `yaml:"codes"`
	// Only: the violations carry exactly these codes, no others.
	Only    bool   `yaml:"only"`
	SQLOut  string `yaml:"sql_out"`
	MaxRows int    `yaml:"max_rows"`
}

func loadCaseFile(t testing.TB, path string) (*caseFile, *schema.Database, *Rules) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cf caseFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dir := filepath.Dir(path)
	cat, err := schema.LoadFile(filepath.Join(dir, cf.Schema))
	if err != nil {
		t.Fatal(err)
	}
	db := cat.Databases[0]
	if cf.Database != "" {
		db = cat.Database(cf.Database)
	}
	pol := DefaultPolicy()
	if cf.Policy != "" {
		if pol, err = LoadPolicy(filepath.Join(dir, cf.Policy)); err != nil {
			t.Fatal(err)
		}
	}
	rules, warnings := pol.Compile(db)
	if len(warnings) > 0 {
		t.Fatalf("%s: policy warnings: %v", path, warnings)
	}
	return &cf, db, rules
}

func codes(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Code)
	}
	return out
}

// TestCases runs every case file of every dialect through the validator.
// Accepted SQL must be accepted again, with the same tables, when its own
// normalized output is validated: printing must not change meaning.
func TestCases(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	if len(files) == 0 {
		t.Fatal("no case files under testdata/")
	}
	v := New()
	for _, path := range files {
		cf, db, rules := loadCaseFile(t, path)
		for _, tc := range cf.Cases {
			t.Run(strings.TrimSuffix(path[len("testdata/"):], ".yaml")+"/"+tc.Name, func(t *testing.T) {
				if !tc.Valid && len(tc.Codes) == 0 {
					t.Fatal("an invalid case must list the codes it expects")
				}
				res := v.Validate(Request{SQL: tc.SQL, Database: db, Rules: rules, MaxRows: tc.MaxRows})
				if !tc.Valid {
					if res.Valid {
						t.Fatalf("accepted, want %v\nsql: %s\nout: %s", tc.Codes, tc.SQL, res.SQL)
					}
					got := codes(res.Violations)
					for _, c := range tc.Codes {
						if !slices.Contains(got, c) {
							t.Errorf("violations %v lack %s\nsql: %s\n%+v", got, c, tc.SQL, res.Violations)
						}
					}
					if tc.Only {
						for _, c := range got {
							if !slices.Contains(tc.Codes, c) {
								t.Errorf("violations %v hold %s beside %v\n%+v", got, c, tc.Codes, res.Violations)
							}
						}
					}
					return
				}
				if !res.Valid {
					t.Fatalf("refused: %+v\nsql: %s", res.Violations, tc.SQL)
				}
				if tc.Tables != nil && !slices.Equal(res.Tables, tc.Tables) {
					t.Errorf("tables %v, want %v", res.Tables, tc.Tables)
				}
				if tc.SQLOut != "" && res.SQL != tc.SQLOut {
					t.Errorf("sql\n got %s\nwant %s", res.SQL, tc.SQLOut)
				}
				again := v.Validate(Request{SQL: res.SQL, Database: db, Rules: rules, MaxRows: tc.MaxRows})
				if !again.Valid || !slices.Equal(again.Tables, res.Tables) {
					t.Errorf("its own output is judged differently: %+v tables %v\nout: %s", again.Violations, again.Tables, res.SQL)
				}
			})
		}
	}
}

func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		sql              string
		pos              int
		position, l, col int
	}{
		{"SELECT 1", -1, 0, 0, 0},
		{"SELECT 1", 0, 1, 1, 1},
		{"SELECT\n  x", 9, 10, 2, 3},
		{"SELECT 'é', x", 13, 13, 1, 13},
		{"SELECT", 99, 0, 0, 0},
	} {
		v := locate(tc.sql, "X", "m", tc.pos)
		if v.Position != tc.position || v.Line != tc.l || v.Column != tc.col {
			t.Errorf("locate(%q, %d) = %d %d:%d, want %d %d:%d", tc.sql, tc.pos, v.Position, v.Line, v.Column, tc.position, tc.l, tc.col)
		}
	}
}

func TestUnsupportedBackend(t *testing.T) {
	db := &schema.Database{Name: "lake", Backend: "bigquery"}
	res := New().Validate(Request{SQL: "SELECT 1", Database: db})
	if res.Valid || len(res.Violations) != 1 || res.Violations[0].Code != "DIALECT_UNSUPPORTED" {
		t.Fatalf("got %+v", res)
	}
}

// An unknown name is answered with the readable tables of that name, each
// written the shortest way that resolves to it: schema.table in the default
// catalog, catalog.schema.table elsewhere.
func TestUnknownTableSuggestsCatalogs(t *testing.T) {
	_, db, rules := loadCaseFile(t, "testdata/postgres/catalogs.yaml")
	res := New().Validate(Request{SQL: "SELECT id FROM nosuch.orders", Database: db, Rules: rules})
	if res.Valid || len(res.Violations) != 1 || res.Violations[0].Code != "UNKNOWN_TABLE" {
		t.Fatalf("got %+v", res)
	}
	want := `did you mean public.orders or staging.public.orders or "Archive".public.orders?`
	if msg := res.Violations[0].Message; !strings.Contains(msg, want) {
		t.Errorf("message %q lacks %q", msg, want)
	}
	// The denied staging.public.customers is not offered.
	res = New().Validate(Request{SQL: "SELECT id FROM sales.customers", Database: db, Rules: rules})
	if msg := res.Violations[0].Message; strings.Contains(msg, "staging") || !strings.Contains(msg, "public.customers?") {
		t.Errorf("message %q", msg)
	}
}

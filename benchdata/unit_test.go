package benchdata

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
)

var update = flag.Bool("update", false, "rewrite the expected catalogs in testdata/ddl")

func readCases[T any](t *testing.T, name string) []T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var cases []T
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return cases
}

func TestReadTables(t *testing.T) {
	type tc struct {
		Name, Dialect, SQL string
		Tables             []string
		Error              bool
	}
	for _, c := range readCases[tc](t, "readtables.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			names, err := ReadTables(c.Dialect, c.SQL)
			if c.Error {
				if err == nil {
					t.Fatalf("want an error, got %v", names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, n := range names {
				got = append(got, n.String())
			}
			want := c.Tables
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("tables = %q, want %q", got, want)
			}
		})
	}
}

func TestExpandColumnSets(t *testing.T) {
	type tc struct {
		Name, SQL string
		Want      []string
		Error     bool
	}
	for _, c := range readCases[tc](t, "colsets.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			got, err := ExpandColumnSets(c.SQL)
			if c.Error {
				if err == nil {
					t.Fatalf("want an error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.Want, "\n"))
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	type tc struct {
		Name, SQL string
		Want      []string
	}
	for _, c := range readCases[tc](t, "split.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			got, err := SplitStatements(c.SQL)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(c.Want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Errorf("got %q, want %q", got, c.Want)
			}
		})
	}
}

func TestParsePythonCSV(t *testing.T) {
	type tc struct {
		Name, In string
		Want     [][]string
	}
	for _, c := range readCases[tc](t, "csv.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			got := parsePythonCSV(c.In)
			for i := range c.Want {
				if c.Want[i] == nil {
					c.Want[i] = []string{}
				}
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Errorf("got %q, want %q", got, c.Want)
			}
		})
	}
}

func TestPostgresName(t *testing.T) {
	for in, want := range map[string]string{
		"CustomerID":             "customerid",
		"lapTimes":               "laptimes",
		"date":                   "date",
		"order":                  "order",
		"_x$1":                   "_x$1",
		"Free Meal Count (K-12)": "Free Meal Count (K-12)",
		"T-CHO":                  "T-CHO",
		"2013-14 CALPADS":        "2013-14 CALPADS",
		"aCL IgM":                "aCL IgM",
	} {
		if got := PostgresName(in); got != want {
			t.Errorf("PostgresName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDDLCatalogs builds catalogs from the DDL files in testdata/ddl and
// compares them with the expected schema files beside them (regenerate with
// -update after checking the difference by hand).
func TestDDLCatalogs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "ddl", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no DDL fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ddl, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var db *schema.Database
			switch {
			case strings.HasSuffix(f, ".mysql.sql"):
				db, err = MySQLDatabase("shop", "shop", string(ddl))
			case strings.HasSuffix(f, ".postgres.sql"):
				db, err = PostgresDatabase("shop", string(ddl))
			default:
				t.Fatalf("fixture %s names no dialect", f)
			}
			if err != nil {
				t.Fatal(err)
			}
			c := &schema.Catalog{Databases: []*schema.Database{db}}
			if err := c.Normalize(); err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			checkKeys(t, c)
			var got bytes.Buffer
			if err := c.Marshal(&got); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".sql") + ".yaml"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("catalog differs from %s:\n%s", golden, got.String())
			}
			// The expected file must itself be a valid schema file.
			if _, err := schema.ParseCatalog(want); err != nil {
				t.Errorf("%s: %v", golden, err)
			}
		})
	}
}

func TestDDLErrors(t *testing.T) {
	if _, err := MySQLDatabase("x", "x", "CREATE TABLE (a INT"); err == nil {
		t.Error("MySQL: malformed DDL accepted")
	}
	if _, err := PostgresDatabase("x", "CREATE TABLE (a int"); err == nil {
		t.Error("PostgreSQL: malformed DDL accepted")
	}
}

func TestDirOverride(t *testing.T) {
	t.Setenv(EnvDir, t.TempDir())
	if _, err := Dir(); err == nil {
		t.Error("a directory without SOURCES.md was accepted")
	}
}

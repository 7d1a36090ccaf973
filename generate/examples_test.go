package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

func TestSimilarExamples(t *testing.T) {
	x, err := LoadExamples("testdata/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schema.LoadFile("../validate/testdata/shop_postgres.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := validate.LoadPolicy("../validate/testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := cat.Database("shop")
	rules, _ := pol.Compile(db)
	v := validate.New()

	got := x.Similar(v, db, rules, "Monthly revenue for 2024", 2)
	if len(got) == 0 || !strings.HasPrefix(got[0].Question, "What was the revenue per month") {
		t.Errorf("monthly revenue: %+v", got)
	}
	for _, e := range got {
		if e.Database != "shop" {
			t.Errorf("an example of another database: %+v", e)
		}
	}
	// The e-mail example reads a denied column: it is never shown.
	for _, e := range x.Similar(v, db, rules, "customers with an email address", 3) {
		if strings.Contains(e.SQL, "email") {
			t.Errorf("an example the caller may not run was shown: %s", e.SQL)
		}
	}
	// A caller who may not see customers gets no customer example.
	narrow := rules.Restrict(func(t *schema.Table) bool { return t.Name != "customers" })
	for _, e := range x.Similar(v, db, narrow, "customers per country", 3) {
		if strings.Contains(e.SQL, "customers") {
			t.Errorf("an example over a table outside the scope was shown: %s", e.SQL)
		}
	}
	if got := x.Similar(v, db, rules, "zzz qqq", 3); len(got) != 0 {
		t.Errorf("unrelated question: %+v", got)
	}
}

func TestLoadExamplesRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"missing sql": "examples:\n  - {database: shop, question: q}",
		"unknown key": "examples:\n  - {database: shop, question: q, sql: SELECT 1, answer: x}",
	} {
		path := filepath.Join(t.TempDir(), "x.yaml")
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := LoadExamples(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

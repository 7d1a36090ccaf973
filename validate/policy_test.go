package validate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

func shop(t *testing.T) *schema.Database {
	t.Helper()
	cat, err := schema.LoadFile("testdata/shop_postgres.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cat.Databases[0]
}

func TestParsePolicyErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"allow_tabels: [x]", "allow_tabels"},
		{"deny_columns: [email]", "table.column"},
		{"deny_tables: [a.b.c.d]", "catalog.schema.name"},
		{"deny_columns: [a.b.c.d.e]", "catalog.schema.table.column"},
		{"deny_columns: [customers.*]", "deny_tables"},
		{"allow_tables: ['a..b']", "schema.name"},
		{"max_rows: -1", "negative"},
		{"databases: {shop: {deny_columns: [x]}}", "databases.shop."},
		{"allow_functions: [a.b.c]", "allow_functions"},
	} {
		_, err := ParsePolicy([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePolicy(%q) = %v, want an error mentioning %q", tc.in, err, tc.want)
		}
	}
}

func TestCompile(t *testing.T) {
	db := shop(t)
	p, err := ParsePolicy([]byte(`
allow_tables: [public.*]
deny_tables: [USERS]
deny_columns: ["*.Email", public.customers.phone, nosuch.col]
allow_functions: [Util.Safe_Fn]
max_rows: 500
databases:
  shop:
    deny_columns: [orders.total]
    max_rows: 50
  other:
    allow_tables: ["*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	r, warnings := p.Compile(db)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "nosuch.col") {
		t.Errorf("warnings = %v", warnings)
	}
	tbl := func(s, n string) *schema.Table { return db.Table(s, n) }
	for _, c := range []struct {
		t     *schema.Table
		allow bool
	}{
		{tbl("public", "orders"), true},
		{tbl("public", "users"), false},
		{tbl("analytics", "events"), false},
	} {
		if r.TableAllowed(c.t) != c.allow {
			t.Errorf("TableAllowed(%s) = %v", c.t.QualifiedName(), !c.allow)
		}
	}
	cust := tbl("public", "customers")
	if r.ColumnAllowed(cust, "email") || r.ColumnAllowed(cust, "EMAIL") || r.ColumnAllowed(cust, "phone") || !r.ColumnAllowed(cust, "name") {
		t.Error("customers column rules are wrong")
	}
	if r.ColumnAllowed(tbl("public", "orders"), "total") {
		t.Error("the database section's deny_columns did not apply")
	}
	if r.MaxRows() != 50 {
		t.Errorf("MaxRows = %d, want the database section's 50", r.MaxRows())
	}
	if !r.FunctionAllowed("util.safe_fn") {
		t.Error("allow_functions entries compare in lower case")
	}
	narrow := r.Restrict(func(t *schema.Table) bool { return t.Name == "orders" || t.Name == "users" })
	if !narrow.TableAllowed(tbl("public", "orders")) || narrow.TableAllowed(tbl("public", "customers")) || narrow.TableAllowed(tbl("public", "users")) {
		t.Error("Restrict must intersect the scope with the allowlist")
	}
	if !r.TableAllowed(tbl("public", "customers")) {
		t.Error("Restrict changed the rules it was called on")
	}
}

func TestDefaultPolicy(t *testing.T) {
	db := shop(t)
	r, warnings := DefaultPolicy().Compile(db)
	if len(warnings) != 0 || r.MaxRows() != DefaultMaxRows {
		t.Fatalf("warnings %v, max rows %d", warnings, r.MaxRows())
	}
	for _, tb := range db.Tables {
		if !r.TableAllowed(tb) {
			t.Errorf("%s not allowed by the default policy", tb.QualifiedName())
		}
	}
}

func TestFingerprint(t *testing.T) {
	db := shop(t)
	a, _ := DefaultPolicy().Compile(db)
	b, _ := DefaultPolicy().Compile(db)
	if a.Fingerprint() != b.Fingerprint() {
		t.Fatal("equal rules must have equal fingerprints")
	}
	narrow := a.Restrict(func(t *schema.Table) bool { return t.Name != "orders" })
	p, _ := ParsePolicy([]byte("allow_tables: ['*']\ndeny_columns: [customers.email]"))
	denied, _ := p.Compile(db)
	capped, _ := (&Policy{Rule: Rule{AllowTables: []string{"*"}, MaxRows: 7}}).Compile(db)
	seen := map[string]bool{a.Fingerprint(): true}
	for _, r := range []*Rules{narrow, denied, capped} {
		if seen[r.Fingerprint()] {
			t.Errorf("rules that judge differently share fingerprint %s", r.Fingerprint())
		}
		seen[r.Fingerprint()] = true
	}
}

// A policy checked against many databases warns once per entry that
// matches nothing anywhere, not once per database it is missing from.
func TestCompileAllWarnings(t *testing.T) {
	shopDB := shop(t)
	dbs := []*schema.Database{shopDB}
	for i := range 54 {
		dbs = append(dbs, &schema.Database{Name: fmt.Sprintf("warehouse%02d", i), Backend: "postgresql", Tables: []*schema.Table{
			{Schema: "public", Name: "facts", Columns: []schema.Column{{Name: "id", Type: "int"}, {Name: "amount", Type: "numeric"}}},
		}})
	}
	for _, tc := range []struct {
		name, policy string
		want         []string
	}{
		{"entries matching somewhere", `
allow_tables: ["*"]
deny_tables: [users, public.facts]
deny_columns: ["*.email", facts.amount]`, nil},
		{"entries matching nowhere", `
deny_tables: [userz]
deny_columns: [customers.emial, userz.id]`, []string{
			`deny_tables entry "userz" matches no table in any of the 55 databases it was checked against`,
			`deny_columns entry "customers.emial" matches no column in any of the 55 databases it was checked against`,
			`deny_columns entry "userz.id" matches no column in any of the 55 databases it was checked against`,
		}},
		{"a database's own entry", `
databases:
  warehouse07:
    deny_tables: [public.fact]
  shop:
    deny_tables: [users]`, []string{
			`deny_tables entry "public.fact" matches no table in database warehouse07, the only database it was checked against`,
		}},
		{"an entry both top-level and in a section", `
deny_tables: [nothere]
databases:
  shop:
    deny_tables: [nothere]`, []string{
			`deny_tables entry "nothere" matches no table in any of the 55 databases it was checked against`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			rules, warnings := p.CompileAll(dbs)
			if strings.Join(warnings, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(rules) != len(dbs) {
				t.Fatalf("%d rule sets for %d databases", len(rules), len(dbs))
			}
			for _, db := range dbs {
				one, _ := p.Compile(db)
				if rules[db].Fingerprint() != one.Fingerprint() {
					t.Errorf("database %s: CompileAll's rules differ from Compile's", db.Name)
				}
			}
		})
	}
}

// Entries name tables with or without their catalog: without one, an entry
// covers the table in every catalog.
func TestCompileCatalogs(t *testing.T) {
	cat, err := schema.LoadFile("testdata/lake_catalogs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := cat.Databases[0]
	p, err := ParsePolicy([]byte(`
allow_tables: [prod.public.*, STAGING.public.orders, archive.*.*]
deny_tables: [nosuch.public.orders]
deny_columns: [public.orders.amount, staging.public.customers.email, prod.*.*.name]
`))
	if err != nil {
		t.Fatal(err)
	}
	r, warnings := p.Compile(db)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "nosuch.public.orders") {
		t.Errorf("warnings = %v", warnings)
	}
	for name, allow := range map[string]bool{
		"prod.public.orders": true, "prod.public.customers": true, "staging.public.orders": true,
		"staging.public.customers": false, "staging.secret.keys": false, "Archive.public.orders": true,
	} {
		c, s, n := splitThree(name)
		if got := r.TableAllowed(db.TableIn(c, s, n)); got != allow {
			t.Errorf("TableAllowed(%s) = %v, want %v", name, got, allow)
		}
	}
	for _, c := range []struct {
		table, column string
		allow         bool
	}{
		{"prod.public.orders", "amount", false},
		{"staging.public.orders", "amount", false},
		{"Archive.public.orders", "amount", false},
		{"staging.public.customers", "email", false},
		{"prod.public.customers", "email", true},
		{"prod.public.customers", "name", false},
		{"staging.public.customers", "name", true},
	} {
		cn, s, n := splitThree(c.table)
		if got := r.ColumnAllowed(db.TableIn(cn, s, n), c.column); got != c.allow {
			t.Errorf("ColumnAllowed(%s, %s) = %v, want %v", c.table, c.column, got, c.allow)
		}
	}
}

func splitThree(name string) (string, string, string) {
	p := strings.SplitN(name, ".", 3)
	return p[0], p[1], p[2]
}

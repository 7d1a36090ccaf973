package validate

import (
	"testing"

	"github.com/texttosql/text2sql/schema"
)

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		expr, name string
		want       bool
	}{
		{"SUM(salary)", "salary", true},
		{"sum(\"Salary\") / 2", "salary", true},
		{"COUNT(salary_band)", "salary", false},
		{"AVG(base_salary)", "salary", false},
		{"COUNT(*)", "salary", false},
		{"MAX(e.email)", "email", true},
		{"COUNT(DISTINCT split_part(email, '@', 2))", "email", true},
		{"", "salary", false},
	} {
		if got := mentions(tc.expr, tc.name); got != tc.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tc.expr, tc.name, got, tc.want)
		}
	}
}

// A key or metric that names a column or table the caller may not read is
// hidden; keys resolve through schema.Database.ForeignKeyTarget, so a key
// whose target is ambiguous is hidden too.
func TestVisibilityOfKeysAndMetrics(t *testing.T) {
	db := &schema.Database{Name: "shop", Backend: "postgresql", DefaultSchema: "public", Tables: []*schema.Table{
		{Schema: "public", Name: "customers", Columns: []schema.Column{{Name: "id"}, {Name: "email"}, {Name: "manager_id"}},
			Metrics: []schema.Metric{
				{Name: "domains", Expression: "COUNT(DISTINCT split_part(email, '@', 2))"},
				{Name: "customers", Expression: "COUNT(*)"},
			}},
		{Schema: "public", Name: "orders", Columns: []schema.Column{{Name: "id"}, {Name: "customer_id"}, {Name: "customer_email"}, {Name: "clerk"}},
			ForeignKeys: []schema.ForeignKey{
				{Columns: []string{"customer_id"}, References: schema.TableRef{Table: "customers", Columns: []string{"id"}}},
				{Columns: []string{"customer_email"}, References: schema.TableRef{Schema: "public", Table: "customers", Columns: []string{"email"}}},
				{Columns: []string{"clerk"}, References: schema.TableRef{Schema: "public", Table: "users", Columns: []string{"id"}}},
				{Columns: []string{"customer_id"}, References: schema.TableRef{Schema: "public", Table: "nowhere", Columns: []string{"id"}}},
				{Columns: []string{"customer_id"}, References: schema.TableRef{Schema: "public", Table: "customers", Columns: []string{"missing"}}},
			}},
		{Schema: "public", Name: "users", Columns: []schema.Column{{Name: "id"}}},
	}}
	db.Index()
	p, err := ParsePolicy([]byte("allow_tables: ['*']\ndeny_tables: [users]\ndeny_columns: [customers.email]\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Compile(db)
	customers, orders := db.Tables[0], db.Tables[1]
	for i, want := range []bool{true, false, false, false, false} {
		if got := r.ForeignKeyAllowed(orders, orders.ForeignKeys[i]); got != want {
			t.Errorf("ForeignKeyAllowed(%v) = %v, want %v", orders.ForeignKeys[i], got, want)
		}
	}
	if r.MetricAllowed(customers, customers.Metrics[0]) {
		t.Error("a metric over the denied customers.email is shown")
	}
	if !r.MetricAllowed(customers, customers.Metrics[1]) {
		t.Error("COUNT(*) is hidden")
	}
	// Narrowed to a scope without customers, the key into it goes too.
	narrow := r.Restrict(func(t *schema.Table) bool { return t != customers })
	if narrow.ForeignKeyAllowed(orders, orders.ForeignKeys[0]) {
		t.Error("a key into a table outside the scope is shown")
	}
}

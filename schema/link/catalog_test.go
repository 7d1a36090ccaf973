package link

import (
	"slices"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

// With several catalogs, tables of the same schema and name are told apart
// by their catalog in both the names and the DDL, and a foreign key into
// another catalog names it; with one, the DDL keeps schema.table, which
// resolves in the default catalog.
func TestCatalogQualifiedNames(t *testing.T) {
	c, err := schema.LoadFile("testdata/catalogs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := newLinker(t, Options{})
	res, err := l.Link(c.Database("lake"), Query{Question: "total order amount per customer name", Budget: 2000})
	if err != nil {
		t.Fatal(err)
	}
	names := res.Names()
	for _, want := range []string{"prod.sales.orders", "staging.sales.orders", "prod.sales.customers"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not linked: %v", want, names)
		}
	}
	for _, want := range []string{
		"CREATE TABLE prod.sales.orders (",
		"CREATE TABLE staging.sales.orders (",
		"FOREIGN KEY (customer_id) REFERENCES prod.sales.customers (id)",
	} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, res.Text)
		}
	}
	if strings.Contains(res.Text, "REFERENCES staging.") {
		t.Errorf("a key into another catalog points at its own:\n%s", res.Text)
	}

	// Hiding the production customers drops the keys into them from both
	// catalogs' orders.
	hidden, err := l.Link(c.Database("lake"), Query{Question: "total order amount per customer name", Budget: 2000,
		Visibility: testVisibility{db: c.Database("lake"), table: func(t *schema.Table) bool { return t.QualifiedName() != "prod.sales.customers" }}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hidden.Text, "customers") {
		t.Errorf("a hidden table is named:\n%s", hidden.Text)
	}

	one, err := l.Link(c.Database("single"), Query{Question: "order amounts", Budget: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one.Names(), []string{"prod.sales.orders"}) || !strings.Contains(one.Text, "CREATE TABLE sales.orders (") {
		t.Errorf("single catalog: names %v, text:\n%s", one.Names(), one.Text)
	}
}

package server

import (
	"context"
	"slices"
	"testing"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// GetSchema and ValidateSQL name tables with their catalog, and a policy
// entry with a catalog hides the table in that catalog only.
func TestCatalogsThroughTheService(t *testing.T) {
	c, err := schema.LoadFile("testdata/catalogs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := validate.ParsePolicy([]byte("allow_tables: ['*']\ndeny_tables: [staging.public.customers]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := testService(t, Config{Store: schema.NewFileStore(c, ""), Policy: p})
	ctx := context.Background()

	resp, err := s.GetSchema(ctx, &texttosqlv1.GetSchemaRequest{Database: "lake"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Database.DefaultCatalog != "prod" {
		t.Errorf("default catalog %q", resp.Database.DefaultCatalog)
	}
	var names, refs []string
	for _, tb := range resp.Tables {
		names = append(names, tb.Catalog+"."+tb.Schema+"."+tb.Name)
		for _, fk := range tb.ForeignKeys {
			refs = append(refs, tb.Catalog+"."+tb.Name+"->"+fk.RefCatalog+"."+fk.RefSchema+"."+fk.RefTable)
		}
	}
	slices.Sort(names)
	slices.Sort(refs)
	if want := []string{"prod.public.customers", "prod.public.orders", "staging.public.orders"}; !slices.Equal(names, want) {
		t.Errorf("tables %v, want %v", names, want)
	}
	if want := []string{"prod.orders->prod.public.customers", "staging.orders->prod.public.customers"}; !slices.Equal(refs, want) {
		t.Errorf("foreign keys %v, want %v", refs, want)
	}

	v, err := s.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{Database: "lake",
		Sql: "SELECT o.id FROM staging.public.orders o JOIN customers c ON c.id = o.customer_id"})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || !slices.Equal(v.Tables, []string{"prod.public.customers", "staging.public.orders"}) {
		t.Errorf("valid %v tables %v violations %v", v.Valid, v.Tables, v.Violations)
	}
	v, err = s.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{Database: "lake", Sql: "SELECT id FROM staging.public.customers"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Valid || len(v.Violations) != 1 || v.Violations[0].Code != "TABLE_NOT_ALLOWED" {
		t.Errorf("a denied table of another catalog: %+v", v)
	}
}

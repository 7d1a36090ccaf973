package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseCatalogRefuses(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, File, Error string }
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(tc.File))
			if err == nil || !strings.Contains(err.Error(), tc.Error) {
				t.Errorf("ParseCatalog = %v, want an error containing %q", err, tc.Error)
			}
		})
	}
}

const shopYAML = `databases:
  - name: shop
    id: 7
    backend: PostgreSQL
    tables:
      - name: orders
        columns: [{name: id}, {name: Total}]
        foreign_keys: [{columns: [customer_id], references: {table: customers, columns: [id]}}]
      - {schema: sales, name: Orders, columns: [{name: id}]}
  - name: store
    backend: mysql
    tables:
      - {schema: store, name: orders, columns: [{name: id}]}
`

func TestDefaultsAndLookups(t *testing.T) {
	c, err := ParseCatalog([]byte(shopYAML))
	if err != nil {
		t.Fatal(err)
	}
	shop, store := c.Database("shop"), c.Database("store")
	if shop.Backend != "postgresql" || shop.Dialect() != DialectPostgres || shop.DefaultSchema != "public" {
		t.Errorf("shop: backend %q dialect %q default schema %q", shop.Backend, shop.Dialect(), shop.DefaultSchema)
	}
	if store.Dialect() != DialectMySQL || store.DefaultSchema != "store" {
		t.Errorf("store: the default schema of a MySQL database is the one its tables share, got %q", store.DefaultSchema)
	}
	if c.Database("7") != shop || c.Database("8") != nil || c.Database("nosuch") != nil {
		t.Error("lookup by Superset id")
	}
	orders := shop.Table("public", "orders")
	if orders == nil || orders.ForeignKeys[0].References.Schema != "public" {
		t.Fatal("a table without schema takes the default one, and so does its foreign key's target")
	}
	if shop.Table("public", "ORDERS") != nil || len(shop.TablesFold("SALES", "orders")) != 1 {
		t.Error("Table matches exactly, TablesFold ignoring case")
	}
	if orders.Column("total") != nil || orders.ColumnFold("total") == nil || orders.ColumnFold("TOTAL").Name != "Total" {
		t.Error("Column matches exactly, ColumnFold ignoring case")
	}
	if DialectOf("bigquery") != "" || DialectOf("MariaDB") != DialectMySQL || DialectOf("redshift") != DialectPostgres {
		t.Error("DialectOf")
	}
}

func TestJSONIsAccepted(t *testing.T) {
	c, err := ParseCatalog([]byte(`{"databases": [{"name": "a", "backend": "mysql", "tables": [{"schema": "a", "name": "t", "columns": [{"name": "c"}]}]}]}`))
	if err != nil || c.Database("a").Table("a", "t") == nil {
		t.Fatalf("%v", err)
	}
}

func TestVersion(t *testing.T) {
	c, _ := ParseCatalog([]byte(shopYAML))
	d := c.Database("shop")
	v := d.Version()
	if d.Version() != v {
		t.Fatal("Version is not stable")
	}
	d.Tables[0].Columns[0].Description = "changed"
	if d.Version() == v {
		t.Error("a changed description must change the version")
	}
}

// roundTrip writes c as a schema file and reads it back.
func roundTrip(t *testing.T, c *Catalog) (*Catalog, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseCatalog(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return back, buf.String()
}

func TestMarshalRoundTrip(t *testing.T) {
	c, _ := ParseCatalog([]byte(shopYAML))
	back, _ := roundTrip(t, c)
	for _, d := range c.Databases {
		if back.Database(d.Name).Version() != d.Version() {
			t.Errorf("%s changed in a marshal round trip", d.Name)
		}
	}
}

func TestFileStoreRefreshKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schema.yaml")
	if err := os.WriteFile(path, []byte(shopYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewFileStore(c, path)
	before, err := s.Get(t.Context(), "shop")
	if err != nil || before.Status.Source != "file" || before.Status.Version == "" {
		t.Fatalf("%+v %v", before, err)
	}
	os.WriteFile(path, []byte("databases: [{name: shop}]"), 0o600)
	if _, err := s.Refresh(t.Context(), "shop"); err == nil {
		t.Fatal("a broken file was accepted")
	}
	if after, _ := s.Get(t.Context(), "shop"); after.Status.Version != before.Status.Version {
		t.Error("a failed refresh replaced the catalog")
	}
	os.WriteFile(path, []byte(strings.Replace(shopYAML, "{name: Total}", "{name: Total, description: amount}", 1)), 0o600)
	if after, err := s.Refresh(t.Context(), "shop"); err != nil || after.Status.Version == before.Status.Version {
		t.Errorf("a good edit was not picked up: %v", err)
	}
	if _, err := s.Get(t.Context(), "nosuch"); err == nil {
		t.Error("unknown database")
	}
}

func TestCatalogs(t *testing.T) {
	c, err := LoadFile("testdata/catalogs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Database("lake")
	if !d.HasCatalogs() || !slices.Equal(d.Catalogs(), []string{"analytics-dev", "analytics-prod"}) {
		t.Fatalf("catalogs %v", d.Catalogs())
	}
	prod := d.Table("sales", "orders")
	if prod == nil || prod.Catalog != "analytics-prod" || prod.QualifiedName() != "analytics-prod.sales.orders" {
		t.Fatalf("a table without catalog is in the default one: %+v", prod)
	}
	dev := d.TableIn("analytics-dev", "sales", "orders")
	if dev == nil || dev == prod || d.TableIn("analytics-dev", "sales", "ORDERS") != nil || len(d.TablesFoldIn("ANALYTICS-DEV", "Sales", "orders")) != 1 {
		t.Fatal("TableIn matches the catalog exactly, TablesFoldIn ignoring case")
	}
	for _, tc := range []struct {
		from *Table
		fk   int
		want *Table
	}{
		{prod, 0, d.TableIn("analytics-prod", "sales", "customers")},
		{dev, 0, d.TableIn("analytics-dev", "sales", "customers")},
		{dev, 1, prod}, // another catalog, and a name that matches only ignoring case
	} {
		fk := tc.from.ForeignKeys[tc.fk]
		if got := d.Ref(tc.from, fk.References); got == nil || got != tc.want {
			t.Errorf("%s fk %d references %v, want %s", tc.from.QualifiedName(), tc.fk, got, tc.want.QualifiedName())
		}
	}
	if got := dev.ForeignKeys[0].References.Catalog; got != "analytics-dev" {
		t.Errorf("a foreign key's target catalog defaults to its table's, got %q", got)
	}

	// The catalog survives a round trip through the file format.
	back, text := roundTrip(t, c)
	if bd := back.Database("lake"); bd.DefaultCatalog != "analytics-prod" || bd.TableIn("analytics-dev", "sales", "customers") == nil || bd.Version() != d.Version() {
		t.Errorf("round trip lost the catalogs:\n%s", text)
	}

	// Without catalogs nothing changes: names stay schema.table.
	shop, err := ParseCatalog([]byte(shopYAML))
	if err != nil {
		t.Fatal(err)
	}
	if db := shop.Database("shop"); db.HasCatalogs() || db.Table("public", "orders").QualifiedName() != "public.orders" {
		t.Error("a database without catalogs")
	}
}

package superset_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/cache"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

var update = flag.Bool("update", false, "rewrite golden files")

var _ cache.Source = (*superset.Source)(nil)

// seedShop builds a small, hand-made catalog covering what the mapping must
// handle: keys, comments, calculated columns, virtual datasets, a MySQL
// database, and a dataset whose schema Superset left empty.
func seedShop(f *fakesuperset.Server) {
	wh := f.AddDatabase(fakesuperset.Database{Name: "warehouse", Backend: "postgresql"})
	shop := f.AddDatabase(fakesuperset.Database{Name: "shop", Backend: "mysql"})
	lake := f.AddDatabase(fakesuperset.Database{Name: "lake", Backend: "trino", AllowMultiCatalog: true, DefaultCatalog: "hive"})
	snow := f.AddDatabase(fakesuperset.Database{Name: "snow", Backend: "snowflake", DefaultCatalog: "ANALYTICS"})
	changed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// The same schema.table in two catalogs: two tables, each with its own
	// columns and its own warehouse comment. A dataset without a catalog is
	// in the connection's default one, which a multi-catalog connection
	// does not name.
	f.AddDataset(fakesuperset.Dataset{ID: 30, DatabaseID: lake.ID, Catalog: "hive", Schema: "sales", TableName: "orders",
		TableComment: "orders in the hive catalog", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 30, Name: "id", Type: "BIGINT"}, {ID: 31, Name: "amount", Type: "DOUBLE"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 31, DatabaseID: lake.ID, Catalog: "iceberg", Schema: "sales", TableName: "orders",
		TableComment: "orders in the iceberg catalog", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 32, Name: "id", Type: "BIGINT"}, {ID: 33, Name: "region", Type: "VARCHAR"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 32, DatabaseID: lake.ID, Schema: "sales", TableName: "events", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 34, Name: "id", Type: "BIGINT"}}})
	// One catalog only: the catalog one dataset names is the default, and
	// the dataset that names none is in it.
	f.AddDataset(fakesuperset.Dataset{ID: 40, DatabaseID: snow.ID, Catalog: "ANALYTICS", Schema: "PUBLIC", TableName: "USERS", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 40, Name: "ID", Type: "NUMBER(38,0)"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 41, DatabaseID: snow.ID, Schema: "PUBLIC", TableName: "EVENTS", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 41, Name: "ID", Type: "NUMBER(38,0)"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 10, DatabaseID: wh.ID, Schema: "public", TableName: "customers",
		Description: "One row per customer", ChangedOn: changed, PrimaryKey: []string{"id"},
		Columns: []fakesuperset.Column{
			{ID: 1, Name: "id", Type: "BIGINT"},
			{ID: 2, Name: "email", Type: "VARCHAR(255)", Description: "Login e-mail", VerboseName: "E-mail"},
			{ID: 3, Name: "signup_at", Type: "TIMESTAMP WITHOUT TIME ZONE", IsDttm: true, Comment: "warehouse: signup time"},
		}})
	f.AddDataset(fakesuperset.Dataset{ID: 11, DatabaseID: wh.ID, Schema: "public", TableName: "orders",
		TableComment: "orders placed on the web shop", ChangedOn: changed, PrimaryKey: []string{"id"},
		ForeignKeys: []fakesuperset.ForeignKey{{Columns: []string{"customer_id"}, RefSchema: "public", RefTable: "customers", RefColumns: []string{"id"}}},
		Columns: []fakesuperset.Column{
			{ID: 4, Name: "id", Type: "BIGINT"},
			{ID: 5, Name: "customer_id", Type: "BIGINT", Description: "Buyer"},
			{ID: 6, Name: "amount", Type: "NUMERIC(12, 2)"},
			{ID: 7, Name: "amount_eur", Type: "NUMERIC", Expression: "amount * 0.9"},
		},
		Metrics: []fakesuperset.Metric{{ID: 1, Name: "revenue", Expression: "SUM(amount)", Description: "Gross revenue", VerboseName: "Revenue"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 12, DatabaseID: wh.ID, Schema: "public", TableName: "big_orders",
		SQL: "SELECT * FROM orders WHERE amount > 1000", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 8, Name: "id", Type: "BIGINT"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 20, DatabaseID: shop.ID, Schema: "shop", TableName: "products", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 9, Name: "sku", Type: "VARCHAR(32)"}, {ID: 10, Name: "price", Type: "DECIMAL(10,2)"}}})
	f.AddDataset(fakesuperset.Dataset{ID: 21, DatabaseID: shop.ID, TableName: "stock", ChangedOn: changed,
		Columns: []fakesuperset.Column{{ID: 11, Name: "sku", Type: "VARCHAR(32)"}, {ID: 12, Name: "qty", Type: "INT"}}})
}

func TestPullGolden(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	seedShop(f)
	cat, err := superset.Pull(context.Background(), svcConfig(f))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cat.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pull.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("pulled catalog differs from %s:\n%s", golden, buf.String())
	}
	// The written file loads back as a valid schema file.
	back, err := schema.ParseCatalog(buf.Bytes())
	if err != nil {
		t.Fatalf("pulled catalog does not load: %v", err)
	}
	wh := back.Database("warehouse")
	if wh.Table("public", "big_orders") != nil {
		t.Fatal("a virtual dataset became a table")
	}
	if wh.Table("public", "orders").Column("amount_eur") != nil {
		t.Fatal("a calculated column became a table column")
	}
	lake := back.Database("lake")
	hive, iceberg := lake.TableIn("hive", "sales", "orders"), lake.TableIn("iceberg", "sales", "orders")
	if hive == nil || iceberg == nil || hive.Description != "orders in the hive catalog" || iceberg.Column("region") == nil {
		t.Fatalf("one schema.table in two catalogs must stay two tables, each with its own metadata: %+v %+v", hive, iceberg)
	}
	if lake.DefaultCatalog != "" || lake.TableIn("", "sales", "events") == nil {
		t.Error("a multi-catalog connection's default catalog is not known; a dataset without a catalog keeps none")
	}
	snow := back.Database("snow")
	if snow.DefaultCatalog != "ANALYTICS" || snow.TableIn("ANALYTICS", "PUBLIC", "EVENTS") == nil {
		t.Errorf("a single-catalog connection: default %q, tables %v", snow.DefaultCatalog, snow.Tables)
	}
}

func TestPullUnknownDatabaseFails(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	seedShop(f)
	cfg := svcConfig(f)
	cfg.Databases = []string{"warehouse", "nope"}
	if _, err := superset.Pull(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("err = %v, want the missing database named", err)
	}
	cfg.Databases = []string{"2"} // by id
	cat, err := superset.Pull(context.Background(), cfg)
	if err != nil || len(cat.Databases) != 1 || cat.Databases[0].Name != "shop" {
		t.Fatalf("select by id: %v %v", cat, err)
	}
}

func TestVirtualDatasetsKeptAside(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	seedShop(f)
	src := superset.NewSource(newClient(t, svcConfig(f)))
	ctx := context.Background()
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(dbs, func(d *schema.Database) bool { return d.Name == "warehouse" })
	db, err := src.Fetch(ctx, dbs[i], true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range db.Tables {
		if tb.DatasetID == 12 {
			t.Fatal("virtual dataset 12 is a table")
		}
	}
	v := src.VirtualDatasets(dbs[i].ID)
	if len(v) != 1 || v[0].ID != 12 || v[0].Name != "big_orders" {
		t.Fatalf("virtual datasets = %+v", v)
	}
	// The list said "virtual": no detail call was spent on it.
	if f.Calls(fakesuperset.EndpointDatasetGet) != 2 {
		t.Fatalf("detail calls = %d, want 2 (the physical datasets)", f.Calls(fakesuperset.EndpointDatasetGet))
	}
}

func TestTableMetadataEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		mode     fakesuperset.TableMetadataMode
		wantKeys bool
		endpoint string
	}{
		{"current endpoint", fakesuperset.TableMetadataBoth, true, fakesuperset.EndpointTableMetadata},
		{"older superset", fakesuperset.TableMetadataLegacyOnly, true, fakesuperset.EndpointTableMetadataOld},
		{"no metadata", fakesuperset.TableMetadataNone, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, fakesuperset.Options{})
			seedShop(f)
			f.SetTableMetadataMode(tt.mode)
			cfg := svcConfig(f)
			cfg.Databases = []string{"warehouse"}
			cfg.MaxConcurrency = 1 // so "tried once" is exact
			cat, err := superset.Pull(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			orders := cat.Databases[0].Table("public", "orders")
			hasKeys := len(orders.PrimaryKey) == 1 && len(orders.ForeignKeys) == 1
			if hasKeys != tt.wantKeys {
				t.Fatalf("keys present = %v, want %v (%+v)", hasKeys, tt.wantKeys, orders)
			}
			if tt.endpoint == fakesuperset.EndpointTableMetadataOld && f.Calls(fakesuperset.EndpointTableMetadata) != 1 {
				// Once the older endpoint answers, the newer is not tried again.
				t.Fatalf("table_metadata/ tried %d times, want 1", f.Calls(fakesuperset.EndpointTableMetadata))
			}
		})
	}
}

func TestSkipTableMetadata(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	seedShop(f)
	cfg := svcConfig(f)
	cfg.SkipTableMetadata = true
	if _, err := superset.Pull(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(fakesuperset.EndpointTableMetadata) + f.Calls(fakesuperset.EndpointTableMetadataOld); n != 0 {
		t.Fatalf("metadata calls = %d, want 0", n)
	}
}

// A failing metadata endpoint (the warehouse behind it is down) costs the
// keys, not the catalog.
func TestTableMetadataFailureKeepsCatalog(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	seedShop(f)
	cfg := svcConfig(f)
	cfg.Retries = -1
	cfg.Databases = []string{"warehouse"}
	f.FailNext(100, 500, fakesuperset.EndpointTableMetadata)
	cat, err := superset.Pull(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Databases[0].Tables) != 2 || cat.Databases[0].Table("public", "orders").PrimaryKey != nil {
		t.Fatalf("tables = %+v", cat.Databases[0].Tables)
	}
}

func tableNames(db *schema.Database) []string {
	var out []string
	for _, t := range db.Tables {
		out = append(out, t.QualifiedName())
	}
	return out
}

// An incremental refresh picks up added, changed and deleted datasets and
// fetches details only for what changed.
func TestIncrementalRefresh(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	ids := f.Generate(fakesuperset.GenerateOptions{Datasets: 250, Columns: 5})
	src := superset.NewSource(newClient(t, svcConfig(f)))
	ctx := context.Background()
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Fetch(ctx, dbs[0], true)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Tables) != 250 {
		t.Fatalf("tables = %d", len(first.Tables))
	}

	// Nothing changed: no detail is fetched again.
	f.ResetCalls()
	same, err := src.Fetch(ctx, dbs[0], false)
	if err != nil {
		t.Fatal(err)
	}
	if f.Calls(fakesuperset.EndpointDatasetGet) != 0 || same.Version() != first.Version() {
		t.Fatalf("unchanged refresh: %d detail calls, version %s → %s", f.Calls(fakesuperset.EndpointDatasetGet), first.Version(), same.Version())
	}

	added := f.AddDataset(fakesuperset.Dataset{DatabaseID: dbs[0].ID, Schema: "sales", TableName: "returns",
		Columns: []fakesuperset.Column{{ID: 1, Name: "id", Type: "BIGINT"}, {ID: 2, Name: "reason", Type: "TEXT"}}})
	f.AddDataset(fakesuperset.Dataset{DatabaseID: dbs[0].ID, Schema: "sales", TableName: "v_returns", SQL: "SELECT 1"})
	f.UpdateDataset(ids[10], func(d *fakesuperset.Dataset) {
		d.Columns = append(d.Columns, fakesuperset.Column{ID: 999, Name: "new_col", Type: "TEXT", Description: "added later"})
		d.Description = "edited"
	})
	f.DeleteDataset(ids[20])
	f.DeleteDataset(ids[21])
	f.ResetCalls()

	next, err := src.Fetch(ctx, dbs[0], false)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(next.Tables); got != 250+1-2 {
		t.Fatalf("tables = %d, want %d", got, 249)
	}
	if tb := next.Table("sales", "returns"); tb == nil || tb.DatasetID != added || tb.Column("reason") == nil {
		t.Fatalf("added dataset missing: %+v", tb)
	}
	if next.Table("sales", "v_returns") != nil {
		t.Fatal("virtual dataset became a table")
	}
	d10, _ := f.Dataset(ids[10])
	edited := next.Table(d10.Schema, d10.TableName)
	if edited == nil || edited.Column("new_col") == nil || edited.Description != "edited" {
		t.Fatalf("edited dataset not refreshed: %+v", edited)
	}
	for _, gone := range []int64{ids[20], ids[21]} {
		for _, tb := range next.Tables {
			if tb.DatasetID == gone {
				t.Fatalf("deleted dataset %d still listed", gone)
			}
		}
	}
	if got := f.Calls(fakesuperset.EndpointDatasetGet); got != 2 {
		t.Fatalf("detail calls = %d, want 2 (the added and the edited physical datasets)", got)
	}
	// The earlier snapshot is untouched.
	if len(first.Tables) != 250 || first.Table(d10.Schema, d10.TableName).Column("new_col") != nil {
		t.Fatal("an incremental refresh modified an earlier snapshot")
	}

	// A full refresh agrees with the incremental one.
	full, err := src.Fetch(ctx, dbs[0], true)
	if err != nil {
		t.Fatal(err)
	}
	if full.Version() != next.Version() {
		t.Fatalf("full %v and incremental %v catalogs differ:\n%v\n%v", full.Version(), next.Version(), tableNames(full)[:5], tableNames(next)[:5])
	}
}

// Superset is down when the service starts: readiness fails and says why;
// when it comes up, the catalog loads and readiness passes.
func TestSupersetDownAtStart(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 10, Columns: 3})
	f.Stop()
	cfg := svcConfig(f)
	cfg.Retries = -1
	lg, sink := debugLogger()
	cfg.Logger = lg
	defer func() {
		if t.Failed() {
			t.Log(sink.String()[:min(len(sink.String()), 6000)])
		}
	}()
	store, err := cache.New(superset.NewSource(newClient(t, cfg)), cache.Options{TTL: time.Hour, RetryAfter: 50 * time.Millisecond, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- store.Run(ctx) }()

	var rerr error
	waitFor(t, func() bool {
		rerr = store.Ready(ctx)
		return rerr != nil && strings.Contains(rerr.Error(), "refused")
	}, "readiness to report the refused connection")
	if rerr == nil || !strings.Contains(rerr.Error(), "database list never loaded") || !strings.Contains(rerr.Error(), "connection refused") {
		t.Fatalf("Ready = %v, want a clear 'database list never loaded … connection refused'", rerr)
	}
	if _, err := store.Get(ctx, "warehouse"); err == nil {
		t.Fatal("Get succeeded with Superset down and no catalog")
	}

	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return store.Ready(ctx) == nil }, "readiness after Superset came up")
	e, err := store.Get(ctx, "warehouse")
	if err != nil || len(e.Database.Tables) != 10 || e.Status.Stale {
		t.Fatalf("Get = %+v, %v", e.Status, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Superset goes down after a good sync: the last good catalog is served,
// marked stale, and the metrics say so.
func TestSupersetDownAfterGoodSync(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 10, Columns: 3})
	reg := prometheus.NewRegistry()
	cfg := svcConfig(f)
	cfg.Retries = 1
	store, err := cache.New(superset.NewSource(newClient(t, cfg)), cache.Options{TTL: time.Hour, Registerer: reg, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	good, err := store.Get(ctx, "warehouse")
	if err != nil {
		t.Fatal(err)
	}
	f.SetDown(503)
	e, err := store.Refresh(ctx, "warehouse")
	if err == nil {
		t.Fatal("refresh succeeded with Superset down")
	}
	if !e.Status.Stale || e.Status.LastError == "" || e.Database != good.Database || len(e.Database.Tables) != 10 {
		t.Fatalf("refresh while down = %+v", e.Status)
	}
	got, err := store.Get(ctx, "warehouse")
	if err != nil || !got.Status.Stale || !strings.Contains(got.Status.LastError, "503") {
		t.Fatalf("Get while down = %+v, %v", got.Status, err)
	}
	if err := store.Ready(ctx); err != nil {
		t.Fatalf("Ready = %v, want ready (a stale catalog is served)", err)
	}
	if v := metricValue(t, reg, "text2sql_schema_stale", map[string]string{"database": "warehouse"}); v != 1 {
		t.Fatalf("stale gauge = %v", v)
	}
	if v := metricValue(t, reg, "text2sql_schema_refreshes_total", map[string]string{"database": "warehouse", "result": "error"}); v != 1 {
		t.Fatalf("error refreshes = %v", v)
	}
	f.SetDown(0)
	if e, err := store.Refresh(ctx, "warehouse"); err != nil || e.Status.Stale {
		t.Fatalf("refresh after recovery = %+v, %v", e.Status, err)
	}
	if v := metricValue(t, reg, "text2sql_schema_stale", map[string]string{"database": "warehouse"}); v != 0 {
		t.Fatalf("stale gauge after recovery = %v", v)
	}
}

// Many concurrent Get and Refresh calls on a cold cache make one sync.
func TestConcurrentGetRefreshCollapse(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 40, Columns: 3})
	store, err := cache.New(superset.NewSource(newClient(t, svcConfig(f))), cache.Options{TTL: time.Hour, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := store.Databases(ctx); err != nil { // load the list
		t.Fatal(err)
	}
	f.ResetCalls()
	// Every call takes 200 ms from here, so one sync outlasts the start of
	// all 64 callers, released together.
	f.SetLatency(200 * time.Millisecond)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%2 == 0 {
				_, err = store.Get(ctx, "warehouse")
			} else {
				_, err = store.Refresh(ctx, "warehouse")
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One sync: one list page and one detail per dataset.
	if got := f.Calls(fakesuperset.EndpointDatasetGet); got != 40 {
		t.Fatalf("detail calls = %d, want 40 (one sync)", got)
	}
	if got := f.Calls(fakesuperset.EndpointDatasetList); got != 1 {
		t.Fatalf("list calls = %d, want 1", got)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// metricValue reads one series of a gathered gauge or counter.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Counter != nil:
				return m.Counter.GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

// A Superset that drops nested fields from the detail's column selection
// must not yield tables without columns: the client notices the missing
// "columns" key and falls back to full details.
func TestDetailSelectionFallback(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 5, Columns: 4})
	inner := f.Handler()
	var stripped atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("q"); strings.HasPrefix(r.URL.Path, "/api/v1/dataset/") && strings.Contains(q, "columns.") {
			// Keep only the top-level names of the selection.
			var kept []string
			inside := q[strings.Index(q, "!(")+2:]
			inside = inside[:strings.Index(inside, ")")]
			for _, c := range strings.Split(inside, ",") {
				if !strings.Contains(c, ".") {
					kept = append(kept, c)
				}
			}
			v := r.URL.Query()
			v.Set("q", "(columns:!("+strings.Join(kept, ",")+"))")
			r.URL.RawQuery = v.Encode()
			stripped.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	cfg := svcConfig(f)
	cfg.BaseURL = proxy.URL
	cfg.MaxConcurrency = 1
	cat, err := superset.Pull(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range cat.Databases[0].Tables {
		if len(tb.Columns) != 4 {
			t.Fatalf("table %s has %d columns, want 4", tb.Name, len(tb.Columns))
		}
	}
	if stripped.Load() != 1 {
		t.Fatalf("selected detail requests = %d, want 1 (then full details only)", stripped.Load())
	}
}

// One dataset whose detail Superset cannot render costs that dataset (its
// previous state is kept), not the catalog; many such failures fail the
// refresh instead of emptying the catalog.
func TestBrokenDatasetDetail(t *testing.T) {
	f := newFake(t, fakesuperset.Options{})
	f.Generate(fakesuperset.GenerateOptions{Datasets: 30, Columns: 3})
	cfg := svcConfig(f)
	cfg.Retries = 1
	cfg.MaxConcurrency = 1 // so the failures land on one dataset
	src := superset.NewSource(newClient(t, cfg))
	ctx := context.Background()
	dbs, err := src.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(ctx, dbs[0], true); err != nil {
		t.Fatal(err)
	}
	f.FailNext(2, http.StatusInternalServerError, fakesuperset.EndpointDatasetGet)
	db, err := src.Fetch(ctx, dbs[0], true)
	if err != nil {
		t.Fatalf("one broken dataset failed the refresh: %v", err)
	}
	if len(db.Tables) != 30 {
		t.Fatalf("tables = %d, want 30 (the broken one kept from before)", len(db.Tables))
	}
	cfg.Retries = -1 // (no backoff waits for 30 failures)
	noRetry := superset.NewSource(newClient(t, cfg))
	f.FailNext(1000, http.StatusInternalServerError, fakesuperset.EndpointDatasetGet)
	if _, err := noRetry.Fetch(ctx, dbs[0], true); err == nil || !strings.Contains(err.Error(), "dataset details failed") {
		t.Fatalf("err = %v, want the refresh to fail when most details fail", err)
	}
}

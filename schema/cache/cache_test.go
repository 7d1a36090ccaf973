package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/cache"
)

// fakeSource serves databases from memory, counts fetches, and can fail or
// block on demand.
type fakeSource struct {
	mu      sync.Mutex
	dbs     []*schema.Database
	tables  map[string]int // tables per database
	listErr error
	fetErr  map[string]error
	gate    chan struct{} // when set, Fetch waits for it
	fetches atomic.Int64
	lists   atomic.Int64
	modes   []bool // full flag of each fetch
}

func newSource(names ...string) *fakeSource {
	s := &fakeSource{tables: map[string]int{}, fetErr: map[string]error{}}
	for i, n := range names {
		s.dbs = append(s.dbs, &schema.Database{Name: n, ID: int64(i + 1), Backend: "postgresql"})
		s.tables[n] = 1
	}
	return s
}

func (s *fakeSource) Name() string { return "fake" }

func (s *fakeSource) Databases(context.Context) ([]*schema.Database, error) {
	s.lists.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, s.listErr
	}
	return append([]*schema.Database(nil), s.dbs...), nil
}

func (s *fakeSource) Fetch(ctx context.Context, db *schema.Database, full bool) (*schema.Database, error) {
	s.fetches.Add(1)
	s.mu.Lock()
	gate, err, n := s.gate, s.fetErr[db.Name], s.tables[db.Name]
	s.modes = append(s.modes, full)
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	out := &schema.Database{Name: db.Name, ID: db.ID, Backend: db.Backend, DefaultSchema: "public"}
	for i := 0; i < n; i++ {
		out.Tables = append(out.Tables, &schema.Table{Schema: "public", Name: fmt.Sprintf("t%d", i), DatasetID: int64(i + 1)})
	}
	out.Index()
	return out, nil
}

func (s *fakeSource) set(f func(*fakeSource)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newCache(t *testing.T, src cache.Source, opt cache.Options) *cache.Cache {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = quiet()
	}
	c, err := cache.New(src, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestGetFetchesOnceThenServes(t *testing.T) {
	src := newSource("a", "b")
	c := newCache(t, src, cache.Options{TTL: time.Hour})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		e, err := c.Get(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if e.Database.Name != "a" || len(e.Database.Tables) != 1 || e.Status.Source != "fake" || e.Status.Stale || e.Status.Version == "" {
			t.Fatalf("entry = %+v", e)
		}
	}
	if got := src.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
	// By id, too.
	if e, err := c.Get(ctx, "2"); err != nil || e.Database.Name != "b" {
		t.Fatalf("get by id: %+v %v", e, err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, schema.ErrUnknownDatabase) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestDatabasesListsUnsyncedWithoutTables(t *testing.T) {
	src := newSource("b", "a")
	c := newCache(t, src, cache.Options{})
	ctx := context.Background()
	if _, err := c.Get(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	list, err := c.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Database.Name != "a" || list[1].Database.Name != "b" {
		t.Fatalf("list = %+v", list)
	}
	if len(list[0].Database.Tables) != 0 || len(list[1].Database.Tables) != 1 {
		t.Fatal("unsynced database should have no tables, synced one its tables")
	}
}

func TestFailedRefreshServesStale(t *testing.T) {
	src := newSource("a")
	reg := prometheus.NewRegistry()
	c := newCache(t, src, cache.Options{TTL: time.Hour, Registerer: reg})
	ctx := context.Background()
	good, err := c.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	src.set(func(s *fakeSource) { s.fetErr["a"] = errors.New("superset: 503 Service Unavailable") })
	e, err := c.Refresh(ctx, "a")
	if err == nil {
		t.Fatal("refresh should report the failure")
	}
	if e.Database != good.Database || !e.Status.Stale || !strings.Contains(e.Status.LastError, "503") {
		t.Fatalf("refresh entry = %+v", e.Status)
	}
	if e, err := c.Get(ctx, "a"); err != nil || !e.Status.Stale || e.Status.SyncedAt != good.Status.SyncedAt {
		t.Fatalf("get = %+v %v", e.Status, err)
	}
	list, _ := c.Databases(ctx)
	if !list[0].Status.Stale {
		t.Fatal("Databases does not show the stale flag")
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("ready = %v: a stale catalog is still served", err)
	}
	want := `
# HELP text2sql_schema_stale 1 while the last refresh failed and the last good catalog is served.
# TYPE text2sql_schema_stale gauge
text2sql_schema_stale{database="a"} 1
# HELP text2sql_schema_refreshes_total Catalog refreshes by database and result (ok, error).
# TYPE text2sql_schema_refreshes_total counter
text2sql_schema_refreshes_total{database="a",result="error"} 1
text2sql_schema_refreshes_total{database="a",result="ok"} 1
# HELP text2sql_schema_tables Tables in the database's current catalog.
# TYPE text2sql_schema_tables gauge
text2sql_schema_tables{database="a"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "text2sql_schema_stale", "text2sql_schema_refreshes_total", "text2sql_schema_tables"); err != nil {
		t.Fatal(err)
	}
	// Durations of the full first fetch and the incremental failed one, and
	// the time of the one success.
	if n := testutil.CollectAndCount(reg, "text2sql_schema_refresh_duration_seconds", "text2sql_schema_last_success_timestamp_seconds"); n != 3 {
		t.Fatalf("duration and last-success series = %d, want 3", n)
	}
	src.set(func(s *fakeSource) { delete(s.fetErr, "a") })
	if e, err := c.Refresh(ctx, "a"); err != nil || e.Status.Stale || e.Status.LastError != "" {
		t.Fatalf("after recovery = %+v %v", e.Status, err)
	}
}

func TestReady(t *testing.T) {
	ctx := context.Background()
	t.Run("list never loaded", func(t *testing.T) {
		src := newSource("a")
		src.set(func(s *fakeSource) { s.listErr = errors.New("dial tcp: connection refused") })
		c := newCache(t, src, cache.Options{})
		if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not loaded yet") {
			t.Fatalf("ready before any attempt = %v", err)
		}
		if _, err := c.Get(ctx, "a"); err == nil {
			t.Fatal("get without a list")
		}
		if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "never loaded: dial tcp: connection refused") {
			t.Fatalf("ready = %v", err)
		}
	})
	// One failing warehouse must not make the whole service unready: the
	// list loaded, so the cache is ready, and each database's state is in
	// Databases and in the metrics.
	t.Run("some databases never synced", func(t *testing.T) {
		src := newSource("a", "b", "c")
		src.set(func(s *fakeSource) { s.fetErr["b"] = errors.New("superset: 500 Internal Server Error") })
		reg := prometheus.NewPedanticRegistry()
		c := newCache(t, src, cache.Options{Registerer: reg})
		if _, err := c.Get(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "b"); err == nil || !strings.Contains(err.Error(), "has no catalog") {
			t.Fatalf("get b = %v", err)
		}
		if err := c.Ready(ctx); err != nil {
			t.Fatalf("ready = %v: the list loaded, so the service can answer", err)
		}
		list, err := c.Databases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		state := map[string]schema.Status{}
		for _, e := range list {
			state[e.Database.Name] = e.Status
		}
		if st := state["a"]; st.SyncedAt.IsZero() || st.LastError != "" {
			t.Errorf("a = %+v, want synced", st)
		}
		if st := state["b"]; !st.SyncedAt.IsZero() || st.Stale || !strings.Contains(st.LastError, "500") {
			t.Errorf("b = %+v, want never synced, with its error", st)
		}
		if st := state["c"]; !st.SyncedAt.IsZero() || st.LastError != "" {
			t.Errorf("c = %+v, want pending", st)
		}
		want := `
# HELP text2sql_schema_available 1 while the database has a catalog to serve (fresh or stale), 0 while it has none (first fetch pending or failing).
# TYPE text2sql_schema_available gauge
text2sql_schema_available{database="a"} 1
text2sql_schema_available{database="b"} 0
text2sql_schema_available{database="c"} 0
# HELP text2sql_schema_consecutive_failures Catalog refreshes of the database that failed in a row (0 after a success).
# TYPE text2sql_schema_consecutive_failures gauge
text2sql_schema_consecutive_failures{database="a"} 0
text2sql_schema_consecutive_failures{database="b"} 1
text2sql_schema_consecutive_failures{database="c"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "text2sql_schema_available", "text2sql_schema_consecutive_failures"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("list failing after it loaded", func(t *testing.T) {
		src := newSource("a")
		c := newCache(t, src, cache.Options{RetryAfter: time.Nanosecond, TTL: time.Nanosecond})
		if _, err := c.Get(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		src.set(func(s *fakeSource) { s.listErr = errors.New("superset: 503 Service Unavailable") })
		if _, err := c.Get(ctx, "unknown"); err == nil {
			t.Fatal("an unknown database was found")
		}
		if err := c.Ready(ctx); err != nil {
			t.Fatalf("ready = %v: the catalogs loaded before are still served", err)
		}
	})
}

// Many concurrent Get and Refresh calls make one fetch.
func TestConcurrentCallsCollapse(t *testing.T) {
	src := newSource("a")
	gate := make(chan struct{})
	src.set(func(s *fakeSource) { s.gate = gate })
	c := newCache(t, src, cache.Options{})
	ctx := context.Background()
	if _, err := c.Databases(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var started atomic.Int64
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			var err error
			if i%2 == 0 {
				_, err = c.Get(ctx, "a")
			} else {
				_, err = c.Refresh(ctx, "a")
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	for started.Load() < 50 || src.fetches.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the rest reach the shared call
	close(gate)
	wg.Wait()
	if got := src.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

// A caller that gives up does not cancel the shared refresh others wait on.
func TestCallerCancelDoesNotCancelSharedRefresh(t *testing.T) {
	src := newSource("a")
	gate := make(chan struct{})
	src.set(func(s *fakeSource) { s.gate = gate })
	c := newCache(t, src, cache.Options{})
	if _, err := c.Databases(context.Background()); err != nil {
		t.Fatal(err)
	}
	impatient, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Get(impatient, "a"); errc <- err }()
	for src.fetches.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	res := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), "a"); res <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("impatient caller: %v", err)
	}
	close(gate)
	if err := <-res; err != nil {
		t.Fatalf("patient caller: %v", err)
	}
	if src.fetches.Load() != 1 {
		t.Fatalf("fetches = %d", src.fetches.Load())
	}
}

func TestRunRefreshesAndStops(t *testing.T) {
	src := newSource("a", "b")
	c := newCache(t, src, cache.Options{TTL: 30 * time.Millisecond, FullEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for src.fetches.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if src.fetches.Load() < 6 {
		t.Fatalf("fetches = %d after waiting; Run does not refresh on TTL", src.fetches.Load())
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	n := src.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if src.fetches.Load() != n {
		t.Fatal("refreshes continued after Run stopped")
	}
	// The first fetch of each database is full, later ones incremental.
	src.mu.Lock()
	modes := append([]bool(nil), src.modes...)
	src.mu.Unlock()
	if !modes[0] || !modes[1] || modes[len(modes)-1] {
		t.Fatalf("full flags = %v, want full first, incremental after", modes)
	}
}

func TestFullRefreshPeriodically(t *testing.T) {
	src := newSource("a")
	c := newCache(t, src, cache.Options{TTL: time.Hour, FullEvery: 500 * time.Millisecond})
	ctx := context.Background()
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if _, err := c.Refresh(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefreshFull(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if want := []bool{true, false, true, true}; fmt.Sprint(src.modes) != fmt.Sprint(want) {
		t.Fatalf("full flags = %v, want %v", src.modes, want)
	}
}

// While the source fails and no catalog exists, requests get the last error
// without a new call each, until the retry wait passes.
func TestNoHammeringWhileDown(t *testing.T) {
	src := newSource("a")
	src.set(func(s *fakeSource) { s.fetErr["a"] = errors.New("down") })
	c := newCache(t, src, cache.Options{RetryAfter: time.Hour})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if _, err := c.Get(ctx, "a"); err == nil || !strings.Contains(err.Error(), "down") {
			t.Fatalf("get = %v", err)
		}
	}
	if got := src.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

func TestDatabasesAppearAndVanish(t *testing.T) {
	src := newSource("a")
	c := newCache(t, src, cache.Options{RetryAfter: time.Millisecond})
	ctx := context.Background()
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	src.set(func(s *fakeSource) {
		s.dbs = []*schema.Database{{Name: "new", ID: 9, Backend: "mysql"}}
		s.tables["new"] = 3
	})
	time.Sleep(2 * time.Millisecond)
	e, err := c.Get(ctx, "new")
	if err != nil || len(e.Database.Tables) != 3 {
		t.Fatalf("new database: %+v %v", e, err)
	}
	if _, err := c.Get(ctx, "a"); !errors.Is(err, schema.ErrUnknownDatabase) {
		t.Fatalf("vanished database: %v", err)
	}
}

func TestStaleCatalogRefreshedInBackground(t *testing.T) {
	src := newSource("a")
	c := newCache(t, src, cache.Options{TTL: 20 * time.Millisecond})
	ctx := context.Background()
	first, err := c.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	src.set(func(s *fakeSource) { s.tables["a"] = 2 })
	time.Sleep(30 * time.Millisecond)
	// The expired catalog is served at once; the refresh runs behind it.
	if e, err := c.Get(ctx, "a"); err != nil || e.Database != first.Database {
		t.Fatalf("expired get: %+v %v", e, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if e, _ := c.Get(ctx, "a"); len(e.Database.Tables) == 2 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("background refresh did not land")
}

func TestMetricsRegistrationConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := cache.New(newSource("a"), cache.Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.New(newSource("a"), cache.Options{Registerer: reg}); err == nil {
		t.Fatal("registering the same metrics twice should fail")
	}
}

// Package cache serves database catalogs from a slower source (Superset)
// with a per-database TTL. Concurrent refreshes of one database collapse
// into one fetch, and a failed refresh keeps serving the last good catalog,
// marked stale, in Status and in the Prometheus metrics. The cache is ready
// once Superset's database list has loaded, whatever each database's state.
package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/texttosql/text2sql/schema"
)

// Source lists databases and fetches their catalogs. The Superset source
// (superset.Source) implements it; tests use small fakes.
type Source interface {
	// Name is reported as Status.Source, e.g. "superset".
	Name() string
	// Databases lists the databases to serve, without tables. Each must
	// have a unique Name.
	Databases(ctx context.Context) ([]*schema.Database, error)
	// Fetch returns the catalog of db, one of the databases Databases
	// returned. full asks for a rebuild from scratch; otherwise the source
	// may update its previous answer incrementally. The result must be
	// indexed and must not be modified afterwards: the cache hands it out to
	// concurrent readers as is.
	Fetch(ctx context.Context, db *schema.Database, full bool) (*schema.Database, error)
}

// Defaults for Options.
const (
	DefaultTTL            = 5 * time.Minute
	DefaultFullEvery      = time.Hour
	DefaultRetryAfter     = 30 * time.Second
	DefaultRefreshTimeout = 10 * time.Minute
	DefaultParallel       = 2
)

// Options tunes a Cache. Zero values take the defaults.
type Options struct {
	// TTL is how old a catalog may get before it is refreshed.
	TTL time.Duration
	// FullEvery is how often a refresh rebuilds a catalog from scratch
	// instead of updating it incrementally.
	FullEvery time.Duration
	// RetryAfter is how soon a failed refresh is tried again (capped at TTL).
	RetryAfter time.Duration
	// RefreshTimeout bounds one refresh of one database.
	RefreshTimeout time.Duration
	// Parallel is how many databases Run refreshes at once (each refresh is
	// itself concurrent inside the source).
	Parallel int
	// Logger receives refresh logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer, when set, receives the cache's metrics.
	Registerer prometheus.Registerer
}

// Cache is a schema.Store over a Source.
type Cache struct {
	src     Source
	opt     Options
	log     *slog.Logger
	metrics *metrics
	sf      singleflight.Group
	wg      sync.WaitGroup // background refreshes
	// base outlives callers: shared refreshes run under it, so one caller
	// giving up does not cancel the others, and Close cancels them all.
	base   context.Context
	cancel context.CancelFunc

	mu      sync.RWMutex
	list    listState
	entries map[string]*entry // by database name
}

type listState struct {
	loaded    bool
	at        time.Time // last attempt
	lastError error
}

// entry is one database's state. It is replaced, never modified, once
// published in Cache.entries (except under mu by the refresh that owns it).
type entry struct {
	info        *schema.Database // from the list, no tables
	good        *schema.Database // last good catalog; nil until one is fetched
	version     string
	syncedAt    time.Time // when good was fetched
	lastFull    time.Time
	lastAttempt time.Time
	lastError   error // of the last attempt; nil when it succeeded
	failures    int   // consecutive
}

var _ schema.Store = (*Cache)(nil)

// New builds a cache over src. It fetches nothing until asked (Get,
// Refresh, or Run).
func New(src Source, opt Options) (*Cache, error) {
	if src == nil {
		return nil, errors.New("cache: nil source")
	}
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.FullEvery <= 0 {
		opt.FullEvery = DefaultFullEvery
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = DefaultRetryAfter
	}
	if opt.RetryAfter > opt.TTL {
		opt.RetryAfter = opt.TTL
	}
	if opt.RefreshTimeout <= 0 {
		opt.RefreshTimeout = DefaultRefreshTimeout
	}
	if opt.Parallel <= 0 {
		opt.Parallel = DefaultParallel
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	m, err := newMetrics(opt.Registerer)
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	return &Cache{src: src, opt: opt, log: opt.Logger.With("component", "schema_cache"), metrics: m,
		entries: map[string]*entry{}, base: base, cancel: cancel}, nil
}

// Close cancels refreshes in flight and waits for background ones to end.
// The cache keeps serving what it has; later refreshes fail.
func (c *Cache) Close() {
	c.cancel()
	c.wg.Wait()
}

// Databases lists every database, sorted by name; those without a catalog
// yet have no tables. It loads the database list on first use.
func (c *Cache) Databases(ctx context.Context) ([]schema.Entry, error) {
	if err := c.ensureList(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]schema.Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, c.entryOf(e))
	}
	slices.SortFunc(out, func(a, b schema.Entry) int { return cmp.Compare(a.Database.Name, b.Database.Name) })
	return out, nil
}

// Get returns the database's catalog: the cached one when there is one
// (starting a background refresh if it is older than the TTL), otherwise
// fetched now. name is a database name or its id in decimal.
func (c *Cache) Get(ctx context.Context, name string) (schema.Entry, error) {
	e, err := c.lookup(ctx, name)
	if err != nil {
		return schema.Entry{}, err
	}
	if e.good == nil {
		if e.lastError != nil && !c.due(e, time.Now()) {
			// Superset failed moments ago: answer with that instead of
			// sending it one more call per request while it is down.
			return schema.Entry{}, fmt.Errorf("database %q has no catalog: %w", e.info.Name, e.lastError)
		}
		return c.refresh(ctx, e.info.Name, false)
	}
	if c.due(e, time.Now()) {
		c.refreshInBackground(e.info.Name)
	}
	return c.entryOf(e), nil
}

// Refresh fetches the database's catalog now (incrementally, or in full when
// a full rebuild is due), joining a refresh already in flight. If it fails
// while an older catalog exists, that catalog is returned, marked stale,
// together with the error.
func (c *Cache) Refresh(ctx context.Context, name string) (schema.Entry, error) {
	e, err := c.lookup(ctx, name)
	if err != nil {
		return schema.Entry{}, err
	}
	return c.refresh(ctx, e.info.Name, false)
}

// RefreshFull is Refresh, rebuilding the catalog from scratch.
func (c *Cache) RefreshFull(ctx context.Context, name string) (schema.Entry, error) {
	e, err := c.lookup(ctx, name)
	if err != nil {
		return schema.Entry{}, err
	}
	return c.refresh(ctx, e.info.Name, true)
}

// Ready reports nil once the database list has loaded: Superset is
// reachable and lets the service account in, so the service can answer
// with the catalogs it has and fetch the others on demand. A database whose
// catalog is stale, failing or not fetched yet does not make the cache
// unready (one unreachable warehouse must not take the service out of
// service); Databases reports each one's state, and the metrics too. Before
// the list has loaded, the error says why it has not.
func (c *Cache) Ready(context.Context) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.list.loaded {
		return nil
	}
	if c.list.lastError != nil {
		return fmt.Errorf("%s: database list never loaded: %v", c.src.Name(), c.list.lastError)
	}
	return fmt.Errorf("%s: database list not loaded yet", c.src.Name())
}

// Run keeps catalogs fresh until ctx ends: it loads the database list and
// every catalog at once, then refreshes each database when its TTL passes
// (sooner, after RetryAfter, when its last refresh failed) and reloads the
// list every TTL. It returns after ctx ends and its refreshes stop.
func (c *Cache) Run(ctx context.Context) error {
	defer c.wg.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		c.sweep(ctx)
		t.Reset(c.untilNextDue(time.Now()))
	}
}

// untilNextDue is how long Run may sleep before something is due: the list
// reload, or a database's refresh or retry.
func (c *Cache) untilNextDue(now time.Time) time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	next := c.list.at.Add(c.opt.TTL)
	if !c.list.loaded {
		next = c.list.at.Add(c.retryWait(1))
	}
	for _, e := range c.entries {
		due := e.lastAttempt.Add(c.opt.TTL)
		if e.lastError != nil {
			due = e.lastAttempt.Add(c.retryWait(e.failures))
		}
		if due.Before(next) {
			next = due
		}
	}
	return min(max(next.Sub(now), 10*time.Millisecond), c.opt.TTL)
}

// sweep reloads the list when due and refreshes due databases, Parallel at
// a time, waiting for them.
func (c *Cache) sweep(ctx context.Context) {
	now := time.Now()
	c.mu.RLock()
	listDue := !c.list.loaded && now.Sub(c.list.at) >= c.retryWait(1) || c.list.loaded && now.Sub(c.list.at) >= c.opt.TTL
	c.mu.RUnlock()
	if listDue {
		if err := c.loadList(ctx); err != nil && ctx.Err() == nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "loading database list failed", slog.String("error", err.Error()))
		}
	}
	c.mu.RLock()
	var due []string
	for name, e := range c.entries {
		if c.due(e, now) {
			due = append(due, name)
		}
	}
	c.mu.RUnlock()
	slices.Sort(due)
	sem := make(chan struct{}, c.opt.Parallel)
	var wg sync.WaitGroup
	for _, name := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, _ = c.refresh(ctx, name, false)
		}()
	}
	wg.Wait()
}

// due reports whether e should be refreshed at now.
func (c *Cache) due(e *entry, now time.Time) bool {
	if e.lastAttempt.IsZero() {
		return true
	}
	if e.lastError != nil {
		return now.Sub(e.lastAttempt) >= c.retryWait(e.failures)
	}
	return now.Sub(e.lastAttempt) >= c.opt.TTL
}

// retryWait doubles RetryAfter per consecutive failure, up to the TTL.
func (c *Cache) retryWait(failures int) time.Duration {
	d := c.opt.RetryAfter
	for i := 1; i < failures && d < c.opt.TTL; i++ {
		d *= 2
	}
	return min(d, c.opt.TTL)
}

// lookup finds the entry for a name or decimal id, loading the list on
// first use and reloading it (at most every RetryAfter) for a name it does
// not know, since databases are added in Superset at any time.
func (c *Cache) lookup(ctx context.Context, name string) (*entry, error) {
	if err := c.ensureList(ctx); err != nil {
		return nil, err
	}
	if e := c.find(name); e != nil {
		return e, nil
	}
	c.mu.RLock()
	stale := time.Since(c.list.at) >= c.opt.RetryAfter
	c.mu.RUnlock()
	if stale {
		if err := c.loadList(ctx); err != nil {
			return nil, err
		}
		if e := c.find(name); e != nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w %q", schema.ErrUnknownDatabase, name)
}

func (c *Cache) find(name string) *entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.entries[name]; e != nil {
		return e
	}
	for _, e := range c.entries {
		if e.info.ID != 0 && strconv.FormatInt(e.info.ID, 10) == name {
			return e
		}
	}
	return nil
}

func (c *Cache) ensureList(ctx context.Context) error {
	c.mu.RLock()
	loaded := c.list.loaded
	c.mu.RUnlock()
	if loaded {
		return nil
	}
	return c.loadList(ctx)
}

// loadList reads the database list (collapsed with concurrent loads) and
// reconciles entries: new databases are added, vanished ones dropped.
func (c *Cache) loadList(ctx context.Context) error {
	_, err := c.shared(ctx, "\x00list", func(ctx context.Context) (any, error) {
		dbs, err := c.src.Databases(ctx)
		now := time.Now()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.list.at = now
		c.metrics.listRefreshes.WithLabelValues(result(err)).Inc()
		if err != nil {
			c.list.lastError = err
			return nil, err
		}
		c.list.loaded, c.list.lastError = true, nil
		seen := map[string]bool{}
		for _, db := range dbs {
			if db == nil || db.Name == "" || seen[db.Name] {
				continue
			}
			seen[db.Name] = true
			if old := c.entries[db.Name]; old != nil {
				e := *old
				e.info = db
				c.entries[db.Name] = &e
				continue
			}
			c.entries[db.Name] = &entry{info: db}
			c.metrics.available.WithLabelValues(db.Name).Set(0)
			c.metrics.failures.WithLabelValues(db.Name).Set(0)
		}
		for name := range c.entries {
			if !seen[name] {
				delete(c.entries, name)
				c.metrics.forget(name)
				c.log.LogAttrs(ctx, slog.LevelInfo, "database no longer listed; dropping its catalog", slog.String("database", name))
			}
		}
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("%s: listing databases: %w", c.src.Name(), err)
	}
	return nil
}

// refresh fetches one database's catalog, collapsed with concurrent
// refreshes of the same database.
func (c *Cache) refresh(ctx context.Context, name string, forceFull bool) (schema.Entry, error) {
	_, err := c.shared(ctx, name, func(ctx context.Context) (any, error) {
		c.mu.RLock()
		e := c.entries[name]
		c.mu.RUnlock()
		if e == nil {
			return nil, fmt.Errorf("%w %q", schema.ErrUnknownDatabase, name)
		}
		start := time.Now()
		full := forceFull || e.good == nil || start.Sub(e.lastFull) >= c.opt.FullEvery
		db, err := c.src.Fetch(ctx, e.info, full)
		dur := time.Since(start)
		mode := "incremental"
		if full {
			mode = "full"
		}
		c.metrics.duration.WithLabelValues(name, mode).Observe(dur.Seconds())
		c.metrics.refreshes.WithLabelValues(name, result(err)).Inc()

		c.mu.Lock()
		defer c.mu.Unlock()
		cur := c.entries[name]
		if cur == nil { // dropped from the list meanwhile
			return nil, err
		}
		n := *cur
		n.lastAttempt = start
		if err != nil {
			n.lastError = err
			n.failures++
			c.entries[name] = &n
			c.metrics.stale.WithLabelValues(name).Set(boolGauge(n.good != nil))
			c.metrics.available.WithLabelValues(name).Set(boolGauge(n.good != nil))
			c.metrics.failures.WithLabelValues(name).Set(float64(n.failures))
			c.log.LogAttrs(ctx, slog.LevelWarn, "schema refresh failed",
				slog.String("database", name), slog.Bool("serving_stale", n.good != nil),
				slog.Int("consecutive_failures", n.failures), slog.String("error", err.Error()))
			return nil, err
		}
		if db == nil {
			db = &schema.Database{Name: e.info.Name, ID: e.info.ID, Backend: e.info.Backend}
			db.Index()
		}
		n.good, n.version, n.syncedAt = db, db.Version(), time.Now()
		n.lastError, n.failures = nil, 0
		if full {
			n.lastFull = start
		}
		c.entries[name] = &n
		c.metrics.stale.WithLabelValues(name).Set(0)
		c.metrics.available.WithLabelValues(name).Set(1)
		c.metrics.failures.WithLabelValues(name).Set(0)
		c.metrics.lastSuccess.WithLabelValues(name).Set(float64(n.syncedAt.UnixNano()) / 1e9)
		c.metrics.tables.WithLabelValues(name).Set(float64(len(db.Tables)))
		c.log.LogAttrs(ctx, slog.LevelDebug, "schema refreshed", slog.String("database", name),
			slog.String("mode", mode), slog.Int("tables", len(db.Tables)), slog.String("version", n.version),
			slog.Duration("duration", dur))
		return nil, nil
	})
	c.mu.RLock()
	e := c.entries[name]
	c.mu.RUnlock()
	if e == nil {
		if err == nil {
			err = fmt.Errorf("%w %q", schema.ErrUnknownDatabase, name)
		}
		return schema.Entry{}, err
	}
	if err != nil {
		if e.good == nil {
			return schema.Entry{}, fmt.Errorf("database %q has no catalog: %w", name, err)
		}
		return c.entryOf(e), err
	}
	return c.entryOf(e), nil
}

// refreshInBackground starts a refresh nobody waits for.
func (c *Cache) refreshInBackground(name string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_, _ = c.refresh(c.base, name, false)
	}()
}

// shared runs fn once for all concurrent callers with the same key. fn
// runs under the cache's own context (bounded by RefreshTimeout), not any
// one caller's, so a caller that gives up does not fail the others; each
// caller still returns as soon as its own context ends.
func (c *Cache) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := c.sf.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(c.base, c.opt.RefreshTimeout)
		defer cancel()
		return fn(fctx)
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// entryOf reports e as a schema.Entry; a database never fetched is shown
// with no tables.
func (c *Cache) entryOf(e *entry) schema.Entry {
	st := schema.Status{Source: c.src.Name(), Version: e.version, SyncedAt: e.syncedAt}
	if e.lastError != nil {
		st.LastError = e.lastError.Error()
		st.Stale = e.good != nil
	}
	db := e.good
	if db == nil {
		db = &schema.Database{Name: e.info.Name, ID: e.info.ID, Backend: e.info.Backend}
	}
	return schema.Entry{Database: db, Status: st}
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

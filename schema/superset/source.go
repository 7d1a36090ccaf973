package superset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/texttosql/text2sql/schema"
)

// watermarkOverlap re-reads changes a little older than the newest one seen,
// so a change committed late with an earlier changed_on is not missed; the
// per-dataset changed_on comparison keeps the overlap from costing detail
// calls.
const watermarkOverlap = 2 * time.Minute

// Source builds database catalogs from Superset datasets. It implements the
// cache's source interface (Name, Databases, Fetch) and remembers, per
// database, what it fetched last so the next Fetch can be incremental.
//
// Only physical datasets become tables. Virtual datasets (saved SQL) never
// widen what a query may read; they are kept aside (VirtualDatasets).
type Source struct {
	c   *Client
	log *slog.Logger

	mu    sync.Mutex
	state map[int64]*dbState
	// multi holds the databases whose connection allows several catalogs.
	multi map[int64]bool
}

// VirtualDataset is a Superset dataset defined by SQL rather than a table.
type VirtualDataset struct {
	ID      int64
	Name    string
	Schema  string
	Catalog string
}

type dbState struct {
	watermark time.Time
	datasets  map[int64]*dsState
}

type dsState struct {
	changedOn string
	table     *schema.Table // physical dataset; Schema may be "" (filled per snapshot)
	virtual   *VirtualDataset
}

// NewSource reads catalogs through c.
func NewSource(c *Client) *Source {
	return &Source{c: c, log: c.log, state: map[int64]*dbState{}, multi: map[int64]bool{}}
}

// Name is reported as the catalog's source.
func (s *Source) Name() string { return "superset" }

// Databases lists the databases to serve (every one the account sees, or
// those named in Config.Databases), without tables, sorted by name.
func (s *Source) Databases(ctx context.Context) ([]*schema.Database, error) {
	infos, err := s.c.Databases(ctx)
	if err != nil {
		return nil, err
	}
	var out []*schema.Database
	found := map[string]bool{}
	for _, in := range infos {
		if !s.c.cfg.wantsDatabase(in.ID, in.Name) {
			continue
		}
		found[in.Name] = true
		found[fmt.Sprint(in.ID)] = true
		out = append(out, &schema.Database{Name: in.Name, ID: in.ID, Backend: strings.ToLower(in.Backend)})
		s.mu.Lock()
		s.multi[in.ID] = in.AllowMultiCatalog
		s.mu.Unlock()
	}
	for _, want := range s.c.cfg.Databases {
		if !found[strings.TrimSpace(want)] {
			s.log.LogAttrs(ctx, slog.LevelWarn, "configured superset database not found or not visible to the service account",
				slog.String("database", want))
		}
	}
	slices.SortFunc(out, func(a, b *schema.Database) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// VirtualDatasets returns the virtual datasets seen in the database's last
// successful Fetch.
func (s *Source) VirtualDatasets(databaseID int64) []VirtualDataset {
	s.mu.Lock()
	st := s.state[databaseID]
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	var out []VirtualDataset
	for _, ds := range st.datasets {
		if ds.virtual != nil {
			out = append(out, *ds.virtual)
		}
	}
	slices.SortFunc(out, func(a, b VirtualDataset) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Fetch returns db's catalog. With full, or the first time, it lists every
// dataset and fetches every detail. Otherwise it is incremental: it pages
// datasets newest change first down to the last watermark, fetches details
// only for datasets that changed or appeared, and lists ids alone to notice
// deletions. db must carry the Superset database id.
func (s *Source) Fetch(ctx context.Context, db *schema.Database, full bool) (*schema.Database, error) {
	if db == nil || db.ID == 0 {
		return nil, errors.New("superset: fetch needs a database with its Superset id")
	}
	s.mu.Lock()
	prev := s.state[db.ID]
	s.mu.Unlock()
	var (
		next *dbState
		err  error
	)
	start := time.Now()
	if full || prev == nil {
		next, err = s.fetchFull(ctx, db, prev)
	} else {
		next, err = s.fetchIncremental(ctx, db, prev)
	}
	if err != nil {
		return nil, fmt.Errorf("database %q: %w", db.Name, err)
	}
	s.mu.Lock()
	multi := s.multi[db.ID]
	s.mu.Unlock()
	out := build(db, next, multi)
	s.mu.Lock()
	s.state[db.ID] = next
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "fetched superset catalog",
		slog.String("database", db.Name), slog.Bool("full", full || prev == nil),
		slog.Int("tables", len(out.Tables)), slog.Duration("duration", time.Since(start)))
	return out, nil
}

func (s *Source) listRequest() request {
	return request{op: "dataset_list", path: "/api/v1/dataset/"}
}

func (s *Source) fetchFull(ctx context.Context, db *schema.Database, prev *dbState) (*dbState, error) {
	q := changedFirst(listQuery{Columns: datasetRowColumns, Filters: []listFilter{databaseFilter(db.ID)}, Keys: []string{"none"}})
	rows, count, err := listAll[datasetRow](ctx, s.c, s.listRequest(), q)
	if err != nil {
		return nil, fmt.Errorf("listing datasets: %w", err)
	}
	rows = uniqueRows(rows)
	if len(rows) < count {
		// Offset paging over a changing (or tie-ordered) list can skip rows;
		// a second pass in another order fills the gaps.
		s.log.LogAttrs(ctx, slog.LevelWarn, "dataset listing returned fewer datasets than its count; listing again",
			slog.String("database", db.Name), slog.Int("count", count), slog.Int("got", len(rows)))
		q2 := q
		q2.OrderColumn, q2.OrderDirection = "table_name", "asc"
		more, _, err := listAll[datasetRow](ctx, s.c, s.listRequest(), q2)
		if err != nil {
			return nil, fmt.Errorf("listing datasets: %w", err)
		}
		rows = uniqueRows(append(rows, more...))
	}
	got, _, broken, err := s.fetchDatasets(ctx, db, rows, nil)
	if err != nil {
		return nil, err
	}
	keepBroken(got, broken, prev)
	return &dbState{watermark: newestChange(time.Time{}, rows), datasets: got}, nil
}

func (s *Source) fetchIncremental(ctx context.Context, db *schema.Database, prev *dbState) (*dbState, error) {
	changed, err := s.listChangedSince(ctx, db, prev.watermark.Add(-watermarkOverlap))
	if err != nil {
		return nil, fmt.Errorf("listing changed datasets: %w", err)
	}
	type idRow struct {
		ID rawID `json:"id"`
	}
	ids, count, err := listAll[idRow](ctx, s.c, s.listRequest(),
		listQuery{Columns: []string{"id"}, Filters: []listFilter{databaseFilter(db.ID)}, Keys: []string{"none"}})
	if err != nil {
		return nil, fmt.Errorf("listing dataset ids: %w", err)
	}
	present := make(map[int64]bool, len(ids))
	for _, r := range ids {
		present[int64(r.ID)] = true
	}

	var rows []datasetRow
	queued := map[int64]bool{}
	for _, r := range changed {
		if old := prev.datasets[r.ID]; old == nil || old.changedOn != r.ChangedOnUTC {
			rows = append(rows, r)
			queued[r.ID] = true
		}
	}
	var byID []int64
	for id := range present {
		// New to us but older than the watermark: newly granted, or moved
		// here from another database.
		if prev.datasets[id] == nil && !queued[id] {
			byID = append(byID, id)
			queued[id] = true
		}
	}
	var gone []int64
	consistent := len(present) == count
	for id := range prev.datasets {
		if present[id] {
			continue
		}
		if consistent {
			gone = append(gone, id)
		} else if !queued[id] {
			// The id listing was inconsistent (paging skew): confirm each
			// absence with the detail endpoint instead of trusting it.
			byID = append(byID, id)
			queued[id] = true
		}
	}
	got, missing, broken, err := s.fetchDatasets(ctx, db, rows, byID)
	if err != nil {
		return nil, err
	}
	keepBroken(got, broken, prev)
	next := &dbState{watermark: newestChange(prev.watermark, changed), datasets: make(map[int64]*dsState, len(prev.datasets)+len(got))}
	for id, ds := range prev.datasets {
		next.datasets[id] = ds
	}
	for id, ds := range got {
		next.datasets[id] = ds
	}
	for _, id := range gone {
		delete(next.datasets, id)
	}
	for id := range missing {
		delete(next.datasets, id)
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "incremental superset refresh",
		slog.String("database", db.Name), slog.Int("changed", len(rows)), slog.Int("appeared", len(byID)),
		slog.Int("deleted", len(gone)+len(missing)))
	return next, nil
}

// listChangedSince pages datasets newest change first and stops at the
// first one older than since.
func (s *Source) listChangedSince(ctx context.Context, db *schema.Database, since time.Time) ([]datasetRow, error) {
	q := changedFirst(listQuery{Columns: datasetRowColumns, Filters: []listFilter{databaseFilter(db.ID)},
		PageSize: s.c.cfg.PageSize, Keys: []string{"none"}})
	var out []datasetRow
	read := 0
	for page := 0; ; page++ {
		q.Page = page
		p, err := getPage[datasetRow](ctx, s.c, s.listRequest(), q)
		if err != nil {
			return nil, err
		}
		for _, r := range p.Result {
			if t, ok := parseChangedOn(r.ChangedOnUTC); ok && t.Before(since) {
				return out, nil
			}
			out = append(out, r)
		}
		// Count rows rather than pages: the server may clamp the page size.
		read += len(p.Result)
		if len(p.Result) == 0 || read >= p.Count {
			return out, nil
		}
	}
}

// fetchDatasets fetches the detail (and table metadata) of the datasets in
// rows and ids, concurrently within the client's bound. missing holds those
// that turned out deleted, hidden, or moved to another database; broken,
// those whose detail Superset fails to render (a 500 or a 4xx for that one
// dataset), which cost that dataset rather than the whole catalog unless
// there are many of them.
func (s *Source) fetchDatasets(ctx context.Context, db *schema.Database, rows []datasetRow, ids []int64) (got map[int64]*dsState, missing, broken map[int64]bool, err error) {
	type job struct {
		id  int64
		row *datasetRow
	}
	jobs := make([]job, 0, len(rows)+len(ids))
	for i := range rows {
		jobs = append(jobs, job{id: rows[i].ID, row: &rows[i]})
	}
	for _, id := range ids {
		jobs = append(jobs, job{id: id})
	}
	var (
		mu         sync.Mutex
		metaErrs   int
		lastMeta   error
		lastBroken error
	)
	got = make(map[int64]*dsState, len(jobs))
	missing, broken = map[int64]bool{}, map[int64]bool{}
	types := newInterner()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.c.cfg.MaxConcurrency)
	for _, j := range jobs {
		if j.row != nil && j.row.Kind == "virtual" {
			// The list already says what it is; its detail adds nothing a
			// table allowlist may use. (No worker runs yet for this job, but
			// others may be writing got.)
			mu.Lock()
			got[j.id] = &dsState{changedOn: j.row.ChangedOnUTC, virtual: &VirtualDataset{
				ID: j.id, Name: j.row.TableName, Schema: j.row.Schema, Catalog: j.row.Catalog}}
			mu.Unlock()
			continue
		}
		g.Go(func() error {
			d, err := s.c.Dataset(gctx, j.id)
			if NotFound(err) {
				mu.Lock()
				missing[j.id] = true
				mu.Unlock()
				return nil
			}
			if datasetBroken(err) {
				mu.Lock()
				broken[j.id] = true
				lastBroken = err
				mu.Unlock()
				return nil
			}
			if err != nil {
				return fmt.Errorf("dataset %d: %w", j.id, err)
			}
			if d.Database.ID != 0 && d.Database.ID != db.ID {
				mu.Lock()
				missing[j.id] = true
				mu.Unlock()
				return nil
			}
			changedOn := d.ChangedOn
			if j.row != nil {
				changedOn = j.row.ChangedOnUTC
			}
			ds := &dsState{changedOn: changedOn}
			if d.Virtual() {
				ds.virtual = &VirtualDataset{ID: d.ID, Name: d.TableName, Schema: d.Schema, Catalog: d.Catalog}
			} else if t := tableFrom(d, types); t != nil {
				if !s.c.cfg.SkipTableMetadata {
					md, err := s.c.TableMetadata(gctx, db.ID, d.Catalog, d.Schema, d.TableName)
					switch {
					case err == nil:
						applyMetadata(t, md)
					case gctx.Err() != nil:
						return gctx.Err()
					case !NotFound(err):
						// Keys are a nicety; the warehouse behind this
						// endpoint being slow or down must not cost the catalog.
						mu.Lock()
						metaErrs++
						lastMeta = err
						mu.Unlock()
					}
				}
				ds.table = t
			} else {
				return nil
			}
			mu.Lock()
			got[j.id] = ds
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	if n := len(broken); n > 0 {
		if n > max(5, len(jobs)/10) {
			return nil, nil, nil, fmt.Errorf("%d of %d dataset details failed; last: %w", n, len(jobs), lastBroken)
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "superset failed to return some dataset details; keeping their previous state",
			slog.String("database", db.Name), slog.Int("datasets", n), slog.String("last_error", lastBroken.Error()))
	}
	if metaErrs > 0 {
		s.log.LogAttrs(ctx, slog.LevelWarn, "table metadata unavailable for some tables; their keys are missing",
			slog.String("database", db.Name), slog.Int("tables", metaErrs), slog.String("last_error", lastMeta.Error()))
	}
	return got, missing, broken, nil
}

// datasetBroken reports a failure that belongs to one dataset: Superset
// answered, after retries, with a 500 or a 4xx other than auth, not-found
// and rate limiting. Transport errors and 502/503/504 mean Superset itself
// is unwell and fail the refresh.
func datasetBroken(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Status {
	case http.StatusInternalServerError, http.StatusBadRequest, http.StatusUnprocessableEntity:
		return !se.authFailure
	}
	return false
}

// keepBroken carries over the previous state of datasets whose detail
// failed this time, so one bad dataset does not vanish from the catalog.
func keepBroken(got map[int64]*dsState, broken map[int64]bool, prev *dbState) {
	if prev == nil {
		return
	}
	for id := range broken {
		if old := prev.datasets[id]; old != nil {
			got[id] = old
		}
	}
}

// tableFrom turns a physical dataset into a table, or nil when it has no
// name. Calculated columns exist only in Superset and inactive ones are no
// longer in the table, so neither becomes a column.
func tableFrom(d *Dataset, types *interner) *schema.Table {
	if strings.TrimSpace(d.TableName) == "" {
		return nil
	}
	t := &schema.Table{Catalog: d.Catalog, Schema: d.Schema, Name: d.TableName, Description: d.Description, DatasetID: d.ID}
	seen := make(map[string]bool, len(d.Columns))
	t.Columns = make([]schema.Column, 0, len(d.Columns))
	for _, c := range d.Columns {
		if c.Name == "" || strings.TrimSpace(c.Expression) != "" || (c.IsActive != nil && !*c.IsActive) || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		t.Columns = append(t.Columns, schema.Column{Name: c.Name, Type: types.get(c.Type),
			Description: c.Description, VerboseName: c.VerboseName, IsDttm: c.IsDttm})
	}
	for _, m := range d.Metrics {
		if m.Name == "" {
			continue
		}
		t.Metrics = append(t.Metrics, schema.Metric{Name: m.Name, Expression: m.Expression,
			Description: m.Description, VerboseName: m.VerboseName})
	}
	return t
}

// applyMetadata adds keys and fills descriptions the dataset lacks from the
// warehouse's comments.
func applyMetadata(t *schema.Table, md *TableMetadata) {
	if md.PrimaryKey != nil {
		t.PrimaryKey = append([]string(nil), md.PrimaryKey.ColumnNames...)
	}
	for _, fk := range md.ForeignKeys {
		if len(fk.ColumnNames) == 0 || fk.ReferredTable == "" || len(fk.ColumnNames) != len(fk.ReferredColumns) {
			continue
		}
		ref := fk.ReferredSchema
		if ref == "" {
			ref = t.Schema
		}
		t.ForeignKeys = append(t.ForeignKeys, schema.ForeignKey{
			Columns:    append([]string(nil), fk.ColumnNames...),
			References: schema.TableRef{Schema: ref, Table: fk.ReferredTable, Columns: append([]string(nil), fk.ReferredColumns...)},
		})
	}
	if t.Description == "" {
		t.Description = md.Comment
	}
	if len(md.Columns) > 0 {
		comments := make(map[string]string, len(md.Columns))
		for _, c := range md.Columns {
			if c.Comment != "" {
				comments[c.Name] = c.Comment
			}
		}
		for i := range t.Columns {
			if t.Columns[i].Description == "" {
				t.Columns[i].Description = comments[t.Columns[i].Name]
			}
		}
	}
}

// build assembles the catalog snapshot. Tables are shared with the source's
// state and with earlier snapshots, so they are never modified after they
// are built; a table whose schema or catalog Superset left empty is copied
// with the database's default instead.
//
// A dataset without a catalog is in the connection's default one, which
// Superset's API does not name. Where the connection allows one catalog
// only, every dataset is in it, so the one catalog datasets name is the
// default. Where it allows several, the default stays unknown: datasets
// without a catalog keep none, and only they answer to schema.table.
func build(db *schema.Database, st *dbState, multi bool) *schema.Database {
	out := &schema.Database{Name: db.Name, ID: db.ID, Backend: db.Backend, SQLMode: db.SQLMode}
	tables := make([]*schema.Table, 0, len(st.datasets))
	for _, ds := range st.datasets {
		if ds.table != nil {
			tables = append(tables, ds.table)
		}
	}
	out.DefaultSchema = db.DefaultSchema
	if out.DefaultSchema == "" {
		out.DefaultSchema = schema.InferDefaultSchema(db.Name, db.Backend, tables)
	}
	out.DefaultCatalog = db.DefaultCatalog
	if out.DefaultCatalog == "" && !multi {
		out.DefaultCatalog = onlyCatalog(tables)
	}
	for i, t := range tables {
		if t.Schema == "" || t.Catalog == "" && out.DefaultCatalog != "" {
			c := *t
			c.Schema = cmp.Or(c.Schema, out.DefaultSchema)
			c.Catalog = cmp.Or(c.Catalog, out.DefaultCatalog)
			c.ForeignKeys = make([]schema.ForeignKey, len(t.ForeignKeys))
			for j, fk := range t.ForeignKeys {
				fk.References.Schema = cmp.Or(fk.References.Schema, c.Schema)
				c.ForeignKeys[j] = fk
			}
			tables[i] = &c
		}
	}
	slices.SortFunc(tables, func(a, b *schema.Table) int {
		return cmp.Or(cmp.Compare(a.Catalog, b.Catalog), cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.DatasetID, b.DatasetID))
	})
	// Two datasets over one table (a duplicate): keep the oldest dataset so
	// the table is listed once. The same schema.table in two catalogs is two
	// tables.
	out.Tables = slices.CompactFunc(tables, func(a, b *schema.Table) bool {
		return a.Catalog == b.Catalog && a.Schema == b.Schema && a.Name == b.Name
	})
	out.Index()
	return out
}

// onlyCatalog is the one catalog the tables name, or "" when they name
// none or several.
func onlyCatalog(tables []*schema.Table) string {
	one := ""
	for _, t := range tables {
		switch {
		case t.Catalog == "" || t.Catalog == one:
		case one == "":
			one = t.Catalog
		default:
			return ""
		}
	}
	return one
}

func uniqueRows(rows []datasetRow) []datasetRow {
	seen := make(map[int64]bool, len(rows))
	out := rows[:0]
	for _, r := range rows {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}

func newestChange(w time.Time, rows []datasetRow) time.Time {
	for _, r := range rows {
		if t, ok := parseChangedOn(r.ChangedOnUTC); ok && t.After(w) {
			w = t
		}
	}
	return w
}

// parseChangedOn reads Superset's changed_on_utc: ISO-8601 with microseconds
// and an offset written +0000, or without an offset (a naive UTC time).
func parseChangedOn(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999-0700", time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// interner shares equal type strings ("VARCHAR(255)" ten thousand times).
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func newInterner() *interner { return &interner{m: map[string]string{}} }

func (in *interner) get(s string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	in.m[s] = s
	return s
}

package superset

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/sakura-internet/go-rison/v4"
	"golang.org/x/sync/errgroup"
)

// listQuery is FAB's get_list_schema, the rison `q` of list endpoints.
type listQuery struct {
	Columns        []string     `json:"columns,omitempty"`
	Filters        []listFilter `json:"filters,omitempty"`
	OrderColumn    string       `json:"order_column,omitempty"`
	OrderDirection string       `json:"order_direction,omitempty"`
	Page           int          `json:"page"`
	PageSize       int          `json:"page_size"`
	// Keys limits the metadata FAB adds to a list answer; "none" drops it.
	Keys []string `json:"keys,omitempty"`
}

type listFilter struct {
	Col   string `json:"col"`
	Opr   string `json:"opr"`
	Value any    `json:"value"`
}

// databaseFilter selects the datasets of one database (FAB rel_o_m).
func databaseFilter(id int64) listFilter {
	return listFilter{Col: "database", Opr: "rel_o_m", Value: id}
}

func (q listQuery) values() (url.Values, error) {
	b, err := rison.Marshal(q, rison.Rison)
	if err != nil {
		return nil, fmt.Errorf("superset: encoding rison query: %w", err)
	}
	return url.Values{"q": {string(b)}}, nil
}

// listPage is FAB's list envelope; only what the client reads.
type listPage[T any] struct {
	Count  int `json:"count"`
	Result []T `json:"result"`
}

// listAll reads every page of a list endpoint: the first page alone (for the
// total), then the rest concurrently. Rows are returned in page order.
func listAll[T any](ctx context.Context, c *Client, base request, q listQuery) ([]T, int, error) {
	q.PageSize = c.cfg.PageSize
	q.Page = 0
	first, err := getPage[T](ctx, c, base, q)
	if err != nil {
		return nil, 0, err
	}
	pages := 1
	if first.Count > len(first.Result) && len(first.Result) > 0 {
		if len(first.Result) < q.PageSize {
			// The server clamps to a smaller maximum (FAB_API_MAX_PAGE_SIZE
			// lowered); page by what it actually returns or rows are skipped.
			q.PageSize = len(first.Result)
		}
		pages = (first.Count + q.PageSize - 1) / q.PageSize
	}
	results := make([][]T, pages)
	results[0] = first.Result
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.MaxConcurrency)
	for p := 1; p < pages; p++ {
		qp := q
		qp.Page = p
		g.Go(func() error {
			page, err := getPage[T](gctx, c, base, qp)
			if err != nil {
				return err
			}
			results[p] = page.Result
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	out := make([]T, 0, n)
	for _, r := range results {
		out = append(out, r...)
	}
	return out, first.Count, nil
}

func getPage[T any](ctx context.Context, c *Client, base request, q listQuery) (*listPage[T], error) {
	v, err := q.values()
	if err != nil {
		return nil, err
	}
	req := base
	req.method = http.MethodGet
	req.query = v
	var page listPage[T]
	if err := c.do(ctx, req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// DatabaseInfo is one row of GET /api/v1/database/.
type DatabaseInfo struct {
	ID                int64  `json:"id"`
	Name              string `json:"database_name"`
	Backend           string `json:"backend"`
	AllowMultiCatalog bool   `json:"allow_multi_catalog"`
}

// Databases lists every database the service account can see.
func (c *Client) Databases(ctx context.Context) ([]DatabaseInfo, error) {
	rows, _, err := listAll[DatabaseInfo](ctx, c, request{op: "database_list", path: "/api/v1/database/"},
		listQuery{Columns: []string{"id", "database_name", "backend", "allow_multi_catalog"}, Keys: []string{"none"}})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// datasetRow is one row of GET /api/v1/dataset/ as the catalog asks for it.
type datasetRow struct {
	ID           int64  `json:"id"`
	TableName    string `json:"table_name"`
	Schema       string `json:"schema"`
	Catalog      string `json:"catalog"`
	Kind         string `json:"kind"`
	ChangedOnUTC string `json:"changed_on_utc"`
}

var datasetRowColumns = []string{"id", "table_name", "schema", "catalog", "kind", "changed_on_utc"}

// changedFirst orders datasets newest change first: FAB sorts
// changed_on_delta_humanized by the changed_on column (changed_on itself is
// neither filterable nor sortable).
func changedFirst(q listQuery) listQuery {
	q.OrderColumn = "changed_on_delta_humanized"
	q.OrderDirection = "desc"
	return q
}

// Dataset is the part of GET /api/v1/dataset/{id} the catalog uses.
type Dataset struct {
	ID          int64  `json:"id"`
	TableName   string `json:"table_name"`
	Schema      string `json:"schema"`
	Catalog     string `json:"catalog"`
	Description string `json:"description"`
	// SQL is set for a virtual dataset (a saved query), empty for a table.
	SQL       string `json:"sql"`
	Kind      string `json:"kind"`
	ChangedOn string `json:"changed_on"`
	Database  struct {
		ID      int64  `json:"id"`
		Name    string `json:"database_name"`
		Backend string `json:"backend"`
	} `json:"database"`
	Columns []DatasetColumn `json:"columns"`
	Metrics []DatasetMetric `json:"metrics"`
}

// DatasetColumn is one entry of a dataset's columns.
type DatasetColumn struct {
	Name        string `json:"column_name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	VerboseName string `json:"verbose_name"`
	IsDttm      bool   `json:"is_dttm"`
	// Expression is set for a calculated column, which exists only in
	// Superset, not in the table.
	Expression string `json:"expression"`
	IsActive   *bool  `json:"is_active"`
}

// DatasetMetric is one saved metric of a dataset.
type DatasetMetric struct {
	Name        string `json:"metric_name"`
	Expression  string `json:"expression"`
	Description string `json:"description"`
	VerboseName string `json:"verbose_name"`
}

// Virtual reports whether the dataset is a saved query rather than a table.
func (d *Dataset) Virtual() bool { return d.SQL != "" || d.Kind == "virtual" }

// datasetDetailColumns selects, through the detail's q.columns, only what
// the catalog reads: a tenth of the full answer, which Superset also has to
// build (select_star, owners, verbose_map, …).
var datasetDetailColumns = []string{
	"id", "table_name", "schema", "catalog", "description", "sql", "kind", "changed_on", "database.id",
	"columns.column_name", "columns.type", "columns.description", "columns.verbose_name", "columns.is_dttm",
	"columns.expression", "columns.is_active",
	"metrics.metric_name", "metrics.expression", "metrics.description", "metrics.verbose_name",
}

// Dataset fetches one dataset's detail; a 404 (deleted, or not visible to
// the account) satisfies NotFound.
func (c *Client) Dataset(ctx context.Context, id int64) (*Dataset, error) {
	path := "/api/v1/dataset/" + strconv.FormatInt(id, 10)
	type answer struct {
		Result struct {
			Dataset
			// Present (possibly empty) whenever the answer has a columns key.
			Columns *[]DatasetColumn `json:"columns"`
		} `json:"result"`
	}
	if !c.fullDetail.Load() {
		q, err := (itemQuery{Columns: datasetDetailColumns, Keys: []string{"none"}}).values()
		if err != nil {
			return nil, err
		}
		var out answer
		if err := c.do(ctx, request{op: "dataset_get", method: http.MethodGet, path: path, query: q}, &out); err != nil {
			return nil, err
		}
		if out.Result.Columns != nil {
			d := out.Result.Dataset
			d.Columns = *out.Result.Columns
			if d.ID == 0 {
				d.ID = id
			}
			return &d, nil
		}
		// A Superset that ignores the column selection for nested fields
		// would silently yield tables without columns: ask for everything
		// from now on.
		c.fullDetail.Store(true)
		c.log.LogAttrs(ctx, slog.LevelWarn, "superset ignored the dataset detail column selection; fetching full details")
	}
	var out answer
	if err := c.do(ctx, request{op: "dataset_get", method: http.MethodGet, path: path}, &out); err != nil {
		return nil, err
	}
	d := out.Result.Dataset
	if out.Result.Columns != nil {
		d.Columns = *out.Result.Columns
	}
	if d.ID == 0 {
		d.ID = id
	}
	return &d, nil
}

// itemQuery is FAB's get_item_schema, the rison q of detail endpoints.
type itemQuery struct {
	Columns []string `json:"columns,omitempty"`
	Keys    []string `json:"keys,omitempty"`
}

func (q itemQuery) values() (url.Values, error) {
	b, err := rison.Marshal(q, rison.Rison)
	if err != nil {
		return nil, fmt.Errorf("superset: encoding rison query: %w", err)
	}
	return url.Values{"q": {string(b)}}, nil
}

// TableMetadata is what Superset reports from the warehouse for one table.
type TableMetadata struct {
	Name    string `json:"name"`
	Comment string `json:"comment"`
	Columns []struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Comment string `json:"comment"`
	} `json:"columns"`
	PrimaryKey *struct {
		ColumnNames []string `json:"column_names"`
	} `json:"primaryKey"`
	ForeignKeys []struct {
		ColumnNames     []string `json:"column_names"`
		ReferredSchema  string   `json:"referred_schema"`
		ReferredTable   string   `json:"referred_table"`
		ReferredColumns []string `json:"referred_columns"`
	} `json:"foreignKeys"`
}

// metadataEndpoint remembers which table-metadata endpoint this Superset
// answers: 0 not known yet, 1 table_metadata/ (≥ 4.1), 2 the older
// table/{table}/{schema}/.
type metadataEndpoint struct{ v atomic.Int32 }

const (
	metaUnknown int32 = iota
	metaCurrent
	metaLegacy
)

// TableMetadata fetches a table's columns and keys. It uses
// /api/v1/database/{pk}/table_metadata/ and falls back to the older
// /api/v1/database/{pk}/table/{table}/{schema}/ on Superset versions without
// it. A table Superset cannot find (or denies) satisfies NotFound.
func (c *Client) TableMetadata(ctx context.Context, databaseID int64, catalog, schemaName, table string) (*TableMetadata, error) {
	db := strconv.FormatInt(databaseID, 10)
	current := func() (*TableMetadata, error) {
		q := url.Values{"name": {table}}
		if schemaName != "" {
			q.Set("schema", schemaName)
		}
		if catalog != "" {
			q.Set("catalog", catalog)
		}
		var out TableMetadata
		err := c.do(ctx, request{op: "table_metadata", method: http.MethodGet,
			path: "/api/v1/database/" + db + "/table_metadata/", query: q}, &out)
		return &out, err
	}
	legacy := func() (*TableMetadata, error) {
		var out TableMetadata
		err := c.do(ctx, request{op: "table_metadata_legacy", method: http.MethodGet,
			path: "/api/v1/database/" + db + "/table/" + url.PathEscape(table) + "/" + url.PathEscape(schemaName) + "/"}, &out)
		return &out, err
	}
	switch c.meta.v.Load() {
	case metaCurrent:
		return current()
	case metaLegacy:
		return legacy()
	}
	md, err := current()
	if err == nil {
		c.meta.v.Store(metaCurrent)
		return md, nil
	}
	if !NotFound(err) || schemaName == "" {
		return nil, err
	}
	// A 404 is either an unknown table or a Superset older than 4.1.
	md, lerr := legacy()
	if lerr == nil {
		c.meta.v.Store(metaLegacy)
		return md, nil
	}
	if NotFound(lerr) {
		return nil, err
	}
	return nil, lerr
}

// Permalink is the body of POST /api/v1/sqllab/permalink.
type Permalink struct {
	DatabaseID int64  `json:"dbId"`
	Name       string `json:"name,omitempty"`
	SQL        string `json:"sql"`
	Schema     string `json:"schema,omitempty"`
	Catalog    string `json:"catalog,omitempty"`
	Autorun    bool   `json:"autorun"`
}

// SQLLabPermalink stores SQL as a SQL Lab permalink and returns its URL, for
// queries too long to pass in a /sqllab/?sql= link. It is a CSRF-protected
// POST: the client fetches the CSRF token and session cookie first.
func (c *Client) SQLLabPermalink(ctx context.Context, p Permalink) (string, error) {
	var out struct {
		Key string `json:"key"`
		URL string `json:"url"`
	}
	if err := c.do(ctx, request{op: "sqllab_permalink", method: http.MethodPost,
		path: "/api/v1/sqllab/permalink", body: p}, &out); err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", fmt.Errorf("superset: permalink answer has no url (key %q)", out.Key)
	}
	return out.URL, nil
}

// rawID accepts an id written as a JSON number or string.
type rawID int64

func (r *rawID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		v, err := n.Int64()
		*r = rawID(v)
		return err
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	*r = rawID(v)
	return err
}

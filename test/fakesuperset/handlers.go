package fakesuperset

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sakura-internet/go-rison/v4"
)

// Handler serves the fake's API (the running server uses it; tests may
// mount it elsewhere).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/security/login", s.route(EndpointLogin, s.login))
	mux.HandleFunc("POST /api/v1/security/refresh", s.route(EndpointRefresh, s.refresh))
	mux.HandleFunc("GET /api/v1/security/csrf_token/", s.route(EndpointCSRF, s.csrfToken))
	mux.HandleFunc("GET /api/v1/database/", s.route(EndpointDatabaseList, s.databaseList))
	mux.HandleFunc("GET /api/v1/database/{pk}/table_metadata/", s.route(EndpointTableMetadata, s.tableMetadata))
	mux.HandleFunc("GET /api/v1/database/{pk}/table/{table}/{schema}/", s.route(EndpointTableMetadataOld, s.tableMetadataLegacy))
	mux.HandleFunc("GET /api/v1/dataset/", s.route(EndpointDatasetList, s.datasetList))
	mux.HandleFunc("GET /api/v1/dataset/{id}", s.route(EndpointDatasetGet, s.datasetGet))
	mux.HandleFunc("POST /api/v1/sqllab/permalink", s.route(EndpointSQLLabPermalink, s.permalink))
	mux.HandleFunc("/", s.route(EndpointNotFound, func(w http.ResponseWriter, r *http.Request) {
		supersetErrors(w, http.StatusNotFound, flaskNotFoundMessage)
	}))
	return mux
}

// listArgs is FAB's get_list_schema, decoded from rison (or JSON) `q`.
type listArgs struct {
	columns        []string
	filters        []filterArg
	orderColumn    string
	orderDirection string
	page           int
	pageSize       int
	pageSizeSet    bool
	keys           []string
}

type filterArg struct {
	col, opr string
	value    any
}

// errBadArgs is FAB's answer to a q it cannot read.
const errBadArgs = "Not a valid rison/json argument"

func parseListArgs(r *http.Request) (*listArgs, bool) {
	a := &listArgs{}
	q := r.URL.Query().Get("q")
	if q == "" {
		return a, true
	}
	v, err := rison.Decode([]byte(q), rison.Rison)
	if err != nil {
		// FAB falls back to JSON (FAB_API_ALLOW_JSON_QS).
		if json.Unmarshal([]byte(q), &v) != nil {
			return nil, false
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for k, val := range m {
		switch k {
		case "columns", "select_columns":
			cols, ok := stringList(val)
			if !ok {
				return nil, false
			}
			a.columns = append(a.columns, cols...)
		case "keys":
			if a.keys, ok = stringList(val); !ok {
				return nil, false
			}
		case "order_column":
			if a.orderColumn, ok = val.(string); !ok {
				return nil, false
			}
		case "order_direction":
			if a.orderDirection, ok = val.(string); !ok || (a.orderDirection != "asc" && a.orderDirection != "desc") {
				return nil, false
			}
		case "page":
			if a.page, ok = toInt(val); !ok {
				return nil, false
			}
		case "page_size":
			if a.pageSize, ok = toInt(val); !ok {
				return nil, false
			}
			a.pageSizeSet = true
		case "filters":
			list, ok := val.([]any)
			if !ok {
				return nil, false
			}
			for _, f := range list {
				fm, ok := f.(map[string]any)
				if !ok {
					return nil, false
				}
				col, ok1 := fm["col"].(string)
				opr, ok2 := fm["opr"].(string)
				value, ok3 := fm["value"]
				if !ok1 || !ok2 || !ok3 {
					return nil, false
				}
				a.filters = append(a.filters, filterArg{col: col, opr: opr, value: value})
			}
		}
	}
	return a, true
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n != float64(int(n)) {
			return 0, false
		}
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// page applies FAB's _sanitize_page_args to n rows and returns the slice
// bounds. maxPageSize -1 (the database API) accepts page_size -1 as "all".
func (a *listArgs) bounds(n, maxPageSize int) (int, int) {
	size := a.pageSize
	if !a.pageSizeSet || size == 0 {
		size = defaultListPageSize
	}
	if maxPageSize == -1 {
		if size == -1 {
			return 0, n
		}
	} else if size > maxPageSize || size < 1 {
		size = maxPageSize
	}
	if size < 1 {
		size = defaultListPageSize
	}
	lo := a.page * size
	if lo < 0 || lo > n {
		lo = n
	}
	return lo, min(lo+size, n)
}

// selected returns the requested list columns that the API knows (FAB
// drops unknown ones silently), or all of them.
func (a *listArgs) selected(listColumns []string) []string {
	if len(a.columns) == 0 {
		return listColumns
	}
	var out []string
	for _, c := range a.columns {
		if slices.Contains(listColumns, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return listColumns
	}
	return out
}

// envelope is FAB's list answer.
func envelope(a *listArgs, cols, orderColumns []string, title string, count int, ids []int64, rows []map[string]any) map[string]any {
	out := map[string]any{"count": count, "ids": ids, "result": rows}
	meta := map[string]func() any{
		"list_columns":  func() any { return cols },
		"order_columns": func() any { return orderColumns },
		"label_columns": func() any {
			l := map[string]string{}
			for _, c := range cols {
				l[c] = labelOf(c)
			}
			return l
		},
		"description_columns": func() any { return map[string]string{} },
		"list_title":          func() any { return title },
	}
	for k, f := range meta {
		if len(a.keys) == 0 || slices.Contains(a.keys, k) {
			out[k] = f()
		}
	}
	return out
}

func labelOf(col string) string {
	words := strings.FieldsFunc(col, func(r rune) bool { return r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// setPath stores v at a dotted column name ("database.id") in row.
func setPath(row map[string]any, col string, v any) {
	head, rest, nested := strings.Cut(col, ".")
	if !nested {
		row[col] = v
		return
	}
	sub, _ := row[head].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		row[head] = sub
	}
	setPath(sub, rest, v)
}

// Dataset API (superset/datasets/api.py).
var (
	datasetListColumns = []string{
		"id", "database.id", "database.database_name", "changed_by_name", "changed_by.first_name",
		"changed_by.last_name", "changed_by.id", "changed_on_utc", "changed_on_delta_humanized",
		"default_endpoint", "description", "datasource_type", "explore_url", "extra", "kind",
		"owners.id", "owners.first_name", "owners.last_name", "catalog", "schema", "sql", "table_name", "uuid",
	}
	datasetOrderColumns  = []string{"table_name", "catalog", "schema", "changed_by.first_name", "changed_on_delta_humanized", "database.database_name"}
	datasetSearchColumns = []string{"id", "database", "owners", "catalog", "schema", "sql", "table_name", "created_by", "changed_by"}
	databaseListColumns  = []string{
		"allow_file_upload", "allow_ctas", "allow_cvas", "allow_dml", "allow_run_async", "allows_cost_estimate",
		"allows_subquery", "allows_virtual_table_explore", "backend", "changed_on", "changed_on_delta_humanized",
		"changed_by.first_name", "changed_by.last_name", "created_by.first_name", "created_by.last_name",
		"configuration_method", "database_name", "explore_database_id", "expose_in_sqllab", "extra",
		"force_ctas_schema", "id", "uuid", "disable_data_preview", "disable_drill_to_detail", "allow_multi_catalog",
		"engine_information",
	}
	databaseOrderColumns  = []string{"allow_file_upload", "allow_dml", "allow_run_async", "changed_on", "changed_on_delta_humanized", "created_by.first_name", "database_name", "expose_in_sqllab"}
	databaseSearchColumns = []string{"allow_file_upload", "allow_dml", "allow_run_async", "created_by", "changed_by", "database_name", "expose_in_sqllab", "uuid"}
)

// GET /api/v1/dataset/
func (s *Server) datasetList(w http.ResponseWriter, r *http.Request) {
	u, fail := s.authenticate(r, "access")
	if fail != nil {
		fail.write(w)
		return
	}
	a, ok := parseListArgs(r)
	if !ok {
		message(w, http.StatusBadRequest, errBadArgs)
		return
	}
	if a.orderColumn != "" && !slices.Contains(datasetOrderColumns, a.orderColumn) {
		message(w, http.StatusBadRequest, "Invalid order by column: "+a.orderColumn)
		return
	}
	var preds []func(*Dataset) bool
	for _, f := range a.filters {
		if !slices.Contains(datasetSearchColumns, f.col) {
			message(w, http.StatusBadRequest, "Filter column: "+f.col+" not allowed to filter")
			return
		}
		p, err := datasetFilter(f)
		if err != "" {
			message(w, http.StatusBadRequest, err)
			return
		}
		preds = append(preds, p)
	}
	s.mu.RLock()
	all := s.sortedDatasets()
	rows := make([]*Dataset, 0, len(all))
next:
	for _, d := range all {
		if !visible(u, d) {
			continue
		}
		for _, p := range preds {
			if !p(d) {
				continue next
			}
		}
		rows = append(rows, d)
	}
	dbs := make(map[int64]Database, len(s.databases))
	for id, db := range s.databases {
		dbs[id] = *db
	}
	s.mu.RUnlock()

	desc := a.orderDirection == "desc"
	switch a.orderColumn {
	case "changed_on_delta_humanized":
		// FAB sorts it by the changed_on column it renders.
		slices.SortStableFunc(rows, func(x, y *Dataset) int { return dir(desc, x.ChangedOn.Compare(y.ChangedOn)) })
	case "table_name":
		slices.SortStableFunc(rows, func(x, y *Dataset) int { return dir(desc, cmp.Compare(x.TableName, y.TableName)) })
	case "schema":
		slices.SortStableFunc(rows, func(x, y *Dataset) int { return dir(desc, cmp.Compare(x.Schema, y.Schema)) })
	case "catalog":
		slices.SortStableFunc(rows, func(x, y *Dataset) int { return dir(desc, cmp.Compare(x.Catalog, y.Catalog)) })
	case "database.database_name":
		slices.SortStableFunc(rows, func(x, y *Dataset) int {
			return dir(desc, cmp.Compare(dbs[x.DatabaseID].Name, dbs[y.DatabaseID].Name))
		})
	}
	lo, hi := a.bounds(len(rows), s.opts.MaxPageSize)
	cols := a.selected(datasetListColumns)
	ids := make([]int64, 0, hi-lo)
	result := make([]map[string]any, 0, hi-lo)
	for _, d := range rows[lo:hi] {
		ids = append(ids, d.ID)
		row := map[string]any{}
		db := dbs[d.DatabaseID]
		for _, c := range cols {
			if c == "owners.id" || c == "owners.first_name" || c == "owners.last_name" {
				continue
			}
			setPath(row, c, datasetListValue(d, &db, c))
		}
		if owners := ownerFields(cols); len(owners) > 0 {
			o := map[string]any{}
			for _, f := range owners {
				o[f] = adminOwner[f]
			}
			row["owners"] = []map[string]any{o}
		}
		result = append(result, row)
	}
	writeJSON(w, http.StatusOK, envelope(a, cols, datasetOrderColumns, "List Sqla Table", len(rows), ids, result))
}

func dir(desc bool, c int) int {
	if desc {
		return -c
	}
	return c
}

var adminOwner = map[string]any{"id": 1, "first_name": "Superset", "last_name": "Admin"}

func ownerFields(cols []string) []string {
	var out []string
	for _, c := range cols {
		if f, ok := strings.CutPrefix(c, "owners."); ok {
			out = append(out, f)
		}
	}
	return out
}

// datasetFilter builds the predicate for one filter, or FAB's complaint.
func datasetFilter(f filterArg) (func(*Dataset) bool, string) {
	str := func() (string, bool) { v, ok := f.value.(string); return v, ok }
	switch f.col + "/" + f.opr {
	case "database/rel_o_m", "database/eq":
		id, ok := toInt(f.value)
		if !ok {
			return nil, "Invalid filter value for database"
		}
		return func(d *Dataset) bool { return d.DatabaseID == int64(id) }, ""
	case "id/eq":
		id, ok := toInt(f.value)
		if !ok {
			return nil, "Invalid filter value for id"
		}
		return func(d *Dataset) bool { return d.ID == int64(id) }, ""
	case "table_name/eq", "table_name/ct", "table_name/sw", "schema/eq", "catalog/eq":
		v, ok := str()
		if !ok {
			return nil, "Invalid filter value for " + f.col
		}
		get := func(d *Dataset) string {
			switch f.col {
			case "schema":
				return d.Schema
			case "catalog":
				return d.Catalog
			}
			return d.TableName
		}
		switch f.opr {
		case "ct":
			lv := strings.ToLower(v)
			return func(d *Dataset) bool { return strings.Contains(strings.ToLower(get(d)), lv) }, ""
		case "sw":
			return func(d *Dataset) bool { return strings.HasPrefix(get(d), v) }, ""
		}
		return func(d *Dataset) bool { return get(d) == v }, ""
	case "sql/dataset_is_null_or_empty":
		want, ok := f.value.(bool)
		if !ok {
			return nil, "Invalid filter value for sql"
		}
		return func(d *Dataset) bool { return (d.SQL == "") == want }, ""
	}
	return nil, fmt.Sprintf("Filter operator %s not supported for column %s in this fake", f.opr, f.col)
}

func datasetListValue(d *Dataset, db *Database, col string) any {
	switch col {
	case "id":
		return d.ID
	case "uuid":
		return datasetUUID(d.ID)
	case "database.id":
		return d.DatabaseID
	case "database.database_name":
		return db.Name
	case "changed_by_name", "changed_by.first_name":
		return "Superset"
	case "changed_by.last_name":
		return "Admin"
	case "changed_by.id":
		return 1
	case "changed_on_utc":
		return d.ChangedOn.UTC().Format("2006-01-02T15:04:05.000000+0000")
	case "changed_on_delta_humanized":
		return humanize(d.ChangedOn)
	case "default_endpoint":
		return nil
	case "description":
		return nullable(d.Description)
	case "datasource_type":
		return "table"
	case "explore_url":
		return fmt.Sprintf("/explore/?datasource_type=table&datasource_id=%d", d.ID)
	case "extra":
		return nil
	case "kind":
		if d.Virtual() {
			return "virtual"
		}
		return "physical"
	case "catalog":
		return nullable(d.Catalog)
	case "schema":
		return nullable(d.Schema)
	case "sql":
		return nullable(d.SQL)
	case "table_name":
		return d.TableName
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func datasetUUID(id int64) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", id) }

func databaseUUID(id int64) string { return fmt.Sprintf("00000000-0000-4000-9000-%012x", id) }

func humanize(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "a few seconds ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// datasetShowColumns is DatasetRestApi.show_columns: what the detail
// returns, and what q.columns may select from.
var datasetShowColumns = []string{
	"id", "database.database_name", "database.id", "table_name", "sql", "filter_select_enabled",
	"fetch_values_predicate", "catalog", "schema", "description", "main_dttm_col", "normalize_columns",
	"always_filter_main_dttm", "offset", "default_endpoint", "cache_timeout", "is_sqllab_view",
	"template_params", "select_star", "owners.id", "owners.first_name", "owners.last_name",
	"columns.advanced_data_type", "columns.changed_on", "columns.column_name", "columns.created_on",
	"columns.description", "columns.expression", "columns.filterable", "columns.groupby", "columns.id",
	"columns.is_active", "columns.extra", "columns.is_dttm", "columns.python_date_format", "columns.type",
	"columns.uuid", "columns.verbose_name", "metrics.changed_on", "metrics.created_on", "metrics.d3format",
	"metrics.currency", "metrics.description", "metrics.expression", "metrics.extra", "metrics.id",
	"metrics.metric_name", "metrics.metric_type", "metrics.verbose_name", "metrics.warning_text",
	"datasource_type", "url", "extra", "kind", "created_on", "created_on_humanized", "created_by.first_name",
	"created_by.last_name", "changed_on", "changed_on_humanized", "changed_by.first_name",
	"changed_by.last_name", "columns.type_generic", "database.backend", "database.allow_multi_catalog",
	"is_managed_externally", "uid", "datasource_name", "name", "column_formats", "granularity_sqla",
	"time_grain_sqla", "order_by_choices", "verbose_map",
}

// GET /api/v1/dataset/{id_or_uuid}?q=(columns:!(…),keys:!(…))
func (s *Server) datasetGet(w http.ResponseWriter, r *http.Request) {
	u, fail := s.authenticate(r, "access")
	if fail != nil {
		fail.write(w)
		return
	}
	a, ok := parseListArgs(r) // get_item_schema is a subset: columns, keys
	if !ok {
		message(w, http.StatusBadRequest, errBadArgs)
		return
	}
	key := r.PathValue("id")
	s.mu.RLock()
	var d *Dataset
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		d = s.datasets[id]
	} else {
		for _, c := range s.datasets {
			if datasetUUID(c.ID) == key {
				d = c
				break
			}
		}
	}
	var db Database
	if d != nil && s.databases[d.DatabaseID] != nil {
		db = *s.databases[d.DatabaseID]
	}
	s.mu.RUnlock()
	if d == nil || !visible(u, d) {
		// DatasourceFilter applies to the detail too: hidden is 404.
		message(w, http.StatusNotFound, "Not found")
		return
	}
	full := datasetDetail(d, &db)
	var result any = full
	cols := datasetShowColumns
	var selected []string
	for _, c := range a.columns {
		if slices.Contains(datasetShowColumns, c) && !slices.Contains(selected, c) {
			selected = append(selected, c)
		}
	}
	if len(selected) > 0 {
		result, cols = project(full, selected), selected
	}
	out := map[string]any{"id": d.ID, "result": result}
	// FAB's set_response_key_mappings for a show request.
	meta := map[string]func() any{
		"show_columns": func() any { return cols },
		"label_columns": func() any {
			l := make(map[string]string, len(cols))
			for _, c := range cols {
				l[c] = labelOf(c)
			}
			return l
		},
		"description_columns": func() any { return map[string]string{} },
		"show_title":          func() any { return "Show Sqla Table" },
	}
	for k, f := range meta {
		if len(a.keys) == 0 || slices.Contains(a.keys, k) {
			out[k] = f()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// project keeps the selected fields of a detail, as FAB's schema for a
// column subset does: "columns.column_name" keeps that field of each column.
func project(v any, selected []string) map[string]any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	out := map[string]any{}
	var order []string
	nested := map[string][]string{}
	for _, c := range selected {
		head, rest, ok := strings.Cut(c, ".")
		if !ok {
			if f, ok := jsonField(rv, head); ok {
				out[head] = f.Interface()
			}
			continue
		}
		if _, seen := nested[head]; !seen {
			order = append(order, head)
		}
		nested[head] = append(nested[head], rest)
	}
	for _, head := range order {
		f, ok := jsonField(rv, head)
		if !ok {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			list := make([]map[string]any, f.Len())
			for i := range list {
				list[i] = project(f.Index(i).Interface(), nested[head])
			}
			out[head] = list
		case reflect.Struct:
			out[head] = project(f.Interface(), nested[head])
		}
	}
	return out
}

// jsonFields caches, per struct type, field index by JSON name.
var jsonFields sync.Map // reflect.Type → map[string]int

// jsonField finds a struct field by its JSON name.
func jsonField(rv reflect.Value, name string) (reflect.Value, bool) {
	t := rv.Type()
	m, ok := jsonFields.Load(t)
	if !ok {
		idx := map[string]int{}
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			idx[tag] = i
		}
		m, _ = jsonFields.LoadOrStore(t, idx)
	}
	i, ok := m.(map[string]int)[name]
	if !ok {
		return reflect.Value{}, false
	}
	return rv.Field(i), true
}

type userRef struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type ownerRef struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type columnJSON struct {
	AdvancedDataType *string `json:"advanced_data_type"`
	ChangedOn        string  `json:"changed_on"`
	ColumnName       string  `json:"column_name"`
	CreatedOn        string  `json:"created_on"`
	Description      *string `json:"description"`
	Expression       *string `json:"expression"`
	Extra            *string `json:"extra"`
	Filterable       bool    `json:"filterable"`
	Groupby          bool    `json:"groupby"`
	ID               int64   `json:"id"`
	IsActive         bool    `json:"is_active"`
	IsDttm           bool    `json:"is_dttm"`
	PythonDateFormat *string `json:"python_date_format"`
	Type             *string `json:"type"`
	TypeGeneric      *int    `json:"type_generic"`
	UUID             string  `json:"uuid"`
	VerboseName      *string `json:"verbose_name"`
}

type metricJSON struct {
	ChangedOn   string  `json:"changed_on"`
	CreatedOn   string  `json:"created_on"`
	Currency    any     `json:"currency"`
	D3Format    *string `json:"d3format"`
	Description *string `json:"description"`
	Expression  string  `json:"expression"`
	Extra       *string `json:"extra"`
	ID          int64   `json:"id"`
	MetricName  string  `json:"metric_name"`
	MetricType  *string `json:"metric_type"`
	UUID        string  `json:"uuid"`
	VerboseName *string `json:"verbose_name"`
	WarningText *string `json:"warning_text"`
}

type databaseRefJSON struct {
	AllowMultiCatalog bool   `json:"allow_multi_catalog"`
	Backend           string `json:"backend"`
	DatabaseName      string `json:"database_name"`
	ID                int64  `json:"id"`
	UUID              string `json:"uuid"`
}

type datasetJSON struct {
	AlwaysFilterMainDttm bool              `json:"always_filter_main_dttm"`
	CacheTimeout         *int              `json:"cache_timeout"`
	Catalog              *string           `json:"catalog"`
	ChangedBy            userRef           `json:"changed_by"`
	ChangedOn            string            `json:"changed_on"`
	ChangedOnHumanized   string            `json:"changed_on_humanized"`
	ColumnFormats        map[string]string `json:"column_formats"`
	Columns              []columnJSON      `json:"columns"`
	CreatedBy            userRef           `json:"created_by"`
	CreatedOn            string            `json:"created_on"`
	CreatedOnHumanized   string            `json:"created_on_humanized"`
	CurrencyCodeColumn   *string           `json:"currency_code_column"`
	Database             databaseRefJSON   `json:"database"`
	DatasourceName       string            `json:"datasource_name"`
	DatasourceType       string            `json:"datasource_type"`
	DefaultEndpoint      *string           `json:"default_endpoint"`
	Description          *string           `json:"description"`
	Extra                *string           `json:"extra"`
	FetchValuesPredicate *string           `json:"fetch_values_predicate"`
	FilterSelectEnabled  bool              `json:"filter_select_enabled"`
	GranularitySQLA      [][]string        `json:"granularity_sqla"`
	ID                   int64             `json:"id"`
	IsManagedExternally  bool              `json:"is_managed_externally"`
	IsSQLLabView         bool              `json:"is_sqllab_view"`
	Kind                 string            `json:"kind"`
	MainDttmCol          *string           `json:"main_dttm_col"`
	Metrics              []metricJSON      `json:"metrics"`
	Name                 string            `json:"name"`
	NormalizeColumns     bool              `json:"normalize_columns"`
	Offset               int               `json:"offset"`
	OrderByChoices       [][]string        `json:"order_by_choices"`
	Owners               []ownerRef        `json:"owners"`
	Schema               *string           `json:"schema"`
	SelectStar           string            `json:"select_star"`
	SQL                  *string           `json:"sql"`
	TableName            string            `json:"table_name"`
	TemplateParams       *string           `json:"template_params"`
	TimeGrainSQLA        [][]string        `json:"time_grain_sqla"`
	UID                  string            `json:"uid"`
	URL                  string            `json:"url"`
	UUID                 string            `json:"uuid"`
	VerboseMap           map[string]string `json:"verbose_map"`
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// naiveISO is how Superset's detail renders datetimes (naive UTC).
func naiveISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

func typeGeneric(t string) *int {
	t = strings.ToUpper(t)
	g := 1 // STRING
	switch {
	case strings.Contains(t, "INT"), strings.Contains(t, "NUMERIC"), strings.Contains(t, "DOUBLE"), strings.Contains(t, "DECIMAL"):
		g = 0
	case strings.Contains(t, "TIME"), strings.Contains(t, "DATE"):
		g = 2
	case strings.Contains(t, "BOOL"):
		g = 3
	}
	return &g
}

func datasetDetail(d *Dataset, db *Database) *datasetJSON {
	changed := naiveISO(d.ChangedOn)
	out := &datasetJSON{
		Catalog:            strp(d.Catalog),
		ChangedBy:          userRef{"Superset", "Admin"},
		ChangedOn:          changed,
		ChangedOnHumanized: humanize(d.ChangedOn),
		ColumnFormats:      map[string]string{},
		CreatedBy:          userRef{"Superset", "Admin"},
		CreatedOn:          changed,
		CreatedOnHumanized: humanize(d.ChangedOn),
		Database: databaseRefJSON{AllowMultiCatalog: db.AllowMultiCatalog, Backend: db.Backend,
			DatabaseName: db.Name, ID: db.ID, UUID: databaseUUID(db.ID)},
		DatasourceName:      d.TableName,
		DatasourceType:      "table",
		Description:         strp(d.Description),
		FilterSelectEnabled: true,
		GranularitySQLA:     [][]string{},
		ID:                  d.ID,
		Kind:                "physical",
		Name:                d.TableName,
		OrderByChoices:      [][]string{},
		Owners:              []ownerRef{{1, "Superset", "Admin"}},
		Schema:              strp(d.Schema),
		SQL:                 strp(d.SQL),
		TableName:           d.TableName,
		TimeGrainSQLA:       [][]string{},
		UID:                 fmt.Sprintf("%d__table", d.ID),
		URL:                 fmt.Sprintf("/tablemodelview/edit/%d", d.ID),
		UUID:                datasetUUID(d.ID),
		VerboseMap:          map[string]string{"__timestamp": "Time"},
	}
	if d.Virtual() {
		out.Kind = "virtual"
	}
	qualified := d.TableName
	if d.Schema != "" {
		qualified = d.Schema + "." + d.TableName
	}
	cols := d.AllColumns()
	names := make([]string, 0, len(cols))
	out.Columns = make([]columnJSON, 0, len(cols))
	for _, c := range cols {
		out.Columns = append(out.Columns, columnJSON{
			ChangedOn: changed, ColumnName: c.Name, CreatedOn: changed,
			Description: strp(c.Description), Expression: strp(c.Expression), Extra: strp("{}"),
			Filterable: true, Groupby: true, ID: c.ID, IsActive: true, IsDttm: c.IsDttm,
			Type: strp(c.Type), TypeGeneric: typeGeneric(c.Type),
			UUID: fmt.Sprintf("00000000-0000-4000-a000-%012x", c.ID), VerboseName: strp(c.VerboseName),
		})
		if c.IsDttm && out.MainDttmCol == nil {
			out.MainDttmCol = strp(c.Name)
			out.GranularitySQLA = append(out.GranularitySQLA, []string{c.Name, c.Name})
		}
		if c.VerboseName != "" {
			out.VerboseMap[c.Name] = c.VerboseName
		}
		names = append(names, c.Name)
	}
	out.Metrics = make([]metricJSON, 0, len(d.Metrics))
	for _, m := range d.Metrics {
		out.Metrics = append(out.Metrics, metricJSON{
			ChangedOn: changed, CreatedOn: changed, Description: strp(m.Description), Expression: m.Expression,
			ID: m.ID, MetricName: m.Name, UUID: fmt.Sprintf("00000000-0000-4000-b000-%012x", m.ID),
			VerboseName: strp(m.VerboseName),
		})
	}
	out.SelectStar = "SELECT " + strings.Join(names, ", ") + "\nFROM " + qualified + "\nLIMIT 100"
	if d.Virtual() {
		out.SelectStar = "SELECT * FROM (" + d.SQL + ") AS virtual_table\nLIMIT 100"
	}
	return out
}

// GET /api/v1/database/
func (s *Server) databaseList(w http.ResponseWriter, r *http.Request) {
	u, fail := s.authenticate(r, "access")
	if fail != nil {
		fail.write(w)
		return
	}
	a, ok := parseListArgs(r)
	if !ok {
		message(w, http.StatusBadRequest, errBadArgs)
		return
	}
	if a.orderColumn != "" && !slices.Contains(databaseOrderColumns, a.orderColumn) {
		message(w, http.StatusBadRequest, "Invalid order by column: "+a.orderColumn)
		return
	}
	var name *string
	for _, f := range a.filters {
		if !slices.Contains(databaseSearchColumns, f.col) {
			message(w, http.StatusBadRequest, "Filter column: "+f.col+" not allowed to filter")
			return
		}
		if f.col == "database_name" {
			v, ok := f.value.(string)
			if !ok {
				message(w, http.StatusBadRequest, "Invalid filter value for database_name")
				return
			}
			name = &v
		}
	}
	s.mu.RLock()
	seen := map[int64]bool{}
	for _, d := range s.datasets {
		if visible(u, d) {
			seen[d.DatabaseID] = true
		}
	}
	var dbs []Database
	for _, db := range s.databases {
		// DatabaseFilter: a non-admin sees databases they hold access in.
		if (u.Admin || seen[db.ID]) && (name == nil || strings.Contains(strings.ToLower(db.Name), strings.ToLower(*name))) {
			dbs = append(dbs, *db)
		}
	}
	s.mu.RUnlock()
	desc := a.orderDirection == "desc"
	slices.SortFunc(dbs, func(x, y Database) int {
		if a.orderColumn == "database_name" {
			return dir(desc, cmp.Compare(x.Name, y.Name))
		}
		return cmp.Compare(x.ID, y.ID)
	})
	lo, hi := a.bounds(len(dbs), -1) // DatabaseRestApi.max_page_size = -1
	cols := a.selected(databaseListColumns)
	ids := make([]int64, 0, hi-lo)
	result := make([]map[string]any, 0, hi-lo)
	for _, db := range dbs[lo:hi] {
		ids = append(ids, db.ID)
		row := map[string]any{}
		for _, c := range cols {
			setPath(row, c, databaseListValue(&db, c))
		}
		result = append(result, row)
	}
	writeJSON(w, http.StatusOK, envelope(a, cols, databaseOrderColumns, "List Database", len(dbs), ids, result))
}

func databaseListValue(db *Database, col string) any {
	switch col {
	case "id", "explore_database_id":
		return db.ID
	case "database_name":
		return db.Name
	case "backend":
		return db.Backend
	case "uuid":
		return databaseUUID(db.ID)
	case "allow_multi_catalog":
		return db.AllowMultiCatalog
	case "expose_in_sqllab", "allow_run_async", "allows_subquery", "allows_virtual_table_explore":
		return true
	case "allow_file_upload", "allow_ctas", "allow_cvas", "allow_dml", "allows_cost_estimate",
		"disable_data_preview", "disable_drill_to_detail":
		return false
	case "changed_on":
		return genEpoch.Format("2006-01-02T15:04:05.000000")
	case "changed_on_delta_humanized":
		return humanize(genEpoch)
	case "changed_by.first_name", "created_by.first_name":
		return "Superset"
	case "changed_by.last_name", "created_by.last_name":
		return "Admin"
	case "configuration_method":
		return "sqlalchemy_form"
	case "extra":
		return "{}"
	case "force_ctas_schema":
		return nil
	case "engine_information":
		return map[string]any{"supports_file_upload": true, "disable_ssh_tunneling": false,
			"supports_dynamic_catalog": false, "supports_oauth2": false}
	}
	return nil
}

// findTable finds the physical dataset over catalog.schema.table in a
// database (an empty catalog is the database's default one), if the user
// may see it.
func (s *Server) findTable(u *User, dbID int64, catalog, schemaName, table string) (*Dataset, *Database) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	db := s.databases[dbID]
	if db == nil {
		return nil, nil
	}
	if d := s.index().byTable[s.tableKeyOf(dbID, catalog, schemaName, table)]; d != nil && visible(u, d) {
		return d, db
	}
	return nil, db
}

// GET /api/v1/database/{pk}/table_metadata/?name=&schema=&catalog=
func (s *Server) tableMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	mode := s.metaMode
	s.mu.RUnlock()
	if mode != TableMetadataBoth {
		supersetErrors(w, http.StatusNotFound, flaskNotFoundMessage)
		return
	}
	u, fail := s.authenticate(r, "access")
	if fail != nil {
		fail.write(w)
		return
	}
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		// QualifiedTableSchema's ValidationError becomes Superset's
		// InvalidPayloadSchemaError: 422 in the SIP-40 shape.
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": []map[string]any{{
			"message":    "An error happened when validating the request",
			"error_type": "INVALID_PAYLOAD_SCHEMA_ERROR",
			"level":      "error",
			"extra":      map[string]any{"messages": map[string]any{"name": []string{"Missing data for required field."}}},
		}}})
		return
	}
	s.serveTableMetadata(w, u, r.PathValue("pk"), q.Get("catalog"), q.Get("schema"), name)
}

// GET /api/v1/database/{pk}/table/{table_name}/{schema_name}/
func (s *Server) tableMetadataLegacy(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	mode := s.metaMode
	s.mu.RUnlock()
	if mode == TableMetadataNone {
		supersetErrors(w, http.StatusNotFound, flaskNotFoundMessage)
		return
	}
	u, fail := s.authenticate(r, "access")
	if fail != nil {
		fail.write(w)
		return
	}
	// The old route has no catalog: it reads the default one.
	s.serveTableMetadata(w, u, r.PathValue("pk"), "", r.PathValue("schema"), r.PathValue("table"))
}

func (s *Server) serveTableMetadata(w http.ResponseWriter, u *User, pk, catalog, schemaName, table string) {
	dbID, err := strconv.ParseInt(pk, 10, 64)
	if err != nil {
		supersetErrors(w, http.StatusNotFound, flaskNotFoundMessage)
		return
	}
	d, db := s.findTable(u, dbID, catalog, schemaName, table)
	if db == nil || d == nil {
		// raise_for_access turns a table the user may not see into 404.
		message(w, http.StatusNotFound, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, tableMetadataJSON(d))
}

// keyJSON is one key as SQLAlchemy reports it and Superset passes on: a
// primary key has only column_names, name and type.
type keyJSON struct {
	ColumnNames     []string        `json:"column_names"`
	Name            string          `json:"name"`
	ReferredColumns []string        `json:"referred_columns,omitempty"`
	ReferredSchema  string          `json:"referred_schema,omitempty"`
	ReferredTable   string          `json:"referred_table,omitempty"`
	Options         *map[string]any `json:"options,omitempty"`
	Type            string          `json:"type"`
}

type metadataColumnJSON struct {
	Name     string     `json:"name"`
	Type     string     `json:"type"`
	LongType string     `json:"longType"`
	Keys     []*keyJSON `json:"keys"`
	Comment  string     `json:"comment,omitempty"`
}

type tableMetadataOut struct {
	Name        string               `json:"name"`
	Columns     []metadataColumnJSON `json:"columns"`
	PrimaryKey  any                  `json:"primaryKey"`
	ForeignKeys []*keyJSON           `json:"foreignKeys"`
	Indexes     []*keyJSON           `json:"indexes"`
	SelectStar  string               `json:"selectStar"`
	Comment     *string              `json:"comment"`
}

// tableMetadataJSON is superset/databases/utils.py get_table_metadata.
func tableMetadataJSON(d *Dataset) *tableMetadataOut {
	out := &tableMetadataOut{Name: d.TableName, Comment: strp(d.TableComment), ForeignKeys: []*keyJSON{}, Indexes: []*keyJSON{}}
	if len(d.PrimaryKey) > 0 {
		pk := &keyJSON{ColumnNames: d.PrimaryKey, Name: d.TableName + "_pkey", Type: "pk"}
		out.PrimaryKey = pk
		out.Indexes = append(out.Indexes, pk)
	} else {
		// SQLAlchemy's empty constraint, passed through unchanged.
		out.PrimaryKey = map[string]any{"constrained_columns": []string{}, "name": nil}
	}
	for i, fk := range d.ForeignKeys {
		k := &keyJSON{ColumnNames: fk.Columns, Name: fmt.Sprintf("%s_fk_%d", d.TableName, i+1),
			ReferredColumns: fk.RefColumns, ReferredSchema: fk.RefSchema, ReferredTable: fk.RefTable,
			Options: &map[string]any{}, Type: "fk"}
		out.ForeignKeys = append(out.ForeignKeys, k)
		out.Indexes = append(out.Indexes, k)
	}
	cols := d.AllColumns()
	out.Columns = make([]metadataColumnJSON, 0, len(cols))
	names := make([]string, 0, len(cols))
	for _, c := range cols {
		if c.Expression != "" {
			continue // calculated columns are not in the warehouse
		}
		short, _, _ := strings.Cut(c.Type, "(")
		keys := []*keyJSON{}
		for _, k := range out.Indexes {
			if slices.Contains(k.ColumnNames, c.Name) {
				keys = append(keys, k)
			}
		}
		out.Columns = append(out.Columns, metadataColumnJSON{Name: c.Name, Type: short, LongType: c.Type, Keys: keys, Comment: c.Comment})
		names = append(names, c.Name)
	}
	qualified := d.TableName
	if d.Schema != "" {
		qualified = d.Schema + "." + d.TableName
	}
	out.SelectStar = "SELECT " + strings.Join(names, ", ") + "\nFROM " + qualified + "\nLIMIT 100"
	return out
}

// POST /api/v1/sqllab/permalink
func (s *Server) permalink(w http.ResponseWriter, r *http.Request) {
	if !s.checkCSRF(w, r) {
		return
	}
	if _, fail := s.authenticate(r, "access"); fail != nil {
		fail.write(w)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		message(w, http.StatusBadRequest, "Request is not JSON")
		return
	}
	problems := map[string][]string{}
	if _, ok := toInt(body["dbId"]); !ok {
		problems["dbId"] = []string{"Missing data for required field."}
	}
	if sql, ok := body["sql"].(string); !ok || sql == "" {
		problems["sql"] = []string{"Missing data for required field."}
	}
	if len(problems) > 0 {
		message(w, http.StatusBadRequest, problems)
		return
	}
	raw, _ := json.Marshal(body)
	key := randomHex(8)
	s.mu.Lock()
	s.permalinks[key] = raw
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"key": key, "url": "http://" + r.Host + "/sqllab/p/" + key + "/"})
}

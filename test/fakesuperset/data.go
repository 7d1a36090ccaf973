package fakesuperset

import (
	"fmt"
	"slices"
	"time"
)

// Database is a Superset database connection.
type Database struct {
	ID      int64
	Name    string
	Backend string // postgresql, mysql, …
	// AllowMultiCatalog mirrors the database setting.
	AllowMultiCatalog bool
	// DefaultCatalog is the connection's default catalog (a Trino catalog,
	// a BigQuery project): a dataset without a catalog is in it, and table
	// metadata asked for without a catalog is looked up in it. Superset
	// knows it from the connection; its API does not report it.
	DefaultCatalog string
}

// Dataset is a Superset dataset: a physical table, or a virtual one when
// SQL is set.
type Dataset struct {
	ID          int64
	DatabaseID  int64
	Catalog     string
	Schema      string
	TableName   string
	SQL         string
	Description string
	// Columns are the dataset's columns. When nil and GeneratedColumns > 0,
	// that many columns are generated from the id, deterministically (so a
	// catalog of 10,000 datasets costs little memory).
	Columns          []Column
	GeneratedColumns int
	Metrics          []Metric
	// PrimaryKey, ForeignKeys and TableComment are what the warehouse
	// reports through table metadata. For generated datasets they are
	// generated too unless set.
	PrimaryKey   []string
	ForeignKeys  []ForeignKey
	TableComment string
	ChangedOn    time.Time
}

// Column is a dataset column. Expression marks a calculated column;
// Comment is the warehouse's column comment (table metadata only).
type Column struct {
	ID          int64
	Name        string
	Type        string
	Description string
	VerboseName string
	IsDttm      bool
	Expression  string
	Comment     string
}

// Metric is a saved metric.
type Metric struct {
	ID          int64
	Name        string
	Expression  string
	Description string
	VerboseName string
}

// ForeignKey is a warehouse foreign key reported by table metadata.
type ForeignKey struct {
	Columns    []string
	RefSchema  string
	RefTable   string
	RefColumns []string
}

// User is a Superset user. Admin sees everything; others see the datasets
// listed in Datasets (and the databases those belong to).
type User struct {
	ID        int64
	Username  string
	Password  string
	FirstName string
	LastName  string
	Admin     bool
	Datasets  []int64
}

// Virtual reports whether the dataset is defined by SQL.
func (d *Dataset) Virtual() bool { return d.SQL != "" }

// AllColumns returns the dataset's columns, generating them when needed.
func (d *Dataset) AllColumns() []Column {
	if d.Columns != nil || d.GeneratedColumns <= 0 {
		return d.Columns
	}
	return generateColumns(d.ID, d.TableName, d.GeneratedColumns)
}

// GenerateOptions describes a synthetic catalog.
type GenerateOptions struct {
	// Databases to spread datasets over (default 1), named warehouse,
	// warehouse_2, …
	Databases int
	// Backend of the generated databases (default postgresql).
	Backend string
	// Datasets to create, and Columns each (default 50).
	Datasets int
	Columns  int
	// Metrics per dataset (default 2).
	Metrics int
	// VirtualEvery makes every n-th dataset virtual (0: none).
	VirtualEvery int
}

var genTypes = []string{"VARCHAR(255)", "INTEGER", "NUMERIC(12, 2)", "BOOLEAN", "DATE", "TEXT", "BIGINT", "DOUBLE PRECISION"}

var genSchemas = []string{"sales", "ops", "finance"}

// genEpoch dates generated datasets; they change one second apart by id.
var genEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func generateColumns(id int64, table string, n int) []Column {
	cols := make([]Column, 0, n)
	add := func(name, typ, desc string, dttm bool) {
		cols = append(cols, Column{ID: id*1000 + int64(len(cols)) + 1, Name: name, Type: typ,
			Description: desc, VerboseName: name, IsDttm: dttm})
	}
	add("id", "BIGINT", "Surrogate key of "+table, false)
	if n > 1 {
		add("created_at", "TIMESTAMP WITHOUT TIME ZONE", "When the row was created (UTC)", true)
	}
	if n > 2 {
		add("parent_id", "BIGINT", "Row of the parent table", false)
	}
	for k := len(cols); k < n; k++ {
		add(fmt.Sprintf("attr_%02d", k), genTypes[(int(id)+k)%len(genTypes)],
			fmt.Sprintf("Attribute %d of %s", k, table), false)
	}
	return cols
}

// generate appends a synthetic catalog; it is called with s.mu held.
func (s *Server) generate(g GenerateOptions) []int64 {
	if g.Databases <= 0 {
		g.Databases = 1
	}
	if g.Backend == "" {
		g.Backend = "postgresql"
	}
	if g.Columns <= 0 {
		g.Columns = 50
	}
	if g.Metrics < 0 {
		g.Metrics = 0
	} else if g.Metrics == 0 {
		g.Metrics = 2
	}
	dbs := make([]int64, g.Databases)
	for i := range dbs {
		name := "warehouse"
		if i > 0 {
			name = fmt.Sprintf("warehouse_%d", i+1)
		}
		db := s.addDatabase(Database{Name: name, Backend: g.Backend})
		dbs[i] = db.ID
	}
	ids := make([]int64, 0, g.Datasets)
	prev := map[int64]*Dataset{} // last physical dataset per database
	for i := 0; i < g.Datasets; i++ {
		id := s.nextDataset + 1
		dbID := dbs[i%len(dbs)]
		d := &Dataset{
			ID:               id,
			DatabaseID:       dbID,
			Schema:           genSchemas[i%len(genSchemas)],
			TableName:        fmt.Sprintf("table_%05d", id),
			Description:      fmt.Sprintf("Synthetic table %d", id),
			GeneratedColumns: g.Columns,
			ChangedOn:        genEpoch.Add(time.Duration(id) * time.Second),
		}
		if g.VirtualEvery > 0 && (i+1)%g.VirtualEvery == 0 {
			d.SQL = fmt.Sprintf("SELECT * FROM %s.table_%05d", d.Schema, max(id-1, 1))
			d.TableName = fmt.Sprintf("virtual_%05d", id)
		} else {
			d.PrimaryKey = []string{"id"}
			if p := prev[dbID]; p != nil && g.Columns > 2 {
				d.ForeignKeys = []ForeignKey{{Columns: []string{"parent_id"}, RefSchema: p.Schema, RefTable: p.TableName, RefColumns: []string{"id"}}}
			}
			prev[dbID] = d
		}
		for m := 0; m < g.Metrics; m++ {
			name, expr := "count", "COUNT(*)"
			if m > 0 {
				name, expr = fmt.Sprintf("sum_attr_%02d", m), fmt.Sprintf("SUM(attr_%02d)", m)
			}
			d.Metrics = append(d.Metrics, Metric{ID: id*100 + int64(m) + 1, Name: name, Expression: expr, VerboseName: name})
		}
		s.putDataset(d)
		ids = append(ids, id)
	}
	return ids
}

// datasetIndex is a snapshot of the datasets for lookups; rebuilt lazily
// after a change.
type datasetIndex struct {
	byID    []*Dataset // in id order
	byTable map[tableKey]*Dataset
}

// tableKey names one warehouse table; a dataset's catalog is filled with
// its database's default one, so two datasets over the same schema.table
// in different catalogs are different tables.
type tableKey struct {
	db                     int64
	catalog, schema, table string
}

// tableKeyOf is the key of a table in database db; call with s.mu held.
func (s *Server) tableKeyOf(db int64, catalog, schemaName, table string) tableKey {
	if catalog == "" {
		if d := s.databases[db]; d != nil {
			catalog = d.DefaultCatalog
		}
	}
	return tableKey{db, catalog, schemaName, table}
}

// index returns the current index; call with s.mu held (read or write).
func (s *Server) index() *datasetIndex {
	if ix := s.idx.Load(); ix != nil {
		return ix
	}
	s.imu.Lock()
	defer s.imu.Unlock()
	if ix := s.idx.Load(); ix != nil {
		return ix
	}
	ix := &datasetIndex{byID: make([]*Dataset, 0, len(s.datasets)), byTable: make(map[tableKey]*Dataset, len(s.datasets))}
	for _, d := range s.datasets {
		ix.byID = append(ix.byID, d)
	}
	slices.SortFunc(ix.byID, func(a, b *Dataset) int { return int(a.ID - b.ID) })
	for _, d := range ix.byID {
		k := s.tableKeyOf(d.DatabaseID, d.Catalog, d.Schema, d.TableName)
		if _, dup := ix.byTable[k]; !dup && !d.Virtual() {
			ix.byTable[k] = d
		}
	}
	s.idx.Store(ix)
	return ix
}

// sortedDatasets returns every dataset in id order.
func (s *Server) sortedDatasets() []*Dataset { return s.index().byID }

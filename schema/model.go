// Package schema holds what the service knows about databases: the catalog
// model, its sources (a schema file, Superset's API), caching, caller scope,
// and schema linking.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Catalog is every database the service can answer for.
type Catalog struct {
	Databases []*Database `json:"databases" yaml:"databases"`
}

// Database is one Superset database and its tables.
type Database struct {
	// Name is Superset's database_name.
	Name string `json:"name" yaml:"name"`
	// ID is Superset's database id; 0 when unknown.
	ID int64 `json:"id,omitempty" yaml:"id,omitempty"`
	// Backend is Superset's backend name (postgresql, mysql, mariadb, ...); it
	// decides the dialect.
	Backend string `json:"backend" yaml:"backend"`
	// DefaultSchema is where unqualified table names resolve (for MySQL-family
	// backends, the connection's database).
	DefaultSchema string `json:"default_schema,omitempty" yaml:"default_schema,omitempty"`
	// DefaultCatalog is the catalog (a BigQuery project, a Snowflake
	// database, a Trino catalog) where names without one resolve; empty when
	// the backend has no catalogs or the connection's default is not known.
	DefaultCatalog string `json:"default_catalog,omitempty" yaml:"default_catalog,omitempty"`
	// SQLMode is the MySQL sql_mode the server runs with (ANSI_QUOTES changes
	// what a double-quoted token means). Empty means the server default.
	SQLMode string   `json:"sql_mode,omitempty" yaml:"sql_mode,omitempty"`
	Tables  []*Table `json:"tables" yaml:"tables"`
	index   atomic.Pointer[tableIndex]
}

// Table is one physical table or view.
type Table struct {
	// Catalog is the catalog holding the table (Superset 4.1+ datasets carry
	// it); empty when the database has no catalogs or the table is in the
	// connection's default one and its name is not known.
	Catalog     string       `json:"catalog,omitempty" yaml:"catalog,omitempty"`
	Schema      string       `json:"schema" yaml:"schema"`
	Name        string       `json:"name" yaml:"name"`
	Description string       `json:"description,omitempty" yaml:"description,omitempty"`
	Columns     []Column     `json:"columns" yaml:"columns"`
	PrimaryKey  []string     `json:"primary_key,omitempty" yaml:"primary_key,omitempty"`
	ForeignKeys []ForeignKey `json:"foreign_keys,omitempty" yaml:"foreign_keys,omitempty"`
	// DatasetID is the Superset dataset backed by this table; 0 when unknown.
	DatasetID int64    `json:"dataset_id,omitempty" yaml:"dataset_id,omitempty"`
	Metrics   []Metric `json:"metrics,omitempty" yaml:"metrics,omitempty"`
}

// Column is one column of a table.
type Column struct {
	Name        string `json:"name" yaml:"name"`
	Type        string `json:"type,omitempty" yaml:"type,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	VerboseName string `json:"verbose_name,omitempty" yaml:"verbose_name,omitempty"`
	IsDttm      bool   `json:"is_dttm,omitempty" yaml:"is_dttm,omitempty"`
}

// ForeignKey says that Columns reference References.
type ForeignKey struct {
	Columns    []string `json:"columns" yaml:"columns"`
	References TableRef `json:"references" yaml:"references"`
}

// TableRef names the referenced side of a foreign key.
type TableRef struct {
	// Catalog and Schema default to those of the referencing table.
	Catalog string   `json:"catalog,omitempty" yaml:"catalog,omitempty"`
	Schema  string   `json:"schema,omitempty" yaml:"schema,omitempty"`
	Table   string   `json:"table" yaml:"table"`
	Columns []string `json:"columns" yaml:"columns"`
}

// Metric is a Superset saved metric of a dataset.
type Metric struct {
	Name        string `json:"name" yaml:"name"`
	Expression  string `json:"expression,omitempty" yaml:"expression,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	VerboseName string `json:"verbose_name,omitempty" yaml:"verbose_name,omitempty"`
}

// QualifiedName is "catalog.schema.table" when the table has a catalog,
// else "schema.table" (or "table" when the schema is empty too).
func (t *Table) QualifiedName() string {
	switch {
	case t.Catalog != "":
		return t.Catalog + "." + t.Schema + "." + t.Name
	case t.Schema == "":
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// Column returns the column whose name equals name exactly, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// ColumnFold returns the column whose name equals name ignoring case, or nil.
// An exact match wins over a case-insensitive one.
func (t *Table) ColumnFold(name string) *Column {
	if c := t.Column(name); c != nil {
		return c
	}
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// Index builds the lookup used by the table lookups. Call it after the
// tables change; loaders call it for you.
func (d *Database) Index() {
	ix := &tableIndex{byKey: make(map[string][]*Table, len(d.Tables))}
	for _, t := range d.Tables {
		k := tableKey(t.Catalog, t.Schema, t.Name)
		ix.byKey[k] = append(ix.byKey[k], t)
		if t.Catalog != "" && !slices.Contains(ix.catalogs, t.Catalog) {
			ix.catalogs = append(ix.catalogs, t.Catalog)
		}
	}
	slices.Sort(ix.catalogs)
	d.index.Store(ix)
}

// tableIndex is what Index computes once per set of tables; the judge asks
// for it on every name it resolves.
type tableIndex struct {
	byKey    map[string][]*Table // tableKey → tables
	catalogs []string            // distinct table catalogs, sorted
}

func (d *Database) loadIndex() *tableIndex {
	ix := d.index.Load()
	if ix == nil {
		d.Index()
		ix = d.index.Load()
	}
	return ix
}

// tableKey is the index key: the three parts in lower case, joined by a
// byte no name holds, so "a.b"."c" and "a"."b.c" stay apart.
func tableKey(catalog, schemaName, name string) string {
	return strings.ToLower(catalog + "\x00" + schemaName + "\x00" + name)
}

// Table returns the table schema.name of the default catalog matched
// exactly, or nil.
func (d *Database) Table(schemaName, name string) *Table {
	return d.TableIn(d.DefaultCatalog, schemaName, name)
}

// TablesFold returns the tables of the default catalog whose schema and
// name equal the arguments ignoring case.
func (d *Database) TablesFold(schemaName, name string) []*Table {
	return d.TablesFoldIn(d.DefaultCatalog, schemaName, name)
}

// TableIn returns the table catalog.schema.name matched exactly, or nil.
func (d *Database) TableIn(catalog, schemaName, name string) *Table {
	for _, t := range d.TablesFoldIn(catalog, schemaName, name) {
		if t.Catalog == catalog && t.Schema == schemaName && t.Name == name {
			return t
		}
	}
	return nil
}

// TablesFoldIn returns the tables whose catalog, schema and name equal the
// arguments ignoring case.
func (d *Database) TablesFoldIn(catalog, schemaName, name string) []*Table {
	return d.loadIndex().byKey[tableKey(catalog, schemaName, name)]
}

// Ref returns the table a foreign key of from references: matched exactly,
// else the one table that matches ignoring case; nil when there is none or
// the case-insensitive match is ambiguous.
func (d *Database) Ref(from *Table, ref TableRef) *Table {
	c, s := ref.Catalog, ref.Schema
	if c == "" {
		c = from.Catalog
	}
	if s == "" {
		s = from.Schema
	}
	if t := d.TableIn(c, s, ref.Table); t != nil {
		return t
	}
	if fold := d.TablesFoldIn(c, s, ref.Table); len(fold) == 1 {
		return fold[0]
	}
	return nil
}

// Catalogs lists the distinct catalogs the tables are in, sorted; empty
// when no table names one.
func (d *Database) Catalogs() []string {
	return slices.Clone(d.loadIndex().catalogs)
}

// HasCatalogs reports whether names in this database have a catalog part
// of their own: a default catalog is set or some table names its catalog.
// Without catalogs, a three-part name's first part is the database itself.
func (d *Database) HasCatalogs() bool {
	return d.DefaultCatalog != "" || len(d.loadIndex().catalogs) > 0
}

// Version is a content hash of the database's tables: it changes whenever a
// table, column, key or description changes, and only then.
func (d *Database) Version() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(struct {
		Name, Backend, DefaultSchema, SQLMode string
		ID                                    int64
		Tables                                []*Table
		DefaultCatalog                        string `json:",omitempty"`
	}{d.Name, d.Backend, d.DefaultSchema, d.SQLMode, d.ID, d.Tables, d.DefaultCatalog})
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Database returns the database named name, or whose Superset id is name
// written in decimal; nil when there is none.
func (c *Catalog) Database(name string) *Database {
	for _, d := range c.Databases {
		if d.Name == name {
			return d
		}
	}
	for _, d := range c.Databases {
		if d.ID != 0 && formatID(d.ID) == name {
			return d
		}
	}
	return nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// ForeignKeyTarget is the table a foreign key of t references (Ref) when
// it holds every referenced column and t every referencing one, else nil.
// Every reader of keys (what a caller may see, linking, the prompt)
// resolves them here, so a key is the same edge everywhere or nowhere.
func (d *Database) ForeignKeyTarget(t *Table, fk ForeignKey) *Table {
	ref := d.Ref(t, fk.References)
	if ref == nil {
		return nil
	}
	for _, c := range fk.Columns {
		if t.Column(c) == nil {
			return nil
		}
	}
	for _, c := range fk.References.Columns {
		if ref.Column(c) == nil {
			return nil
		}
	}
	return ref
}

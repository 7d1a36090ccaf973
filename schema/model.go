// Package schema holds what the service knows about databases: the catalog
// model, its sources (a schema file, Superset's API), caching, caller scope,
// and schema linking.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	// SQLMode is the MySQL sql_mode the server runs with (ANSI_QUOTES changes
	// what a double-quoted token means). Empty means the server default.
	SQLMode string                              `json:"sql_mode,omitempty" yaml:"sql_mode,omitempty"`
	Tables  []*Table                            `json:"tables" yaml:"tables"`
	index   atomic.Pointer[map[string][]*Table] // lower(schema.name) → tables
}

// Table is one physical table or view.
type Table struct {
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

// QualifiedName is "schema.table" (or "table" when the schema is empty).
func (t *Table) QualifiedName() string {
	if t.Schema == "" {
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

// Index builds the lookup used by Table and TablesFold. Call it after the
// tables change; loaders call it for you.
func (d *Database) Index() {
	m := make(map[string][]*Table, len(d.Tables))
	for _, t := range d.Tables {
		k := strings.ToLower(t.Schema + "." + t.Name)
		m[k] = append(m[k], t)
	}
	d.index.Store(&m)
}

// Table returns the table schema.name matched exactly, or nil.
func (d *Database) Table(schemaName, name string) *Table {
	for _, t := range d.TablesFold(schemaName, name) {
		if t.Schema == schemaName && t.Name == name {
			return t
		}
	}
	return nil
}

// TablesFold returns the tables whose schema and name equal the arguments
// ignoring case.
func (d *Database) TablesFold(schemaName, name string) []*Table {
	m := d.index.Load()
	if m == nil {
		d.Index()
		m = d.index.Load()
	}
	return (*m)[strings.ToLower(schemaName+"."+name)]
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
	}{d.Name, d.Backend, d.DefaultSchema, d.SQLMode, d.ID, d.Tables})
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

// ForeignKeyTarget resolves the table a foreign key of t references: an
// empty schema means t's own, an exact match wins, else a match ignoring
// case when exactly one table matches. It returns nil when the key names no
// table of d, or a column either side does not hold. Every reader
// of keys (what a caller may see, linking, the prompt) resolves them here,
// so a key is either the same edge everywhere or nowhere.
func (d *Database) ForeignKeyTarget(t *Table, fk ForeignKey) *Table {
	s := fk.References.Schema
	if s == "" {
		s = t.Schema
	}
	ref := d.Table(s, fk.References.Table)
	if ref == nil {
		fold := d.TablesFold(s, fk.References.Table)
		if len(fold) != 1 {
			return nil
		}
		ref = fold[0]
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

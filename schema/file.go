package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadFile reads a schema file (YAML or JSON).
func LoadFile(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseCatalog decodes a schema file (YAML or JSON; JSON is YAML). Unknown
// keys are errors, so a misspelt field fails loudly instead of being ignored.
func ParseCatalog(data []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("schema file is empty")
		}
		return nil, err
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Normalize fills defaults (a table's schema and catalog fall back to the
// database's default ones; a database's default schema to its backend's
// usual one),
// checks that names are present and unique, and builds the lookup indexes.
func (c *Catalog) Normalize() error {
	seen := map[string]bool{}
	for i, d := range c.Databases {
		if d == nil {
			return fmt.Errorf("databases[%d]: empty entry", i)
		}
		if d.Name == "" {
			return fmt.Errorf("databases[%d]: name is required", i)
		}
		if seen[d.Name] {
			return fmt.Errorf("database %q is listed twice", d.Name)
		}
		seen[d.Name] = true
		if err := d.Normalize(); err != nil {
			return fmt.Errorf("database %q: %w", d.Name, err)
		}
	}
	return nil
}

// Normalize fills defaults, checks one database and indexes it.
func (d *Database) Normalize() error {
	if d.Backend == "" {
		return errors.New("backend is required (postgresql, mysql, mariadb, ...)")
	}
	d.Backend = strings.ToLower(d.Backend)
	if d.DefaultSchema == "" {
		d.DefaultSchema = InferDefaultSchema(d.Name, d.Backend, d.Tables)
	}
	tables := map[string]bool{}
	for i, t := range d.Tables {
		if t == nil || t.Name == "" {
			return fmt.Errorf("tables[%d]: name is required", i)
		}
		if t.Schema == "" {
			t.Schema = d.DefaultSchema
		}
		if t.Catalog == "" {
			t.Catalog = d.DefaultCatalog
		}
		k := t.QualifiedName()
		if tables[k] {
			return fmt.Errorf("table %q is listed twice", k)
		}
		tables[k] = true
		cols := map[string]bool{}
		for j, col := range t.Columns {
			if col.Name == "" {
				return fmt.Errorf("table %q: columns[%d]: name is required", k, j)
			}
			if cols[col.Name] {
				return fmt.Errorf("table %q: column %q is listed twice", k, col.Name)
			}
			cols[col.Name] = true
		}
		for j := range t.ForeignKeys {
			fk := &t.ForeignKeys[j]
			if fk.References.Catalog == "" {
				fk.References.Catalog = t.Catalog
			}
			if fk.References.Schema == "" {
				fk.References.Schema = t.Schema
			}
			if len(fk.Columns) == 0 || fk.References.Table == "" || len(fk.Columns) != len(fk.References.Columns) {
				return fmt.Errorf("table %q: foreign_keys[%d] needs columns, references.table and as many references.columns as columns", k, j)
			}
		}
	}
	d.Index()
	return nil
}

// InferDefaultSchema is where unqualified names resolve when no source says:
// PostgreSQL's search path starts at public; a MySQL connection's database
// is the one schema its tables share (the database's name when they share
// none).
func InferDefaultSchema(database, backend string, tables []*Table) string {
	if DialectOf(backend) == DialectPostgres {
		return "public"
	}
	one := ""
	for _, t := range tables {
		if t.Schema == "" {
			continue
		}
		if one != "" && t.Schema != one {
			return ""
		}
		one = t.Schema
	}
	if one == "" {
		return database
	}
	return one
}

// Marshal writes the catalog as a schema file in YAML.
func (c *Catalog) Marshal(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return err
	}
	return enc.Close()
}

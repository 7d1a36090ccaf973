package benchdata

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/texttosql/text2sql/schema"
)

// SpiderCatalog returns all 166 Spider databases from spider_dev/tables.json
// as the SQLite databases Spider ships: backend sqlite, every table in
// SQLite's main schema, names and declared types as published.
func SpiderCatalog(dir string) (*schema.Catalog, error) {
	raw, err := readSpiderTables(filepath.Join(dir, "spider_dev", "tables.json"))
	if err != nil {
		return nil, err
	}
	c := &schema.Catalog{}
	for i := range raw {
		db, err := raw[i].toDatabase(raw[i].DBID, "sqlite", "main", keepName)
		if err != nil {
			return nil, err
		}
		c.Databases = append(c.Databases, db)
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

// SpiderManCatalog returns SpiderMan's MySQL databases (every
// spiderman_mysql/databases/<db>/schema.sql, parsed with the TiDB parser):
// backend mysql, one database per directory, its tables in the schema the
// DDL names (the database's own name).
func SpiderManCatalog(dir string) (*schema.Catalog, error) {
	root := filepath.Join(dir, "spiderman_mysql", "databases")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	c := &schema.Catalog{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(root, e.Name(), "schema.sql")
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		db, err := MySQLDatabase(e.Name(), e.Name(), string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.Databases = append(c.Databases, db)
	}
	sort.Slice(c.Databases, func(i, j int) bool { return c.Databases[i].Name < c.Databases[j].Name })
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

// MySQLDatabase builds a database from MySQL DDL: every CREATE TABLE
// becomes a table (columns, types, comments, primary and foreign keys);
// other statements are ignored. Unqualified tables go into defaultSchema.
func MySQLDatabase(name, defaultSchema, ddl string) (*schema.Database, error) {
	stmts, err := parseMySQL(ddl)
	if err != nil {
		return nil, err
	}
	db := &schema.Database{Name: name, Backend: "mysql", DefaultSchema: defaultSchema}
	type pendingFK struct {
		table *schema.Table
		fk    schema.ForeignKey
	}
	var pending []pendingFK
	for _, s := range stmts {
		ct, ok := s.(*ast.CreateTableStmt)
		if !ok {
			continue
		}
		t := &schema.Table{Schema: ct.Table.Schema.O, Name: ct.Table.Name.O}
		if t.Schema == "" {
			t.Schema = defaultSchema
		}
		for _, opt := range ct.Options {
			if opt.Tp == ast.TableOptionComment {
				t.Description = opt.StrValue
			}
		}
		for _, cd := range ct.Cols {
			col := schema.Column{Name: cd.Name.Name.O}
			if cd.Tp != nil {
				// Restore prints the type as declared; String would add
				// default display widths the DDL never gave.
				var b strings.Builder
				if err := cd.Tp.Restore(format.NewRestoreCtx(format.RestoreKeyWordUppercase, &b)); err != nil {
					return nil, fmt.Errorf("table %s column %s: %w", t.Name, col.Name, err)
				}
				col.Type = b.String()
				col.IsDttm = isTemporal(col.Type)
			}
			for _, o := range cd.Options {
				switch o.Tp {
				case ast.ColumnOptionPrimaryKey:
					t.PrimaryKey = append(t.PrimaryKey, col.Name)
				case ast.ColumnOptionComment:
					if v, ok := o.Expr.(ast.ValueExpr); ok {
						col.Description = v.GetString()
					}
				case ast.ColumnOptionReference:
					if o.Refer != nil {
						pending = append(pending, pendingFK{t, mysqlFK([]string{col.Name}, o.Refer, t.Schema)})
					}
				}
			}
			t.Columns = append(t.Columns, col)
		}
		for _, con := range ct.Constraints {
			switch con.Tp {
			case ast.ConstraintPrimaryKey:
				t.PrimaryKey = nil
				for _, k := range con.Keys {
					if k.Column != nil {
						t.PrimaryKey = append(t.PrimaryKey, k.Column.Name.O)
					}
				}
			case ast.ConstraintForeignKey:
				var cols []string
				for _, k := range con.Keys {
					if k.Column != nil {
						cols = append(cols, k.Column.Name.O)
					}
				}
				if con.Refer != nil {
					pending = append(pending, pendingFK{t, mysqlFK(cols, con.Refer, t.Schema)})
				}
			}
		}
		db.Tables = append(db.Tables, t)
	}
	// A REFERENCES clause without columns means the referenced table's
	// primary key, known only once every table is read.
	for _, p := range pending {
		if len(p.fk.References.Columns) == 0 {
			if ref := findTableFold(db, p.fk.References.Schema, p.fk.References.Table); ref != nil {
				p.fk.References.Columns = append([]string{}, ref.PrimaryKey...)
			}
		}
		p.table.ForeignKeys = append(p.table.ForeignKeys, p.fk)
	}
	return db, nil
}

func mysqlFK(cols []string, ref *ast.ReferenceDef, defaultSchema string) schema.ForeignKey {
	fk := schema.ForeignKey{Columns: cols}
	if ref.Table != nil {
		fk.References.Schema = ref.Table.Schema.O
		fk.References.Table = ref.Table.Name.O
	}
	if fk.References.Schema == "" {
		fk.References.Schema = defaultSchema
	}
	for _, k := range ref.IndexPartSpecifications {
		if k.Column != nil {
			fk.References.Columns = append(fk.References.Columns, k.Column.Name.O)
		}
	}
	return fk
}

// findTableFold looks a table up ignoring case, before the database is
// indexed.
func findTableFold(db *schema.Database, schemaName, name string) *schema.Table {
	for _, t := range db.Tables {
		if strings.EqualFold(t.Schema, schemaName) && strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

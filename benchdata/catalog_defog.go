package benchdata

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/texttosql/text2sql/schema"
)

// DefogCatalog returns Defog sql-eval's 11 databases
// (defog_sql_eval/databases/<db>/<db>.sql parsed with pg_query, plus the
// column descriptions of <db>.json): backend postgresql, default schema
// public, tables in the schema their DDL names.
func DefogCatalog(dir string) (*schema.Catalog, error) {
	root := filepath.Join(dir, "defog_sql_eval", "databases")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	c := &schema.Catalog{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		sqlPath := filepath.Join(root, name, name+".sql")
		ddl, err := os.ReadFile(sqlPath)
		if err != nil {
			return nil, err
		}
		db, err := PostgresDatabase(name, string(ddl))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sqlPath, err)
		}
		jsonPath := filepath.Join(root, name, name+".json")
		if err := addDefogDescriptions(db, jsonPath); err != nil {
			return nil, err
		}
		c.Databases = append(c.Databases, db)
	}
	sort.Slice(c.Databases, func(i, j int) bool { return c.Databases[i].Name < c.Databases[j].Name })
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

// PostgresDatabase builds a database from PostgreSQL DDL: every CREATE
// TABLE becomes a table (columns, types, primary and foreign keys, a
// comment on a column's own line as its description); other statements are
// ignored. Names are as PostgreSQL stores them (the parser folds unquoted
// ones); unqualified tables go into public.
func PostgresDatabase(name, ddl string) (*schema.Database, error) {
	tree, err := pg.Parse(ddl)
	if err != nil {
		return nil, err
	}
	comments, err := lineComments(ddl)
	if err != nil {
		return nil, err
	}
	db := &schema.Database{Name: name, Backend: "postgresql", DefaultSchema: "public"}
	type pendingFK struct {
		table *schema.Table
		fk    schema.ForeignKey
	}
	var pending []pendingFK
	for _, raw := range tree.Stmts {
		cs := raw.Stmt.GetCreateStmt()
		if cs == nil || cs.Relation == nil {
			continue
		}
		t := &schema.Table{Schema: cs.Relation.Schemaname, Name: cs.Relation.Relname}
		if t.Schema == "" {
			t.Schema = db.DefaultSchema
		}
		addConstraint := func(con *pg.Constraint, column string) {
			switch con.Contype {
			case pg.ConstrType_CONSTR_PRIMARY:
				if column != "" {
					t.PrimaryKey = []string{column}
				} else {
					t.PrimaryKey = stringList(con.Keys)
				}
			case pg.ConstrType_CONSTR_FOREIGN:
				fk := schema.ForeignKey{Columns: stringList(con.FkAttrs)}
				if column != "" {
					fk.Columns = []string{column}
				}
				if con.Pktable != nil {
					fk.References.Schema = con.Pktable.Schemaname
					fk.References.Table = con.Pktable.Relname
				}
				if fk.References.Schema == "" {
					fk.References.Schema = db.DefaultSchema
				}
				fk.References.Columns = stringList(con.PkAttrs)
				pending = append(pending, pendingFK{t, fk})
			}
		}
		for _, elt := range cs.TableElts {
			if cd := elt.GetColumnDef(); cd != nil {
				col := schema.Column{Name: cd.Colname, Type: typeName(cd.TypeName)}
				col.IsDttm = isTemporal(col.Type)
				col.Description = comments.after(int(cd.Location))
				for _, cn := range cd.Constraints {
					if con := cn.GetConstraint(); con != nil {
						addConstraint(con, cd.Colname)
					}
				}
				t.Columns = append(t.Columns, col)
			}
			if con := elt.GetConstraint(); con != nil {
				addConstraint(con, "")
			}
		}
		db.Tables = append(db.Tables, t)
	}
	// REFERENCES without columns means the referenced primary key.
	for _, p := range pending {
		if len(p.fk.References.Columns) == 0 {
			for _, ref := range db.Tables {
				if ref.Schema == p.fk.References.Schema && ref.Name == p.fk.References.Table {
					p.fk.References.Columns = append([]string{}, ref.PrimaryKey...)
				}
			}
		}
		p.table.ForeignKeys = append(p.table.ForeignKeys, p.fk)
	}
	return db, nil
}

func stringList(nodes []*pg.Node) []string {
	var out []string
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	return out
}

// internalTypes maps the catalog names the parser gives SQL-standard types
// back to the names people write.
var internalTypes = map[string]string{
	"int2": "smallint", "int4": "integer", "int8": "bigint",
	"float4": "real", "float8": "double precision", "bool": "boolean",
	"bpchar": "char", "timestamptz": "timestamp with time zone", "timetz": "time with time zone",
}

// typeName prints a column's declared type: its name without the
// pg_catalog qualifier, its modifiers and array bounds.
func typeName(tn *pg.TypeName) string {
	if tn == nil {
		return ""
	}
	names := stringList(tn.Names)
	if len(names) == 2 && names[0] == "pg_catalog" {
		names = names[1:]
		if n, ok := internalTypes[names[0]]; ok {
			names[0] = n
		}
	}
	s := strings.Join(names, ".")
	var mods []string
	for _, m := range tn.Typmods {
		if c := m.GetAConst(); c != nil {
			switch {
			case c.GetIval() != nil:
				mods = append(mods, strconv.Itoa(int(c.GetIval().Ival)))
			case c.GetSval() != nil:
				mods = append(mods, c.GetSval().Sval)
			}
		}
	}
	if len(mods) > 0 {
		s += "(" + strings.Join(mods, ",") + ")"
	}
	for range tn.ArrayBounds {
		s += "[]"
	}
	return s
}

// commentIndex holds the comments of a script, found by PostgreSQL's own
// scanner.
type commentIndex struct {
	src  string
	toks []*pg.ScanToken
}

func lineComments(src string) (commentIndex, error) {
	res, err := pg.Scan(src)
	if err != nil {
		return commentIndex{}, err
	}
	ci := commentIndex{src: src}
	for _, tk := range res.Tokens {
		if tk.Token == pg.Token_SQL_COMMENT || tk.Token == pg.Token_C_COMMENT {
			ci.toks = append(ci.toks, tk)
		}
	}
	return ci, nil
}

// after returns the text of the first comment that starts after pos on the
// same line, or "".
func (ci commentIndex) after(pos int) string {
	for _, tk := range ci.toks {
		start := int(tk.Start)
		if start < pos {
			continue
		}
		if strings.Contains(ci.src[pos:start], "\n") {
			return ""
		}
		text := ci.src[start:tk.End]
		text = strings.TrimPrefix(text, "--")
		text = strings.TrimSuffix(strings.TrimPrefix(text, "/*"), "*/")
		return strings.TrimSpace(text)
	}
	return ""
}

// defogMetadata is <db>.json: per table (keyed "table" or "schema.table"
// in the DDL's spelling) its columns' descriptions.
type defogMetadata struct {
	TableMetadata map[string][]struct {
		ColumnName        string `json:"column_name"`
		DataType          string `json:"data_type"`
		ColumnDescription string `json:"column_description"`
	} `json:"table_metadata"`
}

// addDefogDescriptions fills column descriptions from the metadata file;
// a description there wins over a DDL comment. The file spells names as
// the DDL does, unquoted, so they are folded as PostgreSQL folds them.
func addDefogDescriptions(db *schema.Database, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var md defogMetadata
	if err := json.Unmarshal(data, &md); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for key, cols := range md.TableMetadata {
		tn := splitQualified(key)
		if tn.Schema == "" {
			tn.Schema = db.DefaultSchema
		}
		var t *schema.Table
		for _, x := range db.Tables {
			if x.Schema == PostgresName(tn.Schema) && x.Name == PostgresName(tn.Name) {
				t = x
			}
		}
		if t == nil {
			return fmt.Errorf("%s: table %q is not in the DDL", path, key)
		}
		for _, c := range cols {
			col := t.Column(PostgresName(c.ColumnName))
			if col == nil {
				return fmt.Errorf("%s: column %q of %q is not in the DDL", path, c.ColumnName, key)
			}
			if d := strings.TrimSpace(c.ColumnDescription); d != "" {
				col.Description = d
			}
		}
	}
	return nil
}

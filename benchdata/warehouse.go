package benchdata

import (
	"github.com/texttosql/text2sql/schema"
)

// Benchmark names used in question sets and warehouse schema names.
const (
	BenchBird   = "bird"
	BenchSpider = "spider"
	BenchDefog  = "defog"
)

// WarehouseName is the name of the database Warehouse returns.
const WarehouseName = "benchmark_warehouse"

// WarehouseSchema is the schema that holds, in the warehouse, the tables of
// database db of a benchmark that were in schema sch there (sch empty or the
// database's default schema for the usual case).
func WarehouseSchema(benchmark, db, sch, defaultSchema string) string {
	s := benchmark + "_" + db
	if sch != "" && sch != defaultSchema {
		s += "_" + sch
	}
	return s
}

// Warehouse returns one PostgreSQL database holding every benchmark schema
// side by side (about a thousand tables), for measuring schema linking at
// warehouse scale: Spider's 166 databases, BIRD mini-dev's 11 and Defog's
// 11, each database as its own schema (see WarehouseSchema). SpiderMan's
// databases and BIRD's MySQL spelling are the same schemas again and are
// not repeated. Spider's names are spelled as PostgreSQL would hold them,
// by the rule BIRD's PostgreSQL migration follows (PostgresName).
func Warehouse(dir string) (*schema.Database, error) {
	spider, err := SpiderCatalog(dir)
	if err != nil {
		return nil, err
	}
	bird, err := BirdPostgresCatalog(dir)
	if err != nil {
		return nil, err
	}
	defog, err := DefogCatalog(dir)
	if err != nil {
		return nil, err
	}
	w := &schema.Database{Name: WarehouseName, Backend: "postgresql", DefaultSchema: "public"}
	add := func(benchmark string, c *schema.Catalog, name func(string) string) {
		for _, db := range c.Databases {
			for _, t := range db.Tables {
				nt := &schema.Table{
					Schema:      WarehouseSchema(benchmark, db.Name, t.Schema, db.DefaultSchema),
					Name:        name(t.Name),
					Description: t.Description,
					PrimaryKey:  mapNames(t.PrimaryKey, name),
				}
				for _, col := range t.Columns {
					col.Name = name(col.Name)
					nt.Columns = append(nt.Columns, col)
				}
				for _, fk := range t.ForeignKeys {
					nt.ForeignKeys = append(nt.ForeignKeys, schema.ForeignKey{
						Columns: mapNames(fk.Columns, name),
						References: schema.TableRef{
							Schema:  WarehouseSchema(benchmark, db.Name, fk.References.Schema, db.DefaultSchema),
							Table:   name(fk.References.Table),
							Columns: mapNames(fk.References.Columns, name),
						},
					})
				}
				w.Tables = append(w.Tables, nt)
			}
		}
	}
	add(BenchSpider, spider, PostgresName)
	add(BenchBird, bird, keepName)
	add(BenchDefog, defog, keepName)
	if err := w.Normalize(); err != nil {
		return nil, err
	}
	return w, nil
}

func mapNames(in []string, f func(string) string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

package main

import (
	"fmt"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/golden/execdb"
	"github.com/texttosql/text2sql/schema"
)

// datasetStride spaces the dataset ids of consecutive databases: a table's
// dataset_id is its database's id times datasetStride plus its position.
const datasetStride = 1000

// buildCatalog returns every Defog database, renamed as execdb loads it
// into PostgreSQL, followed by the SpiderMan databases named in spider (the
// ones holding data), with database ids 1, 2, 3... and a distinct dataset
// id for every table.
func buildCatalog(bench string, spider []string) (*schema.Catalog, error) {
	defog, err := benchdata.DefogCatalog(bench)
	if err != nil {
		return nil, err
	}
	for _, db := range defog.Databases {
		db.Name = execdb.DefogDatabase(db.Name)
	}
	sm, err := benchdata.SpiderManCatalog(bench)
	if err != nil {
		return nil, err
	}
	cat := &schema.Catalog{Databases: defog.Databases}
	for _, name := range spider {
		db := sm.Database(name)
		if db == nil {
			return nil, fmt.Errorf("SpiderMan database %s has data but no schema.sql", name)
		}
		cat.Databases = append(cat.Databases, db)
	}
	for i, db := range cat.Databases {
		db.ID = int64(i + 1)
		if len(db.Tables) >= datasetStride {
			return nil, fmt.Errorf("database %s has %d tables; dataset ids allow %d", db.Name, len(db.Tables), datasetStride-1)
		}
		for j, t := range db.Tables {
			t.DatasetID = db.ID*datasetStride + int64(j+1)
		}
	}
	if err := cat.Normalize(); err != nil {
		return nil, err
	}
	return cat, nil
}

package server

import (
	"cmp"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// visibleTables lists the tables rules allow, and of each what the rules
// let the caller read: its allowed columns, key entries over them, foreign
// keys and metrics the rules allow (validate/visibility.go, the same rule
// linking and the prompt follow).
func visibleTables(db *schema.Database, rules *validate.Rules) []*texttosqlv1.Table {
	out := []*texttosqlv1.Table{}
	for _, t := range db.Tables {
		if !rules.TableAllowed(t) {
			continue
		}
		pt := &texttosqlv1.Table{
			Catalog:     t.Catalog,
			Schema:      t.Schema,
			Name:        t.Name,
			Description: t.Description,
			DatasetId:   t.DatasetID,
			Columns:     []*texttosqlv1.Column{},
			PrimaryKey:  []string{},
			ForeignKeys: []*texttosqlv1.ForeignKey{},
			Metrics:     []*texttosqlv1.Metric{},
		}
		for _, c := range t.Columns {
			if rules.ColumnAllowed(t, c.Name) {
				pt.Columns = append(pt.Columns, &texttosqlv1.Column{
					Name: c.Name, Type: c.Type, Description: c.Description,
					VerboseName: c.VerboseName, IsDttm: c.IsDttm,
				})
			}
		}
		for _, k := range t.PrimaryKey {
			if rules.ColumnAllowed(t, k) {
				pt.PrimaryKey = append(pt.PrimaryKey, k)
			}
		}
		for _, fk := range t.ForeignKeys {
			if rules.ForeignKeyAllowed(t, fk) {
				pt.ForeignKeys = append(pt.ForeignKeys, &texttosqlv1.ForeignKey{
					Columns:    fk.Columns,
					RefCatalog: cmp.Or(fk.References.Catalog, t.Catalog),
					RefSchema:  fk.References.Schema,
					RefTable:   fk.References.Table,
					RefColumns: fk.References.Columns,
				})
			}
		}
		for _, m := range t.Metrics {
			if rules.MetricAllowed(t, m) {
				pt.Metrics = append(pt.Metrics, &texttosqlv1.Metric{
					Name: m.Name, Expression: m.Expression, Description: m.Description, VerboseName: m.VerboseName,
				})
			}
		}
		out = append(out, pt)
	}
	return out
}

package server

import (
	"cmp"
	"strings"
	"unicode"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// visibleTables lists the tables rules allow, leaving out denied columns
// and anything that would name them: key entries over a denied column,
// foreign keys into tables the caller may not read, and metrics whose
// expression mentions a denied column.
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
		var denied []string
		for _, c := range t.Columns {
			if !rules.ColumnAllowed(t, c.Name) {
				denied = append(denied, c.Name)
				continue
			}
			pt.Columns = append(pt.Columns, &texttosqlv1.Column{
				Name: c.Name, Type: c.Type, Description: c.Description,
				VerboseName: c.VerboseName, IsDttm: c.IsDttm,
			})
		}
		for _, k := range t.PrimaryKey {
			if rules.ColumnAllowed(t, k) {
				pt.PrimaryKey = append(pt.PrimaryKey, k)
			}
		}
		for _, fk := range t.ForeignKeys {
			if fkVisible(db, rules, t, fk) {
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
			if mentionsAny(m.Expression, denied) {
				continue
			}
			pt.Metrics = append(pt.Metrics, &texttosqlv1.Metric{
				Name: m.Name, Expression: m.Expression, Description: m.Description, VerboseName: m.VerboseName,
			})
		}
		out = append(out, pt)
	}
	return out
}

func fkVisible(db *schema.Database, rules *validate.Rules, t *schema.Table, fk schema.ForeignKey) bool {
	for _, c := range fk.Columns {
		if !rules.ColumnAllowed(t, c) {
			return false
		}
	}
	ref := db.Ref(t, fk.References)
	if ref == nil || !rules.TableAllowed(ref) {
		return false
	}
	for _, c := range fk.References.Columns {
		if !rules.ColumnAllowed(ref, c) {
			return false
		}
	}
	return true
}

// mentionsAny reports whether expr contains one of names as a whole word,
// ignoring case. It errs towards hiding: a metric is dropped when a denied
// column's name appears anywhere in it, even inside a string literal.
func mentionsAny(expr string, names []string) bool {
	if len(names) == 0 || expr == "" {
		return false
	}
	lower := strings.ToLower(expr)
	for _, n := range names {
		n = strings.ToLower(n)
		for i := 0; ; {
			j := strings.Index(lower[i:], n)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(n)
			if !wordByteAt(lower, start-1) && !wordByteAt(lower, end) {
				return true
			}
			i = start + 1
		}
	}
	return false
}

func wordByteAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := rune(s[i])
	return c == '_' || c >= 0x80 || unicode.IsLetter(c) || unicode.IsDigit(c)
}

package schema

import (
	"sort"
	"strings"
)

// Dialect families the service can parse.
const (
	DialectPostgres = "postgresql"
	DialectMySQL    = "mysql"
)

// dialects maps Superset backend names (SQLAlchemy URL backends) to the
// dialect family whose parser reads their SQL. A backend missing here has no
// parser, and every query against it fails closed.
var dialects = map[string]string{
	"postgresql":  DialectPostgres,
	"postgres":    DialectPostgres,
	"redshift":    DialectPostgres,
	"cockroachdb": DialectPostgres,
	"mysql":       DialectMySQL,
	"mariadb":     DialectMySQL,
	"tidb":        DialectMySQL,
}

// DialectOf returns the dialect family of a Superset backend, or "" when the
// service has no parser for it.
func DialectOf(backend string) string {
	return dialects[strings.ToLower(backend)]
}

// Dialect is the dialect family of the database's backend, or "".
func (d *Database) Dialect() string { return DialectOf(d.Backend) }

// Backends lists the Superset backends that have a dialect family, sorted.
func Backends() []string {
	out := make([]string, 0, len(dialects))
	for b := range dialects {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// Families returns every dialect family the service can parse, each with
// one Superset backend that selects it (the first by name): tests that must
// cover every dialect iterate it, so a family added to the table above is
// covered without being named.
func Families() map[string]string {
	out := map[string]string{}
	backends := make([]string, 0, len(dialects))
	for b := range dialects {
		backends = append(backends, b)
	}
	sort.Strings(backends)
	for _, b := range backends {
		if _, ok := out[dialects[b]]; !ok {
			out[dialects[b]] = b
		}
	}
	return out
}

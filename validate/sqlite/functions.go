package sqlite

import (
	_ "embed"

	"github.com/texttosql/text2sql/validate/funclist"
)

// functionsTxt is the allowlist of built-in read-only functions, kept as
// data so it can be reviewed line by line.
//
//go:embed functions.txt
var functionsTxt string

var functions = funclist.MustParse(functionsTxt)

// builtinFunctions is the allowlist plus the JSON operators, which SQLite
// presents to its authorizer as functions named "->" and "->>".
var builtinFunctions = func() map[string]bool {
	m := make(map[string]bool, len(functions.All)+2)
	for f := range functions.All {
		m[f] = true
	}
	m["->"], m["->>"] = true, true
	return m
}()

// tableFunctions are the eponymous virtual tables a query may read from
// (SQLite reports their columns as table reads).
var tableFunctions = functions.Kind("table")

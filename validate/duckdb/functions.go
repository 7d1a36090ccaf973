package duckdb

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

// operators are the functions DuckDB names by a symbol; the parser emits
// them as function calls with is_operator set (LIKE is ~~, GLOB ~~~).
var operators = []string{
	"!=", "!~~", "!~~*", "%", "&", "&&", "*", "**", "+", "-", "->>", "->", "/", "//", "<", "<->", "<<",
	"<=", "<=>", "<@", "=", "==", "<>", ">", ">=", ">>", "@", "@>", "^", "^@", "|", "||", "~", "~~",
	"~~*", "~~~", "!__postfix",
}

var builtinFunctions = func() map[string]bool {
	m := make(map[string]bool, len(functions.All)+len(operators))
	for f := range functions.All {
		m[f] = true
	}
	for _, o := range operators {
		m[o] = true
	}
	return m
}()

// tableFunctions may stand in FROM.
var tableFunctions = functions.Kind("table")

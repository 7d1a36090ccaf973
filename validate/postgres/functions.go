package postgres

import (
	_ "embed"

	"github.com/texttosql/text2sql/validate/funclist"
)

// functionsTxt is the allowlist of built-in read-only functions, kept as
// data so it can be reviewed line by line.
//
//go:embed functions.txt
var functionsTxt string

// builtinFunctions is the allowlist and aggregateFunctions its
// "[aggregate]" section, read once; a malformed line panics at start,
// which the package's tests catch.
var (
	functionList       = funclist.MustParse(functionsTxt)
	builtinFunctions   = functionList.All
	aggregateFunctions = functionList.Kind("aggregate")
)

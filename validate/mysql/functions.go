package mysql

import (
	_ "embed"

	"github.com/texttosql/text2sql/validate/funclist"
)

// functionsTxt is the allowlist of built-in functions, kept as data so it
// is easy to review.
//
//go:embed functions.txt
var functionsTxt string

// functions is the allowlist, read once; a malformed line panics at start,
// which the package's tests catch.
var functions = funclist.MustParse(functionsTxt).All

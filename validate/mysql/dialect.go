package mysql

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/texttosql/text2sql/validate/stmt"
)

// functionsTxt is the allowlist of built-in functions, kept as data so it
// is easy to review.
//
//go:embed functions.txt
var functionsTxt string

// dialect is built once; callers must not modify it.
var dialect = sync.OnceValue(func() *stmt.Dialect {
	fns, err := parseFunctionList(functionsTxt)
	if err != nil {
		panic(err) // the embedded file is checked by the package's tests
	}
	return &stmt.Dialect{
		Name:            "mysql",
		CaseInsensitive: true,
		WholeRowRefs:    false,
		SystemSchemas:   []string{"information_schema", "mysql", "performance_schema", "sys"},
		Functions:       fns,
	}
})

// parseFunctionList reads one lower-case function name per line; blank
// lines and '#' comments are skipped.
func parseFunctionList(text string) (map[string]bool, error) {
	fns := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		name := strings.TrimSpace(line)
		if name == "" {
			continue
		}
		if name != strings.ToLower(name) || strings.ContainsAny(name, " \t.") {
			return nil, fmt.Errorf("functions.txt line %d: %q is not a lower-case function name", i+1, name)
		}
		if fns[name] {
			return nil, fmt.Errorf("functions.txt line %d: %q listed twice", i+1, name)
		}
		fns[name] = true
	}
	return fns, nil
}

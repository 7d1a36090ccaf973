package validate

import (
	"slices"
	"strings"

	"github.com/texttosql/text2sql/validate/stmt"
)

func (j *judge) function(f stmt.Func) {
	if len(f.Name) == 0 {
		return
	}
	parts := make([]string, len(f.Name))
	for i, p := range f.Name {
		// PostgreSQL already folded unquoted names; a quoted "Sum" is
		// another function than sum, so only MySQL compares ignoring case.
		parts[i] = j.fold(p.Name)
	}
	name := parts[len(parts)-1]
	full := strings.ToLower(strings.Join(parts, "."))
	switch {
	case len(parts) == 1 && j.dialect.Functions[name]:
		return
	case len(parts) == 2 && slices.Contains(j.dialect.FunctionSchemas, strings.ToLower(parts[0])) && j.dialect.Functions[name]:
		return
	case j.rules.FunctionAllowed(full):
		return
	}
	j.add(stmt.CodeFunctionNotAllowed, f.Pos, "function %s is not on the list of allowed read-only functions", joinIdents(f.Name))
}

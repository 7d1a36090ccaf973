package mysql

import (
	"github.com/texttosql/text2sql/validate/nesting"
	"github.com/texttosql/text2sql/validate/stmt"
)

// tooDeep refuses, before parsing, a statement with more JOINs than
// stmt.MaxNesting. The parser builds every other shape in time linear in
// its size and without recursing (the walks after it stop at the same
// bound), but it re-associates a chain of joins once per JOIN, in time
// quadratic in the chain: 13,000 CROSS JOINs took seconds. Every "join" in
// the text is counted, in names, strings and comments too, so no way of
// writing the statement hides one; only statements whose bytes alone could
// hold that many are searched.
func tooDeep(sql string) *stmt.ParseError {
	if nesting.Bound(sql) <= stmt.MaxNesting {
		return nil
	}
	n, pos := 0, -1
	for i := 0; i+4 <= len(sql); i++ {
		if sql[i]|0x20 == 'j' && sql[i+1]|0x20 == 'o' && sql[i+2]|0x20 == 'i' && sql[i+3]|0x20 == 'n' {
			if n++; n == stmt.MaxNesting+1 {
				pos = i
			}
		}
	}
	if n > stmt.MaxNesting {
		return stmt.TooComplex(n, pos)
	}
	return nil
}

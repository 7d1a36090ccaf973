package validate

import (
	"github.com/texttosql/text2sql/validate/stmt"
)

// statement applies the rules of the statement as a whole: the clauses an
// adapter reported (locking, INTO, comments, templates, ...), the row types
// it names, and that only a query is read-only; then it judges the query.
func (j *judge) statement(s *stmt.Statement) {
	for _, f := range s.Findings {
		j.add(f.Code, f.Pos, "%s", f.Message)
	}
	for _, t := range s.Types {
		j.rowType(t)
	}
	if s.Query == nil {
		verb := s.Verb
		if verb == "" {
			verb = "a statement that is not a query"
		}
		j.add(stmt.CodeNotReadOnly, -1, "only read-only queries (SELECT, WITH ... SELECT, set operations) are accepted; got %s", verb)
		return
	}
	j.query(s.Query, nil)
}

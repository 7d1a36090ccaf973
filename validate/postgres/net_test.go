package postgres

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/texttosql/text2sql/validate/stmt"
)

// TestCoverageNet plants nodes where the describer does not look (operator
// names, USING operators of ORDER BY) and expects the generic walk to
// refuse the statement: a clause the describer forgot must not pass.
func TestCoverageNet(t *testing.T) {
	sleep := &pg_query.Node{Node: &pg_query.Node_FuncCall{FuncCall: &pg_query.FuncCall{
		Funcname: []*pg_query.Node{pg_query.MakeStrNode("pg_sleep")}, Location: 3}}}
	users := &pg_query.Node{Node: &pg_query.Node_SubLink{SubLink: &pg_query.SubLink{
		SubLinkType: pg_query.SubLinkType_EXPR_SUBLINK,
		Subselect: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: &pg_query.SelectStmt{
			FromClause: []*pg_query.Node{pg_query.MakeSimpleRangeVarNode("users", 9)}}}}}}}
	param := pg_query.MakeParamRefNode(1, 5)
	for _, tc := range []struct {
		name  string
		sql   string
		plant func(*pg_query.SelectStmt, *pg_query.Node)
		node  *pg_query.Node
		want  string
	}{
		{"function in an operator name", "SELECT a + 1 FROM t", func(s *pg_query.SelectStmt, n *pg_query.Node) {
			e := s.TargetList[0].GetResTarget().Val.GetAExpr()
			e.Name = append(e.Name, n)
		}, sleep, "FuncCall"},
		{"subquery in ORDER BY ... USING", "SELECT a FROM t ORDER BY a USING <", func(s *pg_query.SelectStmt, n *pg_query.Node) {
			sb := s.SortClause[0].GetSortBy()
			sb.UseOp = append(sb.UseOp, n)
		}, users, "SubLink"},
		{"unknown node type in a name list", "SELECT a FROM t ORDER BY a USING <", func(s *pg_query.SelectStmt, n *pg_query.Node) {
			sb := s.SortClause[0].GetSortBy()
			sb.UseOp = append(sb.UseOp, n)
		}, param, "placeholders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := pg_query.Parse(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			if st := describe(tree.Stmts[0]); len(st.Findings) > 0 {
				t.Fatalf("unplanted statement has findings: %+v", st.Findings)
			}
			tc.plant(tree.Stmts[0].Stmt.GetSelectStmt(), tc.node)
			st := describe(tree.Stmts[0])
			found := false
			for _, f := range st.Findings {
				found = found || (f.Code == stmt.CodeUnsupportedSyntax && strings.Contains(f.Message, tc.want))
			}
			if !found {
				t.Errorf("findings %+v lack UNSUPPORTED_SYNTAX naming %s", st.Findings, tc.want)
			}
		})
	}
}

package execdb

import (
	"errors"
	"fmt"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal constructors the parser needs
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/texttosql/text2sql/schema"
)

// ErrNotQuery is returned (wrapped in a QueryError) by Run for a statement
// that is not one plain query: anything but SELECT (set operations and
// WITH included), or a SELECT with INTO or a locking clause.
var ErrNotQuery = errors.New("not a single read-only SELECT")

// stmtInfo is what Run and HasOuterOrderBy need to know of a statement.
type stmtInfo struct {
	outerOrderBy bool
}

// inspect parses sql with the dialect's real parser and checks that it is
// one plain query. Run refuses anything else before it reaches the server:
// the READ ONLY transaction stops writes to tables, but not, say, MariaDB's
// SELECT … INTO OUTFILE or PostgreSQL's COPY … TO PROGRAM, and MariaDB
// commits implicitly before DDL.
func inspect(dialect, sql string) (stmtInfo, error) {
	switch dialect {
	case schema.DialectPostgres:
		res, err := pg.Parse(sql)
		if err != nil {
			return stmtInfo{}, err
		}
		if len(res.Stmts) != 1 {
			return stmtInfo{}, fmt.Errorf("%w: %d statements", ErrNotQuery, len(res.Stmts))
		}
		sel := res.Stmts[0].Stmt.GetSelectStmt()
		if sel == nil {
			return stmtInfo{}, fmt.Errorf("%w: %T", ErrNotQuery, res.Stmts[0].Stmt.GetNode())
		}
		if bad := pgForbidden(sel.ProtoReflect()); bad != "" {
			return stmtInfo{}, fmt.Errorf("%w: %s", ErrNotQuery, bad)
		}
		return stmtInfo{outerOrderBy: len(sel.SortClause) > 0}, nil
	case schema.DialectMySQL:
		stmts, err := parseMySQL(sql)
		if err != nil {
			return stmtInfo{}, err
		}
		if len(stmts) != 1 {
			return stmtInfo{}, fmt.Errorf("%w: %d statements", ErrNotQuery, len(stmts))
		}
		var q stmtInfo
		switch s := stmts[0].(type) {
		case *ast.SelectStmt:
			q.outerOrderBy = s.OrderBy != nil
		case *ast.SetOprStmt:
			q.outerOrderBy = s.OrderBy != nil
		default:
			return stmtInfo{}, fmt.Errorf("%w: %T", ErrNotQuery, stmts[0])
		}
		v := &myForbidden{}
		stmts[0].Accept(v)
		if v.bad != "" {
			return stmtInfo{}, fmt.Errorf("%w: %s", ErrNotQuery, v.bad)
		}
		return q, nil
	}
	return stmtInfo{}, fmt.Errorf("unknown dialect %q", dialect)
}

// HasOuterOrderBy reports whether the query sorts its outermost result (an
// ORDER BY on the top-level SELECT or set operation), read with the
// dialect's real parser; dialect is schema.DialectPostgres or
// schema.DialectMySQL. A sort inside a subquery, CTE or window does not
// count: it leaves the order of the final rows open. Results of such a gold
// query are compared in order (CompareOptions.Ordered).
func HasOuterOrderBy(dialect, sql string) (bool, error) {
	q, err := inspect(dialect, sql)
	return q.outerOrderBy, err
}

// pgForbidden names the first node anywhere in the tree that a plain query
// must not hold: INTO, a locking clause, a data-modifying statement (in a
// WITH).
func pgForbidden(m protoreflect.Message) string {
	var bad string
	var walk func(protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if bad != "" {
			return
		}
		switch m.Interface().(type) {
		case *pg.IntoClause:
			bad = "INTO"
			return
		case *pg.LockingClause:
			bad = "locking clause"
			return
		case *pg.InsertStmt, *pg.UpdateStmt, *pg.DeleteStmt, *pg.MergeStmt:
			bad = "data-modifying statement in WITH"
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.IsMap():
			case fd.Message() != nil:
				walk(v.Message())
			}
			return bad == ""
		})
	}
	walk(m)
	return bad
}

// myForbidden finds INTO and locking clauses in a MySQL query.
type myForbidden struct{ bad string }

func (v *myForbidden) Enter(n ast.Node) (ast.Node, bool) {
	if s, ok := n.(*ast.SelectStmt); ok {
		if s.SelectIntoOpt != nil {
			v.bad = "INTO"
		} else if s.LockInfo != nil && s.LockInfo.LockType != ast.SelectLockNone {
			v.bad = "locking clause"
		}
	}
	return n, v.bad != ""
}

func (v *myForbidden) Leave(n ast.Node) (ast.Node, bool) { return n, v.bad == "" }

// The TiDB parser is not safe for concurrent use: one per goroutine.
var mysqlParsers = sync.Pool{New: func() any { return parser.New() }}

func parseMySQL(sql string) ([]ast.StmtNode, error) {
	p := mysqlParsers.Get().(*parser.Parser)
	defer mysqlParsers.Put(p)
	stmts, _, err := p.ParseSQL(sql)
	return stmts, err
}

package execdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/texttosql/text2sql/schema"
)

// ErrTieProbeUnsupported is returned by TieAtLimit for statements it cannot
// rewrite into a probe (set operations, DISTINCT, non-literal limits).
var ErrTieProbeUnsupported = errors.New("cannot probe this statement for ties")

// Runner executes one read-only statement (Postgres.Run, MariaDB.Run).
type Runner interface {
	Run(ctx context.Context, database, sql string, timeout time.Duration) (*Result, error)
}

// TieAtLimit reports whether a query with ORDER BY … LIMIT cuts through
// rows that tie on the sort keys: then which of the tied rows it returns
// is up to the server, and two correct runs may disagree. It runs a probe:
// the query without LIMIT/OFFSET, with the sort keys appended to its output,
// and looks for equal keys on both sides of the cut. A query without both
// ORDER BY and LIMIT reports false.
func TieAtLimit(ctx context.Context, r Runner, dialect, database, sql string, timeout time.Duration) (bool, error) {
	var probe string
	var offset, count int64
	var nkeys int
	var err error
	switch dialect {
	case schema.DialectPostgres:
		probe, nkeys, offset, count, err = pgTieProbe(sql)
	case schema.DialectMySQL:
		probe, nkeys, offset, count, err = myTieProbe(sql)
	default:
		return false, fmt.Errorf("unknown dialect %q", dialect)
	}
	if err != nil || probe == "" {
		return false, err
	}
	res, err := r.Run(ctx, database, probe, timeout)
	if err != nil {
		return false, fmt.Errorf("tie probe: %w", err)
	}
	ncol := len(res.Columns)
	if ncol < nkeys {
		return false, fmt.Errorf("tie probe returned %d columns, want at least %d", ncol, nkeys)
	}
	keys := func(i int64) string { return rowKey(res.Rows[i][ncol-nkeys:], DefaultDigits) }
	n := int64(len(res.Rows))
	tie := func(i int64) bool { return i > 0 && i < n && keys(i-1) == keys(i) }
	return tie(offset) || tie(offset+count), nil
}

// pgTieProbe rewrites a PostgreSQL query for TieAtLimit. An empty probe
// means the query has no ORDER BY with LIMIT.
func pgTieProbe(sql string) (probe string, nkeys int, offset, count int64, err error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return "", 0, 0, 0, err
	}
	if len(tree.Stmts) != 1 {
		return "", 0, 0, 0, fmt.Errorf("want one statement, got %d", len(tree.Stmts))
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.SortClause) == 0 || sel.LimitCount == nil {
		return "", 0, 0, 0, nil
	}
	if sel.Op != pg.SetOperation_SETOP_NONE || len(sel.DistinctClause) > 0 ||
		sel.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		return "", 0, 0, 0, ErrTieProbeUnsupported
	}
	if count, err = pgInt(sel.LimitCount); err != nil {
		return "", 0, 0, 0, err
	}
	if sel.LimitOffset != nil {
		if offset, err = pgInt(sel.LimitOffset); err != nil {
			return "", 0, 0, 0, err
		}
	}
	targets := sel.TargetList
	for _, s := range sel.SortClause {
		key := s.GetSortBy().GetNode()
		// ORDER BY 2 and ORDER BY alias name an output column: repeat its
		// expression (an alias is not visible inside the select list).
		if c := key.GetAConst(); c != nil && c.GetIval() != nil {
			i := int(c.GetIval().Ival)
			if i < 1 || i > len(targets) || targets[i-1].GetResTarget() == nil {
				return "", 0, 0, 0, ErrTieProbeUnsupported
			}
			key = targets[i-1].GetResTarget().Val
		} else if cr := key.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
			name := cr.Fields[0].GetString_().Sval
			for _, t := range targets {
				if rt := t.GetResTarget(); rt != nil && rt.Name == name {
					key = rt.Val
					break
				}
			}
		}
		if key.GetColumnRef() != nil && key.GetColumnRef().Fields[len(key.GetColumnRef().Fields)-1].GetAStar() != nil {
			return "", 0, 0, 0, ErrTieProbeUnsupported
		}
		sel.TargetList = append(sel.TargetList, pg.MakeResTargetNodeWithVal(key, -1))
		nkeys++
	}
	sel.LimitCount, sel.LimitOffset, sel.LimitOption = nil, nil, pg.LimitOption_LIMIT_OPTION_DEFAULT
	probe, err = pg.Deparse(tree)
	return probe, nkeys, offset, count, err
}

func pgInt(n *pg.Node) (int64, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		return int64(c.GetIval().Ival), nil
	}
	return 0, ErrTieProbeUnsupported
}

// myTieProbe rewrites a MySQL query for TieAtLimit.
func myTieProbe(sql string) (probe string, nkeys int, offset, count int64, err error) {
	stmts, err := parseMySQL(sql)
	if err != nil {
		return "", 0, 0, 0, err
	}
	if len(stmts) != 1 {
		return "", 0, 0, 0, fmt.Errorf("want one statement, got %d", len(stmts))
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok {
		if so, isSet := stmts[0].(*ast.SetOprStmt); isSet && so.OrderBy != nil && so.Limit != nil {
			return "", 0, 0, 0, ErrTieProbeUnsupported
		}
		return "", 0, 0, 0, nil
	}
	if sel.OrderBy == nil || sel.Limit == nil {
		return "", 0, 0, 0, nil
	}
	if sel.Distinct || sel.Fields == nil {
		return "", 0, 0, 0, ErrTieProbeUnsupported
	}
	if count, err = myInt(sel.Limit.Count); err != nil {
		return "", 0, 0, 0, err
	}
	if sel.Limit.Offset != nil {
		if offset, err = myInt(sel.Limit.Offset); err != nil {
			return "", 0, 0, 0, err
		}
	}
	fields := sel.Fields.Fields
	var extra []*ast.SelectField
	for _, item := range sel.OrderBy.Items {
		key := item.Expr
		switch k := key.(type) {
		case *ast.PositionExpr:
			if k.N < 1 || k.N > len(fields) || fields[k.N-1].Expr == nil {
				return "", 0, 0, 0, ErrTieProbeUnsupported
			}
			key = fields[k.N-1].Expr
		case *ast.ColumnNameExpr:
			if k.Name.Table.L == "" {
				for _, f := range fields {
					if f.AsName.L != "" && f.AsName.L == k.Name.Name.L {
						key = f.Expr
						break
					}
				}
			}
		}
		extra = append(extra, &ast.SelectField{Expr: key})
		nkeys++
	}
	sel.Fields.Fields = append(fields, extra...)
	sel.Limit = nil
	probe, err = restoreMySQL(sel)
	return probe, nkeys, offset, count, err
}

func restoreMySQL(n ast.Node) (string, error) {
	var b strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &b)); err != nil {
		return "", err
	}
	return b.String(), nil
}

func myInt(e ast.ExprNode) (int64, error) {
	s, err := restoreMySQL(e)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrTieProbeUnsupported
	}
	return n, nil
}

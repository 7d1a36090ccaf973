package mysql

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/texttosql/text2sql/validate/stmt"
)

// describeOnly runs the describer over a parsed SELECT without the
// cross-check, so that a test can change the tree before checking it.
func describeOnly(t *testing.T, sql string) (*describer, *ast.SelectStmt) {
	t.Helper()
	res, err := parserFor(t, "").Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	p := res.(*parsed)
	sel, ok := p.root.(*ast.SelectStmt)
	if !ok {
		t.Fatalf("%s: not a SELECT", sql)
	}
	d := &describer{src: p.src, seen: nodeSets.Get()}
	d.selectStmt(sel, -1)
	if len(d.findings) > 0 {
		t.Fatalf("%s: findings before planting: %+v", sql, d.findings)
	}
	return d, sel
}

func subquery(t *testing.T, sql string) *ast.SubqueryExpr {
	t.Helper()
	res, err := parserFor(t, "").Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return &ast.SubqueryExpr{Query: res.(*parsed).root.(*ast.SelectStmt)}
}

// TestCrossCheck plants nodes where the describer did not look and expects
// the visitor's walk to report them: a field the describer forgot must not
// pass. Nodes the describer read, or reported itself, are not reported.
func TestCrossCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sql   string
		plant func(*ast.SelectStmt, *ast.SubqueryExpr)
		want  string // the node type reported; "" for none
	}{
		{"nothing planted", "SELECT a, count(*) FROM t JOIN u USING (id) WHERE b IN (SELECT c FROM v) GROUP BY a ORDER BY 2 LIMIT 3", nil, ""},
		{"subquery in place of a literal", "SELECT a FROM t WHERE b = 1", func(s *ast.SelectStmt, q *ast.SubqueryExpr) {
			s.Where.(*ast.BinaryOperationExpr).R = q
		}, "SubqueryExpr"},
		{"row lock on a table", "SELECT a FROM t", func(s *ast.SelectStmt, q *ast.SubqueryExpr) {
			s.LockInfo = &ast.SelectLockInfo{LockType: ast.SelectLockNone,
				Tables: []*ast.TableName{q.Query.(*ast.SelectStmt).From.TableRefs.Left.(*ast.TableSource).Source.(*ast.TableName)}}
		}, "TableName"},
		{"argument added to a call", "SELECT lower(a) FROM t", func(s *ast.SelectStmt, q *ast.SubqueryExpr) {
			fc := s.Fields.Fields[0].Expr.(*ast.FuncCallExpr)
			fc.Args = append(fc.Args, q)
		}, "SubqueryExpr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, sel := describeOnly(t, tc.sql)
			if tc.plant != nil {
				tc.plant(sel, subquery(t, "SELECT password_hash FROM users"))
			}
			d.crossCheck(sel)
			var got []string
			for _, f := range d.findings {
				if f.Code != stmt.CodeUnsupportedSyntax {
					t.Errorf("finding %+v", f)
				}
				got = append(got, f.Message)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("findings %q on an unchanged tree", got)
			case tc.want != "" && (len(got) != 1 || !strings.HasSuffix(got[0], ": "+tc.want)):
				// One finding: the planted node's insides are not reported again.
				t.Errorf("findings %q, want one naming %s", got, tc.want)
			}
			if (tc.want != "") != d.check.skipped {
				t.Errorf("skipped = %v", d.check.skipped)
			}
		})
	}
}

// TestPrintAfterDescribe checks that the fixes the cross-check makes on its
// way give the same text as Print's own walk.
func TestPrintAfterDescribe(t *testing.T) {
	n := 0
	for _, cases := range loadDescribeCases(t) {
		for _, c := range cases {
			if c.Error != "" {
				continue
			}
			p := parserFor(t, c.SQLMode)
			for _, max := range []int{0, 5} {
				described, err := p.Parse(c.SQL)
				if err != nil {
					t.Fatal(err)
				}
				if st := described.Describe(); st.Query == nil || len(st.Findings) > 0 {
					continue
				}
				plain, err := p.Parse(c.SQL)
				if err != nil {
					t.Fatal(err)
				}
				a, errA := described.Print(max)
				b, errB := plain.Print(max)
				if a != b || (errA == nil) != (errB == nil) {
					t.Errorf("%s: Print after Describe = %q, %v; without = %q, %v", c.SQL, a, errA, b, errB)
				}
				n++
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d statements compared", n)
	}
}

// TestNodeSetKeys checks that the cross-check tells apart two nodes that
// share an address (a parameter marker embeds its value expression first).
func TestNodeSetKeys(t *testing.T) {
	s := nodeSets.Get()
	defer s.Release()
	pm := &test_driver.ParamMarkerExpr{}
	inner := &pm.ValueExpr
	if reflect.ValueOf(pm).Pointer() != reflect.ValueOf(inner).Pointer() {
		t.Fatal("the embedded value no longer shares the marker's address")
	}
	s.Put(inner, walked)
	if s.Get(pm) != 0 || s.Get(inner) != walked {
		t.Fatal("a node found by another node's address")
	}
}

// TestRelease checks that a released statement's parser serves the next
// statements while the description handed out stays as it was, and that a
// statement from Parse holds no parser.
func TestRelease(t *testing.T) {
	p := parserFor(t, "")
	first, err := p.ParseReleasable("SELECT a + 1 AS x, lower(b) FROM t WHERE c = 'k' ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	st := first.Describe()
	before := fmt.Sprintf("%+v %+v", *st, *st.Query)
	tp := first.(*parsed).tp
	if tp == nil {
		t.Fatal("ParseReleasable kept no parser")
	}
	if plain, err := p.Parse("SELECT 1"); err != nil || plain.(*parsed).tp != nil {
		t.Fatalf("Parse kept its parser (%v)", err)
	}
	first.(stmt.Releaser).Release()
	first.(stmt.Releaser).Release() // a second call is harmless
	for i := 0; i < 20; i++ {
		sql := fmt.Sprintf("SELECT (a%d + %d) * 2, concat(b, 'x') FROM t%d WHERE c IN (1, 2) GROUP BY 1", i, i, i)
		res, err := p.ParseReleasable(sql)
		if err != nil {
			t.Fatal(err)
		}
		if st := res.Describe(); len(st.Findings) > 0 || st.Query.From[0].Name[0].Name != fmt.Sprintf("t%d", i) {
			t.Fatalf("%s: %+v", sql, st)
		}
		if res.(*parsed).tp == tp {
			tp = nil // the released parser came back
		}
		res.(stmt.Releaser).Release()
	}
	if tp != nil {
		// sync.Pool may drop what it is given (under -race it does so at
		// random), so reuse is likely, not certain.
		t.Log("the released parser was not reused")
	}
	if after := fmt.Sprintf("%+v %+v", *st, *st.Query); after != before {
		t.Errorf("description changed after Release:\n%s\n%s", before, after)
	}
}

// TestConcurrentRelease is TestConcurrentParse with statements held and
// released, so that parsers move between goroutines; run with -race.
func TestConcurrentRelease(t *testing.T) {
	p := parserFor(t, "")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				sql := fmt.Sprintf("SELECT id, total + %d FROM orders_%d WHERE id = %d", i, g, i)
				// Every other statement is parsed the ordinary way.
				parse := p.Parse
				if i%2 == 0 {
					parse = p.ParseReleasable
				}
				parsed, err := parse(sql)
				if err != nil {
					errs <- err
					return
				}
				st := parsed.Describe()
				want := fmt.Sprintf("orders_%d", g)
				out, err := parsed.Print(10)
				parsed.(stmt.Releaser).Release()
				if err != nil || !strings.Contains(out, want) || len(st.Query.From) != 1 || st.Query.From[0].Name[0].Name != want {
					errs <- fmt.Errorf("%s: printed %q %v, from %+v", sql, out, err, st.Query.From)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

package validate_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
	"github.com/texttosql/text2sql/validate/hostile"
	"github.com/texttosql/text2sql/validate/stmt"
)

// hostileDatabase is a small catalog on backend, with the table t(a, b, c)
// the shapes name.
func hostileDatabase(backend string) *schema.Database {
	return &schema.Database{Name: "hostile", Backend: backend, DefaultSchema: "app", Tables: []*schema.Table{{
		Schema: "app", Name: "t", Columns: []schema.Column{{Name: "a"}, {Name: "b"}, {Name: "c"}},
	}}}
}

// families lists every dialect family the validator knows, sorted, with a
// backend of each.
func families() [][2]string {
	var out [][2]string
	for f, b := range schema.Families() {
		out = append(out, [2]string{f, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// TestHostileShapes runs every hostile shape, at sizes up to the service's
// SQL limit, through the validator of every dialect family: each must end
// in a verdict, and a refusal must say why in a structured violation, not
// in a recovered parser failure. The deepest chains and nestings must be
// refused for their depth (or by the parser itself).
func TestHostileShapes(t *testing.T) {
	v := validate.New()
	sizes := hostile.Sizes(validate.DefaultMaxSQLBytes)
	if testing.Short() {
		sizes = hostile.Sizes(16 << 10)
	}
	for _, fam := range families() {
		db := hostileDatabase(fam[1])
		t.Run(fam[0], func(t *testing.T) {
			for _, sh := range hostile.Shapes() {
				for _, size := range sizes {
					sql := sh.SQL(size)
					res := v.Validate(validate.Request{SQL: sql, Database: db})
					if res.Dialect != fam[0] {
						t.Fatalf("%s at %d bytes: judged as %q", sh.Name, len(sql), res.Dialect)
					}
					if res.Valid {
						continue
					}
					if len(res.Violations) == 0 {
						t.Errorf("%s at %d bytes: refused without a violation", sh.Name, len(sql))
					}
					for _, vi := range res.Violations {
						if vi.Code == "" || vi.Message == "" || strings.Contains(vi.Message, "parser failure") || strings.Contains(vi.Message, "could not be analysed") {
							t.Errorf("%s at %d bytes: violation %+v", sh.Name, len(sql), vi)
						}
					}
				}
			}
			// Depth well past the bound: refused for it.
			size := sizes[len(sizes)-1]
			for _, name := range []string{"chain/+", "chain/||", "chain/::", "unary/NOT", "nest/parentheses", "nest/scalar-subquery", "join/JOIN"} {
				sh := shapeNamed(t, name)
				res := v.Validate(validate.Request{SQL: sh.SQL(size), Database: db})
				if res.Valid || (res.Violations[0].Code != stmt.CodeTooComplex && res.Violations[0].Code != stmt.CodeParseError) {
					t.Errorf("%s at %d bytes: %+v, want TOO_COMPLEX (or a PARSE_ERROR from the parser's own limit)", name, size, res.Violations)
				}
			}
		})
	}
}

func shapeNamed(t testing.TB, name string) hostile.Shape {
	for _, s := range hostile.Shapes() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no shape %s", name)
	return hostile.Shape{}
}

// BenchmarkHostileShapes times every hostile shape at the service's SQL
// limit per dialect family, and reports the slowest verdict (ns) and logs
// which shape it was:
//
//	go test -run '^$' -bench HostileShapes -benchtime 3x -v ./validate/
func BenchmarkHostileShapes(b *testing.B) {
	v := validate.New()
	size := validate.DefaultMaxSQLBytes
	for _, fam := range families() {
		db := hostileDatabase(fam[1])
		b.Run(fam[0], func(b *testing.B) {
			shapes := hostile.Shapes()
			sqls := make([]string, len(shapes))
			for i, sh := range shapes {
				sqls[i] = sh.SQL(size)
			}
			took := make([]time.Duration, len(shapes))
			runs := 0
			for b.Loop() {
				runs++
				for i, sql := range sqls {
					start := time.Now()
					v.Validate(validate.Request{SQL: sql, Database: db})
					took[i] += time.Since(start)
				}
			}
			slow := 0
			for i := range took {
				if took[i] > took[slow] {
					slow = i
				}
			}
			per := took[slow] / time.Duration(runs)
			b.ReportMetric(float64(per.Nanoseconds()), "slowest-ns")
			b.Log(fmt.Sprintf("%s: slowest verdict %s (%v at %d bytes)", fam[0], shapes[slow].Name, per, len(sqls[slow])))
			if testing.Verbose() {
				for i := range took {
					b.Logf("  %-28s %v", shapes[i].Name, took[i]/time.Duration(runs))
				}
			}
		})
	}
}

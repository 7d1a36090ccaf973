package validate

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// benchStatements are realistic analyst queries per dialect, from small
// to large.
var benchStatements = []struct{ dialect, name, sql string }{
	{"postgres", "point", "SELECT id, status, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 20"},
	{"postgres", "join_group", `SELECT c.country, date_trunc('month', o.created_at) AS month, count(*) AS orders,
		sum(i.quantity * i.unit_price) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
		WHERE o.status = 'paid' AND o.created_at >= now() - interval '90 days'
		GROUP BY 1, 2 ORDER BY 2, 4 DESC`},
	{"postgres", "cte_window", `WITH monthly AS (SELECT date_trunc('month', o.created_at) AS month, c.country, sum(o.total) AS revenue
			FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY 1, 2)
			SELECT month, country, revenue, rank() OVER (PARTITION BY month ORDER BY revenue DESC) AS r FROM monthly ORDER BY month, r`},
	{"mysql", "point", "SELECT id, total FROM orders WHERE status = 'shipped' ORDER BY created_at DESC LIMIT 50"},
	{"mysql", "join_group", `SELECT c.country, COUNT(*) AS n, SUM(o.total) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.created_at >= DATE_SUB(CURDATE(), INTERVAL 90 DAY)
		GROUP BY c.country HAVING revenue > 1000 ORDER BY revenue DESC`},
	{"mysql", "cte_window", "SELECT DATE_FORMAT(o.created_at, '%Y-%m') AS month, c.country, SUM(o.total) AS revenue, COUNT(DISTINCT o.customer_id) AS buyers " +
		"FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY month, c.country ORDER BY month, revenue DESC"},
}

// BenchmarkValidate times the whole judgement (parse, describe, judge,
// print with the row cap, template check) of each statement as
// "validate", beside its parser's bare parse of the same text as "parse":
// the ratio of the two is the validator's overhead. Besides wall time each
// reports the process's CPU time per statement (cpu-ns/op), which a busy
// machine disturbs less.
func BenchmarkValidate(b *testing.B) {
	for _, bc := range benchStatements {
		b.Run(bc.dialect+"/"+bc.name+"/validate", func(b *testing.B) {
			_, db, rules := loadCaseFile(b, filepath.Join("testdata", bc.dialect, "attacks.yaml"))
			v := New()
			cpu(b, func() {
				if res := v.Validate(Request{SQL: bc.sql, Database: db, Rules: rules}); !res.Valid {
					b.Fatal(res.Violations)
				}
			})
		})
		b.Run(bc.dialect+"/"+bc.name+"/parse", func(b *testing.B) {
			if bc.dialect == "postgres" {
				cpu(b, func() {
					if _, err := pg_query.Parse(bc.sql); err != nil {
						b.Fatal(err)
					}
				})
				return
			}
			p := parser.New()
			cpu(b, func() {
				if _, err := p.ParseOneStmt(bc.sql, "", ""); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// cpu runs f b.N times and reports the process's CPU time per run.
func cpu(b *testing.B, f func()) {
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

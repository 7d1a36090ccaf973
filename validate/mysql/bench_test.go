package mysql

import "testing"

// benchQueries are realistic analyst queries of growing size.
var benchQueries = map[string]string{
	"simple": `SELECT id, total FROM orders WHERE status = 'shipped' ORDER BY created_at DESC LIMIT 50`,
	"join_group": `SELECT c.country, COUNT(*) AS n, SUM(o.total) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.created_at >= DATE_SUB(CURDATE(), INTERVAL 90 DAY)
		GROUP BY c.country HAVING revenue > 1000 ORDER BY revenue DESC`,
	"cte_window": `WITH spend AS (
			SELECT customer_id, DATE_FORMAT(created_at, '%Y-%m') AS month, SUM(total) AS s
			FROM orders WHERE status <> 'cancelled' GROUP BY customer_id, month
		), ranked AS (
			SELECT customer_id, month, s,
			       ROW_NUMBER() OVER (PARTITION BY month ORDER BY s DESC) AS rn,
			       LAG(s) OVER (PARTITION BY customer_id ORDER BY month) AS prev
			FROM spend
		)
		SELECT r.month, c.name, r.s, r.s - COALESCE(r.prev, 0) AS delta,
		       (SELECT COUNT(*) FROM order_items i JOIN orders o2 ON o2.id = i.order_id WHERE o2.customer_id = r.customer_id) AS items
		FROM ranked r JOIN customers c ON c.id = r.customer_id
		WHERE r.rn <= 10 AND EXISTS (SELECT 1 FROM orders x WHERE x.customer_id = c.id AND x.total > 100)
		ORDER BY r.month, r.rn`,
}

// BenchmarkParseDescribe measures what the validator does per statement on
// the MySQL side: parse and describe.
func BenchmarkParseDescribe(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for name, sql := range benchQueries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parsed, err := p.Parse(sql)
				if err != nil {
					b.Fatal(err)
				}
				if st := parsed.Describe(); st.Query == nil || len(st.Findings) > 0 {
					b.Fatalf("%+v", st.Findings)
				}
			}
		})
	}
}

// BenchmarkParseDescribePrint adds printing with the row cap.
func BenchmarkParseDescribePrint(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	sql := benchQueries["cte_window"]
	b.ReportAllocs()
	for b.Loop() {
		parsed, err := p.Parse(sql)
		if err != nil {
			b.Fatal(err)
		}
		parsed.Describe()
		if _, err := parsed.Print(100); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is the parser alone, to compare Describe against.
func BenchmarkParse(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	sql := benchQueries["cte_window"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
}

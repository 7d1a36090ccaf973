package duckdb

import "testing"

var benchQueries = []struct{ name, sql string }{
	{"point", "SELECT id, status, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 20"},
	{"join_group", `SELECT c.country, date_trunc('month', o.created_at) AS month, count(*) AS orders,
		sum(i.quantity * i.unit_price) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
		WHERE o.status = 'paid' AND o.created_at >= now() - INTERVAL 90 DAY
		GROUP BY ALL ORDER BY 2, 4 DESC`},
	{"cte_window", `WITH spend AS (
			SELECT customer_id, sum(total) AS total_spent, count(*) AS n,
				max(created_at) FILTER (WHERE status = 'paid') AS last_paid
			FROM orders GROUP BY customer_id),
		ranked AS (
			SELECT s.*, rank() OVER (ORDER BY total_spent DESC) AS rnk,
				percent_rank() OVER (ORDER BY n) AS pr
			FROM spend s)
		SELECT c.name, c.country, r.total_spent, r.rnk, r.last_paid,
			(SELECT string_agg(p.name, ', ' ORDER BY p.name)
			 FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
			 WHERE o.customer_id = c.id) AS products
		FROM ranked r JOIN customers c ON c.id = r.customer_id
		WHERE r.rnk <= 10 AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.customer_id = c.id AND o2.shipped_at IS NULL)
		ORDER BY r.rnk`},
}

// BenchmarkSerialize is the bare parse: DuckDB's json_serialize_sql
// through the pool, with the JSON decoded.
func BenchmarkSerialize(b *testing.B) {
	p := parser(b)
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s, err := p.serialize(q.sql); err != nil || s.Error {
					b.Fatal(err, s)
				}
			}
		})
	}
}

// BenchmarkParseDescribe is the adapter's read: scan, parse, describe, net.
func BenchmarkParseDescribe(b *testing.B) {
	p := parser(b)
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parsed, err := p.Parse(q.sql)
				if err != nil {
					b.Fatal(err)
				}
				if d := parsed.Describe(); d.Query == nil || len(d.Findings) > 0 {
					b.Fatalf("%+v", d.Findings)
				}
			}
		})
	}
}

// BenchmarkPrint measures the cap, the printer and the proof (a parse).
func BenchmarkPrint(b *testing.B) {
	p := parser(b)
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			parsed, err := p.Parse(q.sql)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parsed.Print(100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package sqlite

import "testing"

// benchQueries are shapes of analyst SQL from small to large.
var benchQueries = []struct{ name, sql string }{
	{"point", "SELECT id, status, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 20"},
	{"join_group", `SELECT c.country, strftime('%Y-%m', o.created_at) AS month, count(*) AS orders,
		sum(i.quantity * i.unit_price) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
		WHERE o.status = 'paid' AND o.created_at >= date('now', '-90 days')
		GROUP BY 1, 2 ORDER BY 2, 4 DESC`},
	{"cte_window", `WITH spend AS (
			SELECT customer_id, sum(total) AS total_spent, count(*) AS n,
				max(created_at) FILTER (WHERE status = 'paid') AS last_paid
			FROM orders GROUP BY customer_id),
		ranked AS (
			SELECT s.*, rank() OVER (ORDER BY total_spent DESC) AS rnk,
				percent_rank() OVER (ORDER BY n) AS pr
			FROM spend s)
		SELECT c.name, c.country, r.total_spent, r.rnk, r.last_paid,
			(SELECT group_concat(p.name, ', ')
			 FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
			 WHERE o.customer_id = c.id) AS products
		FROM ranked r JOIN customers c ON c.id = r.customer_id
		WHERE r.rnk <= 10 AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.customer_id = c.id AND o2.shipped_at IS NULL)
		ORDER BY r.rnk`},
}

// BenchmarkPrepare is the bare parse: SQLite compiling the statement on
// a shadow connection, with the authorizer recording.
func BenchmarkPrepare(b *testing.B) {
	sh, err := newShadow(shop(b))
	if err != nil {
		b.Fatal(err)
	}
	c, err := sh.get()
	if err != nil {
		b.Fatal(err)
	}
	defer sh.put(c)
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p := c.prepare(q.sql); p.err != "" {
					b.Fatal(p.err)
				}
			}
		})
	}
}

// BenchmarkParseDescribe is the adapter's whole read: prepare, the check
// for a second statement, the compiled program's reads, and the description.
func BenchmarkParseDescribe(b *testing.B) {
	bd := bind(b, New(), shop(b))
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parsed, err := bd.Parse(q.sql)
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

// BenchmarkPrint measures the cap and the proof (a second prepare).
func BenchmarkPrint(b *testing.B) {
	bd := bind(b, New(), shop(b))
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			parsed, err := bd.Parse(q.sql)
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

package postgres

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
)

// benchQueries are shapes of analyst SQL from small to large.
var benchQueries = []struct{ name, sql string }{
	{"point", "SELECT id, status, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 20"},
	{"join_group", `SELECT c.country, date_trunc('month', o.created_at) AS month, count(*) AS orders,
		sum(i.quantity * i.unit_price) AS revenue
		FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
		WHERE o.status = 'paid' AND o.created_at >= now() - interval '90 days'
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
			(SELECT string_agg(p.name, ', ' ORDER BY p.name)
			 FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
			 WHERE o.customer_id = c.id) AS products
		FROM ranked r JOIN customers c ON c.id = r.customer_id
		WHERE r.rnk <= 10 AND EXISTS (SELECT 1 FROM orders o2 WHERE o2.customer_id = c.id AND o2.shipped_at IS NULL)
		ORDER BY r.rnk`},
}

func BenchmarkParseDescribe(b *testing.B) {
	p := New()
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parsed, err := p.Parse(q.sql)
				if err != nil {
					b.Fatal(err)
				}
				if st := parsed.Describe(); st.Query == nil || len(st.Findings) > 0 {
					b.Fatalf("%+v", st)
				}
			}
		})
	}
}

// BenchmarkPrint measures the cap, deparse and re-parse check of Print.
func BenchmarkPrint(b *testing.B) {
	p := New()
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

// BenchmarkRawParse is pg_query.Parse alone, the floor under
// BenchmarkParseDescribe: the difference is the adapter's own work.
func BenchmarkRawParse(b *testing.B) {
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pg_query.Parse(q.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLibraryStages times the libpg_query calls the adapter is built
// on, one by one: they set the floor under Parse (ParseToProtobuf and
// proto.Unmarshal) and Print (DeparseFromProtobuf, and ParseToJSON for the
// round-trip check).
func BenchmarkLibraryStages(b *testing.B) {
	for _, q := range benchQueries {
		pb, err := pgparser.ParseToProtobuf(q.sql)
		if err != nil {
			b.Fatal(err)
		}
		stages := []struct {
			name string
			run  func() error
		}{
			{"ParseToProtobuf", func() error { _, err := pgparser.ParseToProtobuf(q.sql); return err }},
			{"Unmarshal", func() error { return proto.Unmarshal(pb, &pg_query.ParseResult{}) }},
			{"DeparseFromProtobuf", func() error { _, err := pgparser.DeparseFromProtobuf(pb); return err }},
			{"ParseToJSON", func() error { _, err := pgparser.ParseToJSON(q.sql); return err }},
		}
		for _, s := range stages {
			b.Run(q.name+"/"+s.name, func(b *testing.B) {
				for b.Loop() {
					if err := s.run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDepthCheck times the nesting check that runs before every
// parse: the byte bound alone for ordinary statements, and the scanner
// pass for a statement long enough to need it.
func BenchmarkDepthCheck(b *testing.B) {
	long := "SELECT " + strings.Repeat("a + b * c, ", 6000) + "1 FROM t"
	for _, c := range append(benchQueries, struct{ name, sql string }{"long_select_list", long}) {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.sql)))
			for b.Loop() {
				if pe := tooDeep(c.sql); pe != nil {
					b.Fatal(pe)
				}
			}
		})
	}
}

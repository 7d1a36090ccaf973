package link

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

// benchWords is the vocabulary synthetic catalogs are made of.
var benchWords = []string{
	"customer", "order", "item", "product", "category", "invoice", "payment", "account",
	"employee", "department", "salary", "region", "country", "city", "address", "store",
	"shipment", "warehouse", "supplier", "price", "amount", "quantity", "status", "date",
	"created", "updated", "name", "code", "type", "event", "session", "user", "device",
	"campaign", "channel", "budget", "revenue", "cost", "margin", "ledger", "balance",
	"contract", "policy", "claim", "patient", "visit", "doctor", "drug", "dose", "lab",
	"result", "flight", "airport", "route", "seat", "ticket", "booking", "hotel", "room",
	"rate", "score", "rank", "team", "player", "match", "season", "league", "goal",
}

// syntheticCatalog builds a warehouse of nSchemas schemas with tables
// tables of cols columns each, names and descriptions drawn from
// benchWords, and a foreign key from every table to another of its schema.
func syntheticCatalog(tables, cols, nSchemas int) *schema.Database {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string { return benchWords[r.IntN(len(benchWords))] }
	db := &schema.Database{Name: "synthetic", Backend: "postgresql"}
	for i := 0; i < tables; i++ {
		s := fmt.Sprintf("%s_%d", word(), i%nSchemas)
		t := &schema.Table{
			Schema:      s,
			Name:        fmt.Sprintf("%s_%s_%d", word(), word(), i),
			Description: "Records of " + word() + " and " + word() + " per " + word() + ".",
			PrimaryKey:  []string{"id"},
		}
		t.Columns = append(t.Columns, schema.Column{Name: "id", Type: "bigint"})
		for c := 1; c < cols; c++ {
			t.Columns = append(t.Columns, schema.Column{
				Name:        fmt.Sprintf("%s_%s%d", word(), word(), c),
				Type:        "text",
				Description: "The " + word() + " of the " + word() + ".",
			})
		}
		if i >= nSchemas {
			prev := db.Tables[i-nSchemas]
			t.Columns = append(t.Columns, schema.Column{Name: "parent_id", Type: "bigint"})
			t.ForeignKeys = []schema.ForeignKey{{Columns: []string{"parent_id"},
				References: schema.TableRef{Schema: prev.Schema, Table: prev.Name, Columns: []string{"id"}}}}
		}
		db.Tables = append(db.Tables, t)
	}
	if err := db.Normalize(); err != nil {
		panic(err)
	}
	return db
}

// BenchmarkBuildIndex measures indexing a 5,000-table, 30-column catalog.
func BenchmarkBuildIndex(b *testing.B) {
	db := syntheticCatalog(5000, 30, 200)
	b.ReportAllocs()
	for b.Loop() {
		BuildIndex(db, "v")
	}
}

// BenchmarkLink measures linking one question against a 5,000-table
// catalog whose index is cached, with a 3,000-token budget.
func BenchmarkLink(b *testing.B) {
	db := syntheticCatalog(5000, 30, 200)
	tok, err := NewTokenizer("")
	if err != nil {
		b.Fatal(err)
	}
	l := New(tok, Options{})
	v := db.Version()
	questions := []string{
		"What is the total revenue per campaign channel last season?",
		"Which customers placed orders for products in the cheapest category?",
		"Average dose per patient visit by doctor",
	}
	l.Index(db, v)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Link(db, Query{Question: questions[i%len(questions)], Budget: 3000, Version: v}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVersion measures hashing the catalog, which Link does when the
// caller does not pass the version it has.
func BenchmarkVersion(b *testing.B) {
	db := syntheticCatalog(5000, 30, 200)
	for b.Loop() {
		db.Version()
	}
}

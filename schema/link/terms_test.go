package link

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	cases := map[string][]string{
		"customer_id":            {"customer", "id"},
		"CustomerID":             {"customer", "id"},
		"CDSCode":                {"cds", "code"},
		"orderDate":              {"order", "date"},
		"address2":               {"address", "2"},
		"Free Meal Count (K-12)": {"free", "meal", "count", "k", "12"},
		"HTTPServerError":        {"http", "server", "error"},
		"lapTimes":               {"lap", "times"},
		"  --  ":                 nil,
		"Ünïcode_Straße":         {"ünïcode", "straße"},
	}
	for in, want := range cases {
		if got := words(in); !slices.Equal(got, want) {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}

// Plurals and simple inflections meet; stop words and numbers go.
func TestAnalyzerNormalizes(t *testing.T) {
	a := newAnalyzer()
	same := [][2]string{
		{"schools", "school"},
		{"countries", "country"},
		{"companies", "Company"},
		{"employees", "employee"},
		{"categories", "category"},
		{"addresses", "address"},
		{"ordered", "orders"},
		{"shipping", "shipped"},
	}
	for _, p := range same {
		x, y := a.tokens(p[0]), a.tokens(p[1])
		if len(x) != 1 || len(y) != 1 || x[0].term != y[0].term {
			t.Errorf("%q → %v and %q → %v should meet", p[0], x, p[1], y)
		}
	}
	var terms []string
	for _, tk := range a.tokens("What are the names of the 3 largest cities?") {
		terms = append(terms, tk.term)
	}
	if want := []string{"name", "largest", "citi"}; !slices.Equal(terms, want) {
		t.Errorf("question terms %v, want %v", terms, want)
	}
	if got := a.nameTerms("first_name"); !slices.Contains(got, a.stem("firstname")) {
		t.Errorf("nameTerms(first_name) = %v, want the run-together term too", got)
	}
}

func TestSingular(t *testing.T) {
	cases := map[string]string{
		"companies": "company", "boxes": "box", "tickers": "ticker", "address": "address",
		"classes": "class", "status": "status", "analysis": "analysis", "prices": "price",
	}
	for in, want := range cases {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}

// Question words are found inside names written solid, and abbreviations
// of them too, but a word is not found inside an unrelated longer one
// through a shorter abbreviation than allowed.
func TestCompounds(t *testing.T) {
	c := newCompounds()
	ids := map[string]int32{}
	for i, name := range []string{"sbcustomer", "sbcustname", "sbtxamount", "transactions", "customer_id"} {
		c.add(ids, name, int32(i), -1, fTableName)
	}
	var a analyzer
	found := func(raw string) map[int32]float64 {
		out := map[int32]float64{}
		for _, w := range c.find(raw, a.stem(raw), &a) {
			out[w.table] = max(out[w.table], w.factor)
		}
		return out
	}
	got := found("customers")
	if got[0] != compoundWordAffix {
		t.Errorf("customers in sbcustomer: %v, want %v", got[0], compoundWordAffix)
	}
	if got[1] != compoundPrefix {
		t.Errorf("customers abbreviated in sbcustname: %v, want %v", got[1], compoundPrefix)
	}
	if _, ok := got[4]; ok {
		t.Error("customer_id already matches exactly; found again as a compound")
	}
	if got := found("amount"); got[2] == 0 {
		t.Error("amount not found in sbtxamount")
	}
	if got := found("cat"); len(got) != 0 {
		t.Errorf("a word shorter than %d letters found: %v", minPart, got)
	}
}

func TestTerms(t *testing.T) {
	if got, want := Terms("How many Schools are in the 2 countries?"), []string{"school", "countri"}; !slices.Equal(got, want) {
		t.Errorf("Terms = %v, want %v", got, want)
	}
	if got := Terms(""); len(got) != 0 {
		t.Errorf("Terms of nothing = %v", got)
	}
}

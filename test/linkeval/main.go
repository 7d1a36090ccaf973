// Command linkeval measures schema linking at warehouse scale: it asks the
// questions of BIRD mini-dev, Spider dev and Defog sql-eval of one catalog
// holding every benchmark database as its own schema (benchdata.Warehouse,
// about a thousand tables), without saying which database a question is
// about, and reports per budget the share of questions whose gold tables
// were all kept (recall@q), the share of gold tables kept, and the median
// and 90th percentile of schema tokens.
//
//	go run ./test/linkeval -budgets 1000,2000,3000,4000,6000
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema/link"
)

func main() {
	budgets := flag.String("budgets", "1000,2000,3000,4000,6000", "comma-separated token budgets")
	encoding := flag.String("encoding", link.DefaultEncoding, "token encoding (cl100k_base or o200k_base)")
	evidence := flag.Bool("evidence", false, "append each question's published hint (BIRD evidence, Defog instructions)")
	misses := flag.Int("misses", 0, "print up to this many questions per set that lost a gold table at the last budget")
	opts := flag.String("options", "", `link.Options as JSON, e.g. {"MaxTables":40,"Weights":{"SchemaFocus":0.8}}`)
	flag.Parse()
	if err := mainErr(*budgets, *encoding, *evidence, *misses, *opts); err != nil {
		fmt.Fprintln(os.Stderr, "linkeval:", err)
		os.Exit(1)
	}
}

func mainErr(budgetList, encoding string, evidence bool, misses int, optsJSON string) error {
	var opts link.Options
	if optsJSON != "" {
		dec := json.NewDecoder(strings.NewReader(optsJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			return fmt.Errorf("-options: %w", err)
		}
	}
	var budgets []int
	for _, f := range strings.Split(budgetList, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b <= 0 {
			return fmt.Errorf("bad budget %q", f)
		}
		budgets = append(budgets, b)
	}
	dir, err := benchdata.Dir()
	if err != nil {
		return err
	}
	c, err := load(dir, evidence)
	if err != nil {
		return err
	}
	tok, err := link.NewTokenizer(encoding)
	if err != nil {
		return err
	}
	l := link.New(tok, opts)
	fmt.Printf("warehouse: %d tables in %d schemas; %d questions (encoding %s, evidence %v)\n",
		len(c.warehouse.Tables), countSchemas(c), len(c.items), encoding, evidence)
	for set, n := range c.skipped {
		fmt.Printf("skipped %s: %d (gold query unparsed or naming a missing table)\n", set, n)
	}
	printHeader(os.Stdout)
	var last []outcome
	for _, b := range budgets {
		os_, err := run(l, c, b)
		if err != nil {
			return err
		}
		sets, m := bySet(os_)
		for _, s := range sets {
			printRow(os.Stdout, s, b, summarise(m[s]))
		}
		last = os_
	}
	if misses > 0 {
		sets, m := bySet(last)
		for _, s := range sets[:len(sets)-1] {
			k := 0
			for _, o := range m[s] {
				if o.all() || k >= misses {
					continue
				}
				k++
				fmt.Printf("\n[%s %s] %s\n  gold:   %v\n  linked: %v\n", s, o.item.id, o.item.question, o.item.gold, o.tables)
			}
		}
	}
	return nil
}

func countSchemas(c *corpus) int {
	s := map[string]bool{}
	for _, t := range c.warehouse.Tables {
		s[t.Schema] = true
	}
	return len(s)
}

package generate

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/link"
	"github.com/texttosql/text2sql/validate"
)

// Example is one approved question/SQL pair. Examples come only from a file
// the operator curates; generated answers are never added to it.
type Example struct {
	Database string `yaml:"database"`
	Question string `yaml:"question"`
	SQL      string `yaml:"sql"`
}

// Examples holds the approved pairs, indexed for similarity search.
type Examples struct {
	byDB map[string][]indexedExample
}

type indexedExample struct {
	Example
	terms map[string]float64 // term → weight (tf·idf, normalized)
}

// LoadExamples reads an examples file:
//
//	examples:
//	  - {database: shop, question: "...", sql: "SELECT ..."}
func LoadExamples(path string) (*Examples, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Examples []Example `yaml:"examples"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, e := range f.Examples {
		if e.Database == "" || e.Question == "" || e.SQL == "" {
			return nil, fmt.Errorf("%s: examples[%d] needs database, question and sql", path, i)
		}
	}
	return NewExamples(f.Examples), nil
}

// NewExamples indexes examples.
func NewExamples(list []Example) *Examples {
	df := map[string]int{}
	tfs := make([]map[string]float64, len(list))
	for i, e := range list {
		tfs[i] = map[string]float64{}
		for _, t := range link.Terms(e.Question) {
			tfs[i][t]++
		}
		for t := range tfs[i] {
			df[t]++
		}
	}
	x := &Examples{byDB: map[string][]indexedExample{}}
	n := float64(len(list))
	for i, e := range list {
		norm := 0.0
		for t, tf := range tfs[i] {
			w := tf * math.Log(1+n/float64(df[t]))
			tfs[i][t] = w
			norm += w * w
		}
		for t := range tfs[i] {
			tfs[i][t] /= math.Sqrt(norm)
		}
		x.byDB[e.Database] = append(x.byDB[e.Database], indexedExample{Example: e, terms: tfs[i]})
	}
	return x
}

// Similar returns up to k examples of db closest to question whose SQL the
// caller's rules accept: an example must never show a caller a table or
// column it may not see.
func (x *Examples) Similar(v *validate.Validator, db *schema.Database, rules *validate.Rules, question string, k int) []Example {
	if x == nil || k <= 0 {
		return nil
	}
	q := map[string]bool{}
	for _, t := range link.Terms(question) {
		q[t] = true
	}
	type scored struct {
		e     Example
		score float64
	}
	var cands []scored
	for _, e := range x.byDB[db.Name] {
		s := 0.0
		for t, w := range e.terms {
			if q[t] {
				s += w
			}
		}
		if s > 0 {
			cands = append(cands, scored{e.Example, s})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	var out []Example
	for _, c := range cands {
		if len(out) == k {
			break
		}
		if v.Validate(validate.Request{SQL: c.e.SQL, Database: db, Rules: rules}).Valid {
			out = append(out, c.e)
		}
	}
	return out
}

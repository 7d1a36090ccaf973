package link

import (
	"slices"
	"strings"
)

// Names are often written solid, with prefixes and abbreviations
// ("sbcustomer", "sbtxamount", "custname"), where splitting on case and
// underscores finds no word boundary. compounds finds the question's words
// inside such names: a word of a table or column name that contains a
// question word (in its singular form), or a prefix of one (an
// abbreviation: "cust" in "sbcustname" for "customer"), counts as a weaker
// match.
type compounds struct {
	words []string           // distinct name words of minCompound letters or more
	posts [][]posting        // where each word occurs
	grams map[string][]int32 // trigram → words holding it
}

// minCompound is the shortest name word searched for parts, and minPart
// the shortest part (question word or abbreviation) looked for inside one.
const (
	minCompound = 5
	minPart     = 4
)

// Match strengths, as factors of the field's weight: the whole question
// word inside a name word, or an abbreviation of it; stronger when what is
// left of the name word is only a short prefix or suffix ("sb" in
// "sbcustomer"), as with the table prefixes of many schemas.
const (
	compoundWord        = 0.6
	compoundWordAffix   = 0.9
	compoundPrefix      = 0.4
	compoundPrefixAffix = 0.6
	maxAffix            = 3
)

func newCompounds() *compounds {
	return &compounds{grams: map[string][]int32{}}
}

// add records the words of name found at (table, col, field). It returns
// the updated id map (word → index in c.words).
func (c *compounds) add(ids map[string]int32, name string, table, col int32, f field) {
	for _, w := range words(name) {
		if len(w) < minCompound || isNumber(w) {
			continue
		}
		id, ok := ids[w]
		if !ok {
			id = int32(len(c.words))
			ids[w] = id
			c.words = append(c.words, w)
			c.posts = append(c.posts, nil)
			seen := map[string]bool{}
			for i := 0; i+3 <= len(w); i++ {
				g := w[i : i+3]
				if !seen[g] {
					seen[g] = true
					c.grams[g] = append(c.grams[g], id)
				}
			}
		}
		ps := c.posts[id]
		if n := len(ps); n > 0 && ps[n-1] == (posting{table, col, f}) {
			continue
		}
		c.posts[id] = append(ps, posting{table, col, f})
	}
}

// weighted is a posting found by a looser match, with its strength.
type weighted struct {
	posting
	factor float64
}

// find returns the postings of name words holding raw (a question word)
// or an abbreviation of it, other than words whose stem is stem itself
// (those are exact matches, found elsewhere). Each word counts once, with
// its strongest match.
func (c *compounds) find(raw, stem string, a *analyzer) []weighted {
	if c == nil || len(raw) < minPart {
		return nil
	}
	base := singular(raw)
	type probe struct {
		s          string
		f, affixed float64
	}
	probes := []probe{{base, compoundWord, compoundWordAffix}}
	if len(base) >= 6 {
		for k := len(base) - 1; k >= minPart && 2*k >= len(base); k-- {
			probes = append(probes, probe{base[:k], compoundPrefix, compoundPrefixAffix})
		}
	}
	best := map[int32]float64{}
	for _, p := range probes {
		for _, id := range c.candidates(p.s) {
			w := c.words[id]
			if len(w) <= len(p.s) || !strings.Contains(w, p.s) {
				continue
			}
			f := p.f
			if len(w)-len(p.s) <= maxAffix && (strings.HasPrefix(w, p.s) || strings.HasSuffix(w, p.s)) {
				f = p.affixed
			}
			if best[id] >= f || a.stem(w) == stem {
				continue
			}
			best[id] = f
		}
	}
	ids := make([]int32, 0, len(best))
	for id := range best {
		ids = append(ids, id)
	}
	// A fixed order keeps sums of floating-point scores, and so rankings,
	// the same on every run.
	slices.Sort(ids)
	var out []weighted
	for _, id := range ids {
		for _, ps := range c.posts[id] {
			out = append(out, weighted{ps, best[id]})
		}
	}
	return out
}

// candidates returns the words that hold every trigram of s's rarest one;
// callers check the full substring.
func (c *compounds) candidates(s string) []int32 {
	var best []int32
	found := false
	for i := 0; i+3 <= len(s); i++ {
		ws := c.grams[s[i:i+3]]
		if len(ws) == 0 {
			return nil
		}
		if !found || len(ws) < len(best) {
			best, found = ws, true
		}
	}
	return best
}

// singular strips a plural ending: "companies" → "company", "boxes" →
// "box", "tickers" → "ticker".
func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s") && len(w) > 3:
		return w[:len(w)-1]
	}
	return w
}

package link

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
)

// words splits text into lower-case words: on anything that is not a letter
// or digit, on a change from lower to upper case ("orderDate" → order, date;
// "CDSCode" → cds, code), and between letters and digits ("address2" →
// address, 2). Identifiers and prose go through the same split, so a column
// named customer_id and a question saying "customer ID" meet.
func words(s string) []string {
	var out []string
	start := -1 // byte offset of the current word
	var prev rune
	prevStart := 0 // byte offset of prev
	flush := func(end int) {
		if start >= 0 && end > start {
			out = append(out, strings.ToLower(s[start:end]))
		}
		start = -1
	}
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			prev = r
			continue
		}
		switch {
		case start < 0:
			start = i
		case unicode.IsDigit(r) != unicode.IsDigit(prev):
			flush(i)
			start = i
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush(i)
			start = i
		case unicode.IsLower(r) && unicode.IsUpper(prev) && prevStart > start:
			// "CDSCode": the upper-case run ends one letter early, that
			// letter starting the next word.
			flush(prevStart)
			start = prevStart
		}
		prev, prevStart = r, i
	}
	flush(len(s))
	return out
}

// stopWords are words that carry no evidence about which table a question
// is about: English function words (the stemmer's list) and the verbs and
// quantifiers questions are phrased with.
var stopWords = map[string]bool{
	"list": true, "show": true, "give": true, "tell": true, "find": true,
	"display": true, "return": true, "please": true, "among": true, "per": true,
	"many": true, "much": true, "whose": true, "also": true, "every": true,
	"get": true, "provide": true, "indicate": true, "would": true,
	"could": true, "may": true, "might": true, "shall": true, "must": true,
	"let": true, "like": true, "within": true, "without": true, "e": true,
	"g": true, "ie": true, "eg": true, "etc": true, "us": true, "yes": true,
	"whether": true, "else": true, "whats": true, "ll": true, "re": true,
	"ve": true, "m": true, "respectively": true, "according": true,
	"mention": true, "mentioned": true, "calculate": true,
}

func isStopWord(w string) bool {
	return english.IsStopWord(w) || stopWords[w]
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// analyzer turns text into index terms: words, minus stop words and
// numbers, stemmed so that plurals and simple inflections meet ("schools",
// "school"; "countries", "country"). Stems are memoized because the same
// few thousand words recur across a catalog.
type analyzer struct {
	stems map[string]string
}

// newAnalyzer returns an analyzer that memoizes stems; it is not safe for
// concurrent use. The zero analyzer stems without memo and is.
func newAnalyzer() *analyzer { return &analyzer{stems: map[string]string{}} }

func (a *analyzer) stem(w string) string {
	if a.stems == nil {
		return english.Stem(w, true)
	}
	if s, ok := a.stems[w]; ok {
		return s
	}
	s := english.Stem(w, true)
	a.stems[w] = s
	return s
}

// token is one analysed word with the raw word it came from.
type token struct {
	raw, term string
}

// tokens analyses text into its sequence of terms, dropping stop words and
// numbers. The sequence keeps order so that phrases can be matched.
func (a *analyzer) tokens(s string) []token {
	ws := words(s)
	out := make([]token, 0, len(ws))
	for _, w := range ws {
		if isNumber(w) || isStopWord(w) {
			continue
		}
		out = append(out, token{raw: w, term: a.stem(w)})
	}
	return out
}

// nameTerms analyses an identifier: its words plus, for a name of several
// words, the words run together ("customer_id" also yields the stem of
// "customerid"), so that a name written solid ("customerid", "firstname")
// and one written apart meet. Numbers and stop words inside identifiers are
// dropped like in prose; an identifier made only of them yields nothing.
func (a *analyzer) nameTerms(name string) []string {
	toks := a.tokens(name)
	out := make([]string, 0, len(toks)+1)
	for _, t := range toks {
		out = append(out, t.term)
	}
	if len(toks) > 1 {
		var b strings.Builder
		for _, t := range toks {
			b.WriteString(t.raw)
		}
		out = append(out, a.stem(b.String()))
	}
	return out
}

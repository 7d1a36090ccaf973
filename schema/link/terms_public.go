package link

// Terms analyses prose the way linking analyses questions: words without
// stop words and numbers, stemmed. Other parts of the service use it to
// compare questions with each other.
func Terms(s string) []string {
	var a analyzer
	toks := a.tokens(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.term
	}
	return out
}

package sqlite

import (
	"fmt"
	"strconv"
	"strings"
)

// capRows returns the statement's text without comments, with its row
// count capped at maxRows (when > 0): the outermost LIMIT is lowered when
// it is larger or not a constant, and one is added when there is none. The
// text is spliced at the token level, so everything else is exactly what
// SQLite prepared.
func capRows(sql string, toks []token, maxRows int) (out string, appended bool, err error) {
	// Drop trailing semicolons, white space and comments.
	end := len(toks)
	for end > 0 && (toks[end-1].kind == tokSpace || toks[end-1].kind == tokComment || toks[end-1].kind == tokSemi) {
		end--
	}
	toks = toks[:end]
	from, to := -1, -1 // the token range of the LIMIT count to replace
	limit := -1
	if maxRows > 0 {
		depth := 0
		for i, t := range toks {
			switch {
			case t.kind == tokPunct && sql[t.start] == '(':
				depth++
			case t.kind == tokPunct && sql[t.start] == ')':
				depth--
			case depth == 0 && isWord(sql, t, "limit"):
				limit = i
			}
		}
		if limit >= 0 {
			from, to = limitCount(sql, toks, limit)
			if from < 0 {
				return "", false, fmt.Errorf("cannot read the LIMIT clause")
			}
			if n, ok := constant(sql, toks[from:to]); ok && n <= maxRows {
				from, to = -1, -1
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case i == from:
			b.WriteString(strconv.Itoa(maxRows))
			i = to - 1
		case t.kind == tokComment:
			b.WriteByte(' ')
		default:
			b.WriteString(t.text(sql))
		}
	}
	out = strings.TrimSpace(b.String())
	if maxRows > 0 && limit < 0 {
		out += " LIMIT " + strconv.Itoa(maxRows)
		appended = true
	}
	return out, appended, nil
}

// limitCount returns the token range of the row count of the LIMIT at
// toks[limit]: "LIMIT count [OFFSET n]" or "LIMIT offset, count". The
// range keeps the white space around the expression out.
func limitCount(sql string, toks []token, limit int) (int, int) {
	depth := 0
	from, to := limit+1, len(toks)
	for i := limit + 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokPunct && sql[t.start] == '(':
			depth++
		case t.kind == tokPunct && sql[t.start] == ')':
			depth--
		case depth == 0 && isWord(sql, t, "offset"):
			to = i
		case depth == 0 && t.kind == tokPunct && sql[t.start] == ',':
			from = i + 1
		}
		if to != len(toks) {
			break
		}
	}
	for from < to && (toks[from].kind == tokSpace || toks[from].kind == tokComment) {
		from++
	}
	for to > from && (toks[to-1].kind == tokSpace || toks[to-1].kind == tokComment) {
		to--
	}
	if from >= to {
		return -1, -1
	}
	return from, to
}

// constant reads a count written as one non-negative decimal integer.
func constant(sql string, toks []token) (int, bool) {
	if len(toks) != 1 || toks[0].kind != tokNumber {
		return 0, false
	}
	n, err := strconv.Atoi(toks[0].text(sql))
	return n, err == nil && n >= 0
}

// prove prepares the printed text again and requires that SQLite reads it
// as one read-only query that does nothing the judged statement did not:
// every table, column and function it reports was in the judged trace.
func (p *parsed) prove(out string) error {
	c, err := p.sh.get()
	if err != nil {
		return err
	}
	defer p.sh.put(c)
	q := c.prepare(out)
	switch {
	case q.err != "":
		return fmt.Errorf("the printed statement does not prepare: %s", q.err)
	case q.empty, !q.readonly, q.explain:
		return fmt.Errorf("the printed statement is not a read-only query")
	case more(c, out, len(q.text)) >= 0:
		return fmt.Errorf("the printed statement holds more than one statement")
	}
	judged := make(map[event]bool, len(p.trace))
	for _, e := range p.trace {
		judged[e] = true
	}
	for _, e := range q.trace {
		if !judged[e] {
			return fmt.Errorf("the printed statement does more than the judged one (%s %s %s)", e.arg1, e.arg2, e.dbName)
		}
	}
	return nil
}

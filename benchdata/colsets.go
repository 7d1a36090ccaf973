package benchdata

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// SplitStatements splits a PostgreSQL script into its statements with
// PostgreSQL's own scanner, so semicolons inside literals, quoted names,
// dollar quotes and comments do not split. Pieces holding nothing but
// comments are dropped. It works on Defog's gold text, whose column sets
// ("{a, b}") are not SQL, because the scanner only tokenizes.
func SplitStatements(script string) ([]string, error) {
	parts, err := pg.SplitWithScanner(script, true)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		res, err := pg.Scan(p)
		if err != nil {
			return nil, err
		}
		for _, tk := range res.Tokens {
			if tk.Token != pg.Token_SQL_COMMENT && tk.Token != pg.Token_C_COMMENT {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// ExpandColumnSets expands Defog's column sets into concrete queries, as
// sql-eval's get_all_minimal_queries does: "{a, b}" stands for any
// non-empty subset of the columns, and each later "{}" (as in
// "GROUP BY {}") repeats the chosen subset. Subsets come in order of size,
// then of position ({a}, {b}, {a, b}). A query with several sets yields
// every combination; one with none is returned unchanged. Braces inside
// literals, quoted names and comments are not sets: the query is tokenized
// by PostgreSQL's scanner.
func ExpandColumnSets(sql string) ([]string, error) {
	res, err := pg.Scan(sql)
	if err != nil {
		return nil, err
	}
	toks := res.Tokens
	text := func(i int) string { return sql[toks[i].Start:toks[i].End] }
	// Locate the first non-empty set and the placeholders after it, up to
	// the next non-empty set.
	type span struct{ start, end int }
	var set *span
	var setOpen, setClose int
	var holders []span
	for i := 0; i < len(toks); i++ {
		if text(i) == "}" {
			return nil, fmt.Errorf("unmatched } at byte %d", toks[i].Start)
		}
		if text(i) != "{" {
			continue
		}
		j := i + 1
		for j < len(toks) && text(j) != "}" {
			if text(j) == "{" {
				return nil, fmt.Errorf("nested { at byte %d", toks[j].Start)
			}
			j++
		}
		if j == len(toks) {
			return nil, fmt.Errorf("unmatched { at byte %d", toks[i].Start)
		}
		sp := span{int(toks[i].Start), int(toks[j].End)}
		if j == i+1 {
			if set != nil {
				holders = append(holders, sp)
			}
		} else if set == nil {
			set, setOpen, setClose = &sp, i, j
		} else {
			break
		}
		i = j
	}
	if set == nil {
		return []string{sql}, nil
	}
	// Split the set at its top-level commas.
	var options []string
	depth, from := 0, int(toks[setOpen].End)
	for k := setOpen + 1; k < setClose; k++ {
		switch text(k) {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case ",":
			if depth == 0 {
				options = append(options, strings.TrimSpace(sql[from:toks[k].Start]))
				from = int(toks[k].End)
			}
		}
	}
	options = append(options, strings.TrimSpace(sql[from:toks[setClose].Start]))
	for _, o := range options {
		if o == "" {
			return nil, fmt.Errorf("empty column in set at byte %d", set.start)
		}
	}
	var out []string
	for _, subset := range combinations(options) {
		cols := strings.Join(subset, ", ")
		var b strings.Builder
		last := 0
		for _, sp := range append([]span{*set}, holders...) {
			b.WriteString(sql[last:sp.start])
			b.WriteString(cols)
			last = sp.end
		}
		b.WriteString(sql[last:])
		rest, err := ExpandColumnSets(b.String())
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// combinations returns every non-empty subset of items, by size and then
// by position, each in the items' order.
func combinations(items []string) [][]string {
	var out [][]string
	var pick func(start, size int, cur []string)
	pick = func(start, size int, cur []string) {
		if len(cur) == size {
			out = append(out, append([]string(nil), cur...))
			return
		}
		for i := start; i < len(items); i++ {
			pick(i+1, size, append(cur, items[i]))
		}
	}
	for size := 1; size <= len(items); size++ {
		pick(0, size, nil)
	}
	return out
}

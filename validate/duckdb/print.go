package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Print caps the outermost query's rows in the tree itself (a LIMIT is
// added when there is none, and lowered when larger or not a constant),
// prints the tree with DuckDB's json_deserialize_sql, and proves the
// result: DuckDB's parser must read the printed text back to exactly the
// tree that was judged (with the cap), query locations aside.
func (x *parsed) Print(maxRows int) (string, error) {
	if x.tree == nil {
		return "", fmt.Errorf("the statement is not a query")
	}
	tree, err := deepCopy(x.tree)
	if err != nil {
		return "", err
	}
	action := capKept
	if maxRows > 0 {
		action = capRows(tree["node"].(node), maxRows)
	}
	want := stripLocations(any(tree))
	doc := map[string]any{"error": false, "statements": []any{tree}}
	js, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), parseTimeout)
	defer cancel()
	var printed string
	if err := x.p.db.QueryRowContext(ctx, "SELECT json_deserialize_sql(?::JSON)", string(js)).Scan(&printed); err == nil && x.proves(printed, want) == nil {
		return printed, nil
	}
	// DuckDB's printer does not give every tree back as itself (it wraps
	// VALUES in a subquery, for one): then the statement's own tokens,
	// without comments and with the cap spliced in, must.
	spliced, err := splice(x.sql, action, maxRows)
	if err != nil {
		return "", err
	}
	if err := x.proves(spliced, want); err != nil {
		return "", err
	}
	return spliced, nil
}

// proves checks that DuckDB's parser reads text as exactly the tree want.
func (x *parsed) proves(text string, want any) error {
	back, err := x.p.serialize(text)
	if err != nil || back.Error || len(back.Statements) != 1 {
		return fmt.Errorf("the printed statement does not parse back to one query")
	}
	again, err := decode(back.Statements[0])
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(stripLocations(again), want) {
		return fmt.Errorf("the printed statement parses to another tree than the judged one")
	}
	return nil
}

// splice returns the statement's text without comments or trailing
// semicolons, with the cap applied as action says.
func splice(sql string, action capAction, maxRows int) (string, error) {
	toks := lex(sql)
	end := len(toks)
	for end > 0 && (toks[end-1].kind == tokSpace || toks[end-1].kind == tokComment || toks[end-1].kind == tokSemi) {
		end--
	}
	toks = toks[:end]
	from, to := -1, -1
	if action == capLowered {
		// The count after the last top-level LIMIT, up to OFFSET or the end.
		depth, limit := 0, -1
		for i, t := range toks {
			switch {
			case t.kind == tokOpen:
				depth++
			case t.kind == tokClose:
				depth--
			case depth == 0 && t.kind == tokWord && strings.EqualFold(t.text(sql), "limit"):
				limit = i
			}
		}
		if limit < 0 {
			return "", fmt.Errorf("no LIMIT to lower in the text")
		}
		from, to = limit+1, len(toks)
		depth = 0
		for i := limit + 1; i < len(toks); i++ {
			t := toks[i]
			if t.kind == tokOpen {
				depth++
			} else if t.kind == tokClose {
				depth--
			} else if depth == 0 && t.kind == tokWord && strings.EqualFold(t.text(sql), "offset") {
				to = i
				break
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		switch {
		case i == from:
			b.WriteString(" " + strconv.Itoa(maxRows) + " ")
			i = to - 1
		case toks[i].kind == tokComment:
			b.WriteByte(' ')
		default:
			b.WriteString(toks[i].text(sql))
		}
	}
	out := strings.TrimSpace(b.String())
	if action == capAdded {
		out += " LIMIT " + strconv.Itoa(maxRows)
	}
	return out, nil
}

func deepCopy(n node) (node, error) {
	b, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	return v.(node), nil
}

// stripLocations drops query locations, which printing changes.
func stripLocations(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			if k == "query_location" || k == "query_location_length" {
				continue
			}
			out[k] = stripLocations(c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = stripLocations(c)
		}
		return out
	}
	return v
}

// capAction says what capRows did.
type capAction uint8

const (
	capKept    capAction = iota // the LIMIT is a constant within the cap
	capLowered                  // the LIMIT's count was replaced
	capAdded                    // a LIMIT was added
)

// capRows sets the row cap on the outermost query node's LIMIT.
func capRows(n node, maxRows int) capAction {
	mods, _ := n["modifiers"].([]any)
	capped := intNode(maxRows)
	for _, m := range mods {
		mn, ok := m.(node)
		if !ok || mn["type"] != "LIMIT_MODIFIER" || mn["limit_type"] == "PERCENTAGE" {
			continue
		}
		if v, ok := literalInt(mn["limit"]); ok && v >= 0 && v <= int64(maxRows) {
			return capKept
		}
		mn["limit"] = capped
		return capLowered
	}
	// No row-count LIMIT (a percentage one is applied first, then this).
	n["modifiers"] = append(mods, node{"type": "LIMIT_MODIFIER", "limit": capped, "offset": nil, "limit_type": "ROW_COUNT"})
	return capAdded
}

func intNode(v int) node {
	return node{"class": "CONSTANT", "type": "VALUE_CONSTANT", "alias": "",
		"literal": node{"kind": "INTEGER", "text": strconv.Itoa(v)}}
}

// literalInt reads an integer constant.
func literalInt(v any) (int64, bool) {
	n, ok := v.(node)
	if !ok || n["class"] != "CONSTANT" {
		return 0, false
	}
	lit, _ := n["literal"].(node)
	if lit == nil || lit["kind"] != "INTEGER" {
		return 0, false
	}
	s, _ := lit["text"].(string)
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

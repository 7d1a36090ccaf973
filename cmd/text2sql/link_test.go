package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var linkShape = regexp.MustCompile(`^\{"id":[^\n]*,("tables":\[[^\n]*\],"tokens":[0-9]+|"error":"[^\n]*")\}$`)

// The link JSONL output is a contract: one line per input line, in order,
// with exactly these keys; denied tables never appear, and tokens never
// exceed the budget.
func TestLinkJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"id": "q1", "database": "shop", "question": "Revenue by month and country"}`,
		`{"id": 2, "question": "Which products sell best?"}`,
		``,
		`{"id": "q3", "database": "shop", "question": "Logins and password hashes of the users"}`,
		`not json`,
		`{"id": "q5", "database": "nosuch", "question": "x"}`,
		`{"id": "q6", "database": "store", "question": "Notes written on orders"}`,
	}, "\n")
	code, out, stderr := runCLI(t, strings.NewReader(in), nil, "link", "--jsonl", "--database", "shop", "--budget", "400")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d output lines for 6 non-blank input lines:\n%s", len(lines), out)
	}
	type answer struct {
		ID     any      `json:"id"`
		Tables []string `json:"tables"`
		Tokens int      `json:"tokens"`
		Error  string   `json:"error"`
	}
	var got []answer
	for _, l := range lines {
		if !linkShape.MatchString(l) {
			t.Errorf("line breaks the contract: %s", l)
		}
		var a answer
		dec := json.NewDecoder(bytes.NewReader([]byte(l)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		got = append(got, a)
	}
	for i, id := range []any{"q1", 2.0, "q3", nil, "q5", "q6"} {
		if got[i].ID != id {
			t.Errorf("line %d has id %v, want %v", i+1, got[i].ID, id)
		}
	}
	for _, i := range []int{0, 1, 2, 5} {
		if got[i].Error != "" || len(got[i].Tables) == 0 || got[i].Tokens <= 0 || got[i].Tokens > 400 {
			t.Errorf("line %d: %+v", i+1, got[i])
		}
		for _, tb := range got[i].Tables {
			if strings.HasSuffix(tb, ".users") {
				t.Errorf("line %d links %s, which the policy denies", i+1, tb)
			}
		}
	}
	if !slices.Contains(got[0].Tables[:2], "public.customers") || !slices.Contains(got[0].Tables[:3], "public.orders") {
		t.Errorf("revenue by month and country links %v", got[0].Tables)
	}
	if got[5].Tables[0] != "store.order notes" {
		t.Errorf("notes on orders links %v first", got[5].Tables)
	}
	if got[3].Error == "" || got[4].Error == "" {
		t.Error("bad lines must be answered with an error line")
	}
	if code, _, _ := runCLI(t, strings.NewReader(""), nil, "link"); code != exitUsage {
		t.Errorf("link without --jsonl exits %d, want %d", code, exitUsage)
	}
}

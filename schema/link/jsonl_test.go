package link

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/schema"
)

func shopCatalog(t *testing.T) *schema.Catalog {
	t.Helper()
	c, err := schema.LoadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every input line but blank ones gets exactly one output line, in order,
// shaped exactly {"id","tables","tokens"} or {"id","error"}.
func TestRunJSONLContract(t *testing.T) {
	long := `{"id": "long", "question": "` + strings.Repeat("orders ", maxLine/7+10) + `"}`
	input := strings.Join([]string{
		`{"id": "q1", "database": "shop", "question": "How many orders did each customer place?"}`,
		``,
		`   `,
		`{"id": 7, "question": "Which employees are on which projects?"}`,
		`{"id": "q3", "database": "nope", "question": "orders"}`,
		`{"id": "q4", "database": "shop"}`,
		`not json at all`,
		`{"id": "q6", "question": "orders"} {"id": "extra"}`,
		`{"id": {"nested": [1, 2]}, "question": "zzyzx qwfp"}`,
		long,
		`{"id": "q9", "question": "Which products did each customer buy?"}`,
	}, "\n")
	want := []struct {
		id    string
		error bool
	}{
		{`"q1"`, false}, {`7`, false}, {`"q3"`, true}, {`"q4"`, true}, {`null`, true},
		{`"q6"`, true}, {`{"nested":[1,2]}`, false}, {`null`, true}, {`"q9"`, false},
	}
	var out bytes.Buffer
	l := newLinker(t, Options{})
	const budget = 500
	if err := l.RunJSONL(strings.NewReader(input), &out, shopCatalog(t), nil, "shop", budget); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d output lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d not JSON: %s", i, line)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		if string(m["id"]) != want[i].id {
			t.Errorf("line %d id %s, want %s", i, m["id"], want[i].id)
		}
		if want[i].error {
			if !slices.Equal(keys, []string{"error", "id"}) {
				t.Errorf("line %d keys %v, want error and id: %s", i, keys, line)
			}
			continue
		}
		if !slices.Equal(keys, []string{"id", "tables", "tokens"}) {
			t.Errorf("line %d keys %v, want id, tables, tokens: %s", i, keys, line)
			continue
		}
		var tables []string
		var tokens int
		if err := json.Unmarshal(m["tables"], &tables); err != nil || tables == nil {
			t.Errorf("line %d tables not a list of strings: %s", i, m["tables"])
		}
		if err := json.Unmarshal(m["tokens"], &tokens); err != nil || tokens < 0 || tokens > budget {
			t.Errorf("line %d tokens %s outside 0..%d", i, m["tokens"], budget)
		}
		if (len(tables) == 0) != (tokens == 0) {
			t.Errorf("line %d: %d tables, %d tokens", i, len(tables), tokens)
		}
		for _, n := range tables {
			if !strings.Contains(n, ".") {
				t.Errorf("line %d: table %q not schema.table", i, n)
			}
		}
	}
	// The answer matches what Link says for the same question.
	res, err := l.Link(shopCatalog(t).Database("shop"), Query{Question: "How many orders did each customer place?", Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	wantLine, _ := json.Marshal(JSONLResult{ID: json.RawMessage(`"q1"`), Tables: res.Names(), Tokens: res.Tokens})
	if lines[0] != string(wantLine) {
		t.Errorf("line 0 = %s, want %s", lines[0], wantLine)
	}
}

func TestRunJSONLNoDefaultDatabase(t *testing.T) {
	var out bytes.Buffer
	err := RunJSONL(strings.NewReader(`{"id":"a","question":"orders"}`), &out, shopCatalog(t), nil, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var e JSONLError
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Error == "" {
		t.Errorf("want an error line, got %s", out.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

// Only I/O failures end the run, and they are returned.
func TestRunJSONLIOErrors(t *testing.T) {
	l := newLinker(t, Options{})
	many := strings.Repeat(`{"id":"a","question":"orders"}`+"\n", 2000)
	if err := l.RunJSONL(strings.NewReader(many), failWriter{}, shopCatalog(t), nil, "shop", 100); err == nil {
		t.Error("write failure not returned")
	}
	if err := l.RunJSONL(bufio.NewReader(failReader{}), &bytes.Buffer{}, shopCatalog(t), nil, "shop", 100); err == nil {
		t.Error("read failure not returned")
	}
}

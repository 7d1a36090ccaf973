package llm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each testdata/extract/NAME.txt is a model answer; NAME.sql holds the
// SQL ExtractSQL must return, or NAME.err the reason it must give.
func TestExtractSQL(t *testing.T) {
	reasons := map[string]string{
		"empty":      ReasonEmpty,
		"not_found":  ReasonNotFound,
		"json_empty": ReasonJSONEmpty,
		"thinking":   ReasonThinking,
	}
	inputs, err := filepath.Glob(filepath.Join("testdata", "extract", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 30 {
		t.Fatalf("found only %d cases in testdata/extract", len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			answer := readFile(t, in)
			base := strings.TrimSuffix(in, ".txt")
			got, err := ExtractSQL(answer)

			if want, ok := readOptional(t, base+".sql"); ok {
				want = strings.TrimSuffix(want, "\n")
				if err != nil {
					t.Fatalf("ExtractSQL error: %v\nwant SQL:\n%s", err, want)
				}
				if got != want {
					t.Fatalf("ExtractSQL =\n%s\nwant:\n%s", got, want)
				}
				return
			}
			wantName, ok := readOptional(t, base+".err")
			if !ok {
				t.Fatalf("%s has neither a .sql nor a .err file", in)
			}
			wantReason, known := reasons[strings.TrimSpace(wantName)]
			if !known {
				t.Fatalf("unknown reason %q in %s.err", wantName, base)
			}
			if err == nil {
				t.Fatalf("ExtractSQL = %q, want error %q", got, wantReason)
			}
			if got != "" {
				t.Errorf("ExtractSQL returned SQL %q along with its error", got)
			}
			if !errors.Is(err, ErrNoSQL) {
				t.Errorf("error %v does not match ErrNoSQL", err)
			}
			var ne *NoSQLError
			if !errors.As(err, &ne) || ne.Reason != wantReason {
				t.Errorf("error = %v, want reason %q", err, wantReason)
			}
		})
	}
}

// ExtractSQL cuts text out of the answer and never writes any: whatever
// it returns must appear in the answer (modulo line endings and the
// escapes of a JSON string).
func TestExtractSQLReturnsTextOfTheAnswer(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "extract", "*.txt"))
	for _, in := range inputs {
		answer := strings.ReplaceAll(readFile(t, in), "\r\n", "\n")
		got, err := ExtractSQL(answer)
		if err != nil || strings.HasPrefix(filepath.Base(in), "json_") {
			continue
		}
		if !strings.Contains(answer, got) {
			t.Errorf("%s: extracted %q is not part of the answer", in, got)
		}
	}
}

func TestCompletionSQLTruncated(t *testing.T) {
	cut := readFile(t, filepath.Join("testdata", "extract", "fence_truncated.txt"))
	closedThenCut := "```sql\nSELECT id FROM t\n```\n\nThis query returns the ids of every row in t, which"
	tests := []struct {
		name, text, finish string
		want               string
		wantReason         string
	}{
		{"open fence cut at the limit", cut, "length", "", ReasonTruncated},
		{"open fence, model stopped", cut, "stop", strings.TrimSpace(readFile(t, filepath.Join("testdata", "extract", "fence_truncated.sql"))), ""},
		{"closed fence, prose cut", closedThenCut, "length", "SELECT id FROM t", ""},
		{"plain text cut", "SELECT name FROM users WHERE id > 1", "length", "", ReasonTruncated},
		{"plain text ended by semicolon", "SELECT name FROM users;\nThis lists all", "length", "SELECT name FROM users", ""},
		{"nothing before the cut", "Let me think about which tables", "length", "", ReasonTruncated},
		{"refusal, complete", "I cannot answer that.", "stop", "", ReasonNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Completion{Text: tt.text, FinishReason: tt.finish}
			got, err := c.SQL()
			if tt.wantReason != "" {
				var ne *NoSQLError
				if !errors.As(err, &ne) || ne.Reason != tt.wantReason {
					t.Fatalf("SQL() = %q, %v; want reason %q", got, err, tt.wantReason)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("SQL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNoSQLErrorExcerpt(t *testing.T) {
	long := "I'm sorry, " + strings.Repeat("I cannot do that. ", 40)
	_, err := ExtractSQL(long)
	var ne *NoSQLError
	if !errors.As(err, &ne) {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(ne.Excerpt, "I'm sorry") || len(ne.Excerpt) > 210 {
		t.Errorf("excerpt = %q (len %d)", ne.Excerpt, len(ne.Excerpt))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readOptional(t *testing.T, path string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func BenchmarkExtractSQL(b *testing.B) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "extract", "*.txt"))
	answers := make([]string, 0, len(inputs))
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			b.Fatal(err)
		}
		answers = append(answers, string(data))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _ = ExtractSQL(answers[i%len(answers)])
	}
}

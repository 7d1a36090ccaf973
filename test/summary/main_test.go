package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out from the current output")

// Each testdata/<name>.jsonl is a recorded `go test -json` stream (with a
// line of the go command's own output where one occurs); <name>.out is
// what summary prints for it. Only clean.jsonl is a clean run.
func TestStreams(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no streams: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		t.Run(name, func(t *testing.T) {
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out bytes.Buffer
			r := newReport()
			if err := r.read(in, &out); err != nil {
				t.Fatal(err)
			}
			clean := r.finish(&out, time.Time{}, time.Time{})
			if want := name == "clean"; clean != want {
				t.Errorf("clean = %v, want %v", clean, want)
			}
			golden := strings.TrimSuffix(f, ".jsonl") + ".out"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("output differs from %s (go test ./test/summary -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"=== RUN   TestX\n    x_test.go:12: Redis at 127.0.0.1:6379 is not available (refused)\n--- SKIP: TestX (0.00s)\n",
			"Redis at 127.0.0.1:6379 is not available (refused)"},
		{"=== RUN   TestX\n--- SKIP: TestX (0.00s)\n", "(no reason given)"},
		{"    x_test.go:3: first\n    x_test.go:4: second: with colon\n", "first second: with colon"},
	} {
		if got := reason(tc.out); got != tc.want {
			t.Errorf("reason(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
}

func TestTotalTime(t *testing.T) {
	var out bytes.Buffer
	r := newReport()
	r.tests = 1
	start := time.Unix(1000, 0)
	if !r.finish(&out, start, start.Add(90*time.Second)) {
		t.Fatal("one passing test and nothing else is a clean run")
	}
	if !strings.HasSuffix(out.String(), ", in 1m30s\n") {
		t.Errorf("last line %q lacks the total time", out.String())
	}
}

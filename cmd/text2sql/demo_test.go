package main

import (
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	code, out, stderr := runCLI(t, nil, nil, "demo", "--sqllab-url", "https://bi.example.com")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"[shop, HTTP]", "[shop, GRPC]", "[store, ",
		"attempt 1 refused: COLUMN_NOT_ALLOWED",
		"verdict: no SQL returned (FAILED_PRECONDITION)",
		"SQL Lab: https://bi.example.com/sqllab/?dbid=",
		"all 11 questions went as expected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(out, "password_hash FROM") && strings.Contains(out, "SQL: SELECT login") {
		t.Error("the demo returned SQL reading a denied table")
	}
}

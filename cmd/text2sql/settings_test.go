package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/texttosql/text2sql/server"
)

func TestSettingsEnvAndFlags(t *testing.T) {
	var o serveOptions
	s := serveSettings(&o, &generateOptions{}, &supersetServeOptions{})
	env := testEnv(map[string]string{
		"TEXT2SQL_HTTP_ADDR":       ":8080",
		"TEXT2SQL_GRPC_ADDR":       ":9090",
		"TEXT2SQL_LOG_QUESTIONS":   "true",
		"TEXT2SQL_REQUEST_TIMEOUT": "2m",
		"TEXT2SQL_RATE_LIMIT":      "2.5",
	}, nil, io.Discard, io.Discard)
	rest, err := s.parse(env, []string{"--grpc-addr", "127.0.0.1:7000", "--max-in-flight=3"})
	if err != nil || len(rest) != 0 {
		t.Fatal(rest, err)
	}
	if o.httpAddr != ":8080" || o.grpcAddr != "127.0.0.1:7000" || !o.logQuestions ||
		o.requestTimeout != 2*time.Minute || o.rateLimit != 2.5 || o.maxInFlight != 3 || o.shutdownGrace != server.DefaultShutdownGrace {
		t.Errorf("settings %+v: the environment applies, flags win over it, defaults stay", o)
	}
	for _, st := range s.list {
		if !strings.HasPrefix(st.env(), "TEXT2SQL_") || strings.ContainsAny(st.env(), "-.") {
			t.Errorf("setting %s has environment variable %s", st.name, st.env())
		}
	}
}

// Every serve and validate setting, generation's and Superset's included, is
// documented in the README under its flag and its environment variable.
func TestREADMEDocumentsSettings(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	var so serveOptions
	var vo validateOptions
	serveTable := serveSettings(&so, &generateOptions{}, &supersetServeOptions{})
	for _, s := range []*settings{serveTable, validateSettings(&vo)} {
		for _, st := range s.list {
			if !strings.Contains(readme, "`--"+st.name+"`") || !strings.Contains(readme, "`"+st.env()+"`") {
				t.Errorf("README does not document %s --%s (%s)", s.command, st.name, st.env())
			}
		}
	}
}

func TestLoadCallers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bi-tools"), []byte("file-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tok = "env-token-0123456789abcdef"
	for _, tc := range []struct {
		name    string
		list    string
		dir     string
		vars    map[string]string
		want    []server.CallerToken
		wantErr string
	}{
		{"none", "", "", nil, nil, ""},
		{"env tokens", "superset:trusted, tools", "", map[string]string{
			"TEXT2SQL_CALLER_TOKEN_SUPERSET": tok, "TEXT2SQL_CALLER_TOKEN_TOOLS": tok + "-2",
		}, []server.CallerToken{{Name: "superset", Token: tok, Trusted: true}, {Name: "tools", Token: tok + "-2"}}, ""},
		{"rotation", "tools", "", map[string]string{"TEXT2SQL_CALLER_TOKEN_TOOLS": tok + "," + tok + "-next"},
			[]server.CallerToken{{Name: "tools", Token: tok}, {Name: "tools", Token: tok + "-next"}}, ""},
		{"token file", "bi-tools", dir, nil, []server.CallerToken{{Name: "bi-tools", Token: "file-token-0123456789abcdef"}}, ""},
		{"missing token", "tools", "", nil, nil, "TEXT2SQL_CALLER_TOKEN_TOOLS"},
		{"missing token file", "tools", dir, nil, nil, "has no token"},
		{"token in both places", "bi-tools", dir, map[string]string{"TEXT2SQL_CALLER_TOKEN_BI_TOOLS": tok}, nil, "keep one"},
		{"short token", "tools", "", map[string]string{"TEXT2SQL_CALLER_TOKEN_TOOLS": "short"}, nil, "shorter than"},
		{"stray token", "tools", "", map[string]string{"TEXT2SQL_CALLER_TOKEN_TOOLS": tok, "TEXT2SQL_CALLER_TOKEN_TOLS": tok}, nil, "TEXT2SQL_CALLER_TOKEN_TOLS"},
		{"unknown flag", "tools:admin", "", nil, nil, "unknown flag"},
		{"bad name", "to ols", "", nil, nil, "not a caller name"},
		{"same variable twice", "bi-tools,bi.tools", "", nil, nil, "same caller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadCallers(testEnv(tc.vars, nil, io.Discard, io.Discard), tc.list, tc.dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), tok) {
					t.Errorf("error reveals a token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("caller %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/texttosql/text2sql/test/fakellm"
)

const shippedSQL = "```sql\nSELECT COUNT(*) FROM orders WHERE status = 'shipped'\n```"

// fakeOllama stands in for Ollama: GET /api/tags lists models (an
// embedding model first), and its OpenAI-compatible /v1 is the fake model.
func fakeOllama(t *testing.T, model *fakellm.Server) string {
	target, err := url.Parse("http://" + model.Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/tags" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"models":[{"name":"nomic-embed-text:latest","details":{"family":"nomic-bert"}},` +
				`{"name":"llama3.2:latest","details":{"family":"llama"}}]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Which model serves GenerateSQL with no model named: the OpenAI
// variables, else a local Ollama, else none; a named model always wins.
// Each branch says so in /readyz and the start-up log, and the model it
// picked is the one that is called.
func TestModelByConvention(t *testing.T) {
	openai := fakellm.NewTest(t, fakellm.Text(shippedSQL), fakellm.WithAPIKey("sk-env-0123"))
	ollamaModel := fakellm.NewTest(t, fakellm.Text(shippedSQL))
	ollama := fakeOllama(t, ollamaModel)
	named := fakellm.NewTest(t, fakellm.Text(shippedSQL))
	cases := []struct {
		name   string
		vars   map[string]string
		args   []string
		source string
		model  string
		called *fakellm.Server
		reason string
	}{
		{"OPENAI variables", map[string]string{"OPENAI_API_KEY": "sk-env-0123", "OPENAI_BASE_URL": openai.URL(), "OPENAI_MODEL": "gpt-test",
			"TEXT2SQL_OLLAMA_ADDR": ollama}, nil, "openai-env", "gpt-test", openai, "OPENAI_MODEL names"},
		{"Ollama when no OPENAI_API_KEY", map[string]string{"OPENAI_MODEL": "ignored-without-key", "TEXT2SQL_OLLAMA_ADDR": ollama}, nil,
			"ollama", "llama3.2:latest", ollamaModel, "Ollama answers on " + ollama},
		{"flags win over the environment", map[string]string{"OPENAI_API_KEY": "sk-env-0123", "OPENAI_BASE_URL": openai.URL(), "TEXT2SQL_OLLAMA_ADDR": ollama},
			[]string{"--llm-model", "named-model", "--llm-base-url", named.URL()}, "flags", "named-model", named, "--llm-model"},
		{"none", map[string]string{}, nil, "", "", nil, "set OPENAI_API_KEY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := map[*fakellm.Server]int{openai: openai.Calls(), ollamaModel: ollamaModel.Calls(), named: named.Calls()}
			h := startServe(t, c.vars, c.args, nil)
			r := h.do("GET", "/readyz", "")
			var ready struct {
				Status string
				Model  struct{ Name, Source, Reason, Endpoint string }
			}
			if err := json.Unmarshal([]byte(r.body), &ready); err != nil || r.status != 200 {
				t.Fatalf("/readyz %d %s", r.status, r.body)
			}
			if ready.Model.Name != c.model || ready.Model.Source != c.source || !strings.Contains(ready.Model.Reason, c.reason) {
				t.Errorf("/readyz model %+v; want %q from %q saying %q", ready.Model, c.model, c.source, c.reason)
			}
			if strings.Contains(r.body, "sk-env") {
				t.Errorf("/readyz shows the API key: %s", r.body)
			}
			if !strings.Contains(h.logs.String(), c.reason) {
				t.Errorf("the start-up log does not say %q:\n%s", c.reason, h.logs)
			}
			g := h.do("POST", "/v1/sql:generate", `{"database":"shop","question":"How many orders were shipped?"}`)
			if c.called == nil {
				if g.status != http.StatusNotImplemented {
					t.Errorf("generate without a model: %d %s, want 501", g.status, g.body)
				}
				return
			}
			if g.status != 200 || !strings.Contains(g.body, "shipped") {
				t.Fatalf("generate: %d %s", g.status, g.body)
			}
			for s, n := range before {
				if got := s.Calls() - n; (s == c.called) != (got > 0) {
					t.Errorf("model server %s called %d times; want calls only on %s", s.Addr(), got, c.called.Addr())
				}
			}
			if got := c.called.Requests()[len(c.called.Requests())-1].Model; got != c.model {
				t.Errorf("the model asked for %q, want %q", got, c.model)
			}
		})
	}
}

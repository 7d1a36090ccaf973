package llm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ollama stands in for Ollama's API, answering GET /api/tags with a file
// from testdata/ollama.
func ollama(t *testing.T, tagsFile string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "ollama", tagsFile))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/tags" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	return addr
}

func TestDiscover(t *testing.T) {
	withTags := ollama(t, "tags.json")
	embeddingsOnly := ollama(t, "embeddings-only.json")
	down := closedAddr(t)
	cases := []struct {
		name       string
		env        map[string]string
		ollamaAddr string
		wantSource string
		wantModel  string
		wantURL    string
		wantKey    string
		reason     string
	}{
		{"key only: default model", map[string]string{"OPENAI_API_KEY": "sk-1"}, withTags,
			"openai-env", DefaultOpenAIModel, DefaultOpenAIBaseURL, "sk-1", "default model"},
		{"key, base URL and model", map[string]string{"OPENAI_API_KEY": "sk-2", "OPENAI_BASE_URL": "http://vllm:8000/v1", "OPENAI_MODEL": "qwen"}, withTags,
			"openai-env", "qwen", "http://vllm:8000/v1", "sk-2", "OPENAI_MODEL names"},
		{"model without key: not the OpenAI convention", map[string]string{"OPENAI_MODEL": "qwen"}, withTags,
			"ollama", "llama3.2:latest", "http://" + withTags + "/v1", "", "Ollama answers"},
		{"ollama: first chat model, embeddings skipped", nil, withTags,
			"ollama", "llama3.2:latest", "http://" + withTags + "/v1", "", "first chat model"},
		{"ollama with embedding models only", nil, embeddingsOnly, "", "", "", "", "no chat model"},
		{"nothing listens", nil, down, "", "", "", "", "OPENAI_API_KEY"},
		{"probe turned off", nil, "", "", "", "", "", "OPENAI_API_KEY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			got := Discover(context.Background(), getenv, c.ollamaAddr)
			if got.Source != c.wantSource || got.Config.Model != c.wantModel || got.Config.BaseURL != c.wantURL || got.Config.APIKey != c.wantKey {
				t.Errorf("got source %q model %q url %q key %q; want %q %q %q %q",
					got.Source, got.Config.Model, got.Config.BaseURL, got.Config.APIKey, c.wantSource, c.wantModel, c.wantURL, c.wantKey)
			}
			if !strings.Contains(got.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", got.Reason, c.reason)
			}
		})
	}
}

package fakellm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/texttosql/text2sql/test/fakellm"
)

// Wire-level checks of the fake itself, with a bare HTTP client.

func post(t *testing.T, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an API error body (%v): %s", err, b)
	}
	return e
}

const simpleRequest = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

func TestWireSuccessShape(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("SELECT 1"))
	resp, b := post(t, srv.URL()+"/chat/completions", "", `{"model":"m","messages":[
		{"role":"system","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"how "},{"type":"text","text":"many?"}]}],
		"stop":"\n\n","seed":7,"n":1}`)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var got struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "chat.completion" || got.Model != "m" || got.ID == "" || got.Created == 0 ||
		len(got.Choices) != 1 || got.Choices[0].Message.Role != "assistant" ||
		got.Choices[0].Message.Content != "SELECT 1" || got.Choices[0].FinishReason != "stop" {
		t.Errorf("response = %+v", got)
	}
	u := got.Usage
	if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	r := srv.Requests()[0]
	if r.Messages[1].Content != "how many?" || len(r.Stop) != 1 || r.Stop[0] != "\n\n" ||
		r.Seed == nil || *r.Seed != 7 || string(r.Body) == "" {
		t.Errorf("decoded request = %+v", r)
	}
}

func TestWireErrors(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Replies(), fakellm.WithAPIKey("k"))
	tests := []struct {
		name, path, key, body string
		status                int
		message               string
	}{
		{"no key", "/chat/completions", "", simpleRequest, 401, "Incorrect API key"},
		{"wrong key", "/chat/completions", "nope", simpleRequest, 401, "Incorrect API key"},
		{"bad JSON", "/chat/completions", "k", `{"model":`, 400, "could not parse the JSON body"},
		{"no model", "/chat/completions", "k", `{"messages":[{"role":"user","content":"x"}]}`, 400, "model parameter"},
		{"no messages", "/chat/completions", "k", `{"model":"m","messages":[]}`, 400, "messages"},
		{"bad role", "/chat/completions", "k", `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, 400, "robot"},
		{"stream", "/chat/completions", "k", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, 400, "stream"},
		{"script used up", "/chat/completions", "k", simpleRequest, 500, "no scripted reply left"},
		{"unknown path", "/completions", "k", simpleRequest, 404, "Invalid URL"},
	}
	for _, tt := range tests {
		resp, b := post(t, srv.URL()+tt.path, tt.key, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.status, b)
			continue
		}
		if e := decodeError(t, b); !strings.Contains(e.Error.Message, tt.message) {
			t.Errorf("%s: message %q, want it to contain %q", tt.name, e.Error.Message, tt.message)
		}
	}
	if e := func() errorBody {
		_, b := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
		return decodeError(t, b)
	}(); e.Error.Code != "invalid_api_key" {
		t.Errorf("401 code = %v", e.Error.Code)
	}
}

func TestWireModels(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("x"), fakellm.WithAPIKey("k"), fakellm.WithModels("a", "b"))
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/models", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != 2 || list.Data[1].ID != "b" || list.Data[0].Object != "model" {
		t.Errorf("models = %+v", list)
	}
}

func TestWireFaults(t *testing.T) {
	t.Parallel()
	t.Run("garbage", func(t *testing.T) {
		srv := fakellm.NewTest(t, fakellm.Garbage())
		resp, b := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
		if resp.StatusCode != 200 || json.Valid(b) {
			t.Errorf("status %d, body %s", resp.StatusCode, b)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		srv := fakellm.NewTest(t, fakellm.Truncated())
		resp, b := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
		if resp.StatusCode != 200 || json.Valid(b) || !strings.HasPrefix(string(b), `{"id":`) {
			t.Errorf("status %d, body %s", resp.StatusCode, b)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		srv := fakellm.NewTest(t, fakellm.Dropped(1, fakellm.Text("x")))
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(simpleRequest))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("dropped connection answered %d", resp.StatusCode)
		}
		if srv.Calls() != 1 {
			t.Errorf("calls = %d", srv.Calls())
		}
	})
	t.Run("retry after header", func(t *testing.T) {
		srv := fakellm.NewTest(t, fakellm.RateLimited(1, fakellm.RetryAfterSeconds(1500*time.Millisecond), fakellm.Text("x")))
		resp, b := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		decodeError(t, b)
		if resp, _ := post(t, srv.URL()+"/chat/completions", "", simpleRequest); resp.StatusCode != 200 {
			t.Errorf("second call status %d", resp.StatusCode)
		}
	})
}

// A slow reply stops when the client goes away, freeing the handler.
func TestSlowReplyRespectsDisconnect(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Slow(time.Hour, fakellm.Text("x")))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(simpleRequest))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return srv.InFlight() == 1 })
	cancel()
	<-done
	waitFor(t, func() bool { return srv.InFlight() == 0 })
}

func TestCloseEndsSlowReplies(t *testing.T) {
	t.Parallel()
	srv, err := fakellm.New(fakellm.Slow(time.Hour, fakellm.Text("x")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(simpleRequest))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, func() bool { return srv.InFlight() == 1 })
	srv.Close()
	if err := <-done; err == nil {
		t.Error("a reply delayed by an hour was answered after Close")
	}
}

func TestSetResponderAndQueue(t *testing.T) {
	t.Parallel()
	q := fakellm.Replies(fakellm.Reply{Content: "one"})
	srv := fakellm.NewTest(t, fakellm.Text("zero"))
	_, b := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
	srv.SetResponder(q)
	q.Push(fakellm.Reply{Content: "two", FinishReason: "length"})
	_, b1 := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
	_, b2 := post(t, srv.URL()+"/chat/completions", "", simpleRequest)
	for i, pair := range []struct {
		body []byte
		want string
	}{{b, `"content":"zero"`}, {b1, `"content":"one"`}, {b2, `"finish_reason":"length"`}} {
		if !strings.Contains(string(pair.body), pair.want) {
			t.Errorf("reply %d = %s, want %s", i, pair.body, pair.want)
		}
	}
	if q.Left() != 0 || srv.Calls() != 3 || len(srv.Requests()) != 3 {
		t.Errorf("left %d, calls %d, requests %d", q.Left(), srv.Calls(), len(srv.Requests()))
	}
}

package fakellm_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/llm"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/test/fakellm"
)

// These tests run the production client (llm over go-openai) over
// real HTTP against the fake. They assert outcomes, attempt counts and
// lower bounds on waiting, never upper bounds on time.

const testKey = "sk-test-7f3c9a1e5b2d4c6f8a0e"

var question = []llm.Message{
	{Role: llm.RoleSystem, Content: "Answer with one SQL query."},
	{Role: llm.RoleUser, Content: "How many orders were shipped?"},
}

// newClient returns a client for srv with fast backoff, so that any wait
// longer than a few milliseconds can only come from the server.
func newClient(t *testing.T, srv *fakellm.Server, mod func(*llm.Config), opts ...llm.Option) *llm.Client {
	t.Helper()
	cfg := llm.Config{
		BaseURL:    srv.URL(),
		Model:      "fake-model",
		APIKey:     testKey,
		Timeout:    10 * time.Second,
		MaxRetries: 3,
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantKind(t *testing.T, err error, kind llm.Kind, code codes.Code) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("kind = %q, want %q (error: %v)", e.Kind, kind, err)
	}
	if got := status.Code(server.ErrorStatus(context.Background(), err)); got != code {
		t.Fatalf("status code = %v, want %v", got, code)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Fatalf("error text holds the API key: %v", err)
	}
	return e
}

func TestSuccess(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Replies(fakellm.Reply{
		Content:          "```sql\nSELECT COUNT(*) FROM orders WHERE status = 'shipped';\n```",
		Model:            "fake-model-2024-06-01",
		PromptTokens:     120,
		CompletionTokens: 30,
	}), fakellm.WithAPIKey(testKey))
	c := newClient(t, srv, nil)

	comp, err := c.Complete(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	if comp.FinishReason != "stop" || comp.Model != "fake-model-2024-06-01" || comp.Attempts != 1 {
		t.Errorf("completion = %+v", comp)
	}
	if comp.Usage != (llm.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150}) {
		t.Errorf("usage = %+v", comp.Usage)
	}
	if comp.RequestID != "req_fake_1" {
		t.Errorf("request id = %q", comp.RequestID)
	}
	if sql, err := comp.SQL(); err != nil || sql != "SELECT COUNT(*) FROM orders WHERE status = 'shipped'" {
		t.Errorf("SQL() = %q, %v", sql, err)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if r.Model != "fake-model" || len(r.Messages) != 2 || r.Messages[0].Role != "system" ||
		r.Messages[1].Content != question[1].Content {
		t.Errorf("request = %+v", r)
	}
	// Temperature 0 must reach the server (not be dropped as a zero value).
	if r.Temperature == nil || *r.Temperature <= 0 || *r.Temperature > 1e-30 {
		t.Errorf("temperature = %v", r.Temperature)
	}
	if r.MaxTokens == nil || *r.MaxTokens != llm.DefaultMaxTokens || r.MaxCompletionTokens != nil {
		t.Errorf("max_tokens = %v, max_completion_tokens = %v", r.MaxTokens, r.MaxCompletionTokens)
	}
	if r.Stream {
		t.Error("request asked for a stream")
	}
}

func TestCallOptionsReachTheWire(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text(`{"sql": "SELECT 1"}`))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.UseMaxCompletionTokens = true })
	if _, err := c.Complete(context.Background(), question,
		llm.WithMaxTokens(77), llm.WithTemperature(0.7), llm.WithJSONObject()); err != nil {
		t.Fatal(err)
	}
	c2 := newClient(t, srv, func(cfg *llm.Config) { cfg.OmitTemperature = true })
	if _, err := c2.Complete(context.Background(), question); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests", len(reqs))
	}
	r := reqs[0]
	if r.MaxCompletionTokens == nil || *r.MaxCompletionTokens != 77 || r.MaxTokens != nil {
		t.Errorf("max_completion_tokens = %v, max_tokens = %v", r.MaxCompletionTokens, r.MaxTokens)
	}
	if r.Temperature == nil || math.Abs(*r.Temperature-0.7) > 1e-6 {
		t.Errorf("temperature = %v", r.Temperature)
	}
	if r.ResponseFormat != "json_object" {
		t.Errorf("response_format = %q", r.ResponseFormat)
	}
	if reqs[1].Temperature != nil {
		t.Errorf("temperature sent although omitted: %v", *reqs[1].Temperature)
	}
}

func TestRateLimitRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.RateLimited(1, "1", fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	start := time.Now()
	comp, err := c.Complete(context.Background(), question)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Attempts != 2 || srv.Calls() != 2 {
		t.Errorf("attempts = %d, server calls = %d, want 2", comp.Attempts, srv.Calls())
	}
	// Backoff alone is at most 5ms; only Retry-After explains a 1s wait.
	if elapsed < time.Second {
		t.Errorf("retried after %s, before the server's Retry-After of 1s", elapsed)
	}
}

func TestRateLimitRetryAfterDate(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	srv := fakellm.NewTest(t, fakellm.RateLimited(1, until.Format(http.TimeFormat), fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	if _, err := c.Complete(context.Background(), question); err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(until) {
		t.Errorf("returned at %s, before the server's Retry-After date %s", now.Format(time.RFC3339Nano), until)
	}
	if srv.Calls() != 2 {
		t.Errorf("server calls = %d, want 2", srv.Calls())
	}
}

func TestRateLimitRetryAfterMs(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Failing(2, fakellm.Reply{
		Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After-Ms": {"300"}, "Retry-After": {"30"}},
	}, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	start := time.Now()
	comp, err := c.Complete(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	// Two waits of 300ms (retry-after-ms wins over the coarser header).
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("elapsed %s, want at least 600ms", elapsed)
	}
	if comp.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", comp.Attempts)
	}
}

// A Retry-After longer than the caller's remaining time or than
// MaxRetryAfter ends the call at once with the rate-limit error.
func TestRateLimitRetryAfterTooLong(t *testing.T) {
	t.Parallel()
	t.Run("beyond caller deadline", func(t *testing.T) {
		t.Parallel()
		srv := fakellm.NewTest(t, fakellm.RateLimited(100, "30", fakellm.Text("SELECT 1")))
		c := newClient(t, srv, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Complete(ctx, question)
		e := wantKind(t, err, llm.KindRateLimited, codes.Unavailable)
		if e.RetryAfter != 30*time.Second || e.Attempts != 1 || srv.Calls() != 1 {
			t.Errorf("retry after %s, attempts %d, calls %d", e.RetryAfter, e.Attempts, srv.Calls())
		}
		if ctx.Err() != nil {
			t.Error("the call waited into the caller's deadline")
		}
	})
	t.Run("beyond MaxRetryAfter", func(t *testing.T) {
		t.Parallel()
		srv := fakellm.NewTest(t, fakellm.RateLimited(100, "120", fakellm.Text("SELECT 1")))
		c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetryAfter = 5 * time.Second })
		_, err := c.Complete(context.Background(), question)
		wantKind(t, err, llm.KindRateLimited, codes.Unavailable)
		if srv.Calls() != 1 {
			t.Errorf("calls = %d, want 1", srv.Calls())
		}
	})
}

func TestRateLimitExhaustedQuotaNotRetried(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Failing(100, fakellm.Reply{
		Status: http.StatusTooManyRequests,
		Error: &fakellm.APIError{Message: "You exceeded your current quota, please check your plan and billing details.",
			Type: "insufficient_quota", Code: "insufficient_quota"},
	}, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindRateLimited, codes.Unavailable)
	if e.Code != "insufficient_quota" || srv.Calls() != 1 {
		t.Errorf("code %q, calls %d", e.Code, srv.Calls())
	}
}

func TestRateLimitedAfterRetries(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.RateLimited(100, "", fakellm.Text("SELECT 1")))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 2 })
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindRateLimited, codes.Unavailable)
	if e.Attempts != 3 || srv.Calls() != 3 || e.StatusCode != http.StatusTooManyRequests {
		t.Errorf("attempts %d, calls %d, status %d", e.Attempts, srv.Calls(), e.StatusCode)
	}
}

func TestServerErrorBurstRecovered(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 504, http.StatusConflict, http.StatusRequestTimeout} {
		srv := fakellm.NewTest(t, fakellm.ServerErrors(2, status, fakellm.Text("SELECT 1")))
		c := newClient(t, srv, nil)
		comp, err := c.Complete(context.Background(), question)
		if err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
		if comp.Attempts != 3 || srv.Calls() != 3 || comp.Text != "SELECT 1" {
			t.Errorf("status %d: attempts %d, calls %d, text %q", status, comp.Attempts, srv.Calls(), comp.Text)
		}
	}
}

func TestServerErrorForever(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.ServerErrors(1000, http.StatusBadGateway, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 4 })
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindServerError, codes.Unavailable)
	if e.Attempts != 5 || srv.Calls() != 5 || e.StatusCode != http.StatusBadGateway {
		t.Errorf("attempts %d, calls %d, status %d", e.Attempts, srv.Calls(), e.StatusCode)
	}
	if e.RequestID != "req_fake_5" {
		t.Errorf("request id %q, want the last attempt's", e.RequestID)
	}
	if !e.Retryable() {
		t.Error("a 502 should be retryable")
	}
}

func TestNoRetries(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.ServerErrors(1000, 500, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = llm.NoRetries })
	_, err := c.Complete(context.Background(), question)
	wantKind(t, err, llm.KindServerError, codes.Unavailable)
	if srv.Calls() != 1 {
		t.Errorf("calls = %d, want 1", srv.Calls())
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		kind   llm.Kind
	}{
		{http.StatusBadRequest, llm.KindBadRequest},
		{http.StatusNotFound, llm.KindBadRequest},
		{http.StatusRequestEntityTooLarge, llm.KindBadRequest},
		{http.StatusUnprocessableEntity, llm.KindBadRequest},
		{http.StatusUnauthorized, llm.KindAuth},
		{http.StatusForbidden, llm.KindAuth},
	}
	for _, tt := range tests {
		srv := fakellm.NewTest(t, fakellm.ServerErrors(1000, tt.status, fakellm.Text("SELECT 1")))
		c := newClient(t, srv, nil)
		_, err := c.Complete(context.Background(), question)
		e := wantKind(t, err, tt.kind, codes.Internal)
		if srv.Calls() != 1 || e.StatusCode != tt.status || e.Retryable() {
			t.Errorf("status %d: calls %d, got status %d, retryable %v", tt.status, srv.Calls(), e.StatusCode, e.Retryable())
		}
	}
}

func TestUpstreamMessageKept(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Replies(fakellm.Reply{Status: 400, Error: &fakellm.APIError{
		Message: "This model's maximum context length is 8192 tokens.", Type: "invalid_request_error",
		Param: "messages", Code: "context_length_exceeded"}}))
	c := newClient(t, srv, nil)
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindBadRequest, codes.Internal)
	if e.Code != "context_length_exceeded" || e.Type != "invalid_request_error" ||
		!strings.Contains(e.Message, "maximum context length") {
		t.Errorf("error = %+v", e)
	}
}

func TestWrongAPIKey(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("SELECT 1"), fakellm.WithAPIKey("sk-the-right-one"))
	var logs bytes.Buffer
	c := newClient(t, srv, nil, llm.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := c.Complete(context.Background(), question)
	wantKind(t, err, llm.KindAuth, codes.Internal)
	if srv.Calls() != 1 {
		t.Errorf("calls = %d, want 1", srv.Calls())
	}
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("logs hold the API key: %s", logs.String())
	}
}

// An upstream that echoes the key back (some proxies do, partly masked or
// not) must not get it into errors or logs.
func TestAPIKeyNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	echo := fakellm.ResponderFunc(func(_ context.Context, r *fakellm.Request) fakellm.Reply {
		return fakellm.Reply{Status: http.StatusServiceUnavailable, Error: &fakellm.APIError{
			Message: "upstream rejected credentials " + r.Header.Get("Authorization"), Type: "server_error"}}
	})
	srv := fakellm.NewTest(t, echo)
	var logs bytes.Buffer
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 2 },
		llm.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindServerError, codes.Unavailable)
	if strings.Contains(e.Message, testKey) {
		t.Errorf("message holds the key: %q", e.Message)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry was logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("logs hold the API key: %s", logs.String())
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	// The first answer takes far longer than the per-attempt timeout.
	srv := fakellm.NewTest(t, fakellm.Failing(1, fakellm.Reply{Content: "SELECT 'late'", Delay: time.Minute},
		fakellm.Text("SELECT 'on time'")))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.Timeout = 300 * time.Millisecond })
	comp, err := c.Complete(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Text != "SELECT 'on time'" || comp.Attempts != 2 {
		t.Errorf("text %q, attempts %d", comp.Text, comp.Attempts)
	}
}

func TestAttemptTimeoutForever(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Slow(time.Minute, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, func(cfg *llm.Config) {
		cfg.Timeout = 100 * time.Millisecond
		cfg.MaxRetries = 2
	})
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindTimeout, codes.Unavailable)
	if e.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", e.Attempts)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Error("an attempt timeout must not look like the caller's deadline")
	}
}

func TestCallerDeadline(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Slow(time.Minute, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil) // attempt timeout 10s: the caller's deadline comes first
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Complete(ctx, question)
	wantKind(t, err, llm.KindDeadlineExceeded, codes.DeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
}

func TestCallerDeadlineDuringBackoff(t *testing.T) {
	t.Parallel()
	// The server asks for 2s; the caller has ~1s: the client must not
	// start waiting, and reports the upstream's refusal.
	srv := fakellm.NewTest(t, fakellm.RateLimited(100, "2", fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.Complete(ctx, question)
	wantKind(t, err, llm.KindRateLimited, codes.Unavailable)
	// Already ended caller context: no attempt at all.
	done, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	<-done.Done()
	before := srv.Calls()
	_, err = c.Complete(done, question)
	wantKind(t, err, llm.KindDeadlineExceeded, codes.DeadlineExceeded)
	if srv.Calls() != before {
		t.Error("a call with an expired context reached the server")
	}
}

func TestCallerCancel(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Slow(time.Minute, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.InFlight() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Complete(ctx, question)
	wantKind(t, err, llm.KindCanceled, codes.Canceled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestBadResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    fakellm.Responder
	}{
		{"garbage", fakellm.Garbage()},
		{"truncated JSON", fakellm.Truncated()},
		{"no choices", fakellm.NoChoices()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakellm.NewTest(t, tt.r)
			c := newClient(t, srv, nil)
			_, err := c.Complete(context.Background(), question)
			e := wantKind(t, err, llm.KindBadResponse, codes.Unavailable)
			if srv.Calls() != 1 || e.StatusCode != http.StatusOK {
				t.Errorf("calls %d, status %d", srv.Calls(), e.StatusCode)
			}
		})
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("SELECT '"+strings.Repeat("x", 10_000)+"'"))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxResponseBytes = 4096 })
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindBadResponse, codes.Unavailable)
	if !strings.Contains(e.Message, "larger than 4096") {
		t.Errorf("message = %q", e.Message)
	}
}

func TestDroppedConnectionRetried(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Dropped(2, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, nil)
	comp, err := c.Complete(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Attempts != 3 || srv.Calls() != 3 {
		t.Errorf("attempts %d, calls %d, want 3", comp.Attempts, srv.Calls())
	}
}

func TestDroppedConnectionForever(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Dropped(1000, fakellm.Text("SELECT 1")))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 2 })
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindUnavailable, codes.Unavailable)
	if e.Attempts != 3 || e.StatusCode != 0 {
		t.Errorf("attempts %d, status %d", e.Attempts, e.StatusCode)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("SELECT 1"))
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxRetries = 2 })
	srv.Close() // nothing listens on the port any more
	_, err := c.Complete(context.Background(), question)
	e := wantKind(t, err, llm.KindUnavailable, codes.Unavailable)
	if e.Attempts != 3 {
		t.Errorf("attempts = %d, want 3", e.Attempts)
	}
}

func TestInvalidMessagesNeverSent(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Text("SELECT 1"))
	c := newClient(t, srv, nil)
	for _, msgs := range [][]llm.Message{nil, {{Role: "robot", Content: "hi"}}} {
		_, err := c.Complete(context.Background(), msgs)
		wantKind(t, err, llm.KindBadRequest, codes.Internal)
	}
	_, err := c.Complete(context.Background(), question, llm.WithTemperature(3))
	wantKind(t, err, llm.KindBadRequest, codes.Internal)
	if srv.Calls() != 0 {
		t.Errorf("calls = %d, want 0", srv.Calls())
	}
}

// gate holds every request until released, so the test controls how
// many are in flight.
type gate struct {
	release chan struct{}
}

func (g *gate) Respond(ctx context.Context, _ *fakellm.Request) fakellm.Reply {
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return fakellm.Reply{Content: "SELECT 1"}
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	const limit, calls = 2, 6
	g := &gate{release: make(chan struct{})}
	srv := fakellm.NewTest(t, g)
	reg := prometheus.NewRegistry()
	c := newClient(t, srv, func(cfg *llm.Config) { cfg.MaxConcurrency = limit }, llm.WithRegisterer(reg))

	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			_, err := c.Complete(context.Background(), question)
			errs <- err
		})
	}
	waitFor(t, func() bool { return srv.InFlight() >= limit })
	// Give a broken limiter the chance to let more through.
	time.Sleep(100 * time.Millisecond)
	if got := srv.InFlight(); got != limit {
		t.Errorf("in flight at the server = %d, want %d", got, limit)
	}
	if got := gaugeValue(t, reg, llm.MetricInFlight); got != limit {
		t.Errorf("in-flight gauge = %v, want %d", got, limit)
	}

	// A call waiting for a slot gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := c.Complete(ctx, question)
	cancel()
	wantKind(t, err, llm.KindDeadlineExceeded, codes.DeadlineExceeded)

	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if srv.MaxInFlight() != limit {
		t.Errorf("max in flight at the server = %d, want %d", srv.MaxInFlight(), limit)
	}
	if srv.Calls() != calls {
		t.Errorf("server calls = %d, want %d", srv.Calls(), calls)
	}
	if got := gaugeValue(t, reg, llm.MetricInFlight); got != 0 {
		t.Errorf("in-flight gauge after the calls = %v", got)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := fakellm.NewTest(t, fakellm.Replies(
		fakellm.Reply{Status: http.StatusTooManyRequests},
		fakellm.Reply{Status: http.StatusServiceUnavailable},
		fakellm.Reply{Content: "SELECT 1", PromptTokens: 100, CompletionTokens: 7},
		fakellm.Reply{Content: "SELECT 2", PromptTokens: 50, CompletionTokens: 3},
		fakellm.Reply{Fault: fakellm.FaultGarbage},
	))
	reg := prometheus.NewRegistry()
	c := newClient(t, srv, nil, llm.WithRegisterer(reg))
	// A second client on the same registry shares the collectors.
	if _, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "other"}, llm.WithRegisterer(reg)); err != nil {
		t.Fatalf("second client on one registry: %v", err)
	}
	for i := 0; i < 3; i++ {
		_, _ = c.Complete(context.Background(), question)
	}

	expected := `
# HELP text2sql_llm_errors_total LLM completion calls that failed, by kind of failure.
# TYPE text2sql_llm_errors_total counter
text2sql_llm_errors_total{kind="bad_response"} 1
# HELP text2sql_llm_retries_total LLM attempts retried, by kind of the failure that caused the retry.
# TYPE text2sql_llm_retries_total counter
text2sql_llm_retries_total{kind="rate_limited"} 1
text2sql_llm_retries_total{kind="server_error"} 1
# HELP text2sql_llm_tokens_total Tokens reported by the LLM endpoint, by type.
# TYPE text2sql_llm_tokens_total counter
text2sql_llm_tokens_total{type="completion"} 10
text2sql_llm_tokens_total{type="prompt"} 150
# HELP text2sql_llm_in_flight LLM completion calls holding a concurrency slot.
# TYPE text2sql_llm_in_flight gauge
text2sql_llm_in_flight 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected),
		llm.MetricErrors, llm.MetricRetries, llm.MetricTokens, llm.MetricInFlight); err != nil {
		t.Error(err)
	}
	counts := map[string]uint64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != llm.MetricCallDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	if counts["ok"] != 2 || counts["bad_response"] != 1 {
		t.Errorf("call duration samples by outcome = %v", counts)
	}
}

// gaugeValue reads an unlabelled gauge from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("gauge %s not found", name)
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package llm

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestErrorText(t *testing.T) {
	e := &Error{Kind: KindRateLimited, StatusCode: 429, Code: "rate_limit_exceeded", Message: "slow down", Attempts: 4}
	want := "llm: rate_limited (HTTP 429) [rate_limit_exceeded]: slow down (after 4 attempts)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &Error{Kind: KindUnavailable, Err: io.EOF}
	if got := e.Error(); got != "llm: unavailable: EOF" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, io.EOF) {
		t.Error("Error does not unwrap to its cause")
	}
}

func TestRedactAndClip(t *testing.T) {
	if got := redact("key sk-123 and sk-123 again", "sk-123"); strings.Contains(got, "sk-123") {
		t.Errorf("redact left the secret: %q", got)
	}
	if got := redact("nothing", ""); got != "nothing" {
		t.Errorf("redact with no secret changed text: %q", got)
	}
	if got := clip("  héllo wörld  ", 2); got != "h…" {
		t.Errorf("clip cut inside a rune or kept spaces: %q", got)
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip = %q", got)
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c, err := New(Config{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	if got.BaseURL != DefaultBaseURL || got.Timeout != DefaultTimeout || got.MaxRetries != DefaultMaxRetries ||
		got.MaxConcurrency != DefaultMaxConcurrency || got.MaxTokens != DefaultMaxTokens {
		t.Errorf("defaults not applied: %+v", got)
	}
	if c, _ := New(Config{Model: "m", MaxRetries: NoRetries}); c.Config().MaxRetries != 0 {
		t.Errorf("NoRetries gave %d retries", c.Config().MaxRetries)
	}
	bad := []Config{
		{},
		{Model: "m", BaseURL: "ftp://host/v1"},
		{Model: "m", BaseURL: "http://"},
		{Model: "m", BaseURL: "http://host\x7f/v1"},
		{Model: "m", Temperature: 2.5},
		{Model: "m", MaxTokens: -1},
		{Model: "m", MinBackoff: time.Second, MaxBackoff: time.Millisecond},
		{Model: "m", Timeout: -time.Second},
		{Model: "m", MaxConcurrency: -2},
	}
	for _, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
	// A URL with credentials in it must not be echoed in the error.
	_, err = New(Config{Model: "m", BaseURL: "http://user:s3cret@host\x7f/v1"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error = %v", err)
	}
}

func TestLimitedBody(t *testing.T) {
	read := func(body string, limit int64) (string, error) {
		b := &limitedBody{rc: io.NopCloser(strings.NewReader(body)), left: limit}
		out, err := io.ReadAll(b)
		return string(out), err
	}
	if got, err := read("12345", 5); err != nil || got != "12345" {
		t.Errorf("body at the limit: %q, %v", got, err)
	}
	if _, err := read("123456", 5); !errors.Is(err, errResponseTooLarge) {
		t.Errorf("body over the limit: err = %v", err)
	}
}

func TestReasoningModelConfig(t *testing.T) {
	// OpenAI reasoning models reject max_tokens and a temperature.
	if _, err := New(Config{Model: "o3-mini"}); err == nil {
		t.Error("o3-mini with max_tokens and temperature accepted")
	}
	if _, err := New(Config{Model: "o3-mini", UseMaxCompletionTokens: true, OmitTemperature: true}); err != nil {
		t.Errorf("o3-mini with max_completion_tokens and no temperature: %v", err)
	}
}

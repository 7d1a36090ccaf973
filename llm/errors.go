package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies why a call failed.
type Kind string

// Kinds of failure. Retryable kinds are retried by the Client before the
// error reaches the caller; the error a caller sees carries the kind of
// the last attempt.
const (
	// KindRateLimited: HTTP 429 (retryable unless the quota is exhausted).
	KindRateLimited Kind = "rate_limited"
	// KindServerError: HTTP 5xx, 409 (retryable).
	KindServerError Kind = "server_error"
	// KindTimeout: an attempt hit Config.Timeout, or the server answered
	// 408 (retryable).
	KindTimeout Kind = "timeout"
	// KindUnavailable: no HTTP answer at all: connection refused, DNS
	// failure, connection reset or closed before a response (retryable).
	KindUnavailable Kind = "unavailable"
	// KindBadRequest: the endpoint rejected the request (4xx other than
	// 401/403/408/409/429): unknown model, prompt too long, bad parameter.
	KindBadRequest Kind = "bad_request"
	// KindAuth: HTTP 401/403, the API key is missing, wrong or lacks access.
	KindAuth Kind = "auth"
	// KindBadResponse: a 2xx answer that is not a usable completion:
	// not JSON, truncated JSON, no choices, or too large.
	KindBadResponse Kind = "bad_response"
	// KindCanceled: the caller's context was canceled.
	KindCanceled Kind = "canceled"
	// KindDeadlineExceeded: the caller's context deadline passed.
	KindDeadlineExceeded Kind = "deadline_exceeded"
)

// Error is the error every failed Client.Complete returns. It wraps the
// underlying cause, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) hold for caller-side endings.
type Error struct {
	Kind Kind
	// StatusCode is the HTTP status of the last attempt (0 when there was
	// no HTTP answer).
	StatusCode int
	// Code and Type are the upstream error's "code" and "type" fields
	// (e.g. "insufficient_quota", "invalid_request_error"), when sent.
	Code string
	Type string
	// Message is the upstream message, trimmed and with the API key
	// removed.
	Message string
	// RequestID is the upstream x-request-id of the last attempt, for
	// reports to the provider.
	RequestID string
	// RetryAfter is what the server asked to wait, if it said so.
	RetryAfter time.Duration
	// Attempts is the number of HTTP attempts made.
	Attempts int
	// Err is the underlying cause (may be nil).
	Err error

	retryable bool
	causeText string // Err's text, redacted, computed once
}

// Error describes the failure without secrets or prompt text.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("llm: ")
	b.WriteString(string(e.Kind))
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.causeText != "":
		b.WriteString(": ")
		b.WriteString(e.causeText)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another attempt could succeed.
func (e *Error) Retryable() bool { return e.retryable }

// KindOf returns the Kind of err, or "" when err is not from this package.
// Context errors that did not pass through the Client map to
// KindCanceled / KindDeadlineExceeded.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, context.DeadlineExceeded):
		return KindDeadlineExceeded
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return ""
}

// redact removes the secret from text that came from outside (an
// upstream error body or a transport error may echo it).
func redact(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

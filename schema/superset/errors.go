package superset

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

var (
	// ErrUserUnauthenticated means Superset rejected an end user's token
	// (expired, malformed or unknown): the caller should map it to
	// UNAUTHENTICATED.
	ErrUserUnauthenticated = errors.New("superset rejected the user's token")
	// ErrUserForbidden means the user's token is valid but lacks the
	// permission to list datasets: map it to PERMISSION_DENIED.
	ErrUserForbidden = errors.New("superset denied the user access to datasets")
	// ErrAuth means Superset rejected the service account's credentials or
	// API key; retrying will not help until the configuration changes.
	ErrAuth = errors.New("superset rejected the service credentials")
)

// StatusError is a non-2xx answer from Superset. Its message never holds a
// token or password: bodies are reduced to Superset's own error message and
// scrubbed of every secret the client knows.
type StatusError struct {
	Method string
	// Path is the request path without its query string.
	Path string
	// Status is the HTTP status code.
	Status int
	// Message is Superset's error message, if the body carried one.
	Message string
	// RetryAfter is the wait a 429 or 503 asked for (0 when none).
	RetryAfter time.Duration

	authFailure bool // a 401, or a JWT error (flask-jwt-extended answers 422 with "msg")
	csrfFailure bool
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("superset: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// As lets backoff.Retry see a Retry-After wait without losing this error.
func (e *StatusError) As(target any) bool {
	if t, ok := target.(**backoff.RetryAfterError); ok && e.RetryAfter > 0 {
		*t = &backoff.RetryAfterError{Duration: e.RetryAfter}
		return true
	}
	return false
}

// NotFound reports whether err is a 404 from Superset.
func NotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// retryable reports whether another attempt may succeed.
func (e *StatusError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// errorBody is the union of the error shapes Superset emits: FAB's
// {"message": …} (a string or a field→errors object), flask-jwt-extended's
// {"msg": …}, and Superset's SIP-40 {"errors": [{"message": …}]}.
type errorBody struct {
	Message json.RawMessage `json:"message"`
	Msg     string          `json:"msg"`
	Errors  []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

const maxMessage = 300

// newStatusError builds the error for a failed response; body is at most a
// few KiB of the response.
func newStatusError(method, path string, status int, header http.Header, body []byte, redact func(string) string) *StatusError {
	e := &StatusError{Method: method, Path: path, Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		var parts []string
		if len(eb.Message) > 0 {
			var s string
			if json.Unmarshal(eb.Message, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(eb.Message))
			}
		}
		if eb.Msg != "" {
			parts = append(parts, eb.Msg)
		}
		for _, m := range eb.Errors {
			if m.Message != "" {
				parts = append(parts, m.Message)
			}
		}
		e.Message = strings.Join(parts, "; ")
		// flask-jwt-extended reports a malformed or badly signed token as
		// 422 {"msg": …}; FAB's own 422s use "message".
		e.authFailure = status == http.StatusUnauthorized || (status == http.StatusUnprocessableEntity && eb.Msg != "")
	} else {
		e.authFailure = status == http.StatusUnauthorized
	}
	e.csrfFailure = status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "csrf")
	e.Message = redact(e.Message)
	if len(e.Message) > maxMessage {
		e.Message = e.Message[:maxMessage] + "…"
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"))
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

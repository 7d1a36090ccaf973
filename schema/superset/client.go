package superset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	json "github.com/segmentio/encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Client talks to one Superset. It is safe for concurrent use; every call
// takes a context, and at most Config.MaxConcurrency calls are in flight.
type Client struct {
	cfg     Config
	http    *http.Client
	log     *slog.Logger
	sem     *semaphore.Weighted
	rate    *rate.Limiter
	auth    *tokenSource
	csrf    *csrfState
	meta    metadataEndpoint
	metrics *clientMetrics
	// fullDetail is set once Superset is seen to ignore q.columns on the
	// dataset detail.
	fullDetail atomic.Bool
}

// New builds a client; it does not contact Superset (the first call logs in).
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps 2 idle connections per host, which would make a
		// parallel sync reconnect for almost every call.
		tr.MaxIdleConnsPerHost = cfg.MaxConcurrency
		tr.MaxConnsPerHost = 0
		hc = &http.Client{
			Transport: tr,
			// A redirect means a wrong base URL (http→https, a login page):
			// report it instead of following it with the bearer token.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	m, err := newClientMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:     cfg,
		http:    hc,
		log:     cfg.Logger.With("component", "superset"),
		sem:     semaphore.NewWeighted(int64(cfg.MaxConcurrency)),
		rate:    rate.NewLimiter(rate.Inf, 0),
		metrics: m,
	}
	if cfg.MaxRate > 0 {
		c.rate = rate.NewLimiter(rate.Limit(cfg.MaxRate), max(1, int(math.Ceil(cfg.MaxRate))))
	}
	c.auth = newTokenSource(c)
	c.csrf = &csrfState{}
	return c, nil
}

// Close releases idle connections. The client stays usable.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Config returns the configuration in effect (defaults filled in).
func (c *Client) Config() Config { return c.cfg }

// authMode says which credentials a request carries.
type authMode int

const (
	authService authMode = iota // the service account's access token or API key
	authNone                    // login itself
	authBearer                  // an explicit token (refresh token, an end user's token)
)

type request struct {
	op     string // short name for logs and metrics: "dataset_list", …
	method string
	path   string // below BaseURL, e.g. /api/v1/dataset/
	query  url.Values
	body   any
	auth   authMode
	bearer string // for authBearer
	// user marks an end user's token: auth failures become
	// ErrUserUnauthenticated and are never retried with other credentials.
	user bool
	// header, when set, sees the headers of a 2xx response.
	header func(http.Header)
}

// do sends req, retrying retryable failures with exponential backoff and
// jitter, and decodes a 2xx JSON body into out (when not nil).
func (c *Client) do(ctx context.Context, req request, out any) error {
	var last error
	b := &backoff.ExponentialBackOff{
		InitialInterval:     200 * time.Millisecond,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         10 * time.Second,
	}
	attempt := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := c.attemptWithReauth(ctx, req, out)
		if err == nil {
			return struct{}{}, nil
		}
		last = err
		if !retryable(ctx, err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.cfg.Retries+1)),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.metrics.retries.WithLabelValues(req.op).Inc()
			c.log.LogAttrs(ctx, slog.LevelWarn, "superset call failed, retrying",
				slog.String("op", req.op), slog.String("path", req.path),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		}),
	)
	if err != nil && last != nil && !errors.Is(err, last) && ctx.Err() != nil {
		// Retry gave up on the context; keep the reason the calls failed.
		return fmt.Errorf("%w (last error: %v)", err, last)
	}
	return err
}

// retryable: 5xx, 429 and transport errors are; 4xx and our own context
// ending are not.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.retryable()
	}
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrUserUnauthenticated) || errors.Is(err, ErrUserForbidden) {
		return false
	}
	var de *decodeError
	if errors.As(err, &de) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		// context.DeadlineExceeded here is the per-attempt timeout, since
		// the caller's context is still live.
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// attemptWithReauth makes one attempt; after an auth failure with the
// service credentials it logs in again and repeats once, and after a CSRF
// failure it fetches a new CSRF token and repeats once. No loops.
func (c *Client) attemptWithReauth(ctx context.Context, req request, out any) error {
	reauthed, recsrf := false, false
	for {
		used, err := c.attempt(ctx, req, out)
		var se *StatusError
		if err == nil || !errors.As(err, &se) {
			return err
		}
		switch {
		case se.authFailure && req.user:
			return fmt.Errorf("%w (%d %s)", ErrUserUnauthenticated, se.Status, http.StatusText(se.Status))
		case se.Status == http.StatusForbidden && req.user:
			return fmt.Errorf("%w (%d)", ErrUserForbidden, se.Status)
		case se.authFailure && req.auth == authService && !reauthed:
			reauthed = true
			c.log.LogAttrs(ctx, slog.LevelInfo, "superset rejected the access token; authenticating again",
				slog.String("op", req.op), slog.Int("status", se.Status))
			if err := c.auth.renew(ctx, used); err != nil {
				return err
			}
			c.csrf.reset()
			continue
		case se.authFailure && req.auth == authService:
			return fmt.Errorf("%w: %v", ErrAuth, err)
		case se.csrfFailure && isMutation(req.method) && !recsrf:
			recsrf = true
			c.csrf.reset()
			continue
		}
		return err
	}
}

func isMutation(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete
}

// attempt sends one HTTP request. It returns the bearer token it used so an
// auth failure renews only that token (not one another call already renewed).
func (c *Client) attempt(ctx context.Context, req request, out any) (used string, err error) {
	var body []byte
	if req.body != nil {
		if body, err = json.Marshal(req.body); err != nil {
			return "", fmt.Errorf("superset: encoding %s body: %w", req.op, err)
		}
	}
	switch req.auth {
	case authService:
		if used, err = c.auth.token(ctx); err != nil {
			return "", err
		}
	case authBearer:
		used = req.bearer
	}
	var csrf *csrfToken
	if req.auth == authService && isMutation(req.method) {
		// Superset's APIs check CSRF on every mutating call, bearer or not.
		if csrf, err = c.csrfToken(ctx, used); err != nil {
			return used, err
		}
	}

	// Tokens and CSRF are fetched before taking a slot, so a login never
	// waits behind the calls that are waiting for it. The rate budget is
	// waited for before the slot, so a waiting call holds no slot.
	if err := c.rate.Wait(ctx); err != nil {
		return used, fmt.Errorf("superset: %s: rate budget of %v calls/s: %w", req.op, c.cfg.MaxRate, err)
	}
	if err := c.sem.Acquire(ctx, 1); err != nil {
		return used, err
	}
	defer c.sem.Release(1)

	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.cfg.BaseURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(actx, req.method, u, rd)
	if err != nil {
		return used, fmt.Errorf("superset: building %s request: %w", req.op, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if used != "" {
		hr.Header.Set("Authorization", "Bearer "+used)
	}
	if csrf != nil {
		hr.Header.Set("X-CSRFToken", csrf.token)
		hr.Header.Set("Referer", c.cfg.BaseURL+"/")
		for _, ck := range csrf.cookies {
			hr.AddCookie(ck)
		}
	}
	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		c.metrics.observe(req.op, "error", time.Since(start))
		return used, c.transportError(req, err)
	}
	defer resp.Body.Close()
	c.metrics.observe(req.op, strconv.Itoa(resp.StatusCode), time.Since(start))
	c.log.LogAttrs(ctx, slog.LevelDebug, "superset call",
		slog.String("op", req.op), slog.String("method", req.method), slog.String("path", req.path),
		slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		se := newStatusError(req.method, req.path, resp.StatusCode, resp.Header, snippet, c.redactor(req))
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			se.Message = "redirected to " + redactLocation(resp.Header.Get("Location")) + "; check the base URL"
		}
		if se.RetryAfter > c.cfg.MaxRetryAfter {
			se.RetryAfter = c.cfg.MaxRetryAfter
		}
		return used, se
	}
	if req.header != nil {
		req.header(resp.Header)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return used, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return used, fmt.Errorf("superset: %s %s: reading response: %w", req.method, req.path, context.DeadlineExceeded)
		}
		var ne net.Error
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
			// The connection broke mid-answer: worth another attempt.
			return used, &transportError{method: req.method, path: req.path, err: err}
		}
		return used, &decodeError{op: req.op, path: req.path, err: err}
	}
	// Read to EOF so the connection goes back to the pool instead of being
	// closed (and redialled for the next call).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return used, nil
}

// transportError wraps a failed round trip without the URL's query string.
func (c *Client) transportError(req request, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &transportError{method: req.method, path: req.path, err: err}
}

type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("superset: %s %s: %v", e.method, e.path, e.err)
}
func (e *transportError) Unwrap() error { return e.err }

// Timeout lets retryable treat it as a net.Error.
func (e *transportError) Timeout() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}
func (e *transportError) Temporary() bool { return true }

type decodeError struct {
	op, path string
	err      error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("superset: %s: decoding response of %s: %v", e.op, e.path, e.err)
}
func (e *decodeError) Unwrap() error { return e.err }

// redactor removes every secret this request could have exposed from text
// that came back from the server.
func (c *Client) redactor(req request) func(string) string {
	secrets := c.auth.secrets()
	if req.bearer != "" {
		secrets = append(secrets, req.bearer)
	}
	return func(s string) string {
		for _, sec := range secrets {
			if sec != "" {
				s = strings.ReplaceAll(s, sec, "[redacted]")
			}
		}
		return s
	}
}

func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparsable location)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

type clientMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	retries  *prometheus.CounterVec
}

func newClientMetrics(reg prometheus.Registerer) (*clientMetrics, error) {
	m := &clientMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "text2sql", Subsystem: "superset", Name: "requests_total",
			Help: "Calls to the Superset API by operation and HTTP status (\"error\" when no response came back).",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "text2sql", Subsystem: "superset", Name: "request_duration_seconds",
			Help:    "Duration of one Superset API call attempt.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"op"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "text2sql", Subsystem: "superset", Name: "retries_total",
			Help: "Superset API calls retried after a 5xx, 429 or connection error.",
		}, []string{"op"}),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.requests, m.duration, m.retries} {
			if err := reg.Register(col); err != nil {
				return nil, fmt.Errorf("superset: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *clientMetrics) observe(op, code string, d time.Duration) {
	m.requests.WithLabelValues(op, code).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

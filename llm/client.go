package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/semaphore"
)

// Role is the author of a chat message.
type Role string

// Chat roles understood by every OpenAI-compatible endpoint.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one chat message of a prompt.
type Message struct {
	Role    Role
	Content string
}

// Usage is the token accounting the endpoint reported.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

// Completion is a successful answer.
type Completion struct {
	// Text is the content of the first choice, unmodified.
	Text string
	// FinishReason as sent: "stop", "length" (hit the token cap; Text is
	// cut), "content_filter", ...
	FinishReason string
	// Model is the model that answered, as the endpoint names it.
	Model string
	Usage Usage
	// Attempts is the number of HTTP attempts, 1 when no retry was needed.
	Attempts int
	// Latency is the whole call: waiting for a slot, attempts and backoff.
	Latency time.Duration
	// QueueWait is the part of Latency spent waiting for a slot.
	QueueWait time.Duration
	// RequestID is the endpoint's x-request-id, when it sends one.
	RequestID string
}

// Truncated reports whether the model stopped at the token cap, so the
// text is likely cut short.
func (c *Completion) Truncated() bool { return c.FinishReason == string(openai.FinishReasonLength) }

// Option configures a Client beyond its Config.
type Option func(*options)

type options struct {
	reg        prometheus.Registerer
	httpClient *http.Client
	logger     *slog.Logger
}

// WithRegisterer registers the client's metrics (see the Metric*
// constants) with reg. Without it the metrics are not exported.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// WithHTTPClient sets the HTTP client (for a custom transport, proxy or
// TLS setup). Its Timeout should be zero: Config.Timeout bounds each
// attempt instead.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithLogger sets where retries are logged (default: nowhere). Logs never
// hold the API key or message contents.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// CallOption adjusts one Complete call.
type CallOption func(*callOptions)

type callOptions struct {
	maxTokens   int
	temperature *float32
	jsonObject  bool
}

// WithMaxTokens overrides Config.MaxTokens for one call.
func WithMaxTokens(n int) CallOption {
	return func(o *callOptions) { o.maxTokens = n }
}

// WithTemperature overrides Config.Temperature for one call (e.g. to
// sample a different answer on a repair attempt).
func WithTemperature(t float32) CallOption {
	return func(o *callOptions) { o.temperature = &t }
}

// WithJSONObject asks for response_format {"type": "json_object"}; the
// prompt must then ask for JSON, as the API requires.
func WithJSONObject() CallOption {
	return func(o *callOptions) { o.jsonObject = true }
}

// Client calls one model on one OpenAI-compatible endpoint. It is safe
// for concurrent use.
type Client struct {
	cfg     Config
	api     *openai.Client
	sem     *semaphore.Weighted
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time
}

// New checks cfg (after applying defaults) and builds a Client.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = newHTTPClient(cfg.MaxConcurrency)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.reg)
	if err != nil {
		return nil, fmt.Errorf("llm: registering metrics: %w", err)
	}
	c := &Client{cfg: cfg}
	sample, berr := c.request([]Message{{Role: RoleUser, Content: "x"}}, callOptions{})
	if berr == nil {
		// go-openai refuses some parameter sets for reasoning models
		// (max_tokens, temperature); say so now rather than on every call.
		if err := openai.NewReasoningValidator().Validate(sample); err != nil {
			return nil, fmt.Errorf("llm: invalid config for model %q: %w (see UseMaxCompletionTokens, OmitTemperature)", cfg.Model, err)
		}
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = cfg.BaseURL
	oc.HTTPClient = &captureDoer{client: o.httpClient, maxBody: cfg.MaxResponseBytes}
	c.api = openai.NewClientWithConfig(oc)
	c.sem = semaphore.NewWeighted(int64(cfg.MaxConcurrency))
	c.metrics = m
	c.log = o.logger
	c.now = time.Now
	return c, nil
}

// Config returns the effective configuration (defaults applied).
func (c *Client) Config() Config { return c.cfg }

// Complete sends msgs and returns the first choice. It waits for a
// concurrency slot, then tries up to 1+MaxRetries times, retrying rate
// limits, 5xx/408/409 answers, attempt timeouts and connection failures
// with jittered exponential backoff (or the server's Retry-After).
//
// Every error is an *Error. When ctx ends first, the error has Kind
// KindCanceled or KindDeadlineExceeded and wraps ctx.Err(), whatever the
// attempts were doing.
func (c *Client) Complete(ctx context.Context, msgs []Message, opts ...CallOption) (*Completion, error) {
	start := c.now()
	comp, err := c.complete(ctx, start, msgs, opts)
	elapsed := c.now().Sub(start)
	if err != nil {
		c.metrics.duration.WithLabelValues(string(err.Kind)).Observe(elapsed.Seconds())
		c.metrics.errors.WithLabelValues(string(err.Kind)).Inc()
		c.log.DebugContext(ctx, "llm call failed",
			"kind", err.Kind, "status", err.StatusCode, "attempts", err.Attempts,
			"request_id", err.RequestID, "elapsed", elapsed, "error", err.Error())
		return nil, err
	}
	comp.Latency = elapsed
	c.metrics.duration.WithLabelValues("ok").Observe(elapsed.Seconds())
	c.metrics.tokens.WithLabelValues("prompt").Add(float64(comp.Usage.PromptTokens))
	c.metrics.tokens.WithLabelValues("completion").Add(float64(comp.Usage.CompletionTokens))
	return comp, nil
}

func (c *Client) complete(ctx context.Context, start time.Time, msgs []Message, opts []CallOption) (*Completion, *Error) {
	var co callOptions
	for _, opt := range opts {
		opt(&co)
	}
	req, err := c.request(msgs, co)
	if err != nil {
		return nil, err
	}
	if e := c.sem.Acquire(ctx, 1); e != nil {
		return nil, c.contextError(ctx, 0, nil)
	}
	defer c.sem.Release(1)
	c.metrics.inFlight.Inc()
	defer c.metrics.inFlight.Dec()
	queueWait := c.now().Sub(start)

	schedule := &fullJitter{min: c.cfg.MinBackoff, max: c.cfg.MaxBackoff, ctx: ctx, now: c.now}
	var (
		attempts int
		last     *Error
	)
	op := func() (*Completion, error) {
		attempts++
		schedule.retryAfter = 0
		comp, e := c.attempt(ctx, req)
		if e == nil {
			comp.Attempts = attempts
			return comp, nil
		}
		e.Attempts = attempts
		last = e
		switch {
		case !e.retryable:
			return nil, backoff.Permanent(e)
		case e.RetryAfter > c.cfg.MaxRetryAfter:
			// The server wants a longer pause than we will wait.
			return nil, backoff.Permanent(e)
		}
		schedule.retryAfter = e.RetryAfter
		return nil, e
	}
	notify := func(err error, wait time.Duration) {
		c.metrics.retries.WithLabelValues(string(last.Kind)).Inc()
		c.log.WarnContext(ctx, "llm attempt failed, retrying",
			"attempt", last.Attempts, "kind", last.Kind, "status", last.StatusCode,
			"request_id", last.RequestID, "wait", wait, "error", last.Error())
	}
	comp, rerr := backoff.Retry(ctx, op,
		backoff.WithBackOff(schedule),
		backoff.WithMaxTries(uint(c.cfg.MaxRetries+1)),
		backoff.WithMaxElapsedTime(0), // the caller's context bounds the call
		backoff.WithNotify(notify),
	)
	if rerr == nil {
		comp.QueueWait = queueWait
		return comp, nil
	}
	var e *Error
	if errors.As(rerr, &e) {
		return nil, e
	}
	// backoff.Retry returns the context's error when ctx ended while
	// waiting between attempts.
	return nil, c.contextError(ctx, attempts, last)
}

// request builds the wire request, rejecting malformed input up front.
func (c *Client) request(msgs []Message, co callOptions) (openai.ChatCompletionRequest, *Error) {
	bad := func(format string, args ...any) *Error {
		return &Error{Kind: KindBadRequest, Message: fmt.Sprintf(format, args...)}
	}
	if len(msgs) == 0 {
		return openai.ChatCompletionRequest{}, bad("no messages")
	}
	out := make([]openai.ChatCompletionMessage, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant:
		default:
			return openai.ChatCompletionRequest{}, bad("message %d has unknown role %q", i, m.Role)
		}
		out[i] = openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
	}
	req := openai.ChatCompletionRequest{Model: c.cfg.Model, Messages: out}
	maxTokens := c.cfg.MaxTokens
	if co.maxTokens != 0 {
		maxTokens = co.maxTokens
	}
	if maxTokens < 0 {
		return openai.ChatCompletionRequest{}, bad("max tokens must not be negative, got %d", maxTokens)
	}
	if c.cfg.UseMaxCompletionTokens {
		req.MaxCompletionTokens = maxTokens
	} else {
		req.MaxTokens = maxTokens
	}
	temp := c.cfg.Temperature
	if co.temperature != nil {
		temp = *co.temperature
	}
	if temp < 0 || temp > 2 {
		return openai.ChatCompletionRequest{}, bad("temperature must be within [0, 2], got %v", temp)
	}
	if !c.cfg.OmitTemperature {
		if temp == 0 {
			// The request struct drops a zero temperature (omitempty),
			// which servers read as their default of 1.
			temp = math.SmallestNonzeroFloat32
		}
		req.Temperature = temp
	}
	if co.jsonObject {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	return req, nil
}

// errAttemptTimeout is the cause of an attempt context that hit
// Config.Timeout, told apart from the caller's own deadline.
var errAttemptTimeout = errors.New("attempt timed out")

// attempt makes one HTTP round trip.
func (c *Client) attempt(ctx context.Context, req openai.ChatCompletionRequest) (*Completion, *Error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errAttemptTimeout)
	defer cancel()
	info := &attemptInfo{}
	actx = context.WithValue(actx, attemptKey{}, info)

	resp, err := c.api.CreateChatCompletion(actx, req)
	if err != nil {
		return nil, c.classify(ctx, actx, err, info)
	}
	requestID := info.header.Get("X-Request-Id")
	if len(resp.Choices) == 0 {
		return nil, &Error{Kind: KindBadResponse, StatusCode: info.status, RequestID: requestID,
			Message: "response has no choices"}
	}
	ch := resp.Choices[0]
	return &Completion{
		Text:         ch.Message.Content,
		FinishReason: string(ch.FinishReason),
		Model:        resp.Model,
		Usage: Usage{
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
			TotalTokens:      resp.Usage.TotalTokens,
		},
		RequestID: requestID,
	}, nil
}

// classify turns an attempt's failure into an *Error. Order matters: the
// caller's context wins over everything, then the attempt timeout (a body
// read cut by it is a timeout, not a bad response).
func (c *Client) classify(ctx, actx context.Context, err error, info *attemptInfo) *Error {
	if ctx.Err() != nil {
		return c.contextError(ctx, 0, nil)
	}
	e := &Error{Err: err, StatusCode: info.status}
	if info.header != nil {
		e.RequestID = info.header.Get("X-Request-Id")
	}
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
	)
	switch {
	case errors.Is(context.Cause(actx), errAttemptTimeout):
		e.Kind, e.retryable = KindTimeout, true
		e.Message = fmt.Sprintf("no answer within %s", c.cfg.Timeout)
	case errors.As(err, &apiErr):
		e.Type, e.Code = apiErr.Type, codeString(apiErr.Code)
		e.Message = clip(redact(apiErr.Message, c.cfg.APIKey), 300)
		c.classifyStatus(e, info)
	case errors.As(err, &reqErr):
		// An error status whose body is not an OpenAI error object
		// (a proxy's HTML page, an empty body).
		e.Message = clip(redact(string(reqErr.Body), c.cfg.APIKey), 200)
		c.classifyStatus(e, info)
	case !info.sent:
		// go-openai refused the request before sending it.
		e.Kind = KindBadRequest
	case info.status != 0:
		// The answer arrived but its body could not be read or decoded.
		e.Kind = KindBadResponse
		if errors.Is(err, errResponseTooLarge) {
			e.Message = fmt.Sprintf("response larger than %d bytes", c.cfg.MaxResponseBytes)
		} else {
			e.Message = "response body is not a valid chat completion"
		}
	default:
		// No HTTP answer: refused, reset, closed, DNS failure.
		e.Kind, e.retryable = KindUnavailable, true
	}
	e.causeText = clip(redact(err.Error(), c.cfg.APIKey), 300)
	return e
}

// classifyStatus sets Kind and retryability from the HTTP status.
func (c *Client) classifyStatus(e *Error, info *attemptInfo) {
	switch s := info.status; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e.Kind = KindAuth
	case s == http.StatusRequestTimeout:
		e.Kind, e.retryable = KindTimeout, true
	case s == http.StatusConflict:
		e.Kind, e.retryable = KindServerError, true
	case s == http.StatusTooManyRequests:
		// OpenAI answers 429 also when the account's quota is used up;
		// waiting does not help then.
		e.Kind, e.retryable = KindRateLimited, e.Code != "insufficient_quota"
	case s >= 500:
		e.Kind, e.retryable = KindServerError, true
	case s >= 400:
		e.Kind = KindBadRequest
	default:
		// 1xx or an unfollowed 3xx: not a completion.
		e.Kind = KindBadResponse
	}
	if e.retryable {
		e.RetryAfter = retryAfter(info.header, c.now())
	}
}

// contextError reports that the caller's context ended, keeping what the
// last attempt saw.
func (c *Client) contextError(ctx context.Context, attempts int, last *Error) *Error {
	e := &Error{Kind: KindCanceled, Attempts: attempts, Err: ctx.Err()}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e.Kind = KindDeadlineExceeded
	}
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		e.Err = errors.Join(ctx.Err(), cause)
	}
	e.causeText = clip(redact(e.Err.Error(), c.cfg.APIKey), 300)
	if last != nil {
		e.StatusCode, e.RequestID = last.StatusCode, last.RequestID
		e.causeText += "; last attempt: " + last.Error()
	}
	return e
}

// codeString renders the upstream "code", which is a string or a number.
func codeString(v any) string {
	switch c := v.(type) {
	case nil:
		return ""
	case string:
		return c
	case int:
		return strconv.Itoa(c)
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

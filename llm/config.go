package llm

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults applied by Config.withDefaults to zero-valued fields.
const (
	DefaultBaseURL          = "https://api.openai.com/v1"
	DefaultMaxTokens        = 1024
	DefaultTimeout          = 60 * time.Second
	DefaultMaxConcurrency   = 8
	DefaultMaxRetries       = 3
	DefaultMinBackoff       = 250 * time.Millisecond
	DefaultMaxBackoff       = 20 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultMaxResponseBytes = 4 << 20
)

// NoRetries disables retries when set as Config.MaxRetries (zero means
// "use the default").
const NoRetries = -1

// Config describes one OpenAI-compatible endpoint and how to call it.
// Zero values take the defaults above, so Config{Model: "m"} is usable.
type Config struct {
	// BaseURL of the API including the version prefix, e.g.
	// "https://api.openai.com/v1" or "http://vllm:8000/v1".
	BaseURL string
	// Model name sent with every request. Required.
	Model string
	// APIKey is sent as "Authorization: Bearer <key>". It never appears
	// in errors, logs or metrics. Empty sends no Authorization header
	// (local servers often need none).
	APIKey string

	// Temperature for sampling. Zero (the default) asks for the most
	// deterministic answer; it is sent as the smallest positive float
	// because the wire encoding drops an exact zero.
	Temperature float32
	// OmitTemperature leaves temperature out of requests, for reasoning
	// models that reject the parameter.
	OmitTemperature bool
	// MaxTokens caps the completion length (default DefaultMaxTokens).
	MaxTokens int
	// UseMaxCompletionTokens sends the cap as max_completion_tokens
	// (required by OpenAI reasoning models) instead of max_tokens (which
	// more OpenAI-compatible servers understand).
	UseMaxCompletionTokens bool

	// Timeout bounds one attempt (one HTTP round trip). The caller's
	// context bounds the whole call, retries included.
	Timeout time.Duration
	// MaxConcurrency is the number of calls in flight at once; further
	// calls wait for a slot (or for their context to end).
	MaxConcurrency int
	// MaxRetries is the number of retries after the first attempt.
	// Zero means DefaultMaxRetries; NoRetries disables retrying.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff: before
	// retry n the client sleeps a uniformly random duration in
	// [0, min(MaxBackoff, MinBackoff*2^n)) ("full jitter").
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client will wait for;
	// a server asking for longer ends the call with the error at once.
	MaxRetryAfter time.Duration
	// MaxResponseBytes caps the size of a response body.
	MaxResponseBytes int64
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return c
}

// validate reports configuration mistakes after defaults were applied.
func (c Config) validate() error {
	var errs []error
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil:
		// url.Parse errors quote the input, which may hold credentials.
		errs = append(errs, errors.New("BaseURL is not a valid URL"))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("BaseURL scheme must be http or https, got %q", u.Scheme))
	case u.Host == "":
		errs = append(errs, errors.New("BaseURL has no host"))
	}
	if c.Model == "" {
		errs = append(errs, errors.New("Model is required"))
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		errs = append(errs, fmt.Errorf("Temperature must be within [0, 2], got %v", c.Temperature))
	}
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("MaxTokens must not be negative, got %d", c.MaxTokens))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout must not be negative, got %s", c.Timeout))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("MaxConcurrency must not be negative, got %d", c.MaxConcurrency))
	}
	if c.MinBackoff < 0 || c.MaxBackoff < 0 || c.MaxRetryAfter < 0 {
		errs = append(errs, errors.New("backoff bounds must not be negative"))
	}
	if c.MaxBackoff < c.MinBackoff {
		errs = append(errs, fmt.Errorf("MaxBackoff (%s) is below MinBackoff (%s)", c.MaxBackoff, c.MinBackoff))
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("MaxResponseBytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("llm: invalid config: %w", err)
	}
	return nil
}

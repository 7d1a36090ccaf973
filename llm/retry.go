package llm

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// fullJitter is a backoff.BackOff giving, before retry n (from 0), a
// uniformly random wait in [0, min(max, min*2^n)): the "full jitter"
// schedule, which spreads retries of many clients best. It also stops
// retrying when the next wait would end after the caller's deadline, so a
// call fails with the upstream's error at once rather than sleeping into
// the deadline.
type fullJitter struct {
	min, max time.Duration
	ctx      context.Context
	now      func() time.Time

	n int
	// retryAfter, when set by the attempt that just failed, is the wait
	// the server asked for, used instead of the jittered one.
	retryAfter time.Duration
}

func (b *fullJitter) Reset() { b.n = 0 }

func (b *fullJitter) NextBackOff() time.Duration {
	wait := b.retryAfter
	if wait == 0 {
		ceiling := b.max
		if b.n < 62 && b.min<<b.n > 0 && b.min<<b.n < b.max {
			ceiling = b.min << b.n
		}
		if ceiling > 0 {
			wait = rand.N(ceiling)
		}
		b.n++
	}
	if dl, ok := b.ctx.Deadline(); ok && b.now().Add(wait).After(dl) {
		return backoff.Stop
	}
	return wait
}

// retryAfter reads how long the server asked to wait: the non-standard
// retry-after-ms (sent by OpenAI, more precise), else Retry-After as
// delay-seconds or an HTTP date. It returns 0 when neither is usable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

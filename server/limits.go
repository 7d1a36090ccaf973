package server

import (
	"sync"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Limits bound what one caller may ask of the service. Zero values mean no
// limit.
type Limits struct {
	// Rate is the sustained requests per second allowed per caller.
	Rate float64
	// Burst is how many requests above Rate a caller may send at once
	// (at least 1 when Rate is set).
	Burst int
	// MaxInFlight is how many requests one caller may have running at once.
	MaxInFlight int
}

// limiter applies Limits per caller name. The set of callers is the
// configured ones plus "anonymous", so the maps stay small.
type limiter struct {
	limits Limits

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	inFlight map[string]int
}

func newLimiter(l Limits) *limiter {
	if l.Rate > 0 && l.Burst < 1 {
		l.Burst = 1
	}
	return &limiter{limits: l, buckets: map[string]*rate.Limiter{}, inFlight: map[string]int{}}
}

// acquire admits one request of caller or says why not; release must be
// called once the request is done when acquire succeeded. reason is the
// metric label of a refusal.
func (l *limiter) acquire(caller string) (release func(), reason string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.MaxInFlight > 0 && l.inFlight[caller] >= l.limits.MaxInFlight {
		return nil, "concurrency", status.Errorf(codes.ResourceExhausted,
			"caller %s already has %d requests running, the most allowed; retry when one finishes", caller, l.limits.MaxInFlight)
	}
	if l.limits.Rate > 0 {
		b := l.buckets[caller]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(l.limits.Rate), l.limits.Burst)
			l.buckets[caller] = b
		}
		if !b.Allow() {
			return nil, "rate", status.Errorf(codes.ResourceExhausted,
				"caller %s is over its rate limit of %g requests per second; retry later", caller, l.limits.Rate)
		}
	}
	l.inFlight[caller]++
	return func() {
		l.mu.Lock()
		l.inFlight[caller]--
		l.mu.Unlock()
	}, "", nil
}

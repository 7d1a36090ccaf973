package server

import (
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
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

// maxBuckets bounds how many rate buckets are kept. Anonymous clients each
// get one, keyed by address, so the least recently seen are dropped; a
// dropped client starts again with a full bucket.
const maxBuckets = 1 << 16

// limiter applies Limits per caller: per configured caller name, and, when
// no callers are configured and every request is anonymous, per client
// address, so one busy client does not use up everyone's allowance.
type limiter struct {
	limits Limits

	mu       sync.Mutex
	buckets  *lru.Cache[string, *rate.Limiter]
	inFlight map[string]int // only keys with requests running
}

func newLimiter(l Limits) *limiter {
	if l.Rate > 0 && l.Burst < 1 {
		l.Burst = 1
	}
	buckets, err := lru.New[string, *rate.Limiter](maxBuckets)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &limiter{limits: l, buckets: buckets, inFlight: map[string]int{}}
}

// acquire admits one request of caller, coming from the client address
// client (host only), or says why not; release must be called once the
// request is done when acquire succeeded. reason is the metric label of a
// refusal.
func (l *limiter) acquire(caller, client string) (release func(), reason string, err error) {
	key, who := caller, "caller "+caller
	if caller == AnonymousCaller && client != "" {
		key, who = caller+"@"+client, fmt.Sprintf("anonymous client %s", client)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.MaxInFlight > 0 && l.inFlight[key] >= l.limits.MaxInFlight {
		return nil, "concurrency", status.Errorf(codes.ResourceExhausted,
			"%s already has %d requests running, the most allowed; retry when one finishes", who, l.limits.MaxInFlight)
	}
	if l.limits.Rate > 0 {
		b, ok := l.buckets.Get(key)
		if !ok {
			b = rate.NewLimiter(rate.Limit(l.limits.Rate), l.limits.Burst)
			l.buckets.Add(key, b)
		}
		if !b.Allow() {
			return nil, "rate", status.Errorf(codes.ResourceExhausted,
				"%s is over its rate limit of %g requests per second; retry later", who, l.limits.Rate)
		}
	}
	l.inFlight[key]++
	return func() {
		l.mu.Lock()
		if l.inFlight[key]--; l.inFlight[key] <= 0 {
			delete(l.inFlight, key)
		}
		l.mu.Unlock()
	}, "", nil
}

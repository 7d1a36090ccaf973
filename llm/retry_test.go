package llm

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"nil", nil, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{"zero", http.Header{"Retry-After": {"0"}}, 0},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"absurd", http.Header{"Retry-After": {"99999999"}}, 0},
		{"http date", http.Header{"Retry-After": {"Sat, 01 Mar 2025 12:00:30 GMT"}}, 30 * time.Second},
		{"http date past", http.Header{"Retry-After": {"Sat, 01 Mar 2025 11:59:00 GMT"}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"ms wins", http.Header{"Retry-After": {"30"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"bad ms falls back", http.Header{"Retry-After": {"2"}, "Retry-After-Ms": {"x"}}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFullJitterBounds(t *testing.T) {
	b := &fullJitter{min: 10 * time.Millisecond, max: 80 * time.Millisecond, ctx: context.Background(), now: time.Now}
	b.Reset()
	ceilings := []time.Duration{10, 20, 40, 80, 80, 80}
	for round := 0; round < 200; round++ {
		b.Reset()
		for i, c := range ceilings {
			d := b.NextBackOff()
			if d < 0 || d >= c*time.Millisecond {
				t.Fatalf("retry %d: wait %s outside [0, %dms)", i, d, c)
			}
		}
	}
	// Large retry counts must not overflow into negative or huge waits.
	b.n = 70
	if d := b.NextBackOff(); d < 0 || d >= b.max {
		t.Fatalf("wait %s after many retries", d)
	}
}

func TestFullJitterSpreads(t *testing.T) {
	b := &fullJitter{min: time.Second, max: time.Second, ctx: context.Background(), now: time.Now}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[b.NextBackOff()] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct waits out of 50: not jittered", len(seen))
	}
}

func TestFullJitterStopsBeforeDeadline(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer cancel()
	b := &fullJitter{min: time.Millisecond, max: time.Millisecond, ctx: ctx, now: func() time.Time { return now }}
	if d := b.NextBackOff(); d == backoff.Stop {
		t.Fatal("a 1ms wait fits in a 1s deadline")
	}
	b.retryAfter = 2 * time.Second
	if d := b.NextBackOff(); d != backoff.Stop {
		t.Fatalf("wait %s past the deadline, want Stop", d)
	}
	b.retryAfter = 500 * time.Millisecond
	if d := b.NextBackOff(); d != 500*time.Millisecond {
		t.Fatalf("wait %s, want the server's 500ms", d)
	}
}

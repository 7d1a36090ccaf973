package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/test/serveproc"
)

// The real binary, under load from keep-alive clients over HTTP and gRPC,
// gets SIGTERM: every request is answered in full or refused at connect
// time (no EOF, no reset, no body cut short), and the process exits 0
// before delay + grace have passed.
func TestServeProcessShutdownUnderLoad(t *testing.T) {
	bin, err := serveproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const grace = 10 * time.Second
	for _, delay := range []time.Duration{0, 2 * time.Second} {
		t.Run(fmt.Sprintf("delay %v", delay), func(t *testing.T) {
			p, err := serveproc.Start(bin, nil, "--rate-limit", "0", "--max-in-flight", "0",
				"--shutdown-delay", delay.String(), "--shutdown-grace", grace.String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Stop)
			l := startLoad(t, p, 6, 6, delay)
			l.waitWarm(t, 20)

			term := time.Now()
			l.term.Store(term.UnixNano())
			if err := p.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code, err := p.Wait(delay + grace)
			elapsed := time.Since(term)
			if err != nil || code != exitOK {
				t.Fatalf("exit status %d after %v (%v), want 0 within %v:\n%s", code, elapsed, err, delay+grace, p.Logs())
			}
			l.wait(t)
			t.Logf("exit %v after SIGTERM; %d answers (%d after SIGTERM, %d during the delay), %d HTTP answers asked to close, %d refused at connect",
				elapsed.Round(time.Millisecond), l.ok.Load(), l.okAfter.Load(), l.okDelay.Load(), l.closeAsked.Load(), l.refused.Load())
			for _, f := range l.failures() {
				t.Error(f)
			}
			if l.okAfter.Load() == 0 || l.closeAsked.Load() == 0 {
				t.Error("no answer after SIGTERM asked its HTTP client to close: the load did not overlap the shutdown")
			}
			if delay > 0 && l.okDelay.Load() == 0 {
				t.Error("nothing was served during the shutdown delay")
			}
			if !strings.Contains(p.Logs(), `"msg":"drained"`) {
				t.Errorf("no drained log line:\n%s", p.Logs())
			}
		})
	}

	// A request the model holds past the grace gets UNAVAILABLE (HTTP
	// 503) and the process still exits 0.
	t.Run("grace over", func(t *testing.T) {
		model := fakellm.NewTest(t, fakellm.Slow(time.Minute, fakellm.Text("```sql\nSELECT id FROM orders\n```")))
		const grace = 2 * time.Second
		p, err := serveproc.Start(bin, nil, "--rate-limit", "0", "--shutdown-grace", grace.String(),
			"--llm-model", "fake-model", "--llm-base-url", model.URL(), "--llm-api-key", "sk-test", "--llm-retries", "0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		ask := serveproc.Request{Generate: &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "How many orders are there?"}}
		hc := serveproc.NewHTTPClient(p.HTTPAddr)
		defer hc.Close()
		gc, err := serveproc.NewGRPCClient(p.GRPCAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer gc.Close()
		results := make(chan serveproc.Result, 2)
		for _, c := range []serveproc.Client{hc, gc} {
			go func() { results <- c.Do(context.Background(), ask) }()
		}
		waitFor(t, "both requests to reach the model", func() bool { return model.InFlight() == 2 })

		term := time.Now()
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// The grace, plus the moment the cut-off answers take to go out.
		code, err := p.Wait(grace + time.Second)
		if err != nil || code != exitOK {
			t.Fatalf("exit status %d after %v (%v), want 0:\n%s", code, time.Since(term), err, p.Logs())
		}
		for range 2 {
			r := <-results
			var he *serveproc.HTTPError
			switch {
			case errors.As(r.Err, &he):
				if he.Status != 503 || !strings.Contains(he.Body, `"code":14`) || !r.CloseAsked {
					t.Errorf("HTTP request held past the grace: %v, connection close %v; want 503 UNAVAILABLE with Connection: close", he, r.CloseAsked)
				}
			case status.Code(r.Err) == codes.Unavailable && strings.Contains(r.Err.Error(), "shutting down"):
			default:
				t.Errorf("request held past the grace: %v, want UNAVAILABLE", r.Err)
			}
		}
	})
}

// load is keep-alive clients sending ValidateSQL in a loop until each is
// refused at connect time.
type load struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	perConn []atomic.Int64 // answers per client
	term    atomic.Int64   // when SIGTERM was sent, Unix nanoseconds; 0 before
	delay   time.Duration

	ok, okAfter, okDelay, closeAsked, refused atomic.Int64

	mu     sync.Mutex
	failed []string
}

func startLoad(t *testing.T, p *serveproc.Process, httpClients, grpcClients int, delay time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	l := &load{cancel: cancel, perConn: make([]atomic.Int64, httpClients+grpcClients), delay: delay}
	t.Cleanup(cancel)
	req := serveproc.Request{Validate: &texttosqlv1.ValidateSQLRequest{
		Database: "shop", Sql: "select o.id, c.name from orders o join customers c on c.id = o.customer_id where o.status = 'shipped'"}}
	for i := range httpClients + grpcClients {
		var c serveproc.Client = serveproc.NewHTTPClient(p.HTTPAddr)
		kind := "HTTP"
		if i >= httpClients {
			var err error
			if c, err = serveproc.NewGRPCClient(p.GRPCAddr); err != nil {
				t.Fatal(err)
			}
			kind = "gRPC"
		}
		l.wg.Go(func() {
			defer c.Close()
			for ctx.Err() == nil {
				r := c.Do(ctx, req)
				l.record(i, kind, r)
				if serveproc.Refused(r.Err) {
					return
				}
			}
		})
	}
	return l
}

func (l *load) record(client int, kind string, r serveproc.Result) {
	term := l.term.Load()
	switch {
	case r.Err == nil:
		l.ok.Add(1)
		l.perConn[client].Add(1)
		if term != 0 {
			l.okAfter.Add(1)
			if time.Since(time.Unix(0, term)) < l.delay {
				l.okDelay.Add(1)
			}
			if r.CloseAsked {
				l.closeAsked.Add(1)
			}
		}
	case serveproc.Refused(r.Err):
		l.refused.Add(1)
	default:
		l.mu.Lock()
		defer l.mu.Unlock()
		when := "before SIGTERM"
		if term != 0 {
			when = fmt.Sprintf("%v after SIGTERM", time.Since(time.Unix(0, term)).Round(time.Millisecond))
		}
		l.failed = append(l.failed, fmt.Sprintf("%s client %d, %s: %v", kind, client, when, r.Err))
	}
}

// waitWarm waits until every client has had n answers.
func (l *load) waitWarm(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, "every client to be answered", func() bool {
		for i := range l.perConn {
			if l.perConn[i].Load() < n {
				return false
			}
		}
		return true
	})
}

// wait waits for every client to have been refused, which happens at its
// first request after the process has exited.
func (l *load) wait(t *testing.T) {
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		l.cancel()
		<-done
		t.Error("clients still running 30 s after the process exited")
	}
}

func (l *load) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

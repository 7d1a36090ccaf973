package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/felixge/httpsnoop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Shutdown without failing a request rests on three rules:
//
//   - A connection the kernel accepted is served. Before a listener closes,
//     new connection attempts are ignored (see dropNewConnections), the
//     kernel's accept queue is emptied and every connection taken from it
//     is handed to its server; a client that comes later is refused at
//     connect time, which every client can retry safely.
//   - An HTTP/1.1 client is only told to leave on a response. From the
//     start of shutdown every response carries "Connection: close", and a
//     keep-alive connection is closed only once it has been quiet for
//     idleQuiet: closing one that just went idle races the client's next
//     request, which the client then sees fail. (http.Server's own
//     SetKeepAlivesEnabled(false) and Shutdown close idle connections at
//     once, which is that race.) gRPC has GOAWAY, which a client honours
//     without losing a call at any moment, so gRPC connections are drained
//     by GracefulStop when the listeners close, after the shutdown delay:
//     sent earlier, GOAWAY would send clients back through a load balancer
//     that has not yet noticed.
//   - A call still running when the grace ends is answered UNAVAILABLE,
//     which tells its client to retry elsewhere, rather than cut off with
//     no answer.

const (
	// idleQuiet is how long a keep-alive HTTP connection must have been
	// quiet before shutdown closes it.
	idleQuiet = time.Second
	// cutoffWait is how long calls cut off at the end of the grace have to
	// write their UNAVAILABLE answers before their connections are closed.
	cutoffWait = time.Second
	// pollEvery paces the waits of shutdown, which are short.
	pollEvery = 5 * time.Millisecond
)

// listen opens a plain TCP listener. Multipath TCP, which Go otherwise uses
// where the kernel offers it, is turned off: the socket filter that refuses
// new connections at shutdown works on TCP sockets only.
func listen(addr string) (*gate, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &gate{Listener: l}, nil
}

// gate is a listener that can stop taking connections without dropping
// one the kernel already accepted.
type gate struct {
	net.Listener
	// pending counts connections accepted but not yet taken up by the
	// server: a gRPC server closes a connection it has not started on when
	// it stops, so stopping waits for these.
	pending atomic.Int64
}

func (g *gate) Accept() (net.Conn, error) {
	c, err := g.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g.pending.Add(1)
	return &gateConn{Conn: c, g: g}, nil
}

// refuse stops new connections from being accepted and waits until every
// connection already accepted by the kernel has been handed to the server.
// The caller closes the listener afterwards.
func (g *gate) refuse(ctx context.Context) {
	if dropNewConnections(g.Listener) == nil {
		// Handshakes under way when the filter went on still land in the
		// queue; seeing it empty twice, a poll apart, lets them.
		for empty := 0; empty < 2; {
			n, err := acceptQueue(g.Listener)
			if err != nil {
				break
			}
			if n == 0 {
				empty++
			} else {
				empty = 0
			}
			if !sleep(ctx, pollEvery) {
				return
			}
		}
	}
	for g.pending.Load() > 0 {
		if !sleep(ctx, time.Millisecond) {
			return
		}
	}
}

// gateConn is an accepted connection. Its first use by the server (or the
// HTTP server's first state change) marks it taken up.
type gateConn struct {
	net.Conn
	g     *gate
	taken atomic.Bool
	// lastRead is when bytes last arrived (Unix nanoseconds): a client
	// sending a request slowly is not quiet.
	lastRead atomic.Int64
}

func (c *gateConn) take() {
	if !c.taken.Load() && c.taken.CompareAndSwap(false, true) {
		c.g.pending.Add(-1)
	}
}

func (c *gateConn) Read(b []byte) (int, error) {
	c.take()
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *gateConn) Write(b []byte) (int, error) {
	c.take()
	return c.Conn.Write(b)
}

func (c *gateConn) SetDeadline(t time.Time) error {
	c.take()
	return c.Conn.SetDeadline(t)
}

func (c *gateConn) SetReadDeadline(t time.Time) error {
	c.take()
	return c.Conn.SetReadDeadline(t)
}

func (c *gateConn) SetWriteDeadline(t time.Time) error {
	c.take()
	return c.Conn.SetWriteDeadline(t)
}

func (c *gateConn) Close() error {
	c.take()
	return c.Conn.Close()
}

// httpConns tracks the HTTP server's connections and their states, so
// shutdown can close the quiet ones itself.
type httpConns struct {
	mu    sync.Mutex
	conns map[net.Conn]connState
}

type connState struct {
	state http.ConnState
	since time.Time
}

func newHTTPConns() *httpConns { return &httpConns{conns: map[net.Conn]connState{}} }

// hook is the http.Server's ConnState hook.
func (h *httpConns) hook(c net.Conn, st http.ConnState) {
	if gc, ok := c.(*gateConn); ok && st == http.StateNew {
		gc.take()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(h.conns, c)
	default:
		h.conns[c] = connState{st, time.Now()}
	}
}

// drain closes connections waiting for a request once they have been quiet
// for idleQuiet (at once after cut), and returns when none is left or stop
// is closed. Connections serving a request close themselves after it.
func (h *httpConns) drain(cut, stop <-chan struct{}) {
	for {
		quiet := idleQuiet
		select {
		case <-cut:
			quiet = 0
		default:
		}
		now := time.Now()
		h.mu.Lock()
		left := len(h.conns)
		for c, s := range h.conns {
			if s.state != http.StateNew && s.state != http.StateIdle {
				continue
			}
			last := s.since
			if gc, ok := c.(*gateConn); ok {
				if t := time.Unix(0, gc.lastRead.Load()); t.After(last) {
					last = t
				}
			}
			if now.Sub(last) >= quiet {
				_ = c.Close()
			}
		}
		h.mu.Unlock()
		if left == 0 {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(pollEvery):
		}
	}
}

// closeAfterReply asks HTTP/1.1 clients to leave after their current
// request once shutdown has begun, also for requests that began before it;
// Go's server then closes the connection after the response. (The HTTP
// listener serves HTTP/1.1 only: no TLS, so no HTTP/2, and no h2c.)
func (s *Server) closeAfterReply(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mark := func() {
			if s.stopping.Load() {
				w.Header().Set("Connection", "close")
			}
		}
		next.ServeHTTP(httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) { mark(); next(code) }
			},
			Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(b []byte) (int, error) { mark(); return next(b) }
			},
			ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
				return func(src io.Reader) (int64, error) { mark(); return next(src) }
			},
		}), r)
	})
}

// errGraceOver is the cause given to calls canceled when the shutdown grace
// ends.
var errGraceOver = errors.New("shutdown grace over")

// cutoff answers UNAVAILABLE for the calls still running when the shutdown
// grace ends. It is the innermost interceptor of both transports, so logs
// and metrics record the answer the client got.
type cutoff struct {
	ctx     context.Context // canceled with errGraceOver at the grace's end
	cancel  context.CancelCauseFunc
	running atomic.Int64
}

func newCutoff() *cutoff {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &cutoff{ctx: ctx, cancel: cancel}
}

func (c *cutoff) now() { c.cancel(errGraceOver) }

func (c *cutoff) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c.running.Add(1)
	defer c.running.Add(-1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.ctx, func() { cancel(errGraceOver) })
	defer stop()
	resp, err := handler(ctx, req)
	if err != nil && errors.Is(context.Cause(ctx), errGraceOver) {
		return nil, status.Error(codes.Unavailable,
			"the service is shutting down and this request did not finish within its shutdown grace period; retry it")
	}
	return resp, err
}

// sleep waits for d or until ctx ends, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

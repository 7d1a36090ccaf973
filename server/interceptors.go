package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Every RPC, whether it came in over gRPC or through the HTTP gateway, runs
// through the same interceptor: it assigns the request id, authenticates
// the caller, applies the per-caller limits and the default deadline,
// recovers panics, and records the outcome in logs and metrics.

// servicePrefix marks the methods that need a caller: health checks and
// reflection stay open so probes and tools work without a token.
const servicePrefix = "/texttosql.v1.TextToSQLService/"

// Transports, as logged and labelled in metrics.
const (
	transportGRPC = "grpc"
	transportHTTP = "http"
)

type middleware struct {
	transport string // "grpc" or "http": the metric and log label
	auth      *authenticator
	limits    *limiter
	metrics   *metrics
	log       *slog.Logger
	timeout   time.Duration
	// closing is closed when the server stops accepting; streams (health
	// Watch, reflection) end then, since a graceful stop waits for every
	// open stream and a watcher never ends its own.
	closing <-chan struct{}
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestIDFrom returns the request id the interceptors assigned.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func loggerFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// saneRequestID accepts ids a caller or proxy made up (UUIDs, trace ids)
// and refuses anything that could corrupt a log line or a header.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:/+=", c) >= 0) {
			return false
		}
	}
	return true
}

// NewRequestID returns a random 128-bit id in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestIDOf(md metadata.MD) string {
	if vals := md.Get(MDRequestID); len(vals) == 1 && saneRequestID(vals[0]) {
		return vals[0]
	}
	return NewRequestID()
}

// call is the state of one RPC shared by the unary and stream paths.
type call struct {
	method  string
	start   time.Time
	id      string
	caller  string
	release func()
	cancel  context.CancelFunc
}

// begin runs before the handler. It returns the context to hand on, and an
// error when the call must be refused.
func (m *middleware) begin(ctx context.Context, c *call) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c.id = requestIDOf(md)
	ctx = context.WithValue(ctx, requestIDKey, c.id)
	log := m.log.With("request_id", c.id, "method", c.method, "transport", m.transport)
	ctx = context.WithValue(ctx, loggerKey, log)
	if !strings.HasPrefix(c.method, servicePrefix) {
		return ctx, nil
	}
	caller, err := m.auth.authenticate(md)
	if err != nil {
		return ctx, err
	}
	c.caller = caller.Name
	ctx = withCaller(ctx, caller)
	ctx = context.WithValue(ctx, loggerKey, log.With("caller", caller.Name))
	release, reason, err := m.limits.acquire(caller.Name, m.clientHost(ctx))
	if err != nil {
		m.metrics.rejected.WithLabelValues(reason).Inc()
		return ctx, err
	}
	c.release = release
	if _, ok := ctx.Deadline(); !ok {
		ctx, c.cancel = context.WithTimeout(ctx, m.timeout)
	}
	return ctx, nil
}

// end runs after the handler, with its error (or the recovered panic's).
func (m *middleware) end(ctx context.Context, c *call, err error) {
	if c.cancel != nil {
		c.cancel()
	}
	if c.release != nil {
		c.release()
	}
	code := status.Code(err)
	elapsed := time.Since(c.start)
	m.metrics.requests.WithLabelValues(c.method, code.String(), m.transport).Inc()
	m.metrics.duration.WithLabelValues(c.method, m.transport).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	switch {
	case !strings.HasPrefix(c.method, servicePrefix):
		level = slog.LevelDebug // probes would drown everything else
	case code == codes.Internal || code == codes.Unknown || code == codes.DataLoss:
		level = slog.LevelError
	case code == codes.Unavailable || code == codes.DeadlineExceeded || code == codes.ResourceExhausted:
		level = slog.LevelWarn
	}
	log := loggerFrom(ctx, m.log)
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("peer", m.peer(ctx)),
	}
	if c.caller == "" {
		attrs = append(attrs, slog.String("caller", ""))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	log.LogAttrs(ctx, level, "rpc", attrs...)
}

// peer names the client: for calls through the gateway the HTTP client's
// address the gateway forwarded (its last hop, the one it saw itself),
// otherwise the gRPC peer. A gRPC client's own x-forwarded-for is not
// believed.
func (m *middleware) peer(ctx context.Context) string {
	if m.transport == transportHTTP {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get("x-forwarded-for"); len(v) > 0 {
				parts := strings.Split(v[len(v)-1], ",")
				return strings.TrimSpace(parts[len(parts)-1])
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// clientHost is the client's address without its port: the key of an
// anonymous client's limits.
func (m *middleware) clientHost(ctx context.Context) string {
	addr := m.peer(ctx)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// recovered turns a panic into INTERNAL, logging the stack. The caller
// learns only the request id, so the operator can find the log line.
func (m *middleware) recovered(ctx context.Context, c *call, r any) error {
	loggerFrom(ctx, m.log).ErrorContext(ctx, "panic in handler", "panic", r, "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "internal error (request id %s)", c.id)
}

func (m *middleware) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	m.metrics.inFlight.WithLabelValues(m.transport).Inc()
	defer m.metrics.inFlight.WithLabelValues(m.transport).Dec()
	c := &call{method: info.FullMethod, start: time.Now()}
	ctx, err = m.begin(ctx, c)
	echo := metadata.Pairs(MDRequestID, c.id)
	_ = grpc.SetHeader(ctx, echo)
	_ = grpc.SetTrailer(ctx, echo)
	defer func() { m.end(ctx, c, err) }()
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, m.recovered(ctx, c, r)
		}
	}()
	return handler(ctx, req)
}

func (m *middleware) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	m.metrics.inFlight.WithLabelValues(m.transport).Inc()
	defer m.metrics.inFlight.WithLabelValues(m.transport).Dec()
	c := &call{method: info.FullMethod, start: time.Now()}
	ctx, err := m.begin(ss.Context(), c)
	echo := metadata.Pairs(MDRequestID, c.id)
	_ = ss.SetHeader(echo)
	ss.SetTrailer(echo)
	defer func() { m.end(ctx, c, err) }()
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = m.recovered(ctx, c, r)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

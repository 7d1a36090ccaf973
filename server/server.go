package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

// Server runs the service on a gRPC listener and an HTTP listener.
//
// The HTTP gateway calls the service in process, through the same unary
// middleware as gRPC calls (authentication, request ids, limits, deadlines,
// logs, metrics, recovery), so both transports behave alike. Calling it
// directly rather than through a second gRPC hop saves the HTTP/2 framing
// and message copies of that hop, which cost more than a cached answer
// (go run ./test/overhead measures it), and shutdown drains HTTP and gRPC
// calls independently.
type Server struct {
	cfg     Config
	svc     *Service
	metrics *metrics
	health  *health.Server

	external *grpc.Server
	http     *http.Server
	conns    *httpConns
	cut      *cutoff

	grpcLis, httpLis *gate
	mux              *http.ServeMux
	middlewareFor    func(transport string) *middleware

	stopping  atomic.Bool
	closing   chan struct{} // closed when Shutdown begins
	closeOnce sync.Once
	startOnce sync.Once
	serveErr  chan error
	stopWatch chan struct{}
}

// New builds a server; Start or Run makes it listen.
func New(cfg Config) (*Server, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(cfg.Callers)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		svc:       newService(cfg, m),
		metrics:   m,
		health:    health.NewServer(),
		serveErr:  make(chan error, 3),
		closing:   make(chan struct{}),
		stopWatch: make(chan struct{}),
		conns:     newHTTPConns(),
		cut:       newCutoff(),
	}
	lim := newLimiter(cfg.Limits)
	s.middlewareFor = func(transport string) *middleware {
		return &middleware{transport: transport, auth: auth, limits: lim, metrics: m, log: cfg.Logger,
			timeout: cfg.RequestTimeout, closing: s.closing}
	}
	mw := s.middlewareFor(transportGRPC)
	codec := newLenientCodec()
	s.external = grpc.NewServer(
		grpc.ChainUnaryInterceptor(mw.unary, s.cut.unary),
		grpc.ChainStreamInterceptor(mw.stream),
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
		grpc.ForceServerCodecV2(codec),
	)
	s.external.RegisterService(codec.guard(&texttosqlv1.TextToSQLService_ServiceDesc), s.svc)
	healthpb.RegisterHealthServer(s.external, s.health)
	reflection.Register(s.external)
	gw, err := newGateway(context.Background(), &intercepted{svc: s.svc, mw: s.middlewareFor(transportHTTP), cut: s.cut})
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.closeAfterReply(s.httpHandler(gw)),
		ConnState:         s.conns.hook,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return s, nil
}

// Service is the service the server runs.
func (s *Server) Service() *Service { return s.svc }

// Start listens on both addresses and serves in the background. Listen
// errors are returned; errors while serving end Run.
func (s *Server) Start() error {
	var err error
	s.startOnce.Do(func() {
		if s.grpcLis, err = listen(s.cfg.GRPCAddr); err != nil {
			err = fmt.Errorf("gRPC listener: %w", err)
			return
		}
		if s.httpLis, err = listen(s.cfg.HTTPAddr); err != nil {
			_ = s.grpcLis.Close()
			err = fmt.Errorf("HTTP listener: %w", err)
			return
		}
		s.updateHealth()
		go s.watchReady()
		go func() { s.serveErr <- serveResult("gRPC", s.external.Serve(s.grpcLis)) }()
		go func() { s.serveErr <- serveResult("HTTP", s.http.Serve(s.httpLis)) }()
		log := s.cfg.Logger
		log.Info("listening", "http", s.httpLis.Addr().String(), "grpc", s.grpcLis.Addr().String())
		if len(s.cfg.Callers) == 0 {
			log.Warn("no caller tokens configured: every request is anonymous and untrusted, and no token is checked")
		}
		if s.cfg.Generator == nil {
			log.Info("no generator configured: GenerateSQL answers UNIMPLEMENTED; ValidateSQL, ListDatabases, GetSchema and RefreshSchema work")
		}
	})
	return err
}

func serveResult(what string, err error) error {
	// Shutdown closes the HTTP listener itself (see Shutdown), hence
	// net.ErrClosed.
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("%s server: %w", what, err)
}

// HTTPAddr is the bound HTTP address (after Start).
func (s *Server) HTTPAddr() net.Addr { return s.httpLis.Addr() }

// GRPCAddr is the bound gRPC address (after Start).
func (s *Server) GRPCAddr() net.Addr { return s.grpcLis.Addr() }

// watchReady keeps the gRPC health status in step with the store.
func (s *Server) watchReady() {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stopWatch:
			return
		case <-t.C:
			s.updateHealth()
		}
	}
}

func (s *Server) updateHealth() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := healthpb.HealthCheckResponse_SERVING
	if s.cfg.Store.Ready(ctx) != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	// Once shutdown has begun the health server ignores updates and
	// answers NOT_SERVING, so a late check cannot flip it back.
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(texttosqlv1.TextToSQLService_ServiceDesc.ServiceName, st)
}

// BeginShutdown reports not ready (/readyz 503, gRPC health NOT_SERVING)
// while requests are still served; from now on every HTTP response asks its
// client to close the connection, so keep-alive clients move away.
func (s *Server) BeginShutdown() {
	if s.stopping.Swap(true) {
		return
	}
	close(s.stopWatch)
	s.health.Shutdown()
	s.cfg.Logger.Info("shutting down: reporting not ready")
}

// Shutdown stops accepting connections, refusing new ones at connect time,
// and lets in-flight requests finish until ctx ends: gRPC clients get
// GOAWAY, HTTP connections close after their current request or once
// quiet. Requests still running when ctx ends are answered UNAVAILABLE
// (HTTP 503). It returns an error only when some did not answer even then
// and had to be cut off.
func (s *Server) Shutdown(ctx context.Context) error {
	s.BeginShutdown()
	s.closeOnce.Do(func() { close(s.closing) })
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() {
			if s.grpcLis != nil {
				s.grpcLis.refuse(ctx)
			}
			s.external.GracefulStop()
		})
		wg.Go(func() {
			if s.httpLis == nil {
				_ = s.http.Close()
				return
			}
			s.httpLis.refuse(ctx)
			_ = s.httpLis.Close()
			s.conns.drain(s.cut.ctx.Done(), stop)
		})
		wg.Wait()
	}()
	select {
	case <-done:
		s.cfg.Logger.Info("drained")
		return nil
	case <-ctx.Done():
	}
	s.cfg.Logger.Warn("shutdown grace period over: answering requests still running with UNAVAILABLE",
		"requests", s.cut.running.Load())
	s.cut.now()
	select {
	case <-done:
		s.cfg.Logger.Info("drained")
		return nil
	case <-time.After(cutoffWait):
	}
	left := s.cut.running.Load()
	close(stop)
	_ = s.http.Close()
	s.external.Stop()
	<-done
	if left > 0 {
		return fmt.Errorf("%d requests did not answer within %v of the end of the shutdown grace period and were cut off", left, cutoffWait)
	}
	return nil
}

// Run serves until ctx ends, then shuts down: it reports not ready at once
// and asks HTTP clients to leave, keeps serving for ShutdownDelay so load
// balancers notice, then stops accepting and lets in-flight requests finish
// within ShutdownGrace (see Shutdown).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.serveErr:
		// Nothing stops a listener but shutdown, which has not begun.
		if serveErr == nil {
			serveErr = errors.New("a listener stopped unexpectedly")
		}
		s.cfg.Logger.Error("server failed", "error", serveErr.Error())
	}
	s.BeginShutdown()
	if serveErr == nil && s.cfg.ShutdownDelay > 0 {
		time.Sleep(s.cfg.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && serveErr == nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return serveErr
}

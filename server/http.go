package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/textproto"
	"runtime/debug"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

// newGateway returns the grpc-gateway mux that serves HTTP/JSON calls with
// srv.
func newGateway(ctx context.Context, srv texttosqlv1.TextToSQLServiceServer) (*runtime.ServeMux, error) {
	mux := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithErrorHandler(gatewayErrorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
	)
	if err := texttosqlv1.RegisterTextToSQLServiceHandlerServer(ctx, mux, srv); err != nil {
		return nil, err
	}
	return mux, nil
}

// intercepted runs every RPC of svc through the unary middleware, as the
// gRPC server does with its interceptor: the gateway calls it directly.
type intercepted struct {
	texttosqlv1.UnimplementedTextToSQLServiceServer
	svc *Service
	mw  *middleware
	cut *cutoff
}

// invoke runs one RPC through the middleware; the handler gets back the
// request the middleware passes on.
func invoke[Req, Resp any](ctx context.Context, x *intercepted, method string, req *Req, h func(context.Context, *Req) (*Resp, error)) (*Resp, error) {
	info := &grpc.UnaryServerInfo{Server: x.svc, FullMethod: method}
	out, err := x.mw.unary(ctx, req, info, func(ctx context.Context, r any) (any, error) {
		return x.cut.unary(ctx, r, info, func(ctx context.Context, r any) (any, error) { return h(ctx, r.(*Req)) })
	})
	if err != nil {
		return nil, err
	}
	return out.(*Resp), nil
}

func (x *intercepted) GenerateSQL(ctx context.Context, r *texttosqlv1.GenerateSQLRequest) (*texttosqlv1.GenerateSQLResponse, error) {
	return invoke(ctx, x, texttosqlv1.TextToSQLService_GenerateSQL_FullMethodName, r, x.svc.GenerateSQL)
}

func (x *intercepted) ValidateSQL(ctx context.Context, r *texttosqlv1.ValidateSQLRequest) (*texttosqlv1.ValidateSQLResponse, error) {
	return invoke(ctx, x, texttosqlv1.TextToSQLService_ValidateSQL_FullMethodName, r, x.svc.ValidateSQL)
}

func (x *intercepted) ListDatabases(ctx context.Context, r *texttosqlv1.ListDatabasesRequest) (*texttosqlv1.ListDatabasesResponse, error) {
	return invoke(ctx, x, texttosqlv1.TextToSQLService_ListDatabases_FullMethodName, r, x.svc.ListDatabases)
}

func (x *intercepted) GetSchema(ctx context.Context, r *texttosqlv1.GetSchemaRequest) (*texttosqlv1.GetSchemaResponse, error) {
	return invoke(ctx, x, texttosqlv1.TextToSQLService_GetSchema_FullMethodName, r, x.svc.GetSchema)
}

func (x *intercepted) RefreshSchema(ctx context.Context, r *texttosqlv1.RefreshSchemaRequest) (*texttosqlv1.RefreshSchemaResponse, error) {
	return invoke(ctx, x, texttosqlv1.TextToSQLService_RefreshSchema_FullMethodName, r, x.svc.RefreshSchema)
}

// incomingHeader passes the headers the service reads to gRPC metadata.
// Authorization is not listed: the gateway always passes it as
// "authorization" itself, and matching it again would send it twice, which
// the authenticator refuses.
func incomingHeader(key string) (string, bool) {
	switch textproto.CanonicalMIMEHeaderKey(key) {
	case "X-Superset-Authorization":
		return MDSupersetAuthorization, true
	case "X-Request-Id":
		return MDRequestID, true
	case "Authorization":
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader forwards response metadata as Grpc-Metadata-* headers,
// except the request id, which the HTTP middleware already set as
// X-Request-Id to the same value, and gRPC's own content type.
func outgoingHeader(key string) (string, bool) {
	switch key {
	case MDRequestID, "content-type":
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// httpHandler serves the gateway and the operational endpoints.
func (s *Server) httpHandler(gw http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
		Registry: s.cfg.Registry, ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(texttosqlv1.OpenAPI)
	})
	mux.Handle("/", s.limitBody(gw))
	s.mux = mux
	return s.httpCommon(mux)
}

// Mount serves h at pattern (http.ServeMux syntax) on the HTTP port, with
// the same request ids, recovery and body limit as the API. Call it before
// Start.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, s.limitBody(h)) }

// Local returns the service as seen through the same middleware as the
// gRPC and HTTP transports (authentication from the context's incoming
// metadata, limits, deadlines, logs, metrics labelled transport), for
// other front ends in the process such as MCP.
func (s *Server) Local(transport string) texttosqlv1.TextToSQLServiceServer {
	return &intercepted{svc: s.svc, mw: s.middlewareFor(transport), cut: s.cut}
}

// readyz is 200 when the service can answer: the store's catalog source is
// loaded or reachable (Store.Ready) and the server is not shutting down;
// 503 with the reason otherwise. Databases without a fresh catalog are
// listed, not counted against readiness, so one failing warehouse does not
// take the service out of every load balancer: "stale" ones are served
// from their last good catalog, "unavailable" ones have none yet (their
// first fetch is pending or failing, and is retried on demand).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	model := s.cfg.Model
	if s.cfg.Generator == nil && model.Reason == "" {
		model.Reason = "no model configured: GenerateSQL answers UNIMPLEMENTED"
	}
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down", "model": model})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "detail": err.Error(), "model": model})
		return
	}
	type stale struct {
		Database  string    `json:"database"`
		SyncedAt  time.Time `json:"synced_at"`
		LastError string    `json:"last_error"`
	}
	type unavailable struct {
		Database  string `json:"database"`
		State     string `json:"state"` // "pending" or "failing"
		LastError string `json:"last_error,omitempty"`
	}
	out := map[string]any{"status": "ready", "model": model}
	var stales []stale
	var missing []unavailable
	if entries, err := s.cfg.Store.Databases(ctx); err == nil {
		for _, e := range entries {
			st := e.Status
			switch {
			case st.Stale:
				stales = append(stales, stale{e.Database.Name, st.SyncedAt, st.LastError})
			case st.SyncedAt.IsZero() && st.LastError != "":
				missing = append(missing, unavailable{e.Database.Name, "failing", st.LastError})
			case st.SyncedAt.IsZero():
				missing = append(missing, unavailable{e.Database.Name, "pending", ""})
			}
		}
	} else {
		out["detail"] = err.Error()
	}
	if len(stales) > 0 {
		out["stale"] = stales
	}
	if len(missing) > 0 {
		out["unavailable"] = missing
	}
	writeJSON(w, http.StatusOK, out)
}

// httpCommon assigns the request id (accepting a sane one from the
// client, so the gateway forwards the same id to the interceptors),
// recovers panics outside the RPC path, and logs each request at debug
// level (RPCs are logged by the interceptors).
func (s *Server) httpCommon(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(r.Header.Values("X-Request-Id")) != 1 || !saneRequestID(id) {
			id = NewRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		m := httpsnoop.CaptureMetrics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					s.cfg.Logger.Error("panic in HTTP handler", "request_id", id, "panic", v, "stack", string(debug.Stack()))
					writeStatus(w, jsonMarshaler, status.Newf(codes.Internal, "internal error (request id %s)", id), http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		}), w, r)
		s.cfg.Logger.Debug("http", "request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", m.Code, "duration_ms", float64(m.Duration.Microseconds())/1000, "bytes", m.Written)
	})
}

// jsonMarshaler writes errors that never reach the gateway in the same
// JSON shape as the gateway's own.
var jsonMarshaler = &runtime.JSONPb{}

// limitBody refuses request bodies over MaxRequestBytes with 413. The body
// is read here in full (it is small by construction), so the limit holds
// for chunked uploads too and the gateway never sees a truncated body.
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := int64(s.cfg.MaxRequestBytes)
	tooLarge := func(w http.ResponseWriter) {
		writeStatus(w, jsonMarshaler, status.Newf(codes.ResourceExhausted,
			"request body is larger than the limit of %d bytes", limit), http.StatusRequestEntityTooLarge)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > limit {
			tooLarge(w)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeStatus(w, jsonMarshaler, status.Newf(codes.InvalidArgument, "cannot read the request body: %v", err), http.StatusBadRequest)
			return
		}
		if int64(len(body)) > limit {
			tooLarge(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

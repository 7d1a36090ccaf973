package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/llm"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
)

// This file is the one place where errors become gRPC codes and HTTP
// statuses. RPC handlers return either a status error they built on purpose
// (request checks) or a plain error that ErrorStatus classifies: the
// domain packages (schema, generate, llm) know nothing of gRPC.

// HTTPStatus is the HTTP status the gateway answers for a gRPC code. It
// follows grpc-gateway's table except that FAILED_PRECONDITION, which
// GenerateSQL uses for "no valid SQL could be produced", is 422: the request
// was understood and well-formed, but cannot be satisfied as asked.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.FailedPrecondition:
		return http.StatusUnprocessableEntity
	case codes.Canceled:
		// nginx's "client closed request"; the caller is gone anyway.
		return 499
	}
	return runtime.HTTPStatusFromCode(c)
}

// ErrorStatus turns an error from a store, resolver, generator or model
// client into a status error; ctx is the request's (its id goes into a
// refusal's details). Status errors pass unchanged; anything unclassified
// becomes INTERNAL with a generic message, because its text may hold
// details (paths, hosts, upstream bodies) that are the operator's business,
// not the caller's. The original error is kept for the log by the caller
// of ErrorStatus.
func ErrorStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var u *unavailable
	if errors.As(err, &u) {
		// The dependency's own classification wins; anything else it
		// returns means it is down.
		if c := status.Code(ErrorStatus(ctx, u.err)); c != codes.Internal && c != codes.Unknown {
			return ErrorStatus(ctx, u.err)
		}
		return status.Errorf(codes.Unavailable, "%v", u)
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var refusal *generate.Refusal
	switch {
	case errors.As(err, &refusal):
		return refusalStatus(refusal, RequestIDFrom(ctx))
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request ran out of time; retry with a longer deadline")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was canceled")
	case errors.Is(err, schema.ErrUnknownDatabase):
		return status.Errorf(codes.NotFound, "%v; ListDatabases (GET /v1/databases) lists the names and ids this service knows", err)
	case errors.Is(err, ErrScopeUnauthenticated):
		return status.Errorf(codes.Unauthenticated, "%v; sign in to Superset again", err)
	case errors.Is(err, ErrScopeForbidden):
		return status.Errorf(codes.PermissionDenied, "%v", err)
	}
	switch k := llm.KindOf(err); k {
	case llm.KindRateLimited, llm.KindServerError, llm.KindTimeout, llm.KindUnavailable, llm.KindBadResponse:
		// The model endpoint is down, slow or overloaded after every retry:
		// the caller can only try again later.
		return status.Errorf(codes.Unavailable, "the model endpoint is unavailable (%s); try again later", k)
	case llm.KindBadRequest, llm.KindAuth:
		// The endpoint refused the service's own request (model, key,
		// parameters): a misconfiguration, never the caller's doing.
		return status.Error(codes.Internal, "the model endpoint rejected the service's request; see the service log")
	}
	return status.Error(codes.Internal, "internal error")
}

// refusalStatus is FAILED_PRECONDITION with the attempts in a
// GenerationFailure detail: the question was understood, but no attempt
// produced SQL the caller may run.
func refusalStatus(r *generate.Refusal, requestID string) error {
	st, err := status.New(codes.FailedPrecondition, r.Reason).WithDetails(&texttosqlv1.GenerationFailure{
		Attempts: attemptsProto(r.Attempts), Violations: Violations(r.Violations), RequestId: requestID,
	})
	if err != nil {
		return status.Error(codes.FailedPrecondition, r.Reason)
	}
	return st.Err()
}

// unavailable marks an error of a dependency the caller can only wait
// for (a catalog source, Superset's dataset lookup); what says which, for
// the caller.
type unavailable struct {
	what string
	err  error
}

func (u *unavailable) Error() string { return u.what + ": " + u.err.Error() }
func (u *unavailable) Unwrap() error { return u.err }

// sourceStatus classifies an error from a catalog source (Store.Get or
// Refresh): the source being down or returning garbage is UNAVAILABLE with
// its message, since the operator's caller can do nothing but retry later.
func sourceStatus(ctx context.Context, err error) error {
	return ErrorStatus(ctx, &unavailable{what: "schema source failed", err: err})
}

func invalidArgument(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, format, a...)
}

// gatewayErrorHandler writes a gateway error as a google.rpc.Status JSON body
// with the status from HTTPStatus.
func gatewayErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var hs *runtime.HTTPStatusError
	httpCode := 0
	if errors.As(err, &hs) {
		httpCode, err = hs.HTTPStatus, hs.Err
	}
	s := status.Convert(err)
	if httpCode == 0 {
		httpCode = HTTPStatus(s.Code())
	}
	writeStatus(w, m, s, httpCode)
}

// writeStatus writes s as the JSON error body every HTTP error of the
// service uses.
func writeStatus(w http.ResponseWriter, m runtime.Marshaler, s *status.Status, httpCode int) {
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	pb := s.Proto()
	buf, err := m.Marshal(pb)
	if err != nil {
		buf = fmt.Appendf(nil, `{"code":%d,"message":"internal error"}`, codes.Internal)
		httpCode = http.StatusInternalServerError
	}
	h.Set("Content-Type", "application/json")
	switch s.Code() {
	case codes.Unauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="text2sql"`)
	case codes.ResourceExhausted:
		if httpCode == http.StatusTooManyRequests {
			h.Set("Retry-After", "1")
		}
	}
	w.WriteHeader(httpCode)
	_, _ = w.Write(buf)
}

// routingErrorHandler answers requests that match no route (404, 405) in
// the same JSON shape as every other error.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpCode int) {
	c := codes.Internal
	msg := http.StatusText(httpCode)
	switch httpCode {
	case http.StatusNotFound:
		c, msg = codes.NotFound, fmt.Sprintf("no route for %s %s; /openapi.json describes the API", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		c, msg = codes.Unimplemented, fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)
	case http.StatusBadRequest:
		c = codes.InvalidArgument
	}
	writeStatus(w, m, status.New(c, msg), httpCode)
}

package serveproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

// Request is one call a client makes: exactly one of the fields is set.
type Request struct {
	Validate *texttosqlv1.ValidateSQLRequest
	Generate *texttosqlv1.GenerateSQLRequest
}

// Name is the RPC the request calls.
func (r Request) Name() string {
	if r.Validate != nil {
		return "ValidateSQL"
	}
	return "GenerateSQL"
}

// Result is the outcome of one call.
type Result struct {
	// Err is nil when the service answered in full and the answer is a
	// success (ValidateSQL: valid; GenerateSQL: SQL returned).
	Err error
	// CloseAsked is true when an HTTP answer asked the client to close
	// its connection.
	CloseAsked bool
}

// Client is one keep-alive client of the service: one HTTP connection
// reused from call to call, or one gRPC channel.
type Client interface {
	Do(ctx context.Context, r Request) Result
	Close()
}

// HTTPError is an HTTP answer other than 200, read in full.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

type httpClient struct {
	c    *http.Client
	base string
}

// NewHTTPClient returns a client of the HTTP/JSON API at addr (host:port)
// that keeps one connection alive between calls, as a connection-reusing
// caller does.
func NewHTTPClient(addr string) Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, IdleConnTimeout: time.Minute}
	return &httpClient{c: &http.Client{Transport: tr, Timeout: time.Minute}, base: "http://" + addr}
}

func (h *httpClient) Do(ctx context.Context, r Request) Result {
	path, in, out := "/v1/sql:validate", proto.Message(r.Validate), proto.Message(&texttosqlv1.ValidateSQLResponse{})
	if r.Generate != nil {
		path, in, out = "/v1/sql:generate", r.Generate, &texttosqlv1.GenerateSQLResponse{}
	}
	body, err := protojson.Marshal(in)
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.c.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	res := Result{CloseAsked: resp.Close}
	switch {
	case err != nil:
		res.Err = fmt.Errorf("reading the answer: %w", err)
	case resp.StatusCode != http.StatusOK:
		res.Err = &HTTPError{Status: resp.StatusCode, Body: string(data)}
	default:
		if err := protojson.Unmarshal(data, out); err != nil {
			res.Err = fmt.Errorf("answer %q: %w", data, err)
		} else {
			res.Err = success(out)
		}
	}
	return res
}

func (h *httpClient) Close() { h.c.CloseIdleConnections() }

type grpcClient struct {
	conn *grpc.ClientConn
	rpc  texttosqlv1.TextToSQLServiceClient
}

// NewGRPCClient returns a client of the gRPC API at addr (host:port) on
// its own channel.
func NewGRPCClient(addr string) (Client, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &grpcClient{conn: conn, rpc: texttosqlv1.NewTextToSQLServiceClient(conn)}, nil
}

func (g *grpcClient) Do(ctx context.Context, r Request) Result {
	var out proto.Message
	var err error
	if r.Validate != nil {
		out, err = g.rpc.ValidateSQL(ctx, r.Validate)
	} else {
		out, err = g.rpc.GenerateSQL(ctx, r.Generate)
	}
	if err != nil {
		return Result{Err: err}
	}
	return Result{Err: success(out)}
}

func (g *grpcClient) Close() { _ = g.conn.Close() }

// success checks that an answer is the success the load expects, so a
// load run notices when it measures refusals instead of work.
func success(m proto.Message) error {
	switch r := m.(type) {
	case *texttosqlv1.ValidateSQLResponse:
		if !r.Valid {
			return fmt.Errorf("ValidateSQL answered invalid: %v", r.Violations)
		}
	case *texttosqlv1.GenerateSQLResponse:
		if r.Sql == "" {
			return errors.New("GenerateSQL answered without SQL")
		}
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/texttosql/text2sql/generate"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/validate"
)

// Tokens of the callers the auth tests configure.
const (
	supersetToken = "superset-token-0123456789abcdef"
	toolsToken    = "tools-token-0123456789abcdef"
)

var callerEnv = map[string]string{
	"TEXT2SQL_CALLERS":               "superset:trusted,tools",
	"TEXT2SQL_CALLER_TOKEN_SUPERSET": supersetToken,
	"TEXT2SQL_CALLER_TOKEN_TOOLS":    toolsToken,
}

// fakeGenerator stands in for the generation pipeline. The question
// selects its behaviour; "block" waits for release (or the request's end).
type fakeGenerator struct {
	entered chan string
	release chan struct{}
}

func newFakeGenerator() *fakeGenerator {
	return &fakeGenerator{entered: make(chan string, 16), release: make(chan struct{})}
}

func (g *fakeGenerator) Generate(ctx context.Context, req *generate.Request) (*generate.Answer, error) {
	switch req.Question {
	case "block":
		g.entered <- server.RequestIDFrom(ctx)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "wait for the deadline":
		<-ctx.Done()
		return nil, ctx.Err()
	case "fail":
		return nil, &generate.Refusal{
			Reason:     "no attempt produced valid SQL",
			Violations: []validate.Violation{{Code: "TABLE_NOT_ALLOWED", Message: "table public.users may not be read"}},
		}
	case "panic":
		panic("generator exploded: secret-panic-detail")
	case "oops":
		return nil, errors.New("upstream said: secret-internal-detail")
	}
	// Answer with the tables the caller may see, validated like the
	// pipeline would.
	db := req.Catalog.Database
	res := req.Validator.Validate(validate.Request{SQL: "SELECT id FROM orders", Database: db, Rules: req.Rules})
	if !res.Valid {
		return nil, &generate.Refusal{Reason: res.Violations[0].Message, Violations: res.Violations}
	}
	return &generate.Answer{SQL: res.SQL, Dialect: res.Dialect, Tables: res.Tables, Database: db.Name}, nil
}

func withGenerator(g server.Generator) func(*server.Config) {
	return func(c *server.Config) { c.Generator = g }
}

// ValidateSQL answers the same over HTTP and gRPC.
func TestServeValidateBothWays(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	for _, tc := range []struct {
		name  string
		req   *texttosqlv1.ValidateSQLRequest
		valid bool
		code  string // first violation
	}{
		{"valid postgres", &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select o.id, c.name from orders o join customers c on c.id = o.customer_id"}, true, ""},
		{"database by id", &texttosqlv1.ValidateSQLRequest{Database: "1", Sql: "select count(*) from analytics.\"Daily Sales\""}, true, ""},
		{"valid mysql", &texttosqlv1.ValidateSQLRequest{Database: "store", Sql: "select note from `order notes`", MaxRows: 5}, true, ""},
		{"pii column", &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select email from customers"}, false, "COLUMN_NOT_ALLOWED"},
		{"denied table", &texttosqlv1.ValidateSQLRequest{Database: "store", Sql: "select login from users"}, false, "TABLE_NOT_ALLOWED"},
		{"write", &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "delete from orders"}, false, "NOT_READ_ONLY"},
		{"syntax", &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select from where"}, false, "PARSE_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaGRPC, err := h.client.ValidateSQL(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := protojson.Marshal(tc.req)
			r := h.do("POST", "/v1/sql:validate", string(body))
			if r.status != 200 {
				t.Fatalf("HTTP %d: %s", r.status, r.body)
			}
			viaHTTP := &texttosqlv1.ValidateSQLResponse{}
			if err := protojson.Unmarshal([]byte(r.body), viaHTTP); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(viaGRPC, viaHTTP) {
				t.Errorf("gRPC and HTTP differ:\n grpc %v\n http %v", viaGRPC, viaHTTP)
			}
			if viaGRPC.Valid != tc.valid {
				t.Fatalf("valid = %v, want %v: %v", viaGRPC.Valid, tc.valid, viaGRPC.Violations)
			}
			if tc.valid {
				if viaGRPC.Sql == "" || len(viaGRPC.Tables) == 0 || !strings.Contains(strings.ToUpper(viaGRPC.Sql), "LIMIT") {
					t.Errorf("valid answer without capped SQL or tables: %v", viaGRPC)
				}
			} else if viaGRPC.Sql != "" || viaGRPC.Violations[0].Code != tc.code {
				t.Errorf("got %v, want first violation %s and no SQL", viaGRPC, tc.code)
			}
		})
	}
	// The request's row cap only lowers the policy's (1000).
	r, err := h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select id from orders limit 5000", MaxRows: 20})
	if err != nil || !strings.HasSuffix(strings.ToUpper(r.Sql), "LIMIT 20") {
		t.Errorf("max_rows 20: %v, %v", r, err)
	}
	r, err = h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select id from orders limit 5000", MaxRows: 5000})
	if err != nil || !strings.HasSuffix(strings.ToUpper(r.Sql), "LIMIT 1000") {
		t.Errorf("max_rows above the policy's: %v, %v", r, err)
	}
}

func TestServeAuthAndScope(t *testing.T) {
	h := startServe(t, callerEnv, nil, nil)
	const customersSQL = `{"database":"shop","sql":"select name from customers","scope":{"datasetIds":["102"]}}`
	for _, tc := range []struct {
		name   string
		auth   string
		status int
		valid  bool
	}{
		{"no token", "", 401, false},
		{"bad token", "Authorization: Bearer not-a-token-0123456789", 401, false},
		{"wrong scheme", "Authorization: Basic " + supersetToken, 401, false},
		// customers is dataset 101; the scope names only orders (102).
		{"trusted scope honoured", "Authorization: Bearer " + supersetToken, 200, false},
		{"untrusted scope ignored", "Authorization: Bearer " + toolsToken, 200, true},
	} {
		t.Run(tc.name+"/http", func(t *testing.T) {
			var headers []string
			if tc.auth != "" {
				headers = append(headers, tc.auth)
			}
			r := h.do("POST", "/v1/sql:validate", customersSQL, headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if r.status == 200 {
				var resp struct {
					Valid      bool
					Violations []struct{ Code string }
				}
				if err := json.Unmarshal([]byte(r.body), &resp); err != nil {
					t.Fatal(err)
				}
				if resp.Valid != tc.valid {
					t.Errorf("valid = %v, want %v: %s", resp.Valid, tc.valid, r.body)
				}
				if !tc.valid && resp.Violations[0].Code != "TABLE_NOT_ALLOWED" {
					t.Errorf("violations %s, want TABLE_NOT_ALLOWED", r.body)
				}
			}
		})
		t.Run(tc.name+"/grpc", func(t *testing.T) {
			ctx := context.Background()
			if tc.auth != "" {
				k, v, _ := strings.Cut(tc.auth, ": ")
				ctx = md(strings.ToLower(k), v)
			}
			resp, err := h.client.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{
				Database: "shop", Sql: "select name from customers", Scope: &texttosqlv1.CallerScope{DatasetIds: []int64{102}},
			})
			wantCode := codes.OK
			if tc.status == 401 {
				wantCode = codes.Unauthenticated
			}
			if status.Code(err) != wantCode {
				t.Fatalf("code %v, want %v", status.Code(err), wantCode)
			}
			if err == nil && resp.Valid != tc.valid {
				t.Errorf("valid = %v, want %v", resp.Valid, tc.valid)
			}
		})
	}

	// GetSchema lists only what the scope and policy allow, without PII.
	r := h.do("GET", "/v1/databases/shop/schema?scope.datasetIds=101&scope.datasetIds=105", "", "Authorization: Bearer "+supersetToken)
	if r.status != 200 {
		t.Fatalf("GetSchema: %d %s", r.status, r.body)
	}
	var schemaResp texttosqlv1.GetSchemaResponse
	if err := protojson.Unmarshal([]byte(r.body), &schemaResp); err != nil {
		t.Fatal(err)
	}
	if len(schemaResp.Tables) != 1 || schemaResp.Tables[0].Name != "customers" {
		t.Fatalf("scoped schema tables %v, want customers only (users is denied by policy)", schemaResp.Tables)
	}
	for _, c := range schemaResp.Tables[0].Columns {
		if c.Name == "email" || c.Name == "phone" {
			t.Errorf("denied column %s listed", c.Name)
		}
	}
	if schemaResp.Database.TableCount != 1 {
		t.Errorf("table_count %d, want 1", schemaResp.Database.TableCount)
	}

	// Health and reflection stay open without a token.
	hc, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without a token: %v, %v", hc, err)
	}
	if logs := h.logs.String(); strings.Contains(logs, supersetToken) || strings.Contains(logs, toolsToken) {
		t.Error("a caller token appears in the logs")
	}
}

type fakeResolver struct{}

func (fakeResolver) VisibleDatasets(_ context.Context, token string, _ int64) (server.DatasetSet, error) {
	switch token {
	case "alice-token":
		return server.DatasetIDs{101: true, 102: true}, nil
	case "expired-token":
		return nil, fmt.Errorf("superset answered 401: %w", server.ErrScopeUnauthenticated)
	}
	return nil, errors.New("superset is unreachable")
}

func TestServeScopeResolver(t *testing.T) {
	h := startServe(t, nil, nil, func(c *server.Config) { c.ScopeResolver = fakeResolver{} })
	for _, tc := range []struct {
		name, token, sql string
		status           int
		valid            bool
	}{
		{"visible table", "alice-token", "select name from customers", 200, true},
		{"table outside the user's datasets", "alice-token", "select name from products", 200, false},
		{"no user token: policy only", "", "select name from products", 200, true},
		{"refused user token", "expired-token", "select 1", 401, false},
		{"superset down", "other", "select 1", 503, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.token != "" {
				headers = append(headers, "X-Superset-Authorization: Bearer "+tc.token)
			}
			r := h.do("POST", "/v1/sql:validate", fmt.Sprintf(`{"database":"shop","sql":%q}`, tc.sql), headers...)
			if r.status != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", r.status, tc.status, r.body)
			}
			if r.status == 200 {
				var resp texttosqlv1.ValidateSQLResponse
				if err := protojson.Unmarshal([]byte(r.body), &resp); err != nil || resp.Valid != tc.valid {
					t.Errorf("valid want %v: %s (%v)", tc.valid, r.body, err)
				}
			}
			ctx := context.Background()
			if tc.token != "" {
				ctx = md(server.MDSupersetAuthorization, "Bearer "+tc.token)
			}
			resp, err := h.client.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: tc.sql})
			if got := server.HTTPStatus(status.Code(err)); got != tc.status {
				t.Fatalf("gRPC %v maps to %d, want %d", err, got, tc.status)
			}
			if err == nil && resp.Valid != tc.valid {
				t.Errorf("gRPC valid = %v, want %v", resp.Valid, tc.valid)
			}
		})
	}
	r := h.do("GET", "/v1/databases", "", "X-Superset-Authorization: Bearer alice-token")
	var list texttosqlv1.ListDatabasesResponse
	if err := protojson.Unmarshal([]byte(r.body), &list); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	counts := map[string]int32{}
	for _, d := range list.Databases {
		counts[d.Name] = d.TableCount
	}
	if counts["shop"] != 2 || counts["store"] != 0 {
		t.Errorf("ListDatabases for alice counts %v tables, want shop 2 and store 0", counts)
	}
}

func TestServeErrors(t *testing.T) {
	gen := newFakeGenerator()
	h := startServe(t, nil, []string{"--max-request-bytes", "4096", "--max-sql-bytes", "1024", "--request-timeout", "500ms"}, withGenerator(gen))
	big := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     codes.Code
		notInBody                string
	}{
		{"missing database", "POST", "/v1/sql:validate", `{"sql":"select 1"}`, 400, codes.InvalidArgument, ""},
		{"missing sql", "POST", "/v1/sql:validate", `{"database":"shop"}`, 400, codes.InvalidArgument, ""},
		{"sql over the limit", "POST", "/v1/sql:validate", `{"database":"shop","sql":"select '` + big + `'"}`, 400, codes.InvalidArgument, ""},
		{"malformed JSON", "POST", "/v1/sql:validate", `{"database":`, 400, codes.InvalidArgument, ""},
		{"unknown database", "POST", "/v1/sql:validate", `{"database":"nope","sql":"select 1"}`, 404, codes.NotFound, ""},
		{"unknown schema database", "GET", "/v1/databases/nope/schema", "", 404, codes.NotFound, ""},
		{"unknown route", "GET", "/v2/nothing", "", 404, codes.NotFound, ""},
		{"body too large", "POST", "/v1/sql:validate", `{"database":"shop","sql":"` + strings.Repeat("y", 5000) + `"}`, 413, codes.ResourceExhausted, ""},
		{"missing question", "POST", "/v1/sql:generate", `{"database":"shop"}`, 400, codes.InvalidArgument, ""},
		{"no valid SQL", "POST", "/v1/sql:generate", `{"database":"shop","question":"fail"}`, 422, codes.FailedPrecondition, ""},
		{"deadline", "POST", "/v1/sql:generate", `{"database":"shop","question":"wait for the deadline"}`, 504, codes.DeadlineExceeded, ""},
		{"panic", "POST", "/v1/sql:generate", `{"database":"shop","question":"panic"}`, 500, codes.Internal, "secret-panic-detail"},
		{"internal error", "POST", "/v1/sql:generate", `{"database":"shop","question":"oops"}`, 500, codes.Internal, "secret-internal-detail"},
		{"generated", "POST", "/v1/sql:generate", `{"database":"shop","question":"orders"}`, 200, codes.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", r.status, tc.status, r.body)
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if tc.code != codes.OK {
				var st struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal([]byte(r.body), &st); err != nil || codes.Code(st.Code) != tc.code || st.Message == "" {
					t.Errorf("body %s: want a status with code %d (%v) and a message", r.body, tc.code, tc.code)
				}
			}
			if tc.notInBody != "" && strings.Contains(r.body, tc.notInBody) {
				t.Errorf("error body leaks %q: %s", tc.notInBody, r.body)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "secret-panic-detail") || !strings.Contains(h.logs.String(), "goroutine") {
		t.Error("the panic and its stack are not logged")
	}
	if !strings.Contains(h.logs.String(), "secret-internal-detail") {
		t.Error("the internal error is not logged")
	}

	// The failure detail reaches gRPC callers.
	_, err := h.client.GenerateSQL(context.Background(), &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "fail"})
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition || len(st.Details()) != 1 {
		t.Fatalf("GenerateSQL fail over gRPC: %v (details %v)", err, st.Details())
	}
	if f, ok := st.Details()[0].(*texttosqlv1.GenerationFailure); !ok || f.RequestId == "" || f.Violations[0].Code != "TABLE_NOT_ALLOWED" {
		t.Errorf("detail %v", st.Details()[0])
	}
	// A gRPC message over --max-request-bytes.
	_, err = h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: strings.Repeat("z", 5000)})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized gRPC message: %v, want ResourceExhausted", err)
	}
	// Generated answers carry the request id.
	var header metadata.MD
	resp, err := h.client.GenerateSQL(md(server.MDRequestID, "gen-1"), &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "orders"}, grpc.Header(&header))
	if err != nil || resp.RequestId != "gen-1" || resp.Sql == "" {
		t.Errorf("GenerateSQL: %v, %v", resp, err)
	}
}

func TestServeGenerateUnimplemented(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	r := h.do("POST", "/v1/sql:generate", `{"database":"shop","question":"how many orders?"}`)
	if r.status != 501 || !strings.Contains(r.body, "not available in this build") {
		t.Errorf("GenerateSQL without a generator: %d %s", r.status, r.body)
	}
	_, err := h.client.GenerateSQL(context.Background(), &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "q"})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("gRPC: %v, want Unimplemented", err)
	}
}

func TestServeRateLimit(t *testing.T) {
	h := startServe(t, nil, []string{"--rate-limit", "0.000001", "--rate-burst", "2"}, nil)
	for i := range 2 {
		if r := h.do("GET", "/v1/databases", ""); r.status != 200 {
			t.Fatalf("request %d within the burst: %d", i, r.status)
		}
	}
	r := h.do("GET", "/v1/databases", "")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("over the rate: %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	// One limit per caller, whatever the transport.
	if _, err := h.client.ListDatabases(context.Background(), &texttosqlv1.ListDatabasesRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC over the rate: %v", err)
	}
	// Probes are not limited.
	if r := h.do("GET", "/healthz", ""); r.status != 200 {
		t.Errorf("/healthz under rate limiting: %d", r.status)
	}
}

func TestServeRefreshSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schema.yaml")
	if err := os.WriteFile(path, sampleSchema, 0o644); err != nil {
		t.Fatal(err)
	}
	h := startServe(t, nil, []string{"--schema", path, "--policy", "sample/policy.yaml"}, nil)
	r := h.do("POST", "/v1/databases/shop/schema:refresh", "{}")
	var refreshed texttosqlv1.RefreshSchemaResponse
	if err := protojson.Unmarshal([]byte(r.body), &refreshed); r.status != 200 || err != nil || refreshed.Database.Status.Source != "file" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	// Drop the orders table from the file: after a refresh it is unknown.
	changed := regexp.MustCompile(`(?s)      - schema: public\n        name: orders\n.*?(      - schema: public\n        name: order_items)`).
		ReplaceAll(sampleSchema, []byte("$1"))
	if len(changed) == len(sampleSchema) {
		t.Fatal("test setup: orders not removed")
	}
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/v1/databases/1/schema:refresh", "{}"); r.status != 200 {
		t.Fatalf("refresh by id: %d %s", r.status, r.body)
	}
	resp, err := h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select id from orders"})
	if err != nil || resp.Valid {
		t.Fatalf("orders after being removed: %v, %v", resp, err)
	}
	if r := h.do("POST", "/v1/databases/nope/schema:refresh", "{}"); r.status != 404 {
		t.Errorf("refresh of an unknown database: %d %s", r.status, r.body)
	}
	if err := os.WriteFile(path, []byte("databases: [broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/v1/databases/shop/schema:refresh", "{}"); r.status != 503 || !strings.Contains(r.body, "schema source failed") {
		t.Errorf("refresh from a broken file: %d %s", r.status, r.body)
	}
	// The last good catalog is still served.
	if r := h.do("GET", "/v1/databases/shop/schema", ""); r.status != 200 || !strings.Contains(r.body, "order_items") {
		t.Errorf("schema after a failed refresh: %d", r.status)
	}
}

func TestServeHealthReadyAndShutdown(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	health := healthpb.NewHealthClient(h.conn)
	if r := h.do("GET", "/healthz", ""); r.status != 200 || r.close {
		t.Errorf("/healthz %d, connection close %v", r.status, r.close)
	}
	if r := h.do("GET", "/readyz", ""); r.status != 200 || !strings.Contains(r.body, "ready") {
		t.Errorf("/readyz %d %s", r.status, r.body)
	}
	for _, svc := range []string{"", "texttosql.v1.TextToSQLService"} {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: %v, %v", svc, resp, err)
		}
	}
	if r := h.do("GET", "/openapi.json", ""); r.status != 200 || !json.Valid([]byte(r.body)) || !strings.Contains(r.body, "/v1/sql:validate") {
		t.Errorf("/openapi.json %d", r.status)
	}
	stream, err := reflectpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	refl, err := stream.Recv()
	if err != nil || !strings.Contains(refl.String(), "texttosql.v1.TextToSQLService") {
		t.Errorf("reflection: %v, %v", refl, err)
	}
	_ = stream.CloseSend()

	h.srv.BeginShutdown()
	if r := h.do("GET", "/readyz", ""); r.status != 503 || !strings.Contains(r.body, "shutting down") {
		t.Errorf("/readyz during shutdown: %d %s", r.status, r.body)
	}
	resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health during shutdown: %v, %v", resp, err)
	}
	// Requests are still served until the listeners close, each asking
	// its client to close the connection.
	if r := h.do("POST", "/v1/sql:validate", `{"database":"shop","sql":"select 1"}`); r.status != 200 || !r.close {
		t.Errorf("ValidateSQL during shutdown: %d, connection close %v", r.status, r.close)
	}
	if r := h.do("GET", "/healthz", ""); r.status != 200 {
		t.Errorf("/healthz during shutdown: %d", r.status)
	}
	if code := h.stop(); code != exitOK {
		t.Errorf("exit status %d", code)
	}
}

// In-flight requests finish during shutdown while the listeners are
// already closed.
func TestServeGracefulDrain(t *testing.T) {
	gen := newFakeGenerator()
	h := startServe(t, nil, nil, withGenerator(gen))
	type outcome struct {
		r   httpResult
		err error
	}
	httpDone := make(chan outcome, 1)
	grpcDone := make(chan error, 1)
	go func() {
		r, err := h.try("POST", "/v1/sql:generate", `{"database":"shop","question":"block"}`)
		httpDone <- outcome{r, err}
	}()
	go func() {
		_, err := h.client.GenerateSQL(context.Background(), &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "block"})
		grpcDone <- err
	}()
	<-gen.entered
	<-gen.entered

	h.cancel() // as SIGTERM does
	waitFor(t, "both listeners to close", func() bool { return refused(h.srv.HTTPAddr()) && refused(h.srv.GRPCAddr()) })
	select {
	case o := <-httpDone:
		t.Fatalf("HTTP request ended before release: %v %v", o.r, o.err)
	case err := <-grpcDone:
		t.Fatalf("gRPC request ended before release: %v", err)
	default:
	}
	close(gen.release)
	if o := <-httpDone; o.err != nil || o.r.status != 200 || !strings.Contains(o.r.body, "SELECT id FROM orders") {
		t.Errorf("drained HTTP request: %v %v", o.r, o.err)
	}
	if err := <-grpcDone; err != nil {
		t.Errorf("drained gRPC request: %v", err)
	}
	if code := h.stop(); code != exitOK {
		t.Errorf("exit status %d", code)
	}
	if !strings.Contains(h.logs.String(), `"msg":"drained"`) {
		t.Error("no drained log line")
	}
}

// Requests still running when the grace period ends are answered
// UNAVAILABLE (HTTP 503), and the process still exits 0.
func TestServeShutdownGraceOver(t *testing.T) {
	gen := newFakeGenerator()
	h := startServe(t, nil, []string{"--shutdown-grace", "100ms"}, withGenerator(gen))
	type outcome struct {
		r   httpResult
		err error
	}
	httpDone := make(chan outcome, 1)
	grpcDone := make(chan error, 1)
	go func() {
		r, err := h.try("POST", "/v1/sql:generate", `{"database":"shop","question":"block"}`)
		httpDone <- outcome{r, err}
	}()
	go func() {
		_, err := h.client.GenerateSQL(context.Background(), &texttosqlv1.GenerateSQLRequest{Database: "shop", Question: "block"})
		grpcDone <- err
	}()
	<-gen.entered
	<-gen.entered
	if code := h.stop(); code != exitOK {
		t.Errorf("exit status %d, want %d after answering the requests still running", code, exitOK)
	}
	if err := <-grpcDone; status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("gRPC request held past the grace period: %v, want UNAVAILABLE", err)
	}
	o := <-httpDone
	if o.err != nil || o.r.status != 503 || !strings.Contains(o.r.body, "shutting down") || !o.r.close {
		t.Errorf("HTTP request held past the grace period: %v %+v, want 503 with Connection: close", o.err, o.r)
	}
	if !strings.Contains(h.logs.String(), `"code":"Unavailable"`) {
		t.Error("the UNAVAILABLE answers are not logged")
	}
}

func TestServeRequestID(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	r := h.do("GET", "/v1/databases", "", "X-Request-Id: trace-42")
	if got := r.header.Values("X-Request-Id"); len(got) != 1 || got[0] != "trace-42" {
		t.Errorf("X-Request-Id %v, want [trace-42]", got)
	}
	r = h.do("GET", "/v1/databases", "", "X-Request-Id: bad id\"")
	if got := r.header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got) {
		t.Errorf("insane id replaced by %q, want a generated one", got)
	}
	r = h.do("POST", "/v1/sql:validate", `{"database":"nope","sql":"select 1"}`, "X-Request-Id: trace-43")
	if r.header.Get("X-Request-Id") != "trace-43" {
		t.Errorf("error response id %q", r.header.Get("X-Request-Id"))
	}
	if !strings.Contains(h.logs.String(), `"request_id":"trace-42"`) {
		t.Error("request id trace-42 not logged")
	}

	var header, trailer metadata.MD
	_, err := h.client.ValidateSQL(md(server.MDRequestID, "grpc-7"), &texttosqlv1.ValidateSQLRequest{Database: "nope", Sql: "select 1"},
		grpc.Header(&header), grpc.Trailer(&trailer))
	if status.Code(err) != codes.NotFound {
		t.Fatal(err)
	}
	if got := header.Get(server.MDRequestID); len(got) != 1 || got[0] != "grpc-7" {
		t.Errorf("gRPC header id %v", got)
	}
	if got := trailer.Get(server.MDRequestID); len(got) != 1 || got[0] != "grpc-7" {
		t.Errorf("gRPC trailer id %v", got)
	}
	_, err = h.client.ListDatabases(context.Background(), &texttosqlv1.ListDatabasesRequest{}, grpc.Header(&header))
	if err != nil || len(header.Get(server.MDRequestID)) != 1 || len(header.Get(server.MDRequestID)[0]) != 32 {
		t.Errorf("generated gRPC id %v, %v", header, err)
	}
}

// metricValue reads one sample from a Prometheus text exposition.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

func TestServeMetrics(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	for range 2 {
		h.do("POST", "/v1/sql:validate", `{"database":"shop","sql":"select email from customers"}`)
	}
	if _, err := h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "store", Sql: "select id from orders"}); err != nil {
		t.Fatal(err)
	}
	h.do("POST", "/v1/sql:validate", `{"database":"nope","sql":"select 1"}`)
	m := h.do("GET", "/metrics", "").body
	const vs = "/texttosql.v1.TextToSQLService/ValidateSQL"
	for series, want := range map[string]float64{
		`text2sql_requests_total{code="OK",method="` + vs + `",transport="http"}`:       2,
		`text2sql_requests_total{code="OK",method="` + vs + `",transport="grpc"}`:       1,
		`text2sql_requests_total{code="NotFound",method="` + vs + `",transport="http"}`: 1,
		`text2sql_validations_total{dialect="postgresql",verdict="invalid"}`:            2,
		`text2sql_validations_total{dialect="mysql",verdict="valid"}`:                   1,
		`text2sql_violations_total{code="COLUMN_NOT_ALLOWED"}`:                          2,
		`text2sql_request_duration_seconds_count{method="` + vs + `",transport="http"}`: 3,
		`text2sql_requests_in_flight{transport="http"}`:                                 0,
	} {
		if got := metricValue(t, m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(m, "go_goroutines") || !strings.Contains(m, "# TYPE text2sql_requests_in_flight gauge") {
		t.Error("runtime or in-flight metrics missing")
	}
}

// Questions and SQL reach the logs only at debug level and only when the
// operator allows it.
func TestServeLogQuestions(t *testing.T) {
	const sql = "select name from products where category = 'marker-7'"
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--log-level", "debug"}, false},
		{[]string{"--log-questions"}, false},
		{[]string{"--log-level", "debug", "--log-questions"}, true},
	} {
		h := startServe(t, nil, tc.args, nil)
		if _, err := h.client.ValidateSQL(context.Background(), &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: sql}); err != nil {
			t.Fatal(err)
		}
		h.stop()
		if got := strings.Contains(h.logs.String(), "marker-7"); got != tc.want {
			t.Errorf("%v: SQL logged = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestServeStartupErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", nil, []string{"--nope"}, exitUsage, "flag provided but not defined"},
		{"bad env value", map[string]string{"TEXT2SQL_REQUEST_TIMEOUT": "soon"}, nil, exitUsage, "TEXT2SQL_REQUEST_TIMEOUT"},
		{"stray argument", nil, []string{"extra"}, exitUsage, "unexpected arguments"},
		{"caller without token", map[string]string{"TEXT2SQL_CALLERS": "superset"}, nil, exitFailure, "TEXT2SQL_CALLER_TOKEN_SUPERSET"},
		{"missing schema", nil, []string{"--schema", "does-not-exist.yaml"}, exitFailure, "does-not-exist.yaml"},
		{"bad log level", nil, []string{"--log-level", "loud"}, exitUsage, "--log-level"},
		{"port taken", nil, []string{"--grpc-addr", "256.0.0.1:1"}, exitFailure, "gRPC listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out lockedBuffer
			code := serve(context.Background(), testEnv(tc.vars, nil, &out, &out), tc.args, serveHooks{})
			if code != tc.code || !strings.Contains(out.String(), tc.msg) {
				t.Errorf("exit %d, want %d, output containing %q:\n%s", code, tc.code, tc.msg, out.String())
			}
		})
	}
}

// A client watching gRPC health sees NOT_SERVING when shutdown begins,
// and its stream does not hold the shutdown up.
func TestServeHealthWatchDuringShutdown(t *testing.T) {
	h := startServe(t, nil, nil, nil)
	watch, err := healthpb.NewHealthClient(h.conn).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first watch update: %v, %v", resp, err)
	}
	h.srv.BeginShutdown()
	if resp, err := watch.Recv(); err != nil || resp.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watch update after shutdown began: %v, %v", resp, err)
	}
	if code := h.stop(); code != exitOK {
		t.Errorf("exit status %d: the open watch held the graceful stop up", code)
	}
	if _, err := watch.Recv(); err == nil {
		t.Error("watch stream still open after the server stopped")
	}
}

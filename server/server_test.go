package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/llm"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// withTestdata fills the store and policy from testdata when unset.
func withTestdata(tb testing.TB, cfg Config) Config {
	tb.Helper()
	if cfg.Store == nil {
		c, err := schema.LoadFile("testdata/shop.yaml")
		if err != nil {
			tb.Fatal(err)
		}
		cfg.Store = schema.NewFileStore(c, "")
	}
	if cfg.Policy == nil {
		p, err := validate.LoadPolicy("testdata/policy.yaml")
		if err != nil {
			tb.Fatal(err)
		}
		cfg.Policy = p
	}
	cfg.Logger = quietLogger()
	return cfg
}

func testService(t *testing.T, cfg Config) *Service {
	t.Helper()
	s, err := NewService(withTestdata(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		code codes.Code
		want int
	}{
		{codes.InvalidArgument, 400},
		{codes.Unauthenticated, 401},
		{codes.PermissionDenied, 403},
		{codes.NotFound, 404},
		{codes.FailedPrecondition, 422},
		{codes.ResourceExhausted, 429},
		{codes.Unimplemented, 501},
		{codes.Unavailable, 503},
		{codes.DeadlineExceeded, 504},
		{codes.Internal, 500},
		{codes.Canceled, 499},
	} {
		if got := HTTPStatus(tc.code); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.code, got, tc.want)
		}
	}
}

// Every error on its way out is classified by ErrorStatus, and only there.
func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
		leak string // must not appear in the message
	}{
		{fmt.Errorf("get: %w", context.DeadlineExceeded), codes.DeadlineExceeded, ""},
		{context.Canceled, codes.Canceled, ""},
		{fmt.Errorf("%w %q", schema.ErrUnknownDatabase, "x"), codes.NotFound, ""},
		{fmt.Errorf("superset: %w", ErrScopeUnauthenticated), codes.Unauthenticated, ""},
		{fmt.Errorf("%w: no access to database 3", ErrScopeForbidden), codes.PermissionDenied, ""},
		{status.Error(codes.FailedPrecondition, "no valid SQL"), codes.FailedPrecondition, ""},
		{errors.New("dial tcp 10.0.0.7:5432: secret-host refused"), codes.Internal, "secret-host"},
		// The model client's failures: the endpoint down, slow or
		// overloaded is UNAVAILABLE; the endpoint refusing the service's own
		// request is the service's fault, INTERNAL, without the upstream text.
		{&llm.Error{Kind: llm.KindRateLimited}, codes.Unavailable, ""},
		{&llm.Error{Kind: llm.KindServerError}, codes.Unavailable, ""},
		{&llm.Error{Kind: llm.KindTimeout}, codes.Unavailable, ""},
		{&llm.Error{Kind: llm.KindUnavailable}, codes.Unavailable, ""},
		{&llm.Error{Kind: llm.KindBadResponse}, codes.Unavailable, ""},
		{&llm.Error{Kind: llm.KindBadRequest, Message: "secret-upstream-body"}, codes.Internal, "secret-upstream-body"},
		{&llm.Error{Kind: llm.KindAuth}, codes.Internal, ""},
		{&llm.Error{Kind: llm.KindDeadlineExceeded, Err: context.DeadlineExceeded}, codes.DeadlineExceeded, ""},
		{&llm.Error{Kind: llm.KindCanceled, Err: context.Canceled}, codes.Canceled, ""},
		{fmt.Errorf("generate: %w", &llm.Error{Kind: llm.KindServerError}), codes.Unavailable, ""},
		{&generate.Refusal{Reason: "no valid SQL after 3 attempts"}, codes.FailedPrecondition, ""},
		{&unavailable{what: "schema source failed", err: context.DeadlineExceeded}, codes.DeadlineExceeded, ""},
	} {
		st := status.Convert(ErrorStatus(context.Background(), tc.err))
		if st.Code() != tc.want {
			t.Errorf("ErrorStatus(%v) = %v, want %v", tc.err, st.Code(), tc.want)
		}
		if tc.leak != "" && strings.Contains(st.Message(), tc.leak) {
			t.Errorf("ErrorStatus(%v) leaks %q: %q", tc.err, tc.leak, st.Message())
		}
	}
	if got := status.Code(sourceStatus(context.Background(), errors.New("superset: 502"))); got != codes.Unavailable {
		t.Errorf("sourceStatus(source failure) = %v, want Unavailable", got)
	}
}

func TestAuthenticator(t *testing.T) {
	a, err := newAuthenticator([]CallerToken{
		{Name: "superset", Token: "0123456789abcdef-superset", Trusted: true},
		{Name: "tools", Token: "0123456789abcdef-tools"},
		{Name: "tools", Token: "0123456789abcdef-tools-next"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		auth    []string
		want    string
		trusted bool
		code    codes.Code
	}{
		{"trusted", []string{"Bearer 0123456789abcdef-superset"}, "superset", true, codes.OK},
		{"scheme case", []string{"bearer 0123456789abcdef-tools"}, "tools", false, codes.OK},
		{"second token of a caller", []string{"Bearer 0123456789abcdef-tools-next"}, "tools", false, codes.OK},
		{"missing", nil, "", false, codes.Unauthenticated},
		{"wrong token", []string{"Bearer 0123456789abcdef-tool"}, "", false, codes.Unauthenticated},
		{"prefix of a token", []string{"Bearer 0123456789abcdef"}, "", false, codes.Unauthenticated},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", false, codes.Unauthenticated},
		{"no token", []string{"Bearer "}, "", false, codes.Unauthenticated},
		{"two values", []string{"Bearer 0123456789abcdef-tools", "Bearer 0123456789abcdef-superset"}, "", false, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := metadata.MD{}
			for _, v := range tc.auth {
				md.Append(MDAuthorization, v)
			}
			c, err := a.authenticate(md)
			if status.Code(err) != tc.code {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tc.code)
			}
			if err == nil && (c.Name != tc.want || c.Trusted != tc.trusted || !c.Authenticated) {
				t.Errorf("caller %+v, want %s trusted=%v", c, tc.want, tc.trusted)
			}
		})
	}

	anon, _ := newAuthenticator(nil)
	if c, err := anon.authenticate(metadata.Pairs(MDAuthorization, "Bearer whatever")); err != nil || c.Name != AnonymousCaller || c.Trusted {
		t.Errorf("no callers configured: got %+v, %v; want anonymous, untrusted", c, err)
	}
	if _, err := newAuthenticator([]CallerToken{{Name: "a", Token: "same-token-0123456"}, {Name: "b", Token: "same-token-0123456"}}); err == nil {
		t.Error("two callers sharing a token were accepted")
	}
}

type fakeResolver map[string]DatasetIDs

func (f fakeResolver) VisibleDatasets(_ context.Context, token string, _ int64) (DatasetSet, error) {
	switch token {
	case "expired":
		return nil, fmt.Errorf("superset said 401: %w", ErrScopeUnauthenticated)
	case "down":
		return nil, errors.New("superset: connection refused")
	}
	if ids, ok := f[token]; ok {
		return ids, nil
	}
	return DatasetIDs{}, nil
}

func TestResolveScope(t *testing.T) {
	trusted := Caller{Name: "superset", Trusted: true, Authenticated: true}
	untrusted := Caller{Name: "tools", Authenticated: true}
	ids := &texttosqlv1.CallerScope{DatasetIds: []int64{12}}
	resolver := fakeResolver{"alice": {11: true}}
	for _, tc := range []struct {
		name     string
		resolver ScopeResolver
		header   string
		caller   Caller
		scope    *texttosqlv1.CallerScope
		want     []string // tables allowed after narrowing
		code     codes.Code
	}{
		{"untrusted, no scope", nil, "", untrusted, nil, []string{"public.audit", "public.customers", "public.orders"}, codes.OK},
		{"untrusted scope ignored", nil, "", untrusted, ids, []string{"public.audit", "public.customers", "public.orders"}, codes.OK},
		{"trusted scope honoured", nil, "", trusted, ids, []string{"public.orders"}, codes.OK},
		{"trusted empty scope sees nothing", nil, "", trusted, &texttosqlv1.CallerScope{User: "bob"}, nil, codes.OK},
		{"scope cannot widen the policy", nil, "", trusted, &texttosqlv1.CallerScope{DatasetIds: []int64{12, 13}}, []string{"public.orders"}, codes.OK},
		{"user token wins over trusted ids", resolver, "Bearer alice", trusted, ids, []string{"public.customers"}, codes.OK},
		{"user token for untrusted caller", resolver, "Bearer alice", untrusted, nil, []string{"public.customers"}, codes.OK},
		{"user token without resolver, trusted ids used", nil, "Bearer alice", trusted, ids, []string{"public.orders"}, codes.OK},
		{"user token without resolver is refused", nil, "Bearer alice", untrusted, nil, nil, codes.FailedPrecondition},
		{"unknown user sees nothing", resolver, "Bearer mallory", untrusted, nil, nil, codes.OK},
		{"refused token", resolver, "Bearer expired", untrusted, nil, nil, codes.Unauthenticated},
		{"malformed user token", resolver, "alice", untrusted, nil, nil, codes.Unauthenticated},
		{"superset down", resolver, "Bearer down", untrusted, nil, nil, codes.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testService(t, Config{ScopeResolver: tc.resolver})
			ctx := withCaller(context.Background(), tc.caller)
			if tc.header != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(MDSupersetAuthorization, tc.header))
			}
			r, err := s.prepare(ctx, "shop", tc.scope)
			if status.Code(err) != tc.code {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tc.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, tb := range r.db.Tables {
				if r.rules.TableAllowed(tb) {
					got = append(got, tb.QualifiedName())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("allowed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGetSchemaHidesDenied(t *testing.T) {
	s := testService(t, Config{})
	resp, err := s.GetSchema(context.Background(), &texttosqlv1.GetSchemaRequest{Database: "7"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*texttosqlv1.Table{}
	for _, tb := range resp.Tables {
		got[tb.Name] = tb
	}
	if _, ok := got["sellers"]; ok {
		t.Error("denied table sellers is listed")
	}
	cust := got["customers"]
	if cust == nil {
		t.Fatal("customers missing")
	}
	var cols, metrics []string
	for _, c := range cust.Columns {
		cols = append(cols, c.Name)
	}
	for _, m := range cust.Metrics {
		metrics = append(metrics, m.Name)
	}
	if want := []string{"id", "name"}; !slices.Equal(cols, want) {
		t.Errorf("customers columns %v, want %v", cols, want)
	}
	if want := []string{"salary_free", "customers"}; !slices.Equal(metrics, want) {
		t.Errorf("customers metrics %v, want %v (payroll sums a denied column)", metrics, want)
	}
	var fks []string
	for _, fk := range got["orders"].ForeignKeys {
		fks = append(fks, fk.Columns[0]+"->"+fk.RefTable)
	}
	if want := []string{"customer_id->customers"}; !slices.Equal(fks, want) {
		t.Errorf("orders foreign keys %v, want %v", fks, want)
	}
	if resp.Database.TableCount != int32(len(resp.Tables)) || resp.Database.Dialect != "postgresql" || resp.Database.Id != 7 {
		t.Errorf("database %+v does not describe the %d tables listed", resp.Database, len(resp.Tables))
	}
}

func TestValidateSQLRequestErrors(t *testing.T) {
	s := testService(t, Config{MaxSQLBytes: 32})
	for _, tc := range []struct {
		req  *texttosqlv1.ValidateSQLRequest
		code codes.Code
	}{
		{&texttosqlv1.ValidateSQLRequest{Sql: "select 1"}, codes.InvalidArgument},
		{&texttosqlv1.ValidateSQLRequest{Database: "shop"}, codes.InvalidArgument},
		{&texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select id from orders where id > 1000000"}, codes.InvalidArgument},
		{&texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select 1", MaxRows: -1}, codes.InvalidArgument},
		{&texttosqlv1.ValidateSQLRequest{Database: "nope", Sql: "select 1"}, codes.NotFound},
		{&texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "delete from orders"}, codes.OK},
		{&texttosqlv1.ValidateSQLRequest{Database: "legacy", Sql: "select a from t"}, codes.OK},
	} {
		resp, err := s.ValidateSQL(context.Background(), tc.req)
		if status.Code(err) != tc.code {
			t.Errorf("%v: code %v (%v), want %v", tc.req, status.Code(err), err, tc.code)
			continue
		}
		if err == nil && resp.Valid {
			t.Errorf("%v: valid, want a refusal", tc.req)
		}
	}
}

// A refreshed catalog with the same content keeps its compiled rules, and
// the request must then use the catalog those rules were compiled against;
// new content compiles new rules.
func TestRulesFollowRefresh(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schema.yaml")
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := schema.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := testService(t, Config{Store: schema.NewFileStore(c, path)})
	ctx := context.Background()
	validateOrders := func() *texttosqlv1.ValidateSQLResponse {
		t.Helper()
		resp, err := s.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "select id, customer_id from orders"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if !validateOrders().Valid {
		t.Fatal("orders refused before refresh")
	}
	if _, err := s.RefreshSchema(ctx, &texttosqlv1.RefreshSchemaRequest{Database: "shop"}); err != nil {
		t.Fatal(err)
	}
	if r := validateOrders(); !r.Valid {
		t.Fatalf("orders refused after a refresh with the same content: %v", r.Violations)
	}
	// Rename orders.customer_id: the column must now be unknown.
	changed := []byte(replaceOnce(string(data), "{name: customer_id, type: integer}", "{name: buyer_id, type: integer}"))
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshSchema(ctx, &texttosqlv1.RefreshSchemaRequest{Database: "shop"}); err != nil {
		t.Fatal(err)
	}
	if r := validateOrders(); r.Valid {
		t.Fatal("a column removed by the refresh is still accepted")
	}
	if err := os.WriteFile(path, []byte("databases: [oops"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.RefreshSchema(ctx, &texttosqlv1.RefreshSchemaRequest{Database: "shop"})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("refresh from a broken file: %v, want Unavailable", err)
	}
	if _, err := s.RefreshSchema(ctx, &texttosqlv1.RefreshSchemaRequest{Database: "nope"}); status.Code(err) == codes.OK {
		t.Fatal("refresh of an unknown database succeeded")
	}
}

func replaceOnce(s, old, repl string) string {
	if !strings.Contains(s, old) {
		panic("replaceOnce: " + old + " not found")
	}
	return strings.Replace(s, old, repl, 1)
}

func TestLimiter(t *testing.T) {
	l := newLimiter(Limits{MaxInFlight: 2})
	r1, _, err1 := l.acquire("a", "10.0.0.1")
	r2, _, err2 := l.acquire("a", "10.0.0.1")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, reason, err := l.acquire("a", "10.0.0.1"); status.Code(err) != codes.ResourceExhausted || reason != "concurrency" {
		t.Fatalf("third concurrent request: %v (%s), want ResourceExhausted", err, reason)
	}
	if _, _, err := l.acquire("b", "10.0.0.1"); err != nil {
		t.Fatalf("another caller is limited by a's requests: %v", err)
	}
	r1()
	if _, _, err := l.acquire("a", "10.0.0.1"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r2()

	rl := newLimiter(Limits{Rate: 1e-9, Burst: 2})
	for i := range 2 {
		if _, _, err := rl.acquire("a", "10.0.0.1"); err != nil {
			t.Fatalf("request %d within the burst: %v", i, err)
		}
	}
	if _, reason, err := rl.acquire("a", "10.0.0.1"); status.Code(err) != codes.ResourceExhausted || reason != "rate" {
		t.Fatalf("request over the burst: %v (%s), want ResourceExhausted", err, reason)
	}
}

func TestSaneRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123":                               true,
		"4bf92f3577b34da6a3ce929d0e0e4736":      true,
		"00-4bf92f35-00f067aa0ba902b7-01":       true,
		"":                                      false,
		"has space":                             false,
		"line\nbreak":                           false,
		"quote\"":                               false,
		strings.Repeat("a", 129):                false,
		strings.Repeat("a", 128):                true,
		"ünïcode":                               false,
		"a:b/c+d=e.f_g":                         true,
		"<script>":                              false,
		"0123456789012345678901234567890123456": true,
	} {
		if got := saneRequestID(id); got != want {
			t.Errorf("saneRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestGatewayHeaders(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		ok      bool
	}{
		{"X-Superset-Authorization", MDSupersetAuthorization, true},
		{"x-request-id", MDRequestID, true},
		{"Authorization", "", false}, // the gateway passes it itself
		{"X-Random", "", false},
	} {
		out, ok := incomingHeader(tc.in)
		if out != tc.out || ok != tc.ok {
			t.Errorf("incomingHeader(%q) = %q, %v; want %q, %v", tc.in, out, ok, tc.out, tc.ok)
		}
	}
	if _, ok := outgoingHeader(MDRequestID); ok {
		t.Error("request id forwarded twice")
	}
}

// notReadyStore is a store still loading its catalogs.
type notReadyStore struct{ schema.Store }

func (notReadyStore) Ready(context.Context) error {
	return errors.New("database shop: catalog not fetched yet")
}

func TestReadyzFollowsStore(t *testing.T) {
	cfg := withTestdata(t, Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	cfg.Store = notReadyStore{cfg.Store}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	resp, err := http.Get("http://" + srv.HTTPAddr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Status, Detail string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.Detail, "not fetched yet") {
		t.Errorf("/readyz: %d %+v, want 503 with the store's reason", resp.StatusCode, body)
	}
	hc, err := srv.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("gRPC health: %v, %v; want NOT_SERVING", hc, err)
	}
	// Liveness does not depend on the store.
	live, err := http.Get("http://" + srv.HTTPAddr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	live.Body.Close()
	if live.StatusCode != http.StatusOK {
		t.Errorf("/healthz %d", live.StatusCode)
	}
}

package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

func TestLimiterKeys(t *testing.T) {
	l := newLimiter(Limits{Rate: 1e-9, Burst: 1})
	// Anonymous requests are limited per client address.
	for _, client := range []string{"10.0.0.1", "10.0.0.2"} {
		if _, _, err := l.acquire(AnonymousCaller, client); err != nil {
			t.Fatalf("first request of %s: %v", client, err)
		}
	}
	_, _, err := l.acquire(AnonymousCaller, "10.0.0.1")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "anonymous client 10.0.0.1") {
		t.Fatalf("second request of 10.0.0.1: %v", err)
	}
	// A configured caller is one caller wherever it calls from.
	if _, _, err := l.acquire("tools", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.acquire("tools", "10.0.0.9"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("tools from another address: %v", err)
	}
	// Finished requests leave no in-flight entry behind.
	c := newLimiter(Limits{MaxInFlight: 1})
	for i := range 100 {
		release, _, err := c.acquire(AnonymousCaller, fmt.Sprintf("10.0.1.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if len(c.inFlight) != 0 {
		t.Fatalf("%d in-flight entries after every request ended", len(c.inFlight))
	}
}

// TestAnonymousLimitsPerClient checks, over real connections from
// different loopback addresses, that with no callers configured one
// client's rate limit does not refuse another's requests, over gRPC and
// HTTP, and that an HTTP client cannot pick its bucket with
// X-Forwarded-For.
func TestAnonymousLimitsPerClient(t *testing.T) {
	srv, err := New(withTestdata(t, Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Limits: Limits{Rate: 1e-9, Burst: 2}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })

	grpcFrom := func(ip string) texttosqlv1.TextToSQLServiceClient {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return texttosqlv1.NewTextToSQLServiceClient(conn)
	}
	httpFrom := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	callGRPC := func(c texttosqlv1.TextToSQLServiceClient) codes.Code {
		_, err := c.ListDatabases(context.Background(), &texttosqlv1.ListDatabasesRequest{})
		return status.Code(err)
	}
	callHTTP := func(c *http.Client, forwardedFor string) int {
		req, _ := http.NewRequest("GET", "http://"+srv.HTTPAddr().String()+"/v1/databases", nil)
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	a := grpcFrom("127.0.0.1")
	for i := range 2 {
		if c := callGRPC(a); c != codes.OK {
			t.Fatalf("client A request %d: %v", i, c)
		}
	}
	if c := callGRPC(a); c != codes.ResourceExhausted {
		t.Fatalf("client A over its burst: %v, want RESOURCE_EXHAUSTED", c)
	}
	// Client B has its own bucket, over gRPC and over HTTP alike.
	b := grpcFrom("127.0.0.2")
	if c := callGRPC(b); c != codes.OK {
		t.Fatalf("client B, gRPC, while A is limited: %v", c)
	}
	hb := httpFrom("127.0.0.2")
	if s := callHTTP(hb, ""); s != http.StatusOK {
		t.Fatalf("client B, HTTP: %d", s)
	}
	if s := callHTTP(hb, ""); s != http.StatusTooManyRequests {
		t.Fatalf("client B over its burst, HTTP: %d, want 429", s)
	}
	// Client C claiming to be someone else is still itself.
	hc := httpFrom("127.0.0.3")
	for i := range 2 {
		if s := callHTTP(hc, "127.0.0.9"); s != http.StatusOK {
			t.Fatalf("client C request %d: %d", i, s)
		}
	}
	if s := callHTTP(hc, "127.0.0.10"); s != http.StatusTooManyRequests {
		t.Fatalf("client C over its burst with another X-Forwarded-For: %d, want 429", s)
	}
}

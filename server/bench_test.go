package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkGatewayTransport compares the two ways the HTTP gateway can
// reach the interceptors: the in-memory listener the server uses, and a
// loopback TCP dial to its public gRPC port. Both answer the same
// ValidateSQL call through a real HTTP listener.
//
//	go test -run '^$' -bench GatewayTransport -benchmem ./server/
func BenchmarkGatewayTransport(b *testing.B) {
	srv, err := New(withTestdata(b, Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"}))
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()

	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	gw, err := newGateway(context.Background(), conn)
	if err != nil {
		b.Fatal(err)
	}
	loopback := httptest.NewServer(srv.httpHandler(gw))
	defer loopback.Close()

	// ListDatabases costs next to nothing itself, so it shows the
	// transport; ValidateSQL shows how much of a typical call that is.
	calls := []struct {
		name, method, path, body string
	}{
		{"ListDatabases", http.MethodGet, "/v1/databases", ""},
		{"ValidateSQL", http.MethodPost, "/v1/sql:validate", `{"database":"shop","sql":"select o.id, c.name from orders o join customers c on c.id = o.customer_id"}`},
	}
	for _, call := range calls {
		for _, tc := range []struct{ name, base string }{
			{"bufconn", "http://" + srv.HTTPAddr().String()},
			{"loopback", loopback.URL},
		} {
			b.Run(call.name+"/"+tc.name, func(b *testing.B) {
				client := &http.Client{}
				b.ReportAllocs()
				for b.Loop() {
					req, err := http.NewRequest(call.method, tc.base+call.path, bytes.NewReader([]byte(call.body)))
					if err != nil {
						b.Fatal(err)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		}
	}
}

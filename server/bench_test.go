package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

// BenchmarkTransports times the same calls over HTTP (the gateway, calling
// the service in process through the middleware) and over gRPC.
//
//	go test -run '^$' -bench Transports -benchmem ./server/
func BenchmarkTransports(b *testing.B) {
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
	client := texttosqlv1.NewTextToSQLServiceClient(conn)
	const sql = "select o.id, c.name from orders o join customers c on c.id = o.customer_id"

	// ListDatabases costs next to nothing itself, so it shows the
	// transport; ValidateSQL shows how much of a typical call that is.
	for _, tc := range []struct {
		name, method, path, body string
		grpc                     func(context.Context) error
	}{
		{"ListDatabases", http.MethodGet, "/v1/databases", "", func(ctx context.Context) error {
			_, err := client.ListDatabases(ctx, &texttosqlv1.ListDatabasesRequest{})
			return err
		}},
		{"ValidateSQL", http.MethodPost, "/v1/sql:validate", `{"database":"shop","sql":"` + sql + `"}`, func(ctx context.Context) error {
			_, err := client.ValidateSQL(ctx, &texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: sql})
			return err
		}},
	} {
		b.Run(tc.name+"/http", func(b *testing.B) {
			hc := &http.Client{}
			b.ReportAllocs()
			for b.Loop() {
				req, err := http.NewRequest(tc.method, "http://"+srv.HTTPAddr().String()+tc.path, bytes.NewReader([]byte(tc.body)))
				if err != nil {
					b.Fatal(err)
				}
				resp, err := hc.Do(req)
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
		b.Run(tc.name+"/grpc", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.grpc(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

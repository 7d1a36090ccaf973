package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
)

// rawCodec sends the bytes it is given as the message, unchecked, as a
// broken or hostile client would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMalformedMessages sends request messages that are not valid protobuf
// for the method over a raw gRPC connection: each is answered
// INVALID_ARGUMENT (not INTERNAL, which is for the service's own faults),
// and each is logged and counted like any other call.
func TestMalformedMessages(t *testing.T) {
	logs := &syncBuffer{}
	cfg := withTestdata(t, Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	fields := (&texttosqlv1.ValidateSQLRequest{}).ProtoReflect().Descriptor().Fields()
	str := func(name, value string) []byte {
		b := protowire.AppendTag(nil, fields.ByName(protoreflect.Name(name)).Number(), protowire.BytesType)
		return protowire.AppendString(b, value)
	}
	valid, err := proto.Marshal(&texttosqlv1.ValidateSQLRequest{Database: "shop", Sql: "SELECT id FROM orders"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		msg  []byte
	}{
		{"invalid UTF-8 in sql", append(str("database", "shop"), str("sql", "SELECT '\xff\xfe'")...)},
		{"invalid UTF-8 in database", str("database", "sh\xc3op")},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"truncated", valid[:len(valid)-5]},
		{"length past the end", protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.BytesType), 1000)},
		{"field number zero", []byte{0x02, 0x00}},
		{"group never ended", protowire.AppendTag(nil, 2, protowire.StartGroupType)},
	}
	method := texttosqlv1.TextToSQLService_ValidateSQL_FullMethodName
	for _, c := range cases {
		var out texttosqlv1.ValidateSQLResponse
		err := conn.Invoke(context.Background(), method, c.msg, &out, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "not a valid") {
			t.Errorf("%s: %v, want INVALID_ARGUMENT saying the message is not valid", c.name, err)
		}
	}
	// The same connection still serves a well-formed request.
	var out texttosqlv1.ValidateSQLResponse
	if err := conn.Invoke(context.Background(), method, valid, &out, grpc.ForceCodec(rawCodec{})); err != nil || !out.GetValid() {
		t.Fatalf("valid request after the malformed ones: %v %v", err, &out)
	}
	got := testutil.ToFloat64(srv.metrics.requests.WithLabelValues(method, codes.InvalidArgument.String(), transportGRPC))
	if got != float64(len(cases)) {
		t.Errorf("%s counts %v INVALID_ARGUMENT calls, want %d", MetricRequests, got, len(cases))
	}
	if n := strings.Count(logs.String(), fmt.Sprintf(`"method":%q,"transport":"grpc"`, method)); n < len(cases)+1 {
		t.Errorf("%d log lines for %s, want %d:\n%s", n, method, len(cases)+1, logs)
	}
	if strings.Contains(logs.String(), `"code":"Internal"`) {
		t.Errorf("a malformed message was logged as INTERNAL:\n%s", logs)
	}
}

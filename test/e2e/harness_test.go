package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/llm"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/validate"
)

const (
	trustedToken = "superset-blueprint-token-0123456789"
	toolsToken   = "internal-tools-token-0123456789"
)

// stack is the real service, with the generation pipeline, in front of a
// fake model endpoint.
type stack struct {
	t      *testing.T
	llm    *fakellm.Server
	srv    *server.Server
	base   string
	client texttosqlv1.TextToSQLServiceClient
	logs   *bytes.Buffer
}

type stackOptions struct {
	llm      llm.Config
	pipeline generate.Config
	cache    generate.Cache
	dryRun   []app.DryRun
	// catalog, policy and examples are files under testdata; empty:
	// catalog.yaml and policy.yaml, no examples.
	catalog, policy, examples string
}

func startStack(t *testing.T, r fakellm.Responder, o stackOptions) *stack {
	t.Helper()
	fake := fakellm.NewTest(t, r)
	if o.catalog == "" {
		o.catalog, o.policy = "catalog.yaml", "policy.yaml"
	}
	cat, err := schema.LoadFile(filepath.Join("testdata", o.catalog))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := validate.LoadPolicy(filepath.Join("testdata", o.policy))
	if err != nil {
		t.Fatal(err)
	}
	var examples *generate.Examples
	if o.examples != "" {
		if examples, err = generate.LoadExamples(filepath.Join("testdata", o.examples)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := o.llm
	cfg.BaseURL, cfg.Model, cfg.APIKey = fake.URL(), "test-model", "sk-test"
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	pc := o.pipeline
	if pc.SupersetURL == "" {
		pc.SupersetURL = "https://bi.example.com"
	}
	logs := &bytes.Buffer{}
	a, err := app.New(context.Background(), app.Options{
		Server: server.Config{
			Store:  schema.NewFileStore(cat, ""),
			Policy: pol,
			Callers: []server.CallerToken{
				{Name: "superset", Token: trustedToken, Trusted: true},
				{Name: "tools", Token: toolsToken},
			},
			Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
			HTTPAddr: "127.0.0.1:0",
			GRPCAddr: "127.0.0.1:0",
		},
		Model:    cfg,
		Generate: pc,
		Examples: examples,
		Cache:    app.Cache{Store: o.cache},
		DryRuns:  o.dryRun,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := a.Server
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &stack{t: t, llm: fake, srv: srv, base: "http://" + srv.HTTPAddr().String(),
		client: texttosqlv1.NewTextToSQLServiceClient(conn), logs: logs}
}

// grpcCtx authenticates as a caller.
func grpcCtx(ctx context.Context, token string, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, append([]string{"authorization", "Bearer " + token}, kv...)...)
}

// post calls the HTTP gateway and decodes the JSON answer.
func (s *stack) post(path, token string, body any, headers ...string) (int, map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		s.t.Fatalf("%s answered %d with a body that is not JSON: %s", path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// sqlAnswer is how models usually answer: a sentence and a fenced block.
func sqlAnswer(sql string) fakellm.Reply {
	return fakellm.Reply{Content: "Here is the query:\n\n```sql\n" + sql + "\n```\n"}
}

// lastUser is the last user message of a recorded request.
func lastUser(r *fakellm.Request) string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// requireRedis fails under CI when Redis is not reachable, and skips
// otherwise.
func requireRedis(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at 127.0.0.1:6379 is required under CI: %v", err)
		}
		t.Skipf("Redis at 127.0.0.1:6379 is not reachable: %v", err)
	}
	c.Close()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// generationFailure requires err to be FAILED_PRECONDITION and returns its
// status and GenerationFailure detail (nil when it has none).
func generationFailure(t *testing.T, err error) (*status.Status, *texttosqlv1.GenerationFailure) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("got %v, want FAILED_PRECONDITION", err)
	}
	for _, d := range st.Details() {
		if f, ok := d.(*texttosqlv1.GenerationFailure); ok {
			return st, f
		}
	}
	return st, nil
}

package golden

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/texttosql/text2sql/generate"
	"github.com/texttosql/text2sql/llm"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/link"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/validate"
)

// Stack is the real service, on loopback, answering with the generation
// pipeline against a model endpoint that a Responder plays.
type Stack struct {
	Model   *fakellm.Server
	Server  *server.Server
	BaseURL string
	Client  texttosqlv1.TextToSQLServiceClient
	// Token authenticates as the trusted caller the cases ask through.
	Token string

	conn *grpc.ClientConn
	stop func()
}

// StackOptions tune the stack.
type StackOptions struct {
	// SupersetURL makes answers carry SQL Lab links.
	SupersetURL string
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
}

// StartStack serves the set's catalog and policy with a model endpoint
// played by r. The answer cache is off, so every question reaches r.
func StartStack(set *Set, r fakellm.Responder, o StackOptions) (*Stack, error) {
	cat, pol, err := set.LoadCatalog()
	if err != nil {
		return nil, err
	}
	return startStack(cat, pol, r, o)
}

func startStack(cat *schema.Catalog, pol *validate.Policy, r fakellm.Responder, o StackOptions) (*Stack, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	fake, err := fakellm.New(r)
	if err != nil {
		return nil, err
	}
	model, err := llm.New(llm.Config{BaseURL: fake.URL(), Model: "golden-replay", APIKey: "replay", MaxRetries: llm.NoRetries})
	if err != nil {
		fake.Close()
		return nil, err
	}
	linker, err := link.Default()
	if err != nil {
		fake.Close()
		return nil, err
	}
	p := generate.New(generate.Config{SupersetURL: o.SupersetURL}, model, linker)
	token := randomToken()
	srv, err := server.New(server.Config{
		Store:     schema.NewFileStore(cat, ""),
		Policy:    pol,
		Validator: validate.New(),
		Generator: p,
		Callers:   []server.CallerToken{{Name: "golden", Token: token, Trusted: true}},
		Logger:    o.Logger,
		HTTPAddr:  "127.0.0.1:0",
		GRPCAddr:  "127.0.0.1:0",
	})
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		fake.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		fake.Close()
		return nil, err
	}
	return &Stack{
		Model: fake, Server: srv, BaseURL: "http://" + srv.HTTPAddr().String(),
		Client: texttosqlv1.NewTextToSQLServiceClient(conn), Token: token, conn: conn,
		stop: func() { cancel(); <-done; p.Close(); fake.Close() },
	}, nil
}

// Close stops the service and the model endpoint.
func (s *Stack) Close() {
	s.conn.Close()
	s.stop()
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

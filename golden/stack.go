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
	"github.com/texttosql/text2sql/internal/app"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/validate"
)

// Stack is the service as internal/app assembles it, on loopback, with
// the generation pipeline asking model (a Replayer, a Recorder, or a real
// client).
type Stack struct {
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

// StartStack serves the set's catalog and policy with model answering. The
// answer cache is off, so every question reaches model.
func StartStack(set *Set, model generate.Model, o StackOptions) (*Stack, error) {
	cat, pol, err := set.LoadCatalog()
	if err != nil {
		return nil, err
	}
	return StartCatalogStack(cat, pol, model, o)
}

// StartCatalogStack is StartStack for a catalog and policy already loaded.
func StartCatalogStack(cat *schema.Catalog, pol *validate.Policy, model generate.Model, o StackOptions) (*Stack, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	token := randomToken()
	a, err := app.New(context.Background(), app.Options{
		Server: server.Config{
			Store:    schema.NewFileStore(cat, ""),
			Policy:   pol,
			Callers:  []server.CallerToken{{Name: "golden", Token: token, Trusted: true}},
			Logger:   o.Logger,
			HTTPAddr: "127.0.0.1:0",
			GRPCAddr: "127.0.0.1:0",
		},
		ModelClient: model,
		Generate:    generate.Config{SupersetURL: o.SupersetURL},
	})
	if err != nil {
		return nil, err
	}
	srv := a.Server
	if err := srv.Start(); err != nil {
		a.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done; a.Close() }
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		stop()
		return nil, err
	}
	return &Stack{
		Server: srv, BaseURL: "http://" + srv.HTTPAddr().String(),
		Client: texttosqlv1.NewTextToSQLServiceClient(conn), Token: token, conn: conn, stop: stop,
	}, nil
}

// Close stops the service.
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

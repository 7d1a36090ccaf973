package superset_test

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

const (
	svcUser = "svc_text2sql"
	svcPass = "s3rvice-Passw0rd-value"
)

// newFake starts a fake Superset with the service account as admin.
func newFake(t *testing.T, opts fakesuperset.Options) *fakesuperset.Server {
	t.Helper()
	f, err := fakesuperset.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	f.AddUser(fakesuperset.User{Username: svcUser, Password: svcPass, Admin: true})
	return f
}

// logSink collects log output safely from many goroutines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// debugLogger logs everything, as JSON, into a sink.
func debugLogger() (*slog.Logger, *logSink) {
	s := &logSink{}
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug})), s
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func svcConfig(f *fakesuperset.Server) superset.Config {
	return superset.Config{BaseURL: f.URL(), Username: svcUser, Password: svcPass, Logger: quietLogger()}
}

func newClient(t *testing.T, cfg superset.Config) *superset.Client {
	t.Helper()
	c, err := superset.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/server"
)

// lockedBuffer collects what a command writes while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testEnv is a process environment made of vars only. Unless vars say
// otherwise, no Ollama is looked for, so a developer's local one cannot
// change what is tested.
func testEnv(vars map[string]string, stdin io.Reader, stdout, stderr io.Writer) *environ {
	if _, ok := vars["TEXT2SQL_OLLAMA_ADDR"]; !ok {
		vars = maps.Clone(vars)
		if vars == nil {
			vars = map[string]string{}
		}
		vars["TEXT2SQL_OLLAMA_ADDR"] = ""
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return &environ{
		stdin: stdin, stdout: stdout, stderr: stderr,
		getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		environ: func() []string {
			var out []string
			for k, v := range vars {
				out = append(out, k+"="+v)
			}
			return out
		},
	}
}

// harness is `text2sql serve` running in process on ephemeral loopback
// ports, with an HTTP and a gRPC client.
type harness struct {
	t      *testing.T
	srv    *server.Server
	base   string
	conn   *grpc.ClientConn
	client texttosqlv1.TextToSQLServiceClient
	logs   *lockedBuffer
	cancel context.CancelFunc

	exit     chan int
	exitOnce sync.Once
	code     int
}

func startServe(t *testing.T, vars map[string]string, args []string, config func(*server.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, logs: &lockedBuffer{}, cancel: cancel, exit: make(chan int, 1)}
	started := make(chan *server.Server, 1)
	args = append([]string{"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"}, args...)
	env := testEnv(vars, nil, h.logs, h.logs)
	go func() {
		h.exit <- serve(ctx, env, args, serveHooks{config: config, started: func(s *server.Server) { started <- s }})
	}()
	select {
	case h.srv = <-started:
	case code := <-h.exit:
		cancel()
		t.Fatalf("serve exited with %d before listening:\n%s", code, h.logs)
	}
	h.base = "http://" + h.srv.HTTPAddr().String()
	conn, err := grpc.NewClient(h.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h.conn = conn
	h.client = texttosqlv1.NewTextToSQLServiceClient(conn)
	t.Cleanup(func() {
		h.stop()
		_ = conn.Close()
		if t.Failed() {
			t.Logf("serve logs:\n%s", h.logs)
		}
	})
	return h
}

// stop ends serve as a signal would and returns its exit status.
func (h *harness) stop() int {
	h.cancel()
	h.exitOnce.Do(func() {
		select {
		case h.code = <-h.exit:
		case <-time.After(time.Minute):
			h.t.Error("serve did not stop within a minute")
			h.code = -1
		}
	})
	return h.code
}

type httpResult struct {
	status int
	header http.Header
	body   string
	// close is true when the server asked to close the connection
	// ("Connection: close", which the client removes from header).
	close bool
}

// do sends one HTTP request; headers are "Name: value" strings. A
// transport error fails the test.
func (h *harness) do(method, path, body string, headers ...string) httpResult {
	h.t.Helper()
	r, err := h.try(method, path, body, headers...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try is do for goroutines other than the test's: it returns the error.
func (h *harness) try(method, path, body string, headers ...string) (httpResult, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, r)
	if err != nil {
		return httpResult{}, err
	}
	for _, hd := range headers {
		k, v, _ := strings.Cut(hd, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpResult{}, err
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: string(data), close: resp.Close}, nil
}

// md returns a context carrying gRPC metadata pairs.
func md(kv ...string) context.Context {
	return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(kv...))
}

// waitFor polls cond until it holds; the test fails if it never does
// within the limit. Polling waits for an event, it asserts no timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// refused reports whether nothing accepts connections at addr any more.
func refused(addr net.Addr) bool {
	c, err := net.DialTimeout("tcp", addr.String(), time.Second)
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}

package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

const fakeServicePassword = "service-account-password-3b8e"

// newFakeSuperset serves the blueprint test's shop (the same two datasets
// as deploy/testdata/blueprint/schema.yaml) with a service account that sees
// everything and two users: alice sees orders (102), bob customers (101).
// Users log in with "pw-<name>".
func newFakeSuperset(t *testing.T) *fakesuperset.Server {
	t.Helper()
	fake, err := fakesuperset.New(fakesuperset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddDatabase(fakesuperset.Database{ID: 1, Name: "shop", Backend: "postgresql"})
	fake.AddDataset(fakesuperset.Dataset{ID: 101, DatabaseID: 1, Schema: "public", TableName: "customers",
		Description: "One row per customer.", PrimaryKey: []string{"id"},
		Columns: []fakesuperset.Column{{Name: "id", Type: "INTEGER"}, {Name: "name", Type: "TEXT"}, {Name: "country", Type: "TEXT"}}})
	fake.AddDataset(fakesuperset.Dataset{ID: 102, DatabaseID: 1, Schema: "public", TableName: "orders",
		Description: "One row per order; status is pending, paid, shipped or cancelled.", PrimaryKey: []string{"id"},
		Columns: []fakesuperset.Column{{Name: "id", Type: "INTEGER"}, {Name: "customer_id", Type: "INTEGER"},
			{Name: "status", Type: "TEXT"}, {Name: "total", Type: "NUMERIC(12, 2)"}},
		ForeignKeys: []fakesuperset.ForeignKey{{Columns: []string{"customer_id"}, RefSchema: "public", RefTable: "customers", RefColumns: []string{"id"}}}})
	fake.AddUser(fakesuperset.User{Username: "text2sql", Password: fakeServicePassword, Admin: true})
	fake.AddUser(fakesuperset.User{ID: 7, Username: "alice", Password: "pw-alice", Datasets: []int64{102}})
	fake.AddUser(fakesuperset.User{ID: 8, Username: "bob", Password: "pw-bob", Datasets: []int64{101}})
	return fake
}

// python is Debian's interpreter, which has python3-flask; a pyenv or venv
// python earlier on PATH may not.
const python = "/usr/bin/python3"

// The model's answer for every question: the blueprint test is about what
// reaches the service and what comes back, not about the model.
const ordersSQL = "```sql\nSELECT COUNT(*) FROM orders WHERE status = 'shipped';\n```"

// TestSupersetBlueprint runs deploy/superset/test_text2sql_blueprint.py (a
// unittest suite mounting the blueprint in Flask) against the real text2sql
// binary, built as the image builds it, on loopback, with the fake
// OpenAI-compatible model server behind it.
func TestSupersetBlueprint(t *testing.T) {
	out, err := exec.Command(python, "-c", "import flask, requests, jwt, flask_wtf").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	requireTool(t, "Debian's python3 with Flask, requests, PyJWT and Flask-WTF", "apt-get install -y python3-flask python3-requests python3-jwt python3-flaskext.wtf", err)

	root := repoRoot(t)
	bin := text2sqlBinary(t)
	known, _ := sidecarSettings(t)

	llm := fakellm.NewTest(t, fakellm.Text(ordersSQL), fakellm.WithAPIKey("sk-blueprint-test-0123456789"))

	const callerToken = "blueprint-test-caller-token-5d7a9c1e"
	env := []string{
		"TEXT2SQL_HTTP_ADDR=127.0.0.1:0",
		"TEXT2SQL_GRPC_ADDR=127.0.0.1:0",
		"TEXT2SQL_SCHEMA=" + filepath.Join(root, "deploy", "testdata", "blueprint", "schema.yaml"),
		"TEXT2SQL_POLICY=" + filepath.Join(root, "deploy", "testdata", "blueprint", "policy.yaml"),
		"TEXT2SQL_CALLERS=superset:trusted",
		"TEXT2SQL_CALLER_TOKEN_SUPERSET=" + callerToken,
		"TEXT2SQL_LOG_FORMAT=json",
		"TEXT2SQL_LOG_LEVEL=info",
	}
	// The model endpoint, where the binary has settings for it.
	for name, value := range map[string]string{
		"TEXT2SQL_LLM_BASE_URL": llm.URL(),
		"TEXT2SQL_LLM_MODEL":    "fake-model",
		"TEXT2SQL_LLM_API_KEY":  "sk-blueprint-test-0123456789",
		"TEXT2SQL_SQLLAB_URL":   "https://superset.test",
	} {
		if _, ok := known[name]; ok {
			env = append(env, name+"="+value)
		}
	}
	sidecar := startSidecar(t, bin, env)
	pyEnv := []string{
		"T2S_TEST_SIDECAR_URL=http://" + sidecar.httpAddr,
		"T2S_TEST_CALLER_TOKEN=" + callerToken,
		"PYTHONDONTWRITEBYTECODE=1",
	}

	// A second service whose catalogs and user scopes come from a Superset
	// (the fake, speaking Superset's REST API), as in the deployment: the
	// user-token scope then runs end to end.
	if _, ok := known["TEXT2SQL_SUPERSET_URL"]; ok {
		fake := newFakeSuperset(t)
		withSuperset := []string{
			"TEXT2SQL_SUPERSET_URL=" + fake.URL(),
			"TEXT2SQL_SUPERSET_USERNAME=text2sql",
			"TEXT2SQL_SUPERSET_PASSWORD=" + fakeServicePassword,
		}
		for _, kv := range env {
			if !strings.HasPrefix(kv, "TEXT2SQL_SCHEMA=") {
				withSuperset = append(withSuperset, kv)
			}
		}
		s2 := startSidecar(t, bin, withSuperset)
		pyEnv = append(pyEnv, "T2S_TEST_SUPERSET_SIDECAR_URL=http://"+s2.httpAddr, "T2S_TEST_FAKE_SUPERSET_URL="+fake.URL())
	}

	cmd := exec.Command(python, "-m", "unittest", "-v", "test_text2sql_blueprint")
	cmd.Dir = filepath.Join(root, "deploy", "superset")
	cmd.Env = append(os.Environ(), pyEnv...)
	var pyOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &pyOut, &pyOut
	err = cmd.Run()
	t.Logf("python unittest:\n%s", pyOut.String())
	if err != nil {
		t.Fatalf("the blueprint's Python tests failed: %v\nservice log:\n%s", err, sidecar.log())
	}
	if strings.Contains(pyOut.String(), "skipped 'run through deploy/blueprint_test.go") {
		t.Fatal("the Python suite did not see the service address")
	}
	// The suite runs against this repository's binary, which has everything
	// the suite probes for, so a skipped Python test is a gap in the run.
	if skips := regexp.MustCompile(`(?m)^.* \.\.\. skipped .*$`).FindAllString(pyOut.String(), -1); len(skips) > 0 {
		t.Errorf("the Python suite skipped %d tests:\n%s", len(skips), strings.Join(skips, "\n"))
	}
	if llm.Calls() == 0 && !strings.Contains(pyOut.String(), "UNIMPLEMENTED") {
		t.Error("the model was never called, yet the suite did not report generation as unavailable")
	}

	checkLogFormat(t, sidecar.log())
}

type runningSidecar struct {
	httpAddr string
	mu       sync.Mutex
	stderr   bytes.Buffer
}

func (s *runningSidecar) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// startSidecar runs `text2sql serve` with env and waits for its "listening"
// log line, which carries the bound addresses.
func startSidecar(t *testing.T, bin string, env []string) *runningSidecar {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(minimalEnv(), env...)
	// SIGTERM first, as Kubernetes does, so shutdown runs its drain.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningSidecar{}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "listening" {
				if a, ok := rec["http"].(string); ok {
					select {
					case addr <- a:
					default:
					}
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	select {
	case s.httpAddr = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("text2sql did not report listening within 60s:\n%s", s.log())
	}
	// Ready means the catalog is loaded, as the readiness probe sees it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.httpAddr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("text2sql not ready within 30s (%v):\n%s", err, s.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// minimalEnv keeps only what a process needs to run, so no TEXT2SQL_*
// variable of the developer's shell leaks into the service.
func minimalEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "LANG":
			env = append(env, kv)
		}
	}
	return env
}

// checkLogFormat checks the service's log lines are what the Fluent Bit
// parser in base/monitoring/fluent-bit expects: one JSON object per line
// with time (in the parser's Time_Format), level and msg.
func checkLogFormat(t *testing.T, log string) {
	t.Helper()
	root := repoRoot(t)
	conf, err := os.ReadFile(filepath.Join(root, "deploy", "kubernetes", "base", "monitoring", "fluent-bit", "custom_parsers.conf"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*Time_Format\s+(\S+)`).FindSubmatch(conf)
	if m == nil {
		t.Fatal("custom_parsers.conf has no Time_Format")
	}
	layout, err := strptimeToGo(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`(?m)^\s*Time_Key\s+(\S+)`).FindSubmatch(conf)
	if keyRE == nil {
		t.Fatal("custom_parsers.conf has no Time_Key")
	}
	timeKey := string(keyRE[1])
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		lines++
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON, Fluent Bit's parser drops it: %q", line)
			continue
		}
		ts, _ := rec[timeKey].(string)
		if _, err := time.Parse(layout, ts); err != nil {
			t.Errorf("log time %q does not match Time_Format %s: %v", ts, m[1], err)
		}
		for _, k := range []string{"level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line lacks %q: %s", k, line)
			}
		}
	}
	if lines == 0 {
		t.Error("the service logged nothing")
	}
}

// strptimeToGo converts the strptime directives Fluent Bit's parser uses
// here into a Go time layout.
func strptimeToGo(f string) (string, error) {
	repl := map[byte]string{'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'L': "999999999", 'z': "Z07:00"}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return "", fmt.Errorf("dangling %% in %q", f)
		}
		r, ok := repl[f[i]]
		if !ok {
			return "", fmt.Errorf("directive %%%c in %q is not handled here", f[i], f)
		}
		b.WriteString(r)
	}
	return b.String(), nil
}

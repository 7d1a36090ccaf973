package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/texttosql/text2sql/validate"
	"github.com/texttosql/text2sql/validate/hostile"
)

// These tests run the built binary, not the command in process: an input
// that crashes the parser kills the process it runs in, and the test must
// see that happen to the service, not to itself.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds text2sql once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "text2sql-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "text2sql")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// crashInputs are the statements that killed the service: a 48 KB chain of
// additions and one of concatenations, each well under the SQL limit.
var crashInputs = []string{
	"select 1" + strings.Repeat("+1", 24000),
	"select 'a'" + strings.Repeat("||'a'", 25000),
}

// hostileInputs are the crash inputs, the deepest chain at the default SQL
// limit, and every hostile shape at 48 KB. (validate's own test takes each
// shape to the limit in process.)
func hostileInputs() []string {
	inputs := append([]string(nil), crashInputs...)
	inputs = append(inputs, "select 1"+strings.Repeat("+1", (validate.DefaultMaxSQLBytes-8)/2))
	for _, sh := range hostile.Shapes() {
		inputs = append(inputs, sh.SQL(48<<10))
	}
	return inputs
}

// process is `text2sql serve` running as its own process.
type process struct {
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan error
}

// startProcess runs `text2sql serve` with the sample schema file on
// ephemeral loopback ports, and learns the HTTP address from its log.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	args = append([]string{"serve", "--schema", "sample/schema.yaml", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TEXT2SQL_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	p := &process{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait(); _ = pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, _ = p.stderr.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, HTTP string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.HTTP
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", p.stderr)
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
	case err := <-p.exited:
		t.Fatalf("serve exited before listening (%v):\n%s", err, p.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("serve did not listen within a minute:\n%s", p.stderr)
	}
	return p
}

// alive fails the test when the process has exited.
func (p *process) alive(t *testing.T, after string) {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("serve exited (%v) after %s", err, after)
	default:
	}
}

type verdict struct {
	Valid      bool   `json:"valid"`
	Dialect    string `json:"dialect"`
	Violations []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"violations"`
}

func (p *process) validate(database, sql string) (int, verdict, error) {
	body, _ := json.Marshal(map[string]string{"database": database, "sql": sql})
	resp, err := http.Post(p.base+"/v1/sql:validate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, verdict{}, err
	}
	defer resp.Body.Close()
	var v verdict
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		err = json.Unmarshal(data, &v)
	}
	return resp.StatusCode, v, err
}

// TestServeSurvivesHostileSQL sends the inputs that crashed the service,
// and every hostile shape, to a running `serve` for a PostgreSQL and a
// MySQL database: each is answered with a verdict, refusals carry a
// structured violation, the crash inputs are refused as TOO_COMPLEX, and
// the process still serves afterwards.
func TestServeSurvivesHostileSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startProcess(t, "--rate-limit", "0", "--max-in-flight", "0")
	inputs := hostileInputs()
	for _, db := range []string{"shop", "store"} { // PostgreSQL, MySQL
		for i, sql := range inputs {
			code, v, err := p.validate(db, sql)
			if err != nil {
				p.alive(t, fmt.Sprintf("%s input %d (%.40q, %d bytes)", db, i, sql, len(sql)))
				t.Fatalf("%s input %d (%.40q): %v", db, i, sql, err)
			}
			if code != http.StatusOK {
				t.Errorf("%s input %d (%.40q): HTTP %d", db, i, sql, code)
				continue
			}
			if !v.Valid && (len(v.Violations) == 0 || v.Violations[0].Code == "" || v.Violations[0].Message == "") {
				t.Errorf("%s input %d (%.40q): refused without a structured violation: %+v", db, i, sql, v)
			}
			if i < len(crashInputs) && (v.Valid || v.Violations[0].Code != "TOO_COMPLEX") {
				t.Errorf("%s crash input %d: %+v, want TOO_COMPLEX", db, i, v)
			}
		}
	}
	p.alive(t, "every hostile input")
	if code, v, err := p.validate("shop", "select id from orders"); err != nil || code != http.StatusOK || !v.Valid {
		t.Fatalf("after the hostile inputs: HTTP %d %+v %v", code, v, err)
	}
	resp, err := http.Get(p.base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after the hostile inputs: %v %v", resp, err)
	}
	_ = resp.Body.Close()
}

// TestValidateCommandSurvivesHostileSQL runs `text2sql validate` on the
// crash inputs, one statement per run, and `validate --jsonl` on every
// hostile input at once: each statement gets its verdict and --jsonl
// writes every line.
func TestValidateCommandSurvivesHostileSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := binary(t)
	for _, db := range []string{"shop", "store"} {
		for i, sql := range crashInputs {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := exec.CommandContext(ctx, bin, "validate", "--database", db)
			cmd.Stdin = strings.NewReader(sql)
			out, err := cmd.CombinedOutput()
			cancel()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitFailure {
				t.Errorf("%s crash input %d: %v, want exit status 1 (invalid)\n%.2000s", db, i, err, out)
			}
			if !strings.Contains(string(out), "TOO_COMPLEX") {
				t.Errorf("%s crash input %d: output lacks TOO_COMPLEX:\n%.2000s", db, i, out)
			}
		}
	}
	var in bytes.Buffer
	n := 0
	for _, db := range []string{"shop", "store"} {
		for _, sql := range hostileInputs() {
			line, _ := json.Marshal(map[string]string{"id": fmt.Sprint(n), "database": db, "sql": sql})
			in.Write(append(line, '\n'))
			n++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "validate", "--jsonl")
	cmd.Stdin = &in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("validate --jsonl: %v\n%s", err, stderr.String())
	}
	checkShape(t, stdout.String(), n)
}

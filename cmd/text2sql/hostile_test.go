package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/texttosql/text2sql/test/serveproc"
	"github.com/texttosql/text2sql/validate"
	"github.com/texttosql/text2sql/validate/hostile"
)

// These tests run the built binary, not the command in process: an input
// that crashes the parser kills the process it runs in, and the test must
// see that happen to the service, not to itself.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// binary builds text2sql once for the tests of this file.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "text2sql-bin-"); binErr == nil {
			binPath, binErr = serveproc.Build(binDir)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
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

type verdict struct {
	Valid      bool   `json:"valid"`
	Dialect    string `json:"dialect"`
	Violations []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"violations"`
}

func validateOver(base, database, sql string) (int, verdict, error) {
	body, _ := json.Marshal(map[string]string{"database": database, "sql": sql})
	resp, err := http.Post(base+"/v1/sql:validate", "application/json", bytes.NewReader(body))
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
	p, err := serveproc.Start(binary(t), nil, "--schema", "sample/schema.yaml", "--rate-limit", "0", "--max-in-flight", "0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	base := "http://" + p.HTTPAddr
	inputs := hostileInputs()
	for _, db := range []string{"shop", "store"} { // PostgreSQL, MySQL
		for i, sql := range inputs {
			code, v, err := validateOver(base, db, sql)
			if err != nil {
				exit, _ := p.Wait(time.Second)
				t.Fatalf("%s input %d (%.40q, %d bytes): %v; serve exit status %d, logs:\n%s", db, i, sql, len(sql), err, exit, p.Logs())
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
	if code, v, err := validateOver(base, "shop", "select id from orders"); err != nil || code != http.StatusOK || !v.Valid {
		t.Fatalf("after the hostile inputs: HTTP %d %+v %v", code, v, err)
	}
	resp, err := http.Get(base + "/healthz")
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

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/jsonl")

// runCLI runs one command in process.
func runCLI(t *testing.T, stdin io.Reader, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), testEnv(vars, stdin, &out, &errb), args)
	return code, out.String(), errb.String()
}

// The JSONL output is a contract: the golden files pin it byte for byte.
func TestValidateJSONLGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"sample", []string{"--database", "shop"}},
		{"one", []string{"--schema", "testdata/jsonl/one.schema.yaml", "--max-rows", "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile("testdata/jsonl/" + tc.name + ".in.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{"validate", "--jsonl"}, tc.args...)
			code, out, stderr := runCLI(t, bytes.NewReader(in), nil, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden := "testdata/jsonl/" + tc.name + ".out.jsonl"
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (go test ./cmd/text2sql -run JSONLGolden -update rewrites it):\n got:\n%s\nwant:\n%s", golden, out, want)
			}
			checkShape(t, out, nonBlankLines(string(in)))
		})
	}
}

var lineShape = regexp.MustCompile(`^\{"id":"[^\n]*","valid":(true|false),"violations":\[(\{"code":"[A-Z_]+","message":"[^\n]*"\},?)*\],"sql":"[^\n]*","tables":\[[^\n]*\]\}$`)

// checkShape checks every output line against the contract: key order,
// arrays never null, SQL only when valid, one line per input line.
func checkShape(t *testing.T, out string, inputs int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != inputs {
		t.Errorf("%d output lines for %d input lines", len(lines), inputs)
	}
	for _, l := range lines {
		if !lineShape.MatchString(l) {
			t.Errorf("line does not have the contract's shape: %s", l)
		}
		valid := strings.Contains(l, `,"valid":true,"violations":[],"sql":"`)
		if valid == strings.Contains(l, `"sql":"",`) {
			t.Errorf("sql must be set exactly when valid: %s", l)
		}
	}
}

func nonBlankLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// Many lines validated by several workers come out in input order, the
// same as with one worker.
func TestValidateJSONLOrder(t *testing.T) {
	statements := []struct{ db, sql string }{
		{"shop", "select id, total from orders where total > %d"},
		{"shop", "select email from customers where id = %d"},
		{"store", "select name from products where price < %d"},
		{"store", "delete from orders where id = %d"},
		{"1", "select count(*) from order_items where quantity > %d"},
	}
	var in strings.Builder
	for i := range 2000 {
		s := statements[i%len(statements)]
		fmt.Fprintf(&in, `{"id":"%d","database":%q,"sql":%q}`+"\n", i, s.db, fmt.Sprintf(s.sql, i))
	}
	code, serial, _ := runCLI(t, strings.NewReader(in.String()), nil, "validate", "--jsonl", "--workers", "1")
	if code != exitOK {
		t.Fatal(code)
	}
	code, parallel, _ := runCLI(t, strings.NewReader(in.String()), nil, "validate", "--jsonl", "--workers", "8")
	if code != exitOK {
		t.Fatal(code)
	}
	if serial != parallel {
		t.Fatal("8 workers answer differently from 1")
	}
	checkShape(t, parallel, 2000)
	for i, l := range strings.Split(strings.TrimSuffix(parallel, "\n"), "\n") {
		if !strings.HasPrefix(l, fmt.Sprintf(`{"id":"%d",`, i)) {
			t.Fatalf("line %d out of order: %s", i, l)
		}
	}
}

// Each answer is written before the next input line arrives: input is
// streamed, not read to the end first.
func TestValidateJSONLStreams(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), testEnv(nil, inR, outW, io.Discard), []string{"validate", "--jsonl", "--database", "shop"})
		outW.Close()
	}()
	answers := bufio.NewReader(outR)
	for i := range 3 {
		if _, err := fmt.Fprintf(inW, `{"id":"%d","sql":"select id from orders"}`+"\n", i); err != nil {
			t.Fatal(err)
		}
		line, err := answers.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(line, fmt.Sprintf(`{"id":"%d","valid":true`, i)) {
			t.Fatalf("answer %d: %s", i, line)
		}
	}
	inW.Close()
	if rest, _ := io.ReadAll(answers); len(rest) != 0 {
		t.Errorf("unexpected output after the last line: %q", rest)
	}
	if code := <-done; code != exitOK {
		t.Errorf("exit %d", code)
	}
}

type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("device unplugged")
	}
	return n, err
}

func TestValidateJSONLReadError(t *testing.T) {
	in := &failingReader{strings.NewReader(`{"id":"1","database":"shop","sql":"select 1"}` + "\n")}
	code, out, stderr := runCLI(t, in, nil, "validate", "--jsonl")
	if code != exitUsage || !strings.Contains(stderr, "device unplugged") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(out, `{"id":"1","valid":true`) {
		t.Errorf("lines read before the error are not answered: %q", out)
	}
}

func TestReadLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("short\r\n"+strings.Repeat("x", 100)+"\nlast"), 16)
	var got []string
	for {
		line, tooLong, err := readLine(r, 20)
		got = append(got, fmt.Sprintf("%q/%v", line, tooLong))
		if err != nil {
			break
		}
	}
	want := []string{`"short"/false`, `""/true`, `"last"/false`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestValidateExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdin  string
		vars   map[string]string
		args   []string
		code   int
		stdout string // a substring of stdout
	}{
		{"valid", "", nil, []string{"--database", "shop", "select id from orders"}, exitOK, "LIMIT 1000"},
		{"valid from stdin", "select id from orders", nil, []string{"--database", "store"}, exitOK, "valid (database store, mysql)"},
		{"database from the environment", "", map[string]string{"TEXT2SQL_DATABASE": "shop"}, []string{"select", "id", "from", "orders"}, exitOK, "public.orders"},
		{"invalid", "", nil, []string{"--database", "shop", "select email from customers"}, exitFailure, "COLUMN_NOT_ALLOWED at line 1, column 8"},
		{"write", "", nil, []string{"--database", "shop", "drop table orders"}, exitFailure, "NOT_READ_ONLY"},
		{"no database with two in the schema", "", nil, []string{"select 1"}, exitUsage, ""},
		{"unknown database", "", nil, []string{"--database", "nope", "select 1"}, exitUsage, ""},
		{"unknown flag", "", nil, []string{"--nope"}, exitUsage, ""},
		{"bad env value", "", map[string]string{"TEXT2SQL_WORKERS": "many"}, []string{"--jsonl"}, exitUsage, ""},
		{"missing schema file", "", nil, []string{"--schema", "nope.yaml", "select 1"}, exitUsage, ""},
		{"jsonl with arguments", "", nil, []string{"--jsonl", "select 1"}, exitUsage, ""},
		{"help", "", nil, []string{"--help"}, exitOK, "TEXT2SQL_SCHEMA"},
		{"single-database schema needs no --database", "", nil, []string{"--schema", "testdata/jsonl/one.schema.yaml", "select id from employees"}, exitOK, "hr.employees"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, strings.NewReader(tc.stdin), tc.vars, append([]string{"validate"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, stderr)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tc.stdout)
			}
			if tc.code == exitUsage && stderr == "" {
				t.Error("usage error without a message")
			}
		})
	}
}

func TestCommandDispatch(t *testing.T) {
	if code, _, stderr := runCLI(t, nil, nil); code != exitUsage || !strings.Contains(stderr, "serve") {
		t.Errorf("no command: %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, nil, "frobnicate"); code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, out, _ := runCLI(t, nil, nil, "help", "serve"); code != exitOK || !strings.Contains(out, "TEXT2SQL_HTTP_ADDR") {
		t.Errorf("help serve: %d %q", code, out)
	}
}

// Policy entries matching nothing are reported once for the whole schema,
// with the number of databases they were checked against.
func TestValidatePolicyWarnings(t *testing.T) {
	const dir = "testdata/policywarn/"
	want, err := os.ReadFile(dir + "warnings.txt")
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, nil, nil, "validate", "--schema", dir+"schema.yaml", "--policy", dir+"policy.yaml",
		"--database", "tenant05", "select id from orders")
	if code != exitOK || !strings.Contains(out, "valid") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	if stderr != string(want) {
		t.Errorf("stderr:\n%s\nwant (%swarnings.txt):\n%s", stderr, dir, want)
	}
}

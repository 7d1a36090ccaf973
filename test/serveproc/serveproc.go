// Package serveproc runs `text2sql serve` as a child process on loopback,
// for tests and load runs that need the real binary: its signal handling,
// its exit status and its memory as the operating system sees them.
package serveproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Build compiles the text2sql command into dir and returns the binary's
// path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "text2sql")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/texttosql/text2sql/cmd/text2sql").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Process is a running `text2sql serve`.
type Process struct {
	// HTTPAddr and GRPCAddr are the addresses it listens on (host:port).
	HTTPAddr, GRPCAddr string

	cmd  *exec.Cmd
	logs lockedBuffer
	done chan struct{} // closed once the process has exited
	code int
}

// Start runs bin serve with args on ephemeral loopback ports and waits
// until it listens. env holds TEXT2SQL_* (and OPENAI_*) settings; those of
// this process are not passed on, nor is a local Ollama looked for unless
// env names one, so the caller's environment cannot change what is tested.
func Start(bin string, env []string, args ...string) (*Process, error) {
	args = append([]string{"serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEXT2SQL_") && !strings.HasPrefix(kv, "OPENAI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TEXT2SQL_OLLAMA_ADDR=")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	listening := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.logs.write(sc.Bytes())
			var line struct{ Msg, HTTP, GRPC string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				listening <- [2]string{line.HTTP, line.GRPC}
			}
		}
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	select {
	case addrs := <-listening:
		p.HTTPAddr, p.GRPCAddr = addrs[0], addrs[1]
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("serve exited with status %d before listening:\n%s", p.code, p.Logs())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-p.done
		return nil, fmt.Errorf("serve did not listen within a minute:\n%s", p.Logs())
	}
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to timeout for the process to exit and returns its exit
// status; after timeout it kills the process and says so.
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.code, nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return p.code, fmt.Errorf("serve did not exit within %v and was killed", timeout)
	}
}

// Stop kills the process if it still runs; for cleanup.
func (p *Process) Stop() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Logs is what the process has logged so far, one JSON object a line.
func (p *Process) Logs() string { return p.logs.String() }

// RSS is the process's resident set size in bytes, from /proc (Linux).
func (p *Process) RSS() (int64, error) { return RSS(p.Pid()) }

// RSS is the resident set size of process pid in bytes, from /proc
// (Linux).
func RSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// Refused reports whether err, from an HTTP client or a gRPC call, means
// the connection was refused at connect time: nothing was sent, so the
// request is safe to retry elsewhere. Any other transport error (EOF, a
// reset, a body cut short) may have lost a request.
func Refused(err error) bool {
	if err == nil {
		return false
	}
	if st, ok := status.FromError(err); ok {
		// gRPC reports the dial error of the connection it could not make.
		return st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connect: connection refused")
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && errors.Is(err, syscall.ECONNREFUSED)
}

// lockedBuffer keeps the first and the last logKeep bytes of the log, so
// a long load run at info level does not pile up its request log.
type lockedBuffer struct {
	mu      sync.Mutex
	head    bytes.Buffer
	tail    [][]byte
	tailLen int
	dropped int
}

const logKeep = 512 << 10

func (l *lockedBuffer) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head.Len() < logKeep {
		l.head.Write(line)
		l.head.WriteByte('\n')
		return
	}
	l.tail = append(l.tail, append(append([]byte(nil), line...), '\n'))
	l.tailLen += len(line) + 1
	for l.tailLen > logKeep {
		l.tailLen -= len(l.tail[0])
		l.tail = l.tail[1:]
		l.dropped++
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.Write(l.head.Bytes())
	if l.dropped > 0 {
		fmt.Fprintf(&b, "[%d lines not kept]\n", l.dropped)
	}
	for _, line := range l.tail {
		b.Write(line)
	}
	return b.String()
}

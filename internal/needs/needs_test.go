package needs

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how the test was stopped.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                         {}
func (r *recorder) Fatalf(format string, a ...any)  { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)   { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Errorf(format string, a ...any)  { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Logf(format string, args ...any) {}

func TestMissing(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		ci              string
		failed, skipped bool
	}{
		{"true", true, false},
		{"", false, true},
		{"false", false, true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			Missing(r, "Redis at 127.0.0.1:6379", down)
			if (r.failed != "") != tc.failed || (r.skipped != "") != tc.skipped {
				t.Fatalf("failed %q, skipped %q", r.failed, r.skipped)
			}
			msg := r.failed + r.skipped
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "Redis at 127.0.0.1:6379") || !strings.Contains(msg, "connection refused") {
				t.Errorf("message %q: want one line naming what is missing and why", msg)
			}
			if tc.skipped && !strings.Contains(msg, Command) {
				t.Errorf("skip message %q does not name %s", msg, Command)
			}
		})
	}
}

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	t.Setenv("CI", "true")
	r := &recorder{}
	TCP(r, "listener", addr)
	if r.failed != "" || r.skipped != "" {
		t.Fatalf("a listening address was refused: %q %q", r.failed, r.skipped)
	}
	l.Close()
	TCP(r, "listener", addr)
	if !strings.Contains(r.failed, "listener at "+addr) {
		t.Fatalf("a closed address was accepted (failure %q)", r.failed)
	}
}

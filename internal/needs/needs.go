// Package needs is how a test asks for something outside Go: a local
// service (PostgreSQL, MariaDB, Redis on loopback) or a tool. scripts/test
// sets all of them up and runs with CI=true, where a missing one fails the
// test; a plain `go test` skips it instead, with one line saying what is
// missing and which command runs it.
package needs

import (
	"net"
	"os"
	"time"
)

// Command is the command that sets up everything the tests need and runs
// them all.
// TB is the part of testing.TB these helpers use; an interface, so that
// packages the binary links (golden/execdb) can call them without linking
// the testing package.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

const Command = "scripts/test"

// Missing stops the test because what is unavailable (err says why): it
// fails under CI=true, and otherwise skips with how to run it.
func Missing(tb TB, what string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required (CI=true): %v", what, err)
		return
	}
	tb.Skipf("%s is not available (%v); `%s` sets it up and runs this test", what, err, Command)
}

// TCP requires something to accept connections at addr, a loopback
// host:port, within a second.
func TCP(tb TB, what, addr string) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		Missing(tb, what+" at "+addr, err)
		return
	}
	c.Close()
}

// Redis requires the Redis server scripts/test starts on 127.0.0.1:6379.
func Redis(tb TB) { TCP(tb, "Redis", "127.0.0.1:6379") }

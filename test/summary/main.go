// Command summary reads `go test -json` on stdin and reports it the way
// scripts/test needs: one line per package as it finishes, the full output
// of whatever failed, every skipped test with its reason, and a last line
// counting packages, tests, failures and skips. It exits 1 when anything
// failed or was skipped (scripts/test sets every prerequisite up, so a
// skip there is a gap in the run, not a pass), or when no test ran.
//
//	go test -json ./... 2>&1 | go run ./test/summary
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	started := flag.Int64("started", 0, "Unix time the run began, to print the total time on the last line (0: leave it out)")
	flag.Parse()
	var start time.Time
	if *started > 0 {
		start = time.Unix(*started, 0)
	}
	r := newReport()
	if err := r.read(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
	if !r.finish(os.Stdout, start, time.Now()) {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json), with the build
// events of Go 1.24 and later.
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string // on a package's fail: the build that failed
}

// report accumulates a run.
type report struct {
	packages, withTests int
	tests, subtests     int
	// failedPkgs are packages that failed with no failing test of their
	// own: a build error, a TestMain that gave up, a panic, a timeout.
	failedPkgs  []string
	failedTests []string
	skipped     []string
	output      map[string]*strings.Builder // by package + "\x00" + test ("" for the package)
	build       map[string]*strings.Builder // by import path
	pkgHasTests map[string]bool
	pkgFailed   map[string]bool // a test of the package failed
	// running are the tests started and not yet ended, by package: a test
	// binary that dies (a timeout, a panic, os.Exit) ends none of them.
	running      map[string][]string
	failedBuilds bool
}

func newReport() *report {
	return &report{output: map[string]*strings.Builder{}, build: map[string]*strings.Builder{},
		pkgHasTests: map[string]bool{}, pkgFailed: map[string]bool{}, running: map[string][]string{}}
}

func key(pkg, test string) string { return pkg + "\x00" + test }

func (r *report) buf(m map[string]*strings.Builder, k string) *strings.Builder {
	b := m[k]
	if b == nil {
		b = &strings.Builder{}
		m[k] = b
	}
	return b
}

// read consumes the stream, writing progress to w as packages finish.
// Lines that are not JSON (the go command's own messages on stderr, such
// as module downloads) are passed through.
func (r *report) read(in io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		r.event(e, w)
	}
	return sc.Err()
}

func (r *report) event(e event, w io.Writer) {
	switch e.Action {
	case "build-output":
		r.buf(r.build, e.ImportPath).WriteString(e.Output)
		return
	case "build-fail":
		r.failedBuilds = true
		fmt.Fprint(w, r.buf(r.build, e.ImportPath).String())
		return
	case "output":
		r.buf(r.output, key(e.Package, e.Test)).WriteString(e.Output)
		return
	}
	if e.Test != "" {
		r.testDone(e, w)
		return
	}
	switch e.Action {
	case "pass", "fail", "skip":
	default:
		return // start, and the like
	}
	r.packages++
	// A test still running when its package ended was cut short: its
	// output holds why (a timeout's "panic: test timed out" and the
	// goroutine dump land there).
	for _, test := range r.running[e.Package] {
		r.count(test)
		r.pkgHasTests[e.Package] = true
		r.failedTests = append(r.failedTests, e.Package+" "+test+" (did not finish)")
		r.pkgFailed[e.Package] = true
		fmt.Fprint(w, r.buf(r.output, key(e.Package, test)).String())
	}
	delete(r.running, e.Package)
	out := r.buf(r.output, key(e.Package, "")).String()
	if r.pkgHasTests[e.Package] {
		r.withTests++
	}
	if e.Action == "fail" {
		if !r.pkgFailed[e.Package] {
			r.failedPkgs = append(r.failedPkgs, e.Package)
		}
		if e.FailedBuild != "" && !strings.Contains(out, "[build failed]") {
			out += fmt.Sprintf("FAIL\t%s [build failed]\n", e.Package)
		}
		// Everything the package printed outside its tests: a TestMain
		// that gave up, a panic, a timeout's goroutine dump.
		fmt.Fprint(w, out)
		return
	}
	fmt.Fprint(w, lastLine(out))
}

func (r *report) testDone(e event, w io.Writer) {
	switch e.Action {
	case "run":
		r.running[e.Package] = append(r.running[e.Package], e.Test)
		return
	case "pass", "fail", "skip":
		r.running[e.Package] = remove(r.running[e.Package], e.Test)
	default:
		return // pause, cont
	}
	r.pkgHasTests[e.Package] = true
	r.count(e.Test)
	name := e.Package + " " + e.Test
	out := r.buf(r.output, key(e.Package, e.Test)).String()
	switch e.Action {
	case "fail":
		r.failedTests = append(r.failedTests, name)
		r.pkgFailed[e.Package] = true
		fmt.Fprint(w, out)
	case "skip":
		r.skipped = append(r.skipped, name+": "+reason(out))
	}
}

func (r *report) count(test string) {
	if strings.Contains(test, "/") {
		r.subtests++
	} else {
		r.tests++
	}
}

func remove(list []string, s string) []string {
	for i, x := range list {
		if x == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// reason is what a skipped test said, on one line: its log lines without
// the === and --- markers and the file:line prefixes.
func reason(out string) string {
	var parts []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") && !strings.Contains(t[:i], " ") {
			t = t[i+2:]
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// lastLine is the package's result line ("ok  \tpkg\t1.2s", "?   \tpkg\t[no
// test files]").
func lastLine(out string) string {
	out = strings.TrimRight(out, "\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return ""
	}
	return out + "\n"
}

// finish prints the skips, the failures and the last line, and reports
// whether the run is clean.
func (r *report) finish(w io.Writer, start, now time.Time) bool {
	sort.Strings(r.skipped)
	for _, s := range r.skipped {
		fmt.Fprintln(w, "SKIP", s)
	}
	for _, f := range r.failedTests {
		fmt.Fprintln(w, "FAIL", f)
	}
	for _, p := range r.failedPkgs {
		fmt.Fprintln(w, "FAIL", p)
	}
	failed := len(r.failedPkgs) + len(r.failedTests)
	clean := failed == 0 && !r.failedBuilds && len(r.skipped) == 0 && r.tests > 0
	verdict := "ok"
	if !clean {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("%s: packages %d (%d with tests), tests %d (+%d subtests), failed: %d, skipped: %d",
		verdict, r.packages, r.withTests, r.tests, r.subtests, failed, len(r.skipped))
	if r.failedBuilds {
		line += ", build failed"
	}
	if r.tests == 0 {
		line += ", no test ran"
	}
	if !start.IsZero() {
		line += ", in " + now.Sub(start).Round(time.Second).String()
	}
	fmt.Fprintln(w, line)
	return clean
}

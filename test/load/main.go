// Command load drives a `text2sql serve` process with keep-alive clients
// over HTTP and gRPC for a chosen time, each client alternating ValidateSQL
// and GenerateSQL answered from the cache, and prints throughput, p50/p99
// latency per transport and method, and the server's resident memory over
// time with its slope, so growth under sustained load shows.
//
// By default it builds the binary, starts it on loopback with the sample
// catalog and a fake model endpoint that answers at once, and stops it with
// SIGTERM at the end; -http/-grpc/-pid aim it at a process started by hand
// instead (which must serve GenerateSQL for the sample catalog's shop
// database and allow the load: --rate-limit 0 --max-in-flight 0).
//
// Run from the repository root:
//
//	go run ./test/load -duration 5m -clients 8
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/test/serveproc"
)

func main() {
	duration := flag.Duration("duration", time.Minute, "how long to drive the load")
	clients := flag.Int("clients", 8, "keep-alive clients per transport")
	every := flag.Duration("sample", 10*time.Second, "interval between memory samples")
	bin := flag.String("bin", "", "text2sql binary to run (default: build it)")
	httpAddr := flag.String("http", "", "HTTP address of a running serve process (with -grpc; default: start one)")
	grpcAddr := flag.String("grpc", "", "gRPC address of a running serve process")
	pid := flag.Int("pid", 0, "process id of the running serve process, for its memory")
	flag.Parse()
	if err := run(*duration, *clients, *every, *bin, *httpAddr, *grpcAddr, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

const answer = "```sql\nSELECT status, count(*) AS orders FROM orders GROUP BY status\n```"

var (
	validate = serveproc.Request{Validate: &texttosqlv1.ValidateSQLRequest{
		Database: "shop", Sql: "select o.id, c.name from orders o join customers c on c.id = o.customer_id where o.status = 'shipped'"}}
	generate = serveproc.Request{Generate: &texttosqlv1.GenerateSQLRequest{
		Database: "shop", Question: "How many orders are there in each status?"}}
)

func run(duration time.Duration, clients int, every time.Duration, bin, httpAddr, grpcAddr string, pid int) error {
	var proc *serveproc.Process
	var model *fakellm.Server
	if httpAddr == "" {
		var err error
		if model, err = fakellm.New(fakellm.Text(answer)); err != nil {
			return err
		}
		defer model.Close()
		if bin == "" {
			dir, err := os.MkdirTemp("", "text2sql-load")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			fmt.Println("building text2sql...")
			if bin, err = serveproc.Build(dir); err != nil {
				return err
			}
		}
		// Logs stay at the default level: every request is logged, as in
		// production.
		proc, err = serveproc.Start(bin, nil, "--rate-limit", "0", "--max-in-flight", "0",
			"--llm-model", "fake-model", "--llm-base-url", model.URL(), "--llm-api-key", "sk-load")
		if err != nil {
			return err
		}
		defer proc.Stop()
		httpAddr, grpcAddr, pid = proc.HTTPAddr, proc.GRPCAddr, proc.Pid()
	} else if grpcAddr == "" {
		return fmt.Errorf("-http needs -grpc too")
	}

	// Fill the answer cache, so GenerateSQL below is a cache hit.
	warm := serveproc.NewHTTPClient(httpAddr)
	if r := warm.Do(context.Background(), generate); r.Err != nil {
		return fmt.Errorf("first GenerateSQL: %w", r.Err)
	}
	warm.Close()
	modelCalls := 0
	if model != nil {
		modelCalls = model.Calls()
	}

	fmt.Printf("load: %d HTTP + %d gRPC keep-alive clients for %v, each alternating ValidateSQL and cache-hit GenerateSQL\n",
		clients, clients, duration)
	fmt.Printf("machine: %d CPUs shared with the server; load average at start: %s\n", runtime.NumCPU(), loadavg())
	if pid != 0 {
		fmt.Printf("server: pid %d\n", pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	samples := make(chan []sample, 1)
	go func() { samples <- sampleMemory(ctx, pid, httpAddr, every) }()
	start := time.Now()
	stats, err := drive(ctx, httpAddr, grpcAddr, clients)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	mem := <-samples

	fmt.Printf("load average at end: %s\n\n", loadavg())
	report(stats, elapsed)
	if model != nil {
		fmt.Printf("\nmodel calls during the run: %d (every GenerateSQL a cache hit when 0)\n", model.Calls()-modelCalls)
	}
	reportMemory(mem)

	if proc != nil {
		term := time.Now()
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		code, err := proc.Wait(time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("\nSIGTERM: exit status %d after %v\n", code, time.Since(term).Round(time.Millisecond))
	}
	return nil
}

// series is what one client saw of one transport and method.
type series struct {
	latencies []time.Duration
	errors    int
	firstErr  error
}

type key struct{ transport, method string }

// drive runs the clients until ctx ends and merges what they saw.
func drive(ctx context.Context, httpAddr, grpcAddr string, clients int) (map[key]*series, error) {
	type client struct {
		transport string
		c         serveproc.Client
	}
	var all []client
	for range clients {
		all = append(all, client{"HTTP", serveproc.NewHTTPClient(httpAddr)})
		g, err := serveproc.NewGRPCClient(grpcAddr)
		if err != nil {
			return nil, err
		}
		all = append(all, client{"gRPC", g})
	}
	// The end is checked against the clock as well as ctx: a gRPC call
	// fails at once past its deadline, which may be before ctx's own
	// timer has fired.
	end, _ := ctx.Deadline()
	over := func() bool { return ctx.Err() != nil || !time.Now().Before(end) }
	var mu sync.Mutex
	merged := map[key]*series{}
	var wg sync.WaitGroup
	for _, cl := range all {
		wg.Go(func() {
			defer cl.c.Close()
			mine := map[key]*series{}
			for i := 0; !over(); i++ {
				req := validate
				if i%2 == 1 {
					req = generate
				}
				k := key{cl.transport, req.Name()}
				s := mine[k]
				if s == nil {
					s = &series{latencies: make([]time.Duration, 0, 1<<14)}
					mine[k] = s
				}
				t := time.Now()
				r := cl.c.Do(ctx, req)
				if over() {
					break // the call the end of the run interrupted does not count
				}
				if r.Err != nil {
					s.errors++
					if s.firstErr == nil {
						s.firstErr = r.Err
					}
					continue
				}
				s.latencies = append(s.latencies, time.Since(t))
			}
			mu.Lock()
			defer mu.Unlock()
			for k, s := range mine {
				m := merged[k]
				if m == nil {
					m = &series{}
					merged[k] = m
				}
				m.latencies = append(m.latencies, s.latencies...)
				m.errors += s.errors
				if m.firstErr == nil {
					m.firstErr = s.firstErr
				}
			}
		})
	}
	wg.Wait()
	return merged, nil
}

func report(stats map[key]*series, elapsed time.Duration) {
	fmt.Printf("%-18s %10s %9s %9s %9s %7s\n", "", "answers", "req/s", "p50", "p99", "errors")
	total, errs := 0, 0
	for _, t := range []string{"HTTP", "gRPC"} {
		for _, m := range []string{"ValidateSQL", "GenerateSQL"} {
			s := stats[key{t, m}]
			if s == nil {
				continue
			}
			slices.Sort(s.latencies)
			n := len(s.latencies)
			total += n
			errs += s.errors
			fmt.Printf("%-18s %10d %9.0f %9s %9s %7d\n", t+" "+m, n, float64(n)/elapsed.Seconds(),
				pct(s.latencies, 0.50), pct(s.latencies, 0.99), s.errors)
			if s.firstErr != nil {
				fmt.Printf("  first error: %v\n", s.firstErr)
			}
		}
	}
	fmt.Printf("%-18s %10d %9.0f %9s %9s %7d\n", "all", total, float64(total)/elapsed.Seconds(), "", "", errs)
}

func pct(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	return sorted[int(float64(len(sorted)-1)*p)].Round(10 * time.Microsecond).String()
}

// sample is the server's memory at one moment.
type sample struct {
	at         time.Duration
	rss, heap  float64 // MB; heap is Go's heap in use, from /metrics
	goroutines float64
}

// sampleMemory records the server's memory every interval until ctx ends,
// and once more at the end.
func sampleMemory(ctx context.Context, pid int, httpAddr string, every time.Duration) []sample {
	start := time.Now()
	var out []sample
	take := func() {
		s := sample{at: time.Since(start)}
		if pid != 0 {
			if b, err := serveproc.RSS(pid); err == nil {
				s.rss = float64(b) / (1 << 20)
			}
		}
		m := scrape(httpAddr, "go_memstats_heap_inuse_bytes", "go_goroutines")
		s.heap, s.goroutines = m[0]/(1<<20), m[1]
		out = append(out, s)
	}
	take()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			take()
			return out
		case <-t.C:
			take()
		}
	}
}

// scrape reads gauges from the server's /metrics.
func scrape(httpAddr string, names ...string) []float64 {
	out := make([]float64, len(names))
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for i, n := range names {
			if v, ok := strings.CutPrefix(sc.Text(), n+" "); ok {
				out[i], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return out
}

func reportMemory(samples []sample) {
	if len(samples) == 0 {
		return
	}
	fmt.Printf("\nserver memory (RSS from /proc; Go heap in use and goroutines from /metrics):\n")
	fmt.Printf("%9s %9s %9s %11s\n", "t", "RSS MB", "heap MB", "goroutines")
	for _, s := range samples {
		fmt.Printf("%9s %9.1f %9.1f %11.0f\n", s.at.Round(time.Second), s.rss, s.heap, s.goroutines)
	}
	first, last := samples[0], samples[len(samples)-1]
	fmt.Printf("RSS %.1f MB -> %.1f MB; slope %+.2f MB/min over the run", first.rss, last.rss, slope(samples, 0, rssOf))
	if last.at > 2*time.Minute {
		fmt.Printf(", %+.2f MB/min after the first minute", slope(samples, time.Minute, rssOf))
	}
	fmt.Printf("\nGo heap in use: slope %+.2f MB/min over the run\n", slope(samples, 0, heapOf))
}

func rssOf(s sample) float64  { return s.rss }
func heapOf(s sample) float64 { return s.heap }

// slope is the least-squares slope of f over the samples taken from
// `from` on, in MB per minute.
func slope(samples []sample, from time.Duration, f func(sample) float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, s := range samples {
		if s.at < from {
			continue
		}
		x, y := s.at.Minutes(), f(s)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

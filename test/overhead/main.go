// Command overhead measures what the service adds around the model:
//
//   - latency: GenerateSQL over HTTP against a model endpoint that answers
//     at once, so nearly all the time measured is the service's own
//     (linking, prompt, validation, gateway); p99 is compared with a typical
//     1 s model call;
//   - throughput: cache hits of GenerateSQL over HTTP, compared with a bare
//     grpc-gateway handler that echoes the request, both driven by the same
//     client on the same machine.
//
// Run: go run ./test/overhead [-requests 2000] [-duration 10s] [-clients 16]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/texttosql/text2sql/internal/app"
	"github.com/texttosql/text2sql/llm"
	texttosqlv1 "github.com/texttosql/text2sql/proto/texttosql/v1"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/server"
	"github.com/texttosql/text2sql/test/fakellm"
	"github.com/texttosql/text2sql/validate"
)

func main() {
	requests := flag.Int("requests", 2000, "sequential cache-missing requests for the latency figure")
	duration := flag.Duration("duration", 10*time.Second, "length of each throughput run")
	clients := flag.Int("clients", 16, "concurrent clients in the throughput runs")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the cache-hit run to this file")
	flag.Parse()
	profile = *cpuprofile
	if err := run(*requests, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

var profile string

const (
	question = "Revenue by order status"
	answer   = "```sql\nSELECT status, sum(total) AS revenue FROM orders GROUP BY status ORDER BY revenue DESC\n```"
)

func run(requests int, duration time.Duration, clients int) error {
	fake, err := fakellm.New(fakellm.Text(answer))
	if err != nil {
		return err
	}
	defer fake.Close()
	base, stop, err := startService(fake.URL())
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}

	// Latency: every request misses the cache and calls the model.
	lat := make([]time.Duration, 0, requests)
	for i := range requests + 50 {
		body := fmt.Sprintf(`{"database":"shop","question":"%s number %d","skip_cache":true}`, question, i)
		start := time.Now()
		if err := post(client, base+"/v1/sql:generate", body); err != nil {
			return err
		}
		if i >= 50 { // the first ones warm up connections and caches
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }

	hit := `{"database":"shop","question":"` + question + `"}`
	if err := post(client, base+"/v1/sql:generate", hit); err != nil {
		return err
	}
	calls := fake.Calls()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	service, err := throughput(client, base+"/v1/sql:generate", hit, duration, clients)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	if fake.Calls() != calls {
		return fmt.Errorf("the throughput run called the model %d times: not all cache hits", fake.Calls()-calls)
	}
	echoBase, stopEcho, err := startEcho()
	if err != nil {
		return err
	}
	defer stopEcho()
	echo, err := throughput(client, echoBase+"/v1/sql:generate", hit, duration, clients)
	if err != nil {
		return err
	}

	fmt.Printf("machine: %d CPUs, GOMAXPROCS %d\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("latency of GenerateSQL with an instant model (%d requests, cache off):\n", len(lat))
	fmt.Printf("  p50 %v  p95 %v  p99 %v  max %v\n", pct(0.50), pct(0.95), pct(0.99), lat[len(lat)-1])
	ratio := float64(pct(0.99)) / float64(time.Second)
	fmt.Printf("  p99 / 1 s model call = %.2f%% (goal <= 1%%: %s)\n\n", 100*ratio, verdict(ratio <= 0.01))
	fmt.Printf("throughput over HTTP, %d clients, %v each:\n", clients, duration)
	fmt.Printf("  GenerateSQL cache hits         %8.0f req/s\n", service)
	fmt.Printf("  bare grpc-gateway echo handler %8.0f req/s\n", echo)
	r := service / echo
	fmt.Printf("  ratio = %.2f (goal >= 0.50: %s)\n", r, verdict(r >= 0.5))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// startService runs the real service with the generation pipeline and an
// in-memory answer cache, on the sample shop catalog and policy.
func startService(modelURL string) (string, func(), error) {
	cat, err := schema.LoadFile("validate/testdata/shop_postgres.yaml")
	if err != nil {
		return "", nil, fmt.Errorf("run from the repository root: %w", err)
	}
	pol, err := validate.LoadPolicy("validate/testdata/policy.yaml")
	if err != nil {
		return "", nil, err
	}
	a, err := app.New(context.Background(), app.Options{
		Server: server.Config{
			Store: schema.NewFileStore(cat, ""), Policy: pol,
			Limits:   server.Limits{}, // no rate limit: measure the service, not the limiter
			Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
			HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		},
		Model: llm.Config{BaseURL: modelURL, Model: "bench", APIKey: "k"},
		Cache: app.Cache{Size: 100000, TTL: time.Hour},
	})
	if err != nil {
		return "", nil, err
	}
	srv := a.Server
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	return "http://" + srv.HTTPAddr().String(), func() { cancel(); <-done; a.Close() }, nil
}

// echoServer answers GenerateSQL with the question: the least a
// grpc-gateway handler can do.
type echoServer struct {
	texttosqlv1.UnimplementedTextToSQLServiceServer
}

func (echoServer) GenerateSQL(_ context.Context, r *texttosqlv1.GenerateSQLRequest) (*texttosqlv1.GenerateSQLResponse, error) {
	return &texttosqlv1.GenerateSQLResponse{Sql: r.Question, Database: r.Database}, nil
}

func startEcho() (string, func(), error) {
	mux := gwruntime.NewServeMux()
	if err := texttosqlv1.RegisterTextToSQLServiceHandlerServer(context.Background(), mux, echoServer{}); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String(), func() { hs.Close() }, nil
}

func post(c *http.Client, url, body string) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, data)
	}
	var v map[string]any
	return json.Unmarshal(data, &v)
}

// throughput drives url with clients concurrent loops for d and returns
// requests per second.
func throughput(c *http.Client, url, body string, d time.Duration, clients int) (float64, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := post(c, url, body); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), firstErr
}

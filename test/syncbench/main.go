// Command syncbench measures a full catalog sync from Superset: it starts
// the fake Superset in this process with a synthetic catalog (10,000
// datasets of 50 columns, 20 ms per call by default), syncs every database
// with the real client and source, and prints wall time, calls, peak RSS
// and heap. The fake shares the process, so RSS and CPU include its work.
//
//	go run ./test/syncbench
//	go run ./test/syncbench -datasets 2000 -latency 50ms -concurrency 16
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/schema/superset"
	"github.com/texttosql/text2sql/test/fakesuperset"
)

func main() {
	var (
		datasets    = flag.Int("datasets", 10_000, "datasets in the synthetic catalog")
		columns     = flag.Int("columns", 50, "columns per dataset")
		databases   = flag.Int("databases", 1, "databases to spread the datasets over")
		latency     = flag.Duration("latency", 20*time.Millisecond, "latency the fake adds to every call")
		concurrency = flag.Int("concurrency", 0, "client MaxConcurrency (0: the client default)")
		skipMeta    = flag.Bool("skip-metadata", false, "skip the per-table metadata calls")
		incremental = flag.Bool("incremental", true, "also time an incremental refresh after 10 changes")
		cpuProfile  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
		memProfile  = flag.String("memprofile", "", "write an allocation profile of the run to this file")
	)
	flag.Parse()
	if *memProfile != "" {
		defer func() {
			f, err := os.Create(*memProfile)
			if err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "syncbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "syncbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*datasets, *columns, *databases, *latency, *concurrency, *skipMeta, *incremental); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

func run(datasets, columns, databases int, latency time.Duration, concurrency int, skipMeta, incremental bool) error {
	fake, err := fakesuperset.New(fakesuperset.Options{})
	if err != nil {
		return err
	}
	defer fake.Close()
	fake.AddUser(fakesuperset.User{Username: "svc", Password: "bench-password", Admin: true})
	ids := fake.Generate(fakesuperset.GenerateOptions{Databases: databases, Datasets: datasets, Columns: columns})
	fake.SetLatency(latency)

	cfg := superset.Config{
		BaseURL: fake.URL(), Username: "svc", Password: "bench-password",
		MaxConcurrency: concurrency, SkipTableMetadata: skipMeta,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	c, err := superset.New(cfg)
	if err != nil {
		return err
	}
	src := superset.NewSource(c)
	ctx := context.Background()
	runtime.GC()

	cpu0 := cpuTime()
	start := time.Now()
	dbs, err := src.Databases(ctx)
	if err != nil {
		return err
	}
	tables, cols := 0, 0
	var synced []*schema.Database // kept so the live heap below includes the catalog
	for _, db := range dbs {
		d, err := src.Fetch(ctx, db, true)
		if err != nil {
			return err
		}
		synced = append(synced, d)
		tables += len(d.Tables)
		for _, t := range d.Tables {
			cols += len(t.Columns)
		}
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	calls := fake.TotalCalls()

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapAfter := ms.HeapAlloc
	fmt.Printf("catalog          %d datasets × %d columns in %d database(s), %v per call\n", datasets, columns, databases, latency)
	fmt.Printf("concurrency      %d (GOMAXPROCS %d)\n", c.Config().MaxConcurrency, runtime.GOMAXPROCS(0))
	fmt.Printf("full sync        %.2f s wall, %d calls (%.0f calls/s), peak %d in flight\n",
		wall.Seconds(), calls, float64(calls)/wall.Seconds(), fake.PeakInFlight())
	fmt.Printf("cpu              %.2f s user+sys for client and fake together (%.0f%% of %d cores over the wall time)\n",
		cpu.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU())
	fmt.Printf("latency floor    %.2f s (calls × latency ÷ concurrency)\n",
		float64(calls)*latency.Seconds()/float64(c.Config().MaxConcurrency))
	fmt.Printf("result           %d tables, %d columns\n", tables, cols)
	fmt.Printf("heap             %.1f MB live after sync and GC (catalog, client and fake), %.1f MB allocated in total, %d GCs\n",
		mb(heapAfter), mb(ms.TotalAlloc), ms.NumGC)

	if incremental {
		for i := 0; i < 10 && i < len(ids); i++ {
			fake.UpdateDataset(ids[i*len(ids)/10], func(d *fakesuperset.Dataset) { d.Description = "changed" })
		}
		fake.ResetCalls()
		start = time.Now()
		for _, db := range dbs {
			if _, err := src.Fetch(ctx, db, false); err != nil {
				return err
			}
		}
		fmt.Printf("incremental      %.2f s wall, %d calls after 10 changes\n", time.Since(start).Seconds(), fake.TotalCalls())
	}
	runtime.KeepAlive(synced)
	hwm, rss := procStatus("VmHWM"), procStatus("VmRSS")
	fmt.Printf("memory           peak RSS %s, RSS now %s (fake and client share the process)\n", hwm, rss)
	return nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads a field of /proc/self/status, e.g. VmHWM (peak RSS).
func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
				return fmt.Sprintf("%.1f MB", kb/1024)
			}
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/texttosql/text2sql/benchdata"
	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// goals are the speed-ups over node-sql-parser's whiteListCheck the
// validator is meant to reach, by dialect.
var goals = map[string]float64{schema.DialectMySQL: 20, schema.DialectPostgres: 10}

// nodeResult is what bench.mjs writes for one dialect.
type nodeResult struct {
	Version  string `json:"version"`
	Node     string `json:"node"`
	Passes   int    `json:"passes"`
	Queries  int    `json:"queries"`
	Accepted []bool `json:"accepted"`
	Failed   struct {
		Parse  int `json:"parse"`
		Table  int `json:"table"`
		Column int `json:"column"`
	} `json:"failed"`
	// Check holds whiteListCheck's timings by column whitelist form
	// ("compact": one entry per table, "flat": one per column).
	Check     map[string]timing `json:"check"`
	ParseOnly struct {
		timing
		Failed int `json:"failed"`
	} `json:"parseOnly"`
}

// timing holds, for each timed pass over all queries, its wall time and
// the process's CPU time (user + system, all threads).
type timing struct {
	PassNs []int64 `json:"passNs"`
	CPUNs  []int64 `json:"cpuNs"`
}

// stats are per-query figures in µs: the mean over all passes, the best
// pass's mean, and the mean CPU time.
type stats struct{ mean, best, cpu float64 }

func (t timing) perQuery(queries int) stats {
	if len(t.PassNs) == 0 || queries == 0 {
		return stats{}
	}
	var sum, min, cpu int64
	for i, ns := range t.PassNs {
		sum += ns
		if i == 0 || ns < min {
			min = ns
		}
	}
	for _, ns := range t.CPUNs {
		cpu += ns
	}
	q := float64(queries) * 1e3
	return stats{
		mean: float64(sum) / float64(len(t.PassNs)) / q,
		best: float64(min) / q,
		cpu:  float64(cpu) / float64(max(len(t.CPUNs), 1)) / q,
	}
}

func (t timing) total() time.Duration {
	var sum int64
	for _, ns := range t.PassNs {
		sum += ns
	}
	return time.Duration(sum)
}

// cpuTime is the process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timePasses runs fn passes times and records each run.
func timePasses(passes int, fn func()) timing {
	var t timing
	for p := 0; p < passes; p++ {
		c0, t0 := cpuTime(), time.Now()
		fn()
		t.PassNs = append(t.PassNs, int64(time.Since(t0)))
		t.CPUNs = append(t.CPUNs, int64(cpuTime()-c0))
	}
	return t
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	dir := fs.String("dir", "", "directory holding the query files and node results")
	passes := fs.Int("passes", 5, "timed passes over all queries, after one warm-up pass")
	profDir := fs.String("profiledir", "", "write a CPU profile of the timed Validate passes to DIR/cpu-<dialect>.pprof")
	_ = fs.Parse(args)
	if *dir == "" || *passes < 1 {
		return fmt.Errorf("bench: -dir is required and -passes must be at least 1")
	}
	// One thread, like node's JavaScript: the comparison is per core.
	runtime.GOMAXPROCS(1)
	bdir, err := benchdata.Dir()
	if err != nil {
		return err
	}
	var misses []string
	for _, d := range dialects() {
		ok, err := benchDialect(d, bdir, *dir, *passes, *profDir)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		if !ok {
			misses = append(misses, d.nodeDatabase)
		}
	}
	fmt.Println()
	if len(misses) == 0 {
		fmt.Println("speed goal met in every dialect")
	} else {
		fmt.Printf("speed goal NOT met for: %s\n", strings.Join(misses, ", "))
	}
	return nil
}

// verdict is our validator's answer on one query.
type verdict struct {
	valid bool
	code  string // first violation's code when not valid
}

func benchDialect(d dialectSpec, bdir, dir string, passes int, profDir string) (goalMet bool, err error) {
	var f queryFile
	if err := readJSON(queryPath(dir, d.name), &f); err != nil {
		return false, err
	}
	var node nodeResult
	if err := readJSON(nodePath(dir, d.name), &node); err != nil {
		return false, err
	}
	if node.Queries != len(f.Queries) || len(node.Accepted) != len(f.Queries) {
		return false, fmt.Errorf("node results cover %d queries, the query file holds %d", node.Queries, len(f.Queries))
	}
	if len(node.Check) == 0 {
		return false, fmt.Errorf("node results hold no whiteListCheck timings")
	}

	// The policy is compiled once per database, as the service does.
	type target struct {
		db    *schema.Database
		rules *validate.Rules
	}
	targets := map[string]target{}
	for _, s := range d.sources {
		cat, err := s.catalog(bdir)
		if err != nil {
			return false, err
		}
		for _, db := range cat.Databases {
			rules, _ := validate.DefaultPolicy().Compile(db)
			targets[s.key+"/"+db.Name] = target{db, rules}
		}
	}
	reqs := make([]validate.Request, len(f.Queries))
	for i, q := range f.Queries {
		t, ok := targets[q.DB]
		if !ok {
			return false, fmt.Errorf("query %s %s: database %s not in the catalogs", q.Set, q.ID, q.DB)
		}
		reqs[i] = validate.Request{SQL: q.SQL, Database: t.db, Rules: t.rules}
	}

	v := validate.New()
	verdicts := make([]verdict, len(reqs))
	for i, r := range reqs { // warm-up, and the verdicts reported
		res := v.Validate(r)
		verdicts[i].valid = res.Valid
		if !res.Valid && len(res.Violations) > 0 {
			verdicts[i].code = res.Violations[0].Code
		}
	}
	if profDir != "" {
		pf, err := os.Create(filepath.Join(profDir, "cpu-"+d.name+".pprof"))
		if err != nil {
			return false, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return false, err
		}
	}
	printed := 0
	ours := timePasses(passes, func() {
		for _, r := range reqs {
			printed += len(v.Validate(r).SQL)
		}
	})
	if profDir != "" {
		pprof.StopCPUProfile()
	}
	if printed == 0 {
		return false, fmt.Errorf("the validator printed no SQL at all")
	}

	// Report.
	n := len(f.Queries)
	var parts []string
	for _, s := range f.Sets {
		parts = append(parts, fmt.Sprintf("%s %d", s.Set, s.Queries))
	}
	fmt.Printf("\n== %s: %d queries (%s), %d databases; 1 warm-up + %d timed passes per tool, one thread\n",
		f.NodeDatabase, n, strings.Join(parts, ", "), len(f.Databases), passes)

	oursOK, codes := 0, map[string]int{}
	both, onlyNode, onlyOurs := 0, 0, 0
	for i, vd := range verdicts {
		if vd.valid {
			oursOK++
		} else {
			codes[vd.code]++
		}
		switch {
		case vd.valid && node.Accepted[i]:
			both++
		case vd.valid:
			onlyOurs++
		case node.Accepted[i]:
			onlyNode++
		}
	}
	nodeOK := 0
	for _, a := range node.Accepted {
		if a {
			nodeOK++
		}
	}

	// The headline compares with node's cheaper whitelist form.
	forms := make([]string, 0, len(node.Check))
	for form := range node.Check {
		forms = append(forms, form)
	}
	sort.Strings(forms)
	fastest := forms[0]
	for _, form := range forms {
		if node.Check[form].perQuery(n).mean < node.Check[fastest].perQuery(n).mean {
			fastest = form
		}
	}
	nodeS, oursS := node.Check[fastest].perQuery(n), ours.perQuery(n)
	parseS := node.ParseOnly.perQuery(n)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tok\tfailed\tmean µs/query\tbest pass µs/query\tCPU µs/query\ttotal timed s\t")
	row := func(name string, ok int, t timing) {
		s := t.perQuery(n)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t\n", name, ok, n-ok, s.mean, s.best, s.cpu, t.total().Seconds())
	}
	for _, form := range forms {
		row(fmt.Sprintf("node-sql-parser %s whiteListCheck table+column, %s column whitelist", node.Version, form), nodeOK, node.Check[form])
	}
	row(fmt.Sprintf("node-sql-parser %s parse() alone, no check", node.Version), n-node.ParseOnly.Failed, node.ParseOnly.timing)
	row("ours: validate.Validate, DefaultPolicy, SQL printed", oursOK, ours)
	if err := tw.Flush(); err != nil {
		return false, err
	}
	fmt.Printf("node failed: %d parse errors, %d by the table whitelist, %d by the column whitelist\n",
		node.Failed.Parse, node.Failed.Table, node.Failed.Column)
	fmt.Printf("ours failed: %s\n", formatCodes(codes))
	fmt.Printf("accepted by both %d, only by node %d, only by ours %d, by neither %d\n",
		both, onlyNode, onlyOurs, n-both-onlyNode-onlyOurs)
	fmt.Printf("runtimes: %s (GOMAXPROCS=%d), node %s\n", runtime.Version(), runtime.GOMAXPROCS(0), node.Node)

	goal := goals[d.name]
	ratio := nodeS.mean / oursS.mean
	goalMet = ratio >= goal
	status := "MET"
	if !goalMet {
		status = "NOT MET"
	}
	fmt.Printf("ratio node whiteListCheck (%s whitelist, the faster form) / ours: %.1f× mean wall, %.1f× best pass, %.1f× CPU\n",
		fastest, ratio, nodeS.best/oursS.best, nodeS.cpu/oursS.cpu)
	fmt.Printf("ratio node parse() alone / ours: %.1f× mean wall\n", parseS.mean/oursS.mean)
	fmt.Printf("goal: ours ≥ %.0f× faster than node's whiteListCheck on %s (mean wall time): %s\n", goal, f.NodeDatabase, status)

	if err := breakdown(d.name, reqs, passes, oursS.mean); err != nil {
		return false, err
	}
	return goalMet, nil
}

func formatCodes(codes map[string]int) string {
	if len(codes) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if codes[keys[i]] != codes[keys[j]] {
			return codes[keys[i]] > codes[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, codes[k]))
	}
	return strings.Join(parts, ", ")
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

package golden

import (
	"fmt"
	"html"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Progress prints one line per finished case: on a terminal it rewrites
// the line in place, elsewhere it prints every 50th.
type Progress struct {
	w           io.Writer
	total, done int
	correct     int
	inPlace     bool
	mu          sync.Mutex
	start       time.Time
}

// NewProgress reports on total outcomes to w.
func NewProgress(w io.Writer, total int) *Progress {
	inPlace := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			inPlace = true
		}
	}
	return &Progress{w: w, total: total, inPlace: inPlace, start: time.Now()}
}

// Done counts one outcome.
func (p *Progress) Done(set string, o *Outcome) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if o.Correct() {
		p.correct++
	}
	line := fmt.Sprintf("[%d/%d] %s %-4s %-28s correct so far %5.1f%%  %s", p.done, p.total, set, o.Transport, o.Case.ID,
		100*float64(p.correct)/float64(p.done), time.Since(p.start).Round(time.Second))
	switch {
	case p.inPlace:
		fmt.Fprintf(p.w, "\r%-120s", line)
		if p.done == p.total {
			fmt.Fprintln(p.w)
		}
	case p.done%50 == 0 || p.done == p.total:
		fmt.Fprintln(p.w, line)
	}
}

// Summary is the figures of one set over one transport.
type Summary struct {
	Set, Transport string
	Cases          int
	// Answered returned runnable SQL; Refused answered FAILED_PRECONDITION;
	// Errors failed otherwise (model endpoint, cassette misses).
	Answered, Refused, Errors int
	// MustRefuse cases, and how many of them were refused.
	MustRefuse, CorrectRefusals int
	// WithGold cases, how many were executed, and how many matched.
	WithGold, Executed, Matched, Exact int
	// Correct cases: expectations held and results matched.
	Correct    int
	Violations map[string]int
	Attempts   map[int]int
	Latencies  []time.Duration
	Tokens     int
}

// ExecutionAccuracy is matched results over cases with gold SQL, unanswered
// ones counting as wrong; -1 when nothing was executed.
func (s *Summary) ExecutionAccuracy() float64 {
	if s.Executed == 0 {
		return -1
	}
	return ratio(s.Matched, s.WithGold)
}

// Validity is the share of cases that should get SQL and got valid SQL.
func (s *Summary) Validity() float64 { return ratio(s.Answered, s.Cases-s.MustRefuse) }

// RefusalRate is the share of must-refuse cases that were refused.
func (s *Summary) RefusalRate() float64 { return ratio(s.CorrectRefusals, s.MustRefuse) }

// MeanAttempts is the mean number of model answers per case.
func (s *Summary) MeanAttempts() float64 {
	n, sum := 0, 0
	for a, c := range s.Attempts {
		n += c
		sum += a * c
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// Latency returns a percentile of the latencies.
func (s *Summary) Latency(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	return l[int(float64(len(l)-1)*p)]
}

func ratio(a, b int) float64 {
	if b == 0 {
		return -1
	}
	return float64(a) / float64(b)
}

// Summarize groups outcomes by set and transport.
func Summarize(set string, outcomes []*Outcome) []*Summary {
	by := map[string]*Summary{}
	var order []string
	for _, o := range outcomes {
		s := by[o.Transport]
		if s == nil {
			s = &Summary{Set: set, Transport: o.Transport, Violations: map[string]int{}, Attempts: map[int]int{}}
			by[o.Transport] = s
			order = append(order, o.Transport)
		}
		s.Cases++
		switch {
		case o.SQL != "":
			s.Answered++
		case o.Refused:
			s.Refused++
		default:
			s.Errors++
		}
		if o.Case.Expect.MustRefuse {
			s.MustRefuse++
			if o.Refused {
				s.CorrectRefusals++
			}
		}
		if len(o.Case.Gold) > 0 {
			s.WithGold++
			if o.Executed {
				s.Executed++
			}
			if o.Executed && (o.Exact || o.Subset) {
				s.Matched++
			}
			if o.Exact {
				s.Exact++
			}
		}
		if o.Correct() {
			s.Correct++
		}
		for _, a := range o.Attempts {
			for _, v := range a.Violations {
				s.Violations[v.Code]++
			}
		}
		if len(o.Attempts) > 0 {
			s.Attempts[len(o.Attempts)]++
		}
		s.Latencies = append(s.Latencies, o.Latency)
		s.Tokens += o.Tokens
	}
	out := make([]*Summary, 0, len(order))
	for _, t := range order {
		out = append(out, by[t])
	}
	return out
}

// Percent formats a share, "n/a" when there was nothing to count (-1).
func Percent(f float64) string {
	if f < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// WriteMarkdown writes the report: the figures table, violations by code,
// attempts, and every case that was not correct.
func WriteMarkdown(w io.Writer, title string, sums []*Summary, outcomes []*Outcome, notes []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	for _, n := range notes {
		fmt.Fprintf(&b, "%s\n\n", n)
	}
	b.WriteString("| set | transport | cases | execution accuracy | exact | validity | refusals | correct | mean attempts | latency p50 | latency p95 | tokens |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		refusals := "n/a"
		if s.MustRefuse > 0 {
			refusals = fmt.Sprintf("%d/%d", s.CorrectRefusals, s.MustRefuse)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %d | %s | %s | %d | %.2f | %v | %v | %d |\n",
			s.Set, s.Transport, s.Cases, Percent(s.ExecutionAccuracy()), s.Exact, Percent(s.Validity()), refusals, s.Correct,
			s.MeanAttempts(), s.Latency(0.5).Round(time.Microsecond*10), s.Latency(0.95).Round(time.Microsecond*10), s.Tokens)
	}
	b.WriteString("\nExecution accuracy counts a case as matched when the answer's result equals a gold result " +
		"(columns paired regardless of name and order; row order only when the gold query sorts) or holds it with extra columns, " +
		"as Defog's sql-eval does; unanswered cases count as wrong. Validity is the share of answerable cases that got SQL the validator accepts.\n")

	codes := map[string]int{}
	attempts := map[int]int{}
	for _, s := range sums {
		for c, n := range s.Violations {
			codes[c] += n
		}
		for a, n := range s.Attempts {
			attempts[a] += n
		}
	}
	b.WriteString("\n## Violations in model answers, by code\n\n")
	if len(codes) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| code | count |\n|---|---:|\n")
		keys := make([]string, 0, len(codes))
		for c := range codes {
			keys = append(keys, c)
		}
		sort.Strings(keys)
		for _, c := range keys {
			fmt.Fprintf(&b, "| %s | %d |\n", c, codes[c])
		}
	}
	b.WriteString("\n## Model answers per case\n\n| answers | cases |\n|---:|---:|\n")
	var ns []int
	for a := range attempts {
		ns = append(ns, a)
	}
	sort.Ints(ns)
	for _, a := range ns {
		fmt.Fprintf(&b, "| %d | %d |\n", a, attempts[a])
	}
	b.WriteString("\n## Cases not correct\n\n")
	n := 0
	for _, o := range outcomes {
		if o.Correct() {
			continue
		}
		n++
		why := strings.Join(o.Problems, "; ")
		if why == "" {
			why = o.ExecErr
		}
		fmt.Fprintf(&b, "- `%s` (%s): %s\n", o.Case.ID, o.Transport, oneLine(why))
	}
	if n == 0 {
		b.WriteString("None.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// WriteSVG draws the headline rates of each set and transport as grouped
// bars.
func WriteSVG(w io.Writer, title string, sums []*Summary) error {
	type metric struct {
		name  string
		color string
		value func(*Summary) float64
	}
	metrics := []metric{
		{"execution accuracy", "#2f6db5", (*Summary).ExecutionAccuracy},
		{"validity", "#3a9e5c", (*Summary).Validity},
		{"refusals of must-refuse cases", "#c0792a", (*Summary).RefusalRate},
	}
	const (
		left, top, barW, gap, groupGap, height = 60, 50, 26, 4, 36, 240
	)
	groupW := len(metrics)*(barW+gap) + groupGap
	width := left + len(sums)*groupW + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, top+height+110)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16">%s</text>`+"\n", left, html.EscapeString(title))
	for i := 0; i <= 4; i++ {
		y := top + height - i*height/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/><text x="%d" y="%d" text-anchor="end">%d%%</text>`+"\n",
			left, y, width-20, y, left-6, y+4, i*25)
	}
	for g, s := range sums {
		x0 := left + g*groupW + groupGap/2
		for i, m := range metrics {
			v := m.value(s)
			x := x0 + i*(barW+gap)
			if v < 0 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#999">n/a</text>`+"\n", x+barW/2, top+height-4)
				continue
			}
			h := int(v * height)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
				x, top+height-h, barW, h, m.color, m.name, Percent(v))
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10">%.0f</text>`+"\n", x+barW/2, top+height-h-3, 100*v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x0+len(metrics)*(barW+gap)/2, top+height+16, html.EscapeString(s.Set))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#666">%s</text>`+"\n", x0+len(metrics)*(barW+gap)/2, top+height+30, html.EscapeString(s.Transport))
	}
	for i, m := range metrics {
		y := top + height + 56 + i*16
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", left, y-10, m.color, left+18, y, m.name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

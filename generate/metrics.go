package generate

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the pipeline. The model client records call latency, errors
// and tokens itself.
type Metrics struct {
	outcome        *prometheus.CounterVec
	attemptOutcome *prometheus.CounterVec
	attempts       prometheus.Histogram
	violations     *prometheus.CounterVec
	cache          *prometheus.CounterVec
	linkedTables   prometheus.Histogram
	linkedTokens   prometheus.Histogram
}

// NewMetrics registers the pipeline's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcome: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "text2sql_generate_requests_total",
			Help: "Questions answered, by outcome: generated, cached, refused (no valid SQL), model_error.",
		}, []string{"outcome"}),
		attemptOutcome: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "text2sql_generate_attempts_total",
			Help: "Model answers, by verdict: valid, invalid, no_sql, dry_run_failed, dry_run_unavailable.",
		}, []string{"verdict"}),
		attempts: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "text2sql_generate_attempts_per_question",
			Help:    "Model calls needed per question (the cap when none succeeded).",
			Buckets: []float64{1, 2, 3, 4, 5},
		}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "text2sql_generate_violations_total",
			Help: "Violations found in model answers, by code.",
		}, []string{"code"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "text2sql_answer_cache_total",
			Help: "Answer cache lookups, by result: hit, miss, invalidated (no longer valid for the caller), error.",
		}, []string{"result"}),
		linkedTables: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "text2sql_link_tables",
			Help:    "Tables put in a prompt by schema linking.",
			Buckets: []float64{0, 1, 2, 3, 5, 8, 13, 21, 34},
		}),
		linkedTokens: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "text2sql_link_tokens",
			Help:    "Tokens of schema context put in a prompt.",
			Buckets: prometheus.ExponentialBuckets(125, 2, 8),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.outcome, m.attemptOutcome, m.attempts, m.violations, m.cache, m.linkedTables, m.linkedTokens)
	}
	return m
}

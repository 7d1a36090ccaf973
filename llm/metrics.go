package llm

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, exported for dashboards and tests.
const (
	MetricCallDuration = "text2sql_llm_call_duration_seconds"
	MetricErrors       = "text2sql_llm_errors_total"
	MetricRetries      = "text2sql_llm_retries_total"
	MetricTokens       = "text2sql_llm_tokens_total"
	MetricInFlight     = "text2sql_llm_in_flight"
)

// metrics holds the collectors of one Client. With no registerer they are
// still updated but never exported.
type metrics struct {
	duration *prometheus.HistogramVec // label outcome: "ok" or an error Kind
	errors   *prometheus.CounterVec   // label kind: errors returned to callers
	retries  *prometheus.CounterVec   // label kind: the failure that caused the retry
	tokens   *prometheus.CounterVec   // label type: prompt, completion
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricCallDuration,
			Help: "Duration of LLM completion calls, including queueing for a slot and retries.",
			// Model calls take from a fraction of a second to minutes.
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120},
		}, []string{"outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricErrors,
			Help: "LLM completion calls that failed, by kind of failure.",
		}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRetries,
			Help: "LLM attempts retried, by kind of the failure that caused the retry.",
		}, []string{"kind"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricTokens,
			Help: "Tokens reported by the LLM endpoint, by type.",
		}, []string{"type"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricInFlight,
			Help: "LLM completion calls holding a concurrency slot.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	// Several clients may share a registry (one per configured model);
	// they then share the already registered collectors.
	var err error
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.errors, err = register(reg, m.errors); err != nil {
		return nil, err
	}
	if m.retries, err = register(reg, m.retries); err != nil {
		return nil, err
	}
	if m.tokens, err = register(reg, m.tokens); err != nil {
		return nil, err
	}
	if m.inFlight, err = register(reg, m.inFlight); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

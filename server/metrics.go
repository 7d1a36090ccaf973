package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, exported for dashboards and tests.
const (
	MetricRequests    = "text2sql_requests_total"
	MetricDuration    = "text2sql_request_duration_seconds"
	MetricInFlight    = "text2sql_requests_in_flight"
	MetricValidations = "text2sql_validations_total"
	MetricViolations  = "text2sql_violations_total"
	MetricRejected    = "text2sql_requests_rejected_total"
)

type metrics struct {
	requests    *prometheus.CounterVec   // method, code, transport
	duration    *prometheus.HistogramVec // method, transport
	inFlight    *prometheus.GaugeVec     // transport
	validations *prometheus.CounterVec   // dialect, verdict
	violations  *prometheus.CounterVec   // code
	rejected    *prometheus.CounterVec   // reason: rate, concurrency
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "RPCs handled, by method, gRPC code and transport (grpc, or http through the gateway).",
		}, []string{"method", "code", "transport"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricDuration,
			Help: "RPC latency, by method and transport.",
			// Validation takes well under a millisecond; generation waits
			// for a model and takes seconds.
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"method", "transport"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricInFlight,
			Help: "RPCs being handled, by transport.",
		}, []string{"transport"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricValidations,
			Help: "ValidateSQL verdicts, by dialect and verdict (valid, invalid).",
		}, []string{"dialect", "verdict"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricViolations,
			Help: "Violations found by ValidateSQL, by violation code.",
		}, []string{"code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRejected,
			Help: "RPCs refused with RESOURCE_EXHAUSTED before being handled, by reason (rate, concurrency).",
		}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.validations, m.violations, m.rejected} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

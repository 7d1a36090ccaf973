package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	refreshes     *prometheus.CounterVec
	listRefreshes *prometheus.CounterVec
	lastSuccess   *prometheus.GaugeVec
	stale         *prometheus.GaugeVec
	available     *prometheus.GaugeVec
	failures      *prometheus.GaugeVec
	tables        *prometheus.GaugeVec
	duration      *prometheus.HistogramVec
}

// newMetrics builds the cache's metrics and registers them when reg is set;
// unregistered, they still count (and cost next to nothing).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "text2sql", "schema"
	m := &metrics{
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "refreshes_total",
			Help: "Catalog refreshes by database and result (ok, error).",
		}, []string{"database", "result"}),
		listRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "database_list_refreshes_total",
			Help: "Loads of the database list by result (ok, error).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "last_success_timestamp_seconds",
			Help: "Unix time of the database's last successful catalog refresh.",
		}, []string{"database"}),
		stale: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "stale",
			Help: "1 while the last refresh failed and the last good catalog is served.",
		}, []string{"database"}),
		available: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "available",
			Help: "1 while the database has a catalog to serve (fresh or stale), 0 while it has none (first fetch pending or failing).",
		}, []string{"database"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "consecutive_failures",
			Help: "Catalog refreshes of the database that failed in a row (0 after a success).",
		}, []string{"database"}),
		tables: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "tables",
			Help: "Tables in the database's current catalog.",
		}, []string{"database"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "refresh_duration_seconds",
			Help:    "Duration of catalog refreshes by database and mode (full, incremental).",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}, []string{"database", "mode"}),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.refreshes, m.listRefreshes, m.lastSuccess, m.stale, m.available, m.failures, m.tables, m.duration} {
			if err := reg.Register(col); err != nil {
				return nil, fmt.Errorf("cache: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}

// forget drops a database's series once it is no longer listed.
func (m *metrics) forget(db string) {
	l := prometheus.Labels{"database": db}
	m.refreshes.DeletePartialMatch(l)
	m.lastSuccess.DeletePartialMatch(l)
	m.stale.DeletePartialMatch(l)
	m.available.DeletePartialMatch(l)
	m.failures.DeletePartialMatch(l)
	m.tables.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
}

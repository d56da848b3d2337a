package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics of one bottega process.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	events         *prometheus.CounterVec
	commitDuration prometheus.Histogram
	commitSize     prometheus.Histogram
	commitErrors   prometheus.Counter
	processed      *prometheus.CounterVec
	lag            prometheus.Histogram
	batchDuration  prometheus.Histogram
}

// NewMetrics registers bottega's metrics, plus Go and process metrics and
// gauges read from the database at scrape time.
func NewMetrics(db *sqldb.DB) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bottega_ingest_requests_total", Help: "Ingestion requests by endpoint and HTTP status.",
		}, []string{"endpoint", "code"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bottega_ingest_events_total", Help: "Events received, by result: stored, duplicate or quarantined.",
		}, []string{"result"}),
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bottega_ingest_commit_seconds", Help: "Duration of group commits.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		commitSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bottega_ingest_commit_events", Help: "Events per group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 15),
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bottega_ingest_commit_errors_total", Help: "Group commits that failed (answered 503).",
		}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bottega_processor_events_total", Help: "Events applied by the processor, by result: processed or failed.",
		}, []string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bottega_processor_lag_seconds", Help: "Time from an event's receipt to its profile being updated.",
			// Fine around the one-second goal.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2, 3, 5, 10, 30, 60, 120, 300},
		}),
		batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bottega_processor_batch_seconds", Help: "Duration of processing batches.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	m.reg.MustRegister(m.requests, m.events, m.commitDuration, m.commitSize, m.commitErrors, m.processed, m.lag, m.batchDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &dbCollector{db: db})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) ingestRequest(typ string, status int) {
	if typ == "" {
		typ = "batch"
	}
	m.requests.WithLabelValues(typ, strconv.Itoa(status)).Inc()
}

func (m *Metrics) ingestEvents(out event.Outcome, quarantined int) {
	m.events.WithLabelValues("stored").Add(float64(out.Stored))
	m.events.WithLabelValues("duplicate").Add(float64(out.Duplicates))
	m.events.WithLabelValues("quarantined").Add(float64(quarantined))
}

// ObserveCommit records a group commit.
func (m *Metrics) ObserveCommit(s event.CommitStats) {
	if s.Err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commitDuration.Observe(s.Duration.Seconds())
	m.commitSize.Observe(float64(s.Events))
}

// ObserveBatch records a processing batch.
func (m *Metrics) ObserveBatch(s process.BatchStats) {
	m.processed.WithLabelValues("processed").Add(float64(s.Events - s.Failed))
	m.processed.WithLabelValues("failed").Add(float64(s.Failed))
	m.batchDuration.Observe(s.Duration.Seconds())
	for _, l := range s.Lags {
		m.lag.Observe(l.Seconds())
	}
}

// dbCollector reports pipeline gauges read from the database when scraped.
type dbCollector struct{ db *sqldb.DB }

var (
	descStored     = prometheus.NewDesc("bottega_events_stored", "Events in the events log.", nil, nil)
	descQuarantine = prometheus.NewDesc("bottega_events_quarantined", "Events kept in quarantine.", nil, nil)
	descPending    = prometheus.NewDesc("bottega_processor_pending_events", "Stored events not yet processed.", nil, nil)
	descOldest     = prometheus.NewDesc("bottega_processor_oldest_pending_seconds", "Age of the oldest unprocessed event.", nil, nil)
	descProfiles   = prometheus.NewDesc("bottega_profiles", "Customer profiles (after merges).", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStored, descQuarantine, descPending, descOldest, descProfiles} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := process.ReadStatus(ctx, c.db, time.Now())
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descStored, prometheus.GaugeValue, float64(st.Stored))
	ch <- prometheus.MustNewConstMetric(descQuarantine, prometheus.GaugeValue, float64(st.Quarantined))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, st.LagSeconds)
	ch <- prometheus.MustNewConstMetric(descProfiles, prometheus.GaugeValue, float64(st.Profiles))
}

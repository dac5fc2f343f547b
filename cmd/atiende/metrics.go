package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/bot"
	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/handoff"
	"github.com/atiende/atiende/retrieval"
	"github.com/atiende/atiende/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics are the server's Prometheus metrics, on a registry of its own (no global state):
// the packages report through their small Observer interfaces, which metrics implements.
// docs/operations.md lists every metric and what to alert on.
type metrics struct {
	reg              *prometheus.Registry
	turns            *prometheus.CounterVec
	turnSeconds      *prometheus.HistogramVec
	retrievalSeconds prometheus.Histogram
	requestSeconds   *prometheus.HistogramVec
	handoffWait      *prometheus.HistogramVec
	deliveryFailures *prometheus.CounterVec
	jobs             *prometheus.CounterVec
	jobSeconds       *prometheus.HistogramVec
}

var (
	_ bot.Observer     = (*metrics)(nil)
	_ web.Observer     = (*metrics)(nil)
	_ twilio.Observer  = (*metrics)(nil)
	_ handoff.Observer = (*metrics)(nil)
)

// Buckets, in seconds.
var (
	fastBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25}  // in-memory retrieval
	callBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30} // turns (a model may write), requests
	waitBuckets = []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400}           // citizens waiting for a person
)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atiende_turns_total",
			Help: "Turns the engine ran, by channel and action (answer, clarify, handoff, emergency…)."}, []string{"channel", "action"}),
		turnSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atiende_turn_duration_seconds",
			Help: "How long the engine took to run a turn, by channel.", Buckets: callBuckets}, []string{"channel"}),
		retrievalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "atiende_retrieval_duration_seconds",
			Help: "How long one search of the catalogue took.", Buckets: fastBuckets}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atiende_http_request_duration_seconds",
			Help:    "How long the server took to answer a request (for a webhook: to acknowledge it), by route pattern, method and status.",
			Buckets: callBuckets}, []string{"route", "method", "code"}),
		handoffWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atiende_handoff_wait_seconds",
			Help: "How long a citizen waited for a person, observed when an agent claims the handoff, by queue.", Buckets: waitBuckets}, []string{"queue"}),
		deliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atiende_delivery_failures_total",
			Help: "SMS and WhatsApp deliveries that did not go, by channel and reason (retry, rejected, gave_up, no_sender, window_closed)."},
			[]string{"channel", "reason"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atiende_jobs_total",
			Help: "Background jobs worked, by kind and outcome (completed, cancelled, snoozed, error: retried until its attempts run out)."},
			[]string{"kind", "outcome"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atiende_job_duration_seconds",
			Help: "How long a background job took, by kind.", Buckets: callBuckets}, []string{"kind"}),
	}
	m.reg.MustRegister(m.turns, m.turnSeconds, m.retrievalSeconds, m.requestSeconds, m.handoffWait, m.deliveryFailures, m.jobs, m.jobSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The series alerts and dashboards read exist from the start, at zero.
	for _, q := range handoff.Queues {
		m.handoffWait.WithLabelValues(q.ID)
	}
	for _, ch := range []string{bot.ChannelSMS, bot.ChannelWhatsApp} {
		for _, r := range []string{twilio.FailureRetry, twilio.FailureRejected, twilio.FailureGaveUp, twilio.FailureNoSender, twilio.FailureWindowClosed} {
			m.deliveryFailures.WithLabelValues(ch, r)
		}
	}
	return m
}

// handler serves the registry's metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Turn implements bot.Observer.
func (m *metrics) Turn(channel, action string, took time.Duration) {
	m.turns.WithLabelValues(channel, action).Inc()
	m.turnSeconds.WithLabelValues(channel).Observe(took.Seconds())
}

// Request implements web.Observer. Unmatched paths share one label: a scanner must not
// create a series per path it tries.
func (m *metrics) Request(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requestSeconds.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// DeliveryFailed implements twilio.Observer.
func (m *metrics) DeliveryFailed(channel, reason string) {
	m.deliveryFailures.WithLabelValues(channel, reason).Inc()
}

// Claimed implements handoff.Observer.
func (m *metrics) Claimed(queue string, waited time.Duration) {
	m.handoffWait.WithLabelValues(queue).Observe(waited.Seconds())
}

// watchFallbacks counts the catalogue searches Postgres could not answer, which the
// in-memory index answered instead (ATIENDE_RETRIEVAL=postgres).
func (m *metrics) watchFallbacks(count func() int64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atiende_retrieval_fallbacks_total",
		Help: "Catalogue searches Postgres could not answer in time, answered from the in-memory index instead."},
		func() float64 { return float64(count()) }))
}

// timed wraps the engine's catalogue to time each search.
func (m *metrics) timed(r bot.Retriever) bot.Retriever {
	return timedRetriever{Retriever: r, seconds: m.retrievalSeconds}
}

type timedRetriever struct {
	bot.Retriever
	seconds prometheus.Histogram
}

// Find implements bot.Retriever.
func (r timedRetriever) Find(ctx context.Context, q retrieval.Query, k int) retrieval.Found {
	start := time.Now()
	found := r.Retriever.Find(ctx, q, k)
	r.seconds.Observe(time.Since(start).Seconds())
	return found
}

// jobMiddleware counts the jobs River works, by kind and outcome.
func (m *metrics) jobMiddleware() []rivertype.Middleware {
	return []rivertype.Middleware{&jobMetrics{m: m}}
}

type jobMetrics struct {
	river.MiddlewareDefaults
	m *metrics
}

// Work implements rivertype.WorkerMiddleware.
func (j *jobMetrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	var cancelled *rivertype.JobCancelError
	var snoozed *rivertype.JobSnoozeError
	outcome := "completed"
	switch {
	case errors.As(err, &cancelled):
		outcome = "cancelled"
	case errors.As(err, &snoozed):
		outcome = "snoozed"
	case err != nil:
		outcome = "error"
	}
	j.m.jobs.WithLabelValues(job.Kind, outcome).Inc()
	j.m.jobSeconds.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
	return err
}

// watchHandoffs adds the gauge of handoffs waiting for a person, by queue, read from the
// store at each scrape (a few rows: the queued handoffs).
func (m *metrics) watchHandoffs(st handoffsStore[store.Tx]) {
	m.reg.MustRegister(waitingHandoffs[store.Tx]{store: st, desc: prometheus.NewDesc("atiende_handoffs_waiting",
		"Handoffs queued for a person now, by queue (all replicas: read from the store).", []string{"queue"}, nil)})
}

// handoffsTx is what the gauge reads in a transaction (store.Tx has the error contract).
type handoffsTx interface {
	// HandoffsByStatus returns the handoffs in those statuses.
	HandoffsByStatus(ctx context.Context, statuses ...string) ([]atiende.Handoff, error)
}

// handoffsStore is what the gauge needs of the store: its transactions, of type T.
type handoffsStore[T handoffsTx] interface {
	// Tx runs fn in one transaction; an error from fn rolls it back and is returned.
	Tx(ctx context.Context, fn func(T) error) error
}

type waitingHandoffs[T handoffsTx] struct {
	store handoffsStore[T]
	desc  *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (w waitingHandoffs[T]) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

// Collect implements prometheus.Collector. When the store does not answer in two seconds
// the metric is reported as an error of the scrape.
func (w waitingHandoffs[T]) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]int{}
	err := w.store.Tx(ctx, func(tx T) error {
		queued, err := tx.HandoffsByStatus(ctx, atiende.HandoffQueued)
		for _, h := range queued {
			counts[h.Queue]++
		}
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(w.desc, err)
		return
	}
	for q, n := range counts {
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.GaugeValue, float64(n), q)
	}
}

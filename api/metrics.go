package api

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// QueueSizes reports pending work per queue, for the queue-size gauges.
type QueueSizes func(ctx context.Context) (map[string]QueueSize, error)

// QueueSize is one queue's backlog.
type QueueSize struct {
	Pending, Active, Scheduled, Retry, Archived int
}

// Metrics are the API's Prometheus series. Labels are route templates,
// methods, statuses and queue names: never IDs or personal data.
type Metrics struct {
	Registry  *prometheus.Registry
	latency   *prometheus.HistogramVec
	callbacks *prometheus.CounterVec
	// redeemFailures counts invite redemptions and claims refused for a
	// bad code (no labels: which code or who is nobody's business here).
	redeemFailures prometheus.Counter
	// redeemAlert answers the alert gauge at scrape time; set by New.
	redeemAlert atomic.Pointer[func(context.Context) (bool, error)]
}

// NewMetrics registers the HTTP histogram, Go/process collectors and, if
// queues is set, a queue-size collector read at scrape time, on a registry
// of their own.
func NewMetrics(queues QueueSizes) *Metrics {
	return NewMetricsOn(prometheus.NewRegistry(), queues)
}

// NewMetricsOn is NewMetrics on reg, which /metrics then serves whole: in
// dev mode the worker running in the same process adds its series there.
func NewMetricsOn(reg *prometheus.Registry, queues QueueSizes) *Metrics {
	m := &Metrics{
		Registry: reg,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hometime_http_request_duration_seconds",
			Help:    "HTTP request latency by route template, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hometime_message_callbacks_total",
			Help: "Delivery reports from providers that moved a message's state, by provider and state.",
		}, []string{"provider", "state"}),
	}
	m.redeemFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hometime_invite_redeem_failures_total",
		Help: "Invite redemptions and claims refused for an unknown, used, expired or foreign code.",
	})
	reg.MustRegister(m.latency, m.callbacks, m.redeemFailures, &redeemAlertCollector{m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queues != nil {
		reg.MustRegister(&queueCollector{sizes: queues})
	}
	return m
}

// metrics guards the public app's /metrics: with MetricsToken set only a
// request bearing it is served (401 otherwise); with MetricsHidden and no
// token the route answers as an unknown path would (404); otherwise anyone
// is served, as in development.
func (s *server) metrics(serve fiber.Handler) fiber.Handler {
	token := []byte(s.MetricsToken)
	return func(c *fiber.Ctx) error {
		switch {
		case len(token) > 0:
			got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
				return content.Errorf(content.CodeUnauthenticated, "metrics need the metrics token")
			}
		case s.MetricsHidden:
			return fiber.ErrNotFound
		}
		return serve(c)
	}
}

// callback counts a provider's delivery report that was recorded.
func (m *Metrics) callback(provider string, state content.MessageState) {
	m.callbacks.WithLabelValues(provider, string(state)).Inc()
}

// redeemFailure counts one refused redemption.
func (m *Metrics) redeemFailure() {
	m.redeemFailures.Inc()
}

// watchRedeemFailures sets what the alert gauge reads: whether failed
// redemptions of every API process (a Redis counter) are above the
// threshold in the current window.
func (m *Metrics) watchRedeemFailures(f func(context.Context) (bool, error)) {
	m.redeemAlert.Store(&f)
}

var redeemAlertDesc = prometheus.NewDesc("hometime_invite_redeem_failure_alert",
	"1 while failed invite redemptions across all IPs are above the configured rate (HOMETIME_REDEEM_FAILURE_ALERT_PER_MINUTE), else 0.", nil, nil)

// redeemAlertCollector reads the shared failure counter at scrape time, so
// the gauge falls back to 0 on its own once a window passes quietly.
type redeemAlertCollector struct{ m *Metrics }

func (r *redeemAlertCollector) Describe(ch chan<- *prometheus.Desc) { ch <- redeemAlertDesc }

func (r *redeemAlertCollector) Collect(ch chan<- prometheus.Metric) {
	f := r.m.redeemAlert.Load()
	if f == nil {
		ch <- prometheus.MustNewConstMetric(redeemAlertDesc, prometheus.GaugeValue, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	on, err := (*f)(ctx)
	if err != nil {
		return // no reading beats a wrong one
	}
	v := 0.0
	if on {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(redeemAlertDesc, prometheus.GaugeValue, v)
}

func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	m.latency.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

var queueDesc = prometheus.NewDesc("hometime_queue_tasks", "Tasks per queue and state.", []string{"queue", "state"}, nil)

type queueCollector struct{ sizes QueueSizes }

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sizes, err := q.sizes(ctx)
	if err != nil {
		return // a scrape without queue gauges beats a failed scrape
	}
	for name, s := range sizes {
		for state, n := range map[string]int{"pending": s.Pending, "active": s.Active, "scheduled": s.Scheduled,
			"retry": s.Retry, "archived": s.Archived} {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), name, state)
		}
	}
}

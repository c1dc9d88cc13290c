package api

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
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
	reg.MustRegister(m.latency, m.callbacks, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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

// callback counts a provider's delivery report that was recorded; nil
// metrics count nothing.
func (m *Metrics) callback(provider string, state content.MessageState) {
	if m != nil {
		m.callbacks.WithLabelValues(provider, string(state)).Inc()
	}
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

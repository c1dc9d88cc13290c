package api

import (
	"context"
	"strconv"
	"time"

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
	Registry *prometheus.Registry
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP histogram, Go/process collectors and, if
// queues is set, a queue-size collector read at scrape time.
func NewMetrics(queues QueueSizes) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hometime_http_request_duration_seconds",
			Help:    "HTTP request latency by route template, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queues != nil {
		reg.MustRegister(&queueCollector{sizes: queues})
	}
	return m
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

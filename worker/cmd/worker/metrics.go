package main

import (
	"fmt"
	"log/slog"

	"github.com/hometime-edu/hometime/worker/cmd/stack"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// serveMetrics serves reg (plus Go and process series) at /metrics on addr
// until stop is called: a stand-alone worker has no API to carry them.
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	_, stop, err = stack.ServeMetrics(addr, "HOMETIME_WORKER_METRICS_ADDR", reg, log)
	return stop, err
}

// Command worker runs Hometime's background tasks against MongoDB and Redis.
// In dev mode the API process runs the worker itself; this binary is for
// production, where the queue must be shared.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hometime worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: the worker is configured by environment only", args)
	}
	cfg, err := stack.LoadConfig(getenv)
	if err != nil {
		return err
	}
	stack.TuneGC(getenv)
	if cfg.MongoURI == "" || !cfg.Redis.Configured() {
		return fmt.Errorf("MONGODB_URI and REDIS_URL (or REDIS_SENTINELS with REDIS_MASTER) are required: a stand-alone worker must share the API's store and queue (in dev mode the API runs the worker itself)")
	}
	log := stack.NewLogger(stdout, cfg.LogLevel)
	st, err := stack.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, mux, err := st.WorkerServer(log)
	if err != nil {
		return err
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if cfg.WorkerMetricsAddr != "" {
		stop, err := serveMetrics(cfg.WorkerMetricsAddr, st.Registry, log)
		if err != nil {
			srv.Shutdown()
			return err
		}
		defer stop()
	}
	sched, err := st.Scheduler(log)
	if err != nil {
		srv.Shutdown()
		return err
	}
	if err := sched.Start(); err != nil {
		srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	log.Info("hometime worker running")
	<-ctx.Done()
	log.Info("shutting down")
	sched.Shutdown()
	srv.Shutdown()
	return nil
}

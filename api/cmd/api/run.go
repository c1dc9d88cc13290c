package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// run starts the API (and in dev mode the worker) and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stdout)
	demo := fs.Bool("demo", false, "seed the demo school (staff, classes, families, and their activities, submissions, replies and awards; idempotent) and print the sign-ins")
	withWorker := fs.Bool("worker", false, "also run the background worker in this process (always on in dev mode)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := stack.LoadConfig(getenv)
	if *demo && cfg.Production() {
		// Said even when the configuration has other problems.
		return errors.Join(errors.New("--demo: refused when HOMETIME_ENV=production (the demo accounts share a published password)"), err)
	}
	if err != nil {
		return err
	}
	stack.TuneGC(getenv)
	log := stack.NewLogger(stdout, cfg.LogLevel)
	st, err := stack.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()

	if *demo {
		if err := seedDemo(ctx, st); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	app, err := st.APIApp(log, nil)
	if err != nil {
		return err
	}
	worker := cfg.Dev() || *withWorker
	if worker {
		srv, mux, err := st.WorkerServer(log)
		if err != nil {
			return err
		}
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		defer srv.Shutdown()
		sched, err := st.Scheduler(log)
		if err != nil {
			return err
		}
		if err := sched.Start(); err != nil {
			return fmt.Errorf("start scheduler: %w", err)
		}
		defer sched.Shutdown()
		log.Info("worker running in the API process")
	}
	if *demo {
		// The demo's life goes through the API and the worker, so it
		// comes once both are up, before the API is served.
		started := time.Now()
		sum, err := liveDemo(ctx, app, st, worker)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		sc, err := st.Store.School(ctx, demoSchoolID)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		log.Info("demo data ready", "took", time.Since(started).Round(time.Millisecond).String())
		fmt.Fprint(stdout, demoBanner(sc, sum, time.Now()))
	}

	if cfg.MetricsAddr != "" {
		_, stop, err := stack.ServeMetrics(cfg.MetricsAddr, "HOMETIME_METRICS_ADDR", st.Registry, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HOMETIME_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("hometime API listening", "addr", ln.Addr().String(), "env", cfg.Env, "dev", cfg.Dev())
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

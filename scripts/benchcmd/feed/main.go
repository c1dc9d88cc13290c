// Command feed is the program behind scripts/bench/feed: it boots the API
// in-process on the same wiring as api/cmd/api (embedded store and Redis
// unless MONGODB_URI / REDIS_URL say otherwise), writes a school of 1,000
// families with a year of assignments (3,000, their feed items written in
// bulk, as the release task would leave them), and measures in one run:
// GET /v1/children/{id}/feed throughput and latency at 64 connections, the
// same store's FindOne by _id at 64 goroutines as the reference, and the
// feed's latency at a constant 100 requests/s from an open-loop generator.
// The headline figures are printed last, one per line, "name value unit".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench feed:", err)
		os.Exit(1)
	}
}

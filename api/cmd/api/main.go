// Command api serves Hometime's HTTP API. With no MONGODB_URI or REDIS_URL
// it is the whole product on one machine: embedded store and queue, the
// worker in-process, messages in a local outbox.
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
		fmt.Fprintln(os.Stderr, "hometime:", err)
		os.Exit(1)
	}
}

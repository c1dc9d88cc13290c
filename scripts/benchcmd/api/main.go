// Command api is the program behind scripts/bench/api: it boots the API
// in-process on the same wiring as api/cmd/api (embedded store and Redis
// unless MONGODB_URI / REDIS_URL say otherwise), seeds its own families and
// measures, in one run against the same store, a static endpoint, the
// store's own FindOne by _id (the reference), an authenticated read
// (GET /v1/me) and sign-in latency. The headline figures are printed last,
// one per line, as "name value unit".
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
		fmt.Fprintln(os.Stderr, "bench api:", err)
		os.Exit(1)
	}
}

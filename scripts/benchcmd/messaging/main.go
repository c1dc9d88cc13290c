// Command messaging is the program behind scripts/bench/messaging: it runs
// the messaging pipeline (fan-out, page sends for SMS, email and push) on
// the dev store with Redis against the provider fakes, in five phases each
// on a fresh database, and prints the headline figures last, one per line,
// as "name value unit".
//
// It also runs as its own child: with HOMETIME_BENCH_ROLE=worker it is one
// worker process of the rate-limit phase, with HOMETIME_BENCH_ROLE=expand
// it expands one broadcast and exits (the fan-out memory phase).
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
		fmt.Fprintln(os.Stderr, "bench messaging:", err)
		os.Exit(1)
	}
}

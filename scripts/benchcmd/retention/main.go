// Command retention is the program behind scripts/bench/retention: it seeds
// 200,000 parents with mixed activity on the dev store (embedded FerretDB on
// SQLite) with Redis, runs the daily parent sweep in a child process (the
// worker whose time and memory are measured), checks that exactly the due
// parents were put in inactivity notices, and prints the headline figures
// last, one per line, as "name value unit".
//
// With HOMETIME_BENCH_ROLE=sweep it is that child: it opens the stack from
// the environment, runs worker.RetentionSweeps.SweepParents once at the
// bench's clock and prints its result and its own peak RSS.
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
		fmt.Fprintln(os.Stderr, "bench retention:", err)
		os.Exit(1)
	}
}

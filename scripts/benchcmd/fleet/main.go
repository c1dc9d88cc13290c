// Command bench-fleet runs Hometime as a fleet — two API processes and
// three worker processes, separate binaries sharing one store and one
// Redis — under an open-loop school-day mix for a fixed window, kills one
// API and one worker mid-run with SIGKILL and starts them again, and
// reports per-route latencies, errors per API, exactly-once sends from the
// provider fakes' record and the time to recover. scripts/bench/fleet
// builds the binaries and runs it; the headline figures are the last
// lines, "name value unit".
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
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-fleet:", err)
		os.Exit(1)
	}
}

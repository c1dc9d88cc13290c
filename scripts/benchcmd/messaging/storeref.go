package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// storeWriteRate is the reference the SMS rate is read against: single-
// document updates per second through the same store (the embedded store
// lets one write through at a time), one writer and eight at once. Every
// SMS sub-batch costs three such writes (claim, budget, outcomes).
func storeWriteRate(ctx context.Context, st *stack.Stack, writers, total int) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for range total / writers {
				if _, err := st.Store.AddSMSSpend(ctx, "sch_storeref", fmt.Sprintf("ref-%d", w), 1); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("store write reference: %w", err)
	}
	return float64(total/writers*writers) / time.Since(start).Seconds(), nil
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// emailPhase: n email-only families through the queue and the worker to
// the SendGrid fake; the figure is how many requests that took.
func (b *bench) emailPhase(ctx context.Context) error {
	n := b.o.email
	host := &fakeHost{}
	defer host.close()
	fake := providerfake.NewSendGrid(host)
	env := b.be.env("bench_email", map[string]string{"SENDGRID_API_KEY": fake.APIKey, "HOMETIME_SENDGRID_BASE_URL": fake.URL})
	st, err := b.be.freshPhase(ctx, env, b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := seedFamilies(ctx, st, n, byEmail); err != nil {
		return err
	}
	b.progress("email: seeded %d email-only families in %s", n, time.Since(began).Round(time.Millisecond))
	bc, err := newBroadcast(ctx, st, "brd_bench_email", content.BroadcastExpanding)
	if err != nil {
		return err
	}
	srv, mux, err := st.WorkerServer(b.log)
	if err != nil {
		return err
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer srv.Shutdown()
	task, err := tasks.NewExpandBroadcast(bc.ID)
	if err != nil {
		return err
	}
	var start, done time.Time
	var tally ledgerTally
	err = b.profile("email", func() error {
		start = time.Now()
		if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
			return fmt.Errorf("enqueue expansion: %w", err)
		}
		var err error
		done, tally, err = waitSettled(ctx, st.Store, bc.ID, n, 10*time.Minute, func() bool { return personalizations(fake) >= n })
		return err
	})
	if err != nil {
		return err
	}
	if err := tally.onlySent(n); err != nil {
		return err
	}
	per := map[string]int{}
	for _, r := range fake.Accepted() {
		for _, p := range r.Personalizations {
			for _, to := range p.To {
				per[to]++
			}
		}
	}
	for i := range n {
		if c := per[emailOf(i)]; c != 1 {
			return fmt.Errorf("not exactly once: %s got %d emails", emailOf(i), c)
		}
	}
	sizes := fake.PersonalizationsPerRequest()
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	b.results.emailRequests = fake.Requests()
	b.progress("email: %d emails sent in %s on %d ledger pages in %d SendGrid requests (largest %d personalizations; every recipient exactly once)",
		n, done.Sub(start).Round(time.Millisecond), tally.pages, fake.Requests(), largest)
	b.progress("email: the expansion queues pages of %d ten to a task (TypeSendPages); EmailPages sends a task's emails of one content in requests of up to %d personalizations",
		content.LedgerPageSize, notify.MaxEmailBatch)
	return nil
}

func personalizations(fake *providerfake.SendGrid) int {
	total := 0
	for _, s := range fake.PersonalizationsPerRequest() {
		total += s
	}
	return total
}

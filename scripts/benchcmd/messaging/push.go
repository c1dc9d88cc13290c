package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// oneDevice gives every parent one push token, derived from the id.
type oneDevice struct{}

func (oneDevice) DeviceTokens(_ context.Context, parentID string) ([]string, error) {
	return []string{"tok_" + parentID}, nil
}

// countingPush counts SendPushes calls: each is one FCM SendEach call.
type countingPush struct {
	next  notify.PushSender
	calls atomic.Int64
}

func (c *countingPush) SendPushes(ctx context.Context, pushes []notify.Push) ([]notify.Result, error) {
	c.calls.Add(1)
	return c.next.SendPushes(ctx, pushes)
}

// pushSenders is how many pages are sent at once, as a worker would.
const pushSenders = 8

// pushPhase: the ledger pages of push entries are written directly and
// worker.PushPages sends them against the FCM fake in runs of ten pages, as
// the TypeSendPages tasks of an expansion do.
func (b *bench) pushPhase(ctx context.Context) error {
	n := b.o.push
	b.progress("push: ledger pages of push entries are written directly (one device per parent) and worker.PushPages.SendPages sends them ten pages at a time, as a TypeSendPages task does")
	host := &fakeHost{}
	defer host.close()
	fake := providerfake.NewFCM(host)
	st, err := b.be.freshPhase(ctx, b.be.env("bench_push", nil), b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := seedFamilies(ctx, st, n, byEmail); err != nil {
		return err
	}
	bc, err := newBroadcast(ctx, st, "brd_bench_push", content.BroadcastSending)
	if err != nil {
		return err
	}
	var pages []*content.LedgerPage
	for lo := 0; lo < n; lo += content.LedgerPageSize {
		k := len(pages)
		p := &content.LedgerPage{ID: content.LedgerPageID(bc.ID, k), BroadcastID: bc.ID, SchoolID: bc.SchoolID, N: k, CreatedAt: bc.CreatedAt}
		for i := lo; i < min(lo+content.LedgerPageSize, n); i++ {
			p.Entries = append(p.Entries, content.LedgerEntry{RecipientID: parentIDOf(i), Channel: string(notify.ChannelPush)})
		}
		pages = append(pages, p)
	}
	for lo := 0; lo < len(pages); lo += 20 {
		if err := st.Store.PutLedgerPages(ctx, pages[lo:min(lo+20, len(pages))]); err != nil {
			return err
		}
	}
	if err := st.Store.SetBroadcastExpanded(ctx, bc.ID, len(pages), n); err != nil {
		return err
	}
	b.progress("push: seeded %d parents and %d ledger pages in %s", n, len(pages), time.Since(began).Round(time.Millisecond))

	sender, err := fcm.New(ctx, fcm.Config{ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(), WithoutAuth: true})
	if err != nil {
		return err
	}
	counter := &countingPush{next: sender}
	h := &worker.PushPages{Ledger: st.Store, Roster: st.Store, Devices: oneDevice{}, Push: counter, Catalog: st.Catalog,
		Tasks: st.Queue, Clock: content.SystemClock{}, Log: discardLog, RetryAfter: time.Minute}
	start := time.Now()
	err = b.profile("push", func() error {
		// Pages go in runs of tasks.MaxPagesPerTask, as the expansion queues
		// them (TypeSendPages), loaded and handed over together.
		jobs := make(chan []*content.LedgerPage)
		errs := make(chan error, pushSenders)
		var wg sync.WaitGroup
		for range pushSenders {
			wg.Go(func() {
				for run := range jobs {
					loaded := make([]*content.LedgerPage, 0, len(run))
					var err error
					for _, p := range run {
						var page *content.LedgerPage
						if page, err = st.Store.LedgerPage(ctx, p.ID); err != nil {
							break
						}
						loaded = append(loaded, page)
					}
					if err == nil {
						err = h.SendPages(ctx, loaded)
					}
					if err != nil {
						errs <- fmt.Errorf("pages from %s: %w", run[0].ID, err)
						return
					}
				}
			})
		}
		var err error
	feed:
		for lo := 0; lo < len(pages); lo += tasks.MaxPagesPerTask {
			select {
			case jobs <- pages[lo:min(lo+tasks.MaxPagesPerTask, len(pages))]:
			case err = <-errs:
				break feed
			}
		}
		close(jobs)
		wg.Wait()
		close(errs)
		for e := range errs {
			err = e
		}
		return err
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	_, tally, err := waitSettled(ctx, st.Store, bc.ID, n, time.Minute, func() bool { return true })
	if err != nil {
		return err
	}
	if err := tally.onlySent(n); err != nil {
		return err
	}
	per := map[string]int{}
	acc := fake.Accepted()
	for _, m := range acc {
		per[m.Token]++
	}
	for i := range n {
		if c := per["tok_"+parentIDOf(i)]; c != 1 {
			return fmt.Errorf("not exactly once: device of %s got %d pushes", parentIDOf(i), c)
		}
	}
	b.results.pushBatches = int(counter.calls.Load())
	b.progress("push: %d pushes sent in %s in %d SendPushes (SendEach) calls, pages ten to a task; the FCM fake saw %d HTTP requests (SendEach posts each message on its own)",
		len(acc), elapsed.Round(time.Millisecond), b.results.pushBatches, fake.Requests())
	return nil
}

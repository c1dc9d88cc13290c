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

// pushPhase: expansion does not choose push yet (there is no device
// registration), so the ledger pages of push entries are written directly
// and worker.PushPages sends each against the FCM fake.
func (b *bench) pushPhase(ctx context.Context) error {
	n := b.o.push
	b.progress("push: fan-out to push is not wired yet (no device registration): ledger pages of push entries are written directly and worker.PushPages.SendPage runs per page, one device per parent")
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
		jobs := make(chan string)
		errs := make(chan error, pushSenders)
		var wg sync.WaitGroup
		for range pushSenders {
			wg.Go(func() {
				for id := range jobs {
					page, err := st.Store.LedgerPage(ctx, id)
					if err == nil {
						err = h.SendPage(ctx, page)
					}
					if err != nil {
						errs <- fmt.Errorf("page %s: %w", id, err)
						return
					}
				}
			})
		}
		var err error
	feed:
		for _, p := range pages {
			select {
			case jobs <- p.ID:
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
	b.progress("push: %d pushes sent in %s in %d SendPushes (SendEach) calls — one per ledger page; the FCM fake saw %d HTTP requests (SendEach posts each message on its own)",
		len(acc), elapsed.Round(time.Millisecond), b.results.pushBatches, fake.Requests())
	return nil
}

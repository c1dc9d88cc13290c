package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/hometime-edu/hometime/content"
)

// A broadcast is done when nothing on its pages is owed any more. Whoever
// settles the last owed entry (a page task, the important-fallback check,
// or the expansion when the sends outran it) marks it done at once; the
// relay's sweep does the same for broadcasts whose last worker died.
//
// No transaction is needed. Every settler writes its outcomes (single-page
// updates; ranks only rise) before it reads the broadcast and its pages,
// and the expansion writes "sending" before it reads the pages. Of two
// settlers racing for the last entries, the one that reads last sees both
// writes, so at least one of them sees nothing owed; both may, and marking
// done is an idempotent $set.

// settleBroadcasts marks done each broadcast of pages (just worked on)
// that has nothing owed left. Each broadcast's scan starts after the last
// of these pages: the pages before it usually finished first, the ones
// after it are the likeliest still owed, so a broadcast still sending
// costs two reads.
func settleBroadcasts(ctx context.Context, ledger content.Ledger, log *slog.Logger, known *settledPages, pages []*content.LedgerPage) error {
	after := map[string]int{} // broadcast → one past its highest page here
	of := map[string][]*content.LedgerPage{}
	var order []string
	for _, p := range pages {
		n, seen := after[p.BroadcastID]
		if !seen {
			order = append(order, p.BroadcastID)
		}
		after[p.BroadcastID] = max(n, p.N+1)
		of[p.BroadcastID] = append(of[p.BroadcastID], p)
	}
	var errs []error
	for _, id := range order {
		if err := settleBroadcastKnown(ctx, ledger, log, known, id, after[id], of[id]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// settleBroadcast marks broadcast id done when it is sending and none of
// its pages (nor, for an important broadcast, their fallback checks and
// pages) owes anything. from is where the scan starts (it wraps), and one
// past the highest page the caller knows of: a broadcast that counts fewer
// pages than that is not judged.
func settleBroadcast(ctx context.Context, ledger content.Ledger, log *slog.Logger, id string, from int) error {
	return settleBroadcastKnown(ctx, ledger, log, nil, id, from, nil)
}

// settleBroadcastKnown is settleBroadcast skipping the pages known to owe
// nothing: read so earlier by this process, or among worked (the pages the
// caller just worked on, as its own writes left them) owing nothing. A
// page never owes again once settled, so each is read settled at most once
// per process, the page tasks that finish a large broadcast together do
// not each read every page again, and a page a task finished itself is
// not read at all.
//
// The scan also stops, reading nothing, at a page a page task of this
// process is still working on (settledPages.working): that task judges
// the broadcast itself once its writes are made, and so after this
// caller's writes, seeing the pages this caller knows settled.
func settleBroadcastKnown(ctx context.Context, ledger content.Ledger, log *slog.Logger, known *settledPages, id string, from int,
	worked []*content.LedgerPage) error {
	b, err := ledger.Broadcast(ctx, id)
	if content.IsCode(err, content.CodeNotFound) {
		return nil // erased
	} else if err != nil {
		return err
	}
	if b.State == content.BroadcastDone {
		return nil
	}
	for _, p := range worked {
		if settledByRun(b, p) {
			known.add(b.ID, p.N)
		}
	}
	// Expanding: the expansion judges once it has written every page.
	if b.State != content.BroadcastSending || b.Pages < from {
		return nil
	}
	for k := range b.Pages {
		n := (from + k) % b.Pages
		if known.has(b.ID, n) {
			continue
		}
		if known.busy(b.ID, n) {
			return nil
		}
		owed, err := pageOwed(ctx, ledger, b, n)
		if err != nil || owed {
			return err
		}
		known.add(b.ID, n)
	}
	if err := ledger.SetBroadcastDone(ctx, b.ID); err != nil {
		return err
	}
	known.forget(b.ID)
	log.Info("broadcast done", "broadcast_id", b.ID, "pages", b.Pages, "recipients", b.Recipients)
	return nil
}

// pageOwed reports whether page n of b still owes anything: an entry not
// yet settled, or, on an important broadcast, a push that may still fall
// back to SMS (its fallback page not written yet) or an SMS on that page.
func pageOwed(ctx context.Context, ledger content.Ledger, b *content.Broadcast, n int) (bool, error) {
	page, err := ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
	if content.IsCode(err, content.CodeNotFound) {
		return false, nil // erased with its broadcast
	} else if err != nil {
		return false, err
	}
	if entriesOwed(page) {
		return true, nil
	}
	if !b.Important {
		return false, nil
	}
	fb, err := ledger.LedgerPage(ctx, content.FallbackPageID(b.ID, n))
	switch {
	case err == nil:
		return entriesOwed(fb), nil
	case content.IsCode(err, content.CodeNotFound):
		return awaitsFallback(page), nil
	default:
		return false, err
	}
}

// settledByRun reports whether page, as the run that worked on it knows it
// (what it read, raised by the outcomes it wrote: pageContext.recordOutcomes),
// owes nothing. Ranks only rise, so what the run knows settled is settled
// in the store too. Only a page of a broadcast that is not important
// qualifies: an important one's page may still owe its fallback, which
// pageOwed reads.
func settledByRun(b *content.Broadcast, page *content.LedgerPage) bool {
	return !b.Important && !page.Fallback && !entriesOwed(page)
}

// entriesOwed reports whether any entry of page is still to be settled
// (pending, deferred, or claimed without an outcome).
func entriesOwed(page *content.LedgerPage) bool {
	for _, e := range page.Entries {
		if e.Rank < content.RankUnknown {
			return true
		}
	}
	return false
}

// settledPages remembers, per broadcast, the pages this process knows
// owe nothing, and the pages its page tasks are working on. A nil
// *settledPages remembers nothing.
type settledPages struct {
	mu sync.Mutex
	by map[string]map[int]bool
	// work counts, per broadcast and page, the page tasks that have read
	// the page and not yet made their writes (working).
	work map[string]map[int]int
}

// working notes the page tasks's pages (not fallback pages) as being
// worked on, until the returned func is called, once the task's writes
// are made and before it judges their broadcasts. Whoever judges a
// broadcast meanwhile leaves it to that task (settleBroadcastKnown).
func (s *settledPages) working(pages []*content.LedgerPage) (done func()) {
	if s == nil {
		return func() {}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.work == nil {
		s.work = map[string]map[int]int{}
	}
	for _, p := range pages {
		if p.Fallback {
			continue
		}
		if s.work[p.BroadcastID] == nil {
			s.work[p.BroadcastID] = map[int]int{}
		}
		s.work[p.BroadcastID][p.N]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, p := range pages {
				if p.Fallback {
					continue
				}
				if s.work[p.BroadcastID][p.N]--; s.work[p.BroadcastID][p.N] <= 0 {
					delete(s.work[p.BroadcastID], p.N)
				}
				if len(s.work[p.BroadcastID]) == 0 {
					delete(s.work, p.BroadcastID)
				}
			}
		})
	}
}

// busy reports whether a page task of this process is working on page n.
func (s *settledPages) busy(broadcastID string, n int) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.work[broadcastID][n] > 0
}

// maxSettledBroadcasts bounds the memory: beyond it, what is known is
// dropped (and read again if needed).
const maxSettledBroadcasts = 1000

func (s *settledPages) has(broadcastID string, n int) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[broadcastID][n]
}

func (s *settledPages) add(broadcastID string, n int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil || len(s.by) > maxSettledBroadcasts {
		s.by = map[string]map[int]bool{}
	}
	if s.by[broadcastID] == nil {
		s.by[broadcastID] = map[int]bool{}
	}
	s.by[broadcastID][n] = true
}

func (s *settledPages) forget(broadcastID string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.by, broadcastID)
}

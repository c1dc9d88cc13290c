package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// doneWorld: a school, n parents with an email address linked to it, a
// broadcast to all of them (expanding), and the page handler with the real
// SendGrid adapter against its fake. No relay runs anywhere in these
// tests: whatever marks a broadcast done is the work that settled it.
type doneWorld struct {
	store  *mongostore.Store
	clock  *clocktest.Clock
	queue  *taskstest.Recorder
	log    *slog.Logger
	pages  *Pages
	expand *Expansions
	fake   *providerfake.SendGrid
}

func newDoneWorld(t *testing.T, parents int) *doneWorld {
	t.Helper()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	w := &doneWorld{store: store, clock: clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)),
		queue: &taskstest.Recorder{}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), fake: providerfake.NewSendGrid(t)}
	if err := store.CreateSchool(ctx, &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB",
		TimeZone: "Europe/London", Language: "en", QuietStart: "20:00", QuietEnd: "07:30"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range emailParents(parents, "en") {
		p.Children = []content.ChildLink{{ChildID: "chd_" + p.ID, SchoolID: "sch_1", FirstName: "Cai", State: content.LinkLinked}}
		if err := store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if err := store.CreateBroadcast(ctx, &content.Broadcast{ID: "brd_1", SchoolID: "sch_1", Template: string(notify.TemplateAward),
		Category: "awards", Params: map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"},
		Audience: content.Audience{ParentIDs: ids}, State: content.BroadcastExpanding, CreatedAt: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	email, err := sendgrid.New(sendgrid.Config{APIKey: w.fake.APIKey, Host: w.fake.URL, From: "noreply@school.hometime.test",
		FromName: "Hometime", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.pages = &Pages{Ledger: store, Log: w.log, Senders: []PageSender{&EmailPages{Ledger: store, Roster: store,
		Suppressions: store, Email: email, Catalog: notify.MustCatalog(), Tasks: w.queue, HashKey: []byte("test-key"),
		Clock: w.clock, Log: w.log, RetryAfter: 10 * time.Second}}}
	w.expand = &Expansions{Ledger: store, Roster: store, Tasks: w.queue, Clock: w.clock, Log: w.log}
	return w
}

func (w *doneWorld) runExpansion(t *testing.T) {
	t.Helper()
	task, err := tasks.NewExpandBroadcast("brd_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.expand.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("expand: %v", err)
	}
}

// sendPage runs the page task of page n, as the queue would.
func (w *doneWorld) sendPage(t *testing.T, n int) {
	t.Helper()
	task, err := tasks.NewSendPage(content.LedgerPageID("brd_1", n), time.Time{})
	if err != nil {
		t.Error(err)
		return
	}
	if err := w.pages.ProcessTask(context.Background(), task); err != nil {
		t.Errorf("page %d: %v", n, err)
	}
}

func (w *doneWorld) state(t *testing.T) content.BroadcastState {
	t.Helper()
	b, err := w.store.Broadcast(context.Background(), "brd_1")
	if err != nil {
		t.Fatal(err)
	}
	return b.State
}

// TestBroadcastDoneWhenItsLastPageSettles: a broadcast of three pages stays
// sending while any page owes a message, and is done the moment the task
// that settles its last page returns, whatever order the pages finish in.
func TestBroadcastDoneWhenItsLastPageSettles(t *testing.T) {
	t.Parallel()
	w := newDoneWorld(t, 250)
	w.runExpansion(t)
	if s := w.state(t); s != content.BroadcastSending {
		t.Fatalf("after expansion the broadcast is %s, want sending", s)
	}
	for i, n := range []int{2, 0, 1} {
		w.sendPage(t, n)
		want := content.BroadcastSending
		if i == 2 {
			want = content.BroadcastDone
		}
		if s := w.state(t); s != want {
			t.Fatalf("after page %d (%d of 3) the broadcast is %s, want %s", n, i+1, s, want)
		}
	}
	sent := 0
	for _, n := range w.fake.PersonalizationsPerRequest() {
		sent += n
	}
	if sent != 250 {
		t.Fatalf("%d emails sent, want 250", sent)
	}
}

// TestBroadcastDoneWhenPagesSettleTogether: every page is settled by its
// own task, all at once. However their writes and reads interleave, the
// last to read sees every page settled, so the broadcast ends done.
func TestBroadcastDoneWhenPagesSettleTogether(t *testing.T) {
	t.Parallel()
	w := newDoneWorld(t, 450)
	w.runExpansion(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for n := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w.sendPage(t, n)
		}()
	}
	close(start)
	wg.Wait()
	if s := w.state(t); s != content.BroadcastDone {
		t.Fatalf("after every page settled the broadcast is %s, want done", s)
	}
}

// expandedHook runs before a broadcast records its pages (the moment the
// expansion has written and queued every page but not yet said so).
type expandedHook struct {
	content.Ledger
	before func()
}

func (l expandedHook) SetBroadcastExpanded(ctx context.Context, id string, pages, recipients int) error {
	l.before()
	return l.Ledger.SetBroadcastExpanded(ctx, id, pages, recipients)
}

// TestBroadcastDoneWhenSendsOutrunExpansion: the sends settle every page
// while the broadcast is still expanding (they cannot judge it: it has not
// said how many pages it has). The expansion, recording its pages last,
// finds nothing owed and marks it done.
func TestBroadcastDoneWhenSendsOutrunExpansion(t *testing.T) {
	t.Parallel()
	w := newDoneWorld(t, 150)
	w.expand.Ledger = expandedHook{Ledger: w.store, before: func() {
		queued := w.queue.OfType(tasks.TypeSendPages)
		if len(queued) != 1 {
			t.Fatalf("%d page runs queued before the expansion finished, want 1", len(queued))
		}
		if err := w.pages.ProcessTask(context.Background(), queued[0]); err != nil {
			t.Fatalf("send pages: %v", err)
		}
		if s := w.state(t); s != content.BroadcastExpanding {
			t.Fatalf("pages settled during expansion left the broadcast %s, want expanding", s)
		}
	}}
	w.runExpansion(t)
	if s := w.state(t); s != content.BroadcastDone {
		t.Fatalf("after the expansion the broadcast is %s, want done", s)
	}
}

// TestImportantBroadcastDoneWhenNothingFallsBack: an important broadcast's
// pushes are settled but owed a fallback check; the check, finding no
// parent to text, writes an empty fallback page and marks it done.
func TestImportantBroadcastDoneWhenNothingFallsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	sent := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	clock := clocktest.New(sent)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := s.CreateBroadcast(ctx, &content.Broadcast{ID: "brd_imp", SchoolID: "sch_1", Template: string(notify.TemplateAward),
		Category: "awards", Important: true, State: content.BroadcastSending, CreatedAt: sent}); err != nil {
		t.Fatal(err)
	}
	page := &content.LedgerPage{ID: content.LedgerPageID("brd_imp", 0), BroadcastID: "brd_imp", SchoolID: "sch_1", CreatedAt: sent}
	for i := range 3 {
		id := fmt.Sprintf("par_%d", i)
		// Email only: a push that went unread falls back to nobody.
		if err := s.CreateParent(ctx, &content.Parent{ID: id, FirstName: "P", LastName: "Q", Email: id + "@families.example",
			Language: "en", State: content.ParentActive, Sessions: []string{}}); err != nil {
			t.Fatal(err)
		}
		page.Entries = append(page.Entries, content.LedgerEntry{RecipientID: id, Channel: string(notify.ChannelPush),
			Rank: content.RankSent, Claims: 1, ClaimedAt: sent, UpdatedAt: sent})
	}
	if err := s.PutLedgerPages(ctx, []*content.LedgerPage{page}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBroadcastExpanded(ctx, "brd_imp", 1, 3); err != nil {
		t.Fatal(err)
	}
	fb := &Fallbacks{Ledger: s, Roster: s, Tasks: &taskstest.Recorder{}, Clock: clock, Log: log, Delay: 30 * time.Minute}
	check := func() {
		t.Helper()
		task, err := tasks.NewImportantFallback(page.ID, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := fb.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	state := func() content.BroadcastState {
		t.Helper()
		b, err := s.Broadcast(ctx, "brd_imp")
		if err != nil {
			t.Fatal(err)
		}
		return b.State
	}
	check() // too early: the pushes have 30 minutes to be opened
	if st := state(); st != content.BroadcastSending {
		t.Fatalf("before the fallback check the broadcast is %s, want sending", st)
	}
	clock.Advance(31 * time.Minute)
	check()
	if st := state(); st != content.BroadcastDone {
		t.Fatalf("after a fallback check with nothing to send the broadcast is %s, want done", st)
	}
}

// pageReads counts the ledger pages read, by id.
type pageReads struct {
	content.Ledger
	mu    sync.Mutex
	reads map[string]int
}

func (l *pageReads) LedgerPage(ctx context.Context, id string) (*content.LedgerPage, error) {
	l.mu.Lock()
	if l.reads == nil {
		l.reads = map[string]int{}
	}
	l.reads[id]++
	l.mu.Unlock()
	return l.Ledger.LedgerPage(ctx, id)
}

func (l *pageReads) count(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads[id]
}

// TestBroadcastDoneWithoutReadingPagesItFinished: a page task that settles
// every entry of its pages knows, from what it read and what it wrote,
// that they owe nothing: judging the broadcast done reads none of them
// again (only the pages it did not finish), and the broadcast is done.
func TestBroadcastDoneWithoutReadingPagesItFinished(t *testing.T) {
	t.Parallel()
	w := newDoneWorld(t, 250)
	reads := &pageReads{Ledger: w.store}
	w.pages.Ledger = reads
	w.runExpansion(t)
	queued := w.queue.OfType(tasks.TypeSendPages)
	if len(queued) != 1 {
		t.Fatalf("%d page runs queued, want 1", len(queued))
	}
	if err := w.pages.ProcessTask(context.Background(), queued[0]); err != nil {
		t.Fatal(err)
	}
	if s := w.state(t); s != content.BroadcastDone {
		t.Fatalf("after its only task the broadcast is %s, want done", s)
	}
	for n := range 3 {
		if r := reads.count(content.LedgerPageID("brd_1", n)); r != 1 {
			t.Errorf("page %d read %d times, want once (by the task, before sending)", n, r)
		}
	}
}

// TestBroadcastNotDoneWhilePageHeldElsewhere: an entry another worker
// holds claimed is not this task's to settle: the page it is on still
// owes it, is read again when the broadcast is judged, and keeps the
// broadcast sending; the broadcast is done once that entry settles.
func TestBroadcastNotDoneWhilePageHeldElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDoneWorld(t, 150)
	reads := &pageReads{Ledger: w.store}
	w.pages.Ledger = reads
	w.runExpansion(t)
	page1 := content.LedgerPageID("brd_1", 1)
	won, err := w.store.ClaimEntries(ctx, page1, []int{0}, w.clock.Now())
	if err != nil || len(won) != 1 {
		t.Fatalf("claim elsewhere: won %v, %v", won, err)
	}
	w.sendPage(t, 0)
	w.sendPage(t, 1)
	if s := w.state(t); s != content.BroadcastSending {
		t.Fatalf("with an entry held elsewhere the broadcast is %s, want sending", s)
	}
	if r := reads.count(page1); r < 2 {
		t.Fatalf("page 1 read %d times, want again when judging the broadcast", r)
	}
	// The other worker settles its entry and judges the broadcast.
	if err := w.store.RecordOutcomes(ctx, page1, []content.EntryOutcome{{Index: 0, Claim: won[0], State: content.StateSent}},
		w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := settleBroadcast(ctx, w.store, w.log, "brd_1", 2); err != nil {
		t.Fatal(err)
	}
	if s := w.state(t); s != content.BroadcastDone {
		t.Fatalf("once every entry settled the broadcast is %s, want done", s)
	}
}

// TestBroadcastJudgedByTheLastPageTaskAtWork: a page task that finishes
// while another page task of the same process still works on a page of
// the broadcast leaves the judgement to that task, reading none of its
// pages; that task, finishing last, finds every page settled (the first
// task's known from its own writes) and marks the broadcast done.
func TestBroadcastJudgedByTheLastPageTaskAtWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newDoneWorld(t, 150)
	reads := &pageReads{Ledger: w.store}
	w.pages.Ledger = reads
	w.runExpansion(t)
	page1, err := w.store.LedgerPage(ctx, content.LedgerPageID("brd_1", 1))
	if err != nil {
		t.Fatal(err)
	}
	// Page 1's task has read its page and not yet written.
	worked := w.pages.known().working([]*content.LedgerPage{page1})
	w.sendPage(t, 0)
	if s := w.state(t); s != content.BroadcastSending {
		t.Fatalf("with page 1 at work the broadcast is %s, want sending", s)
	}
	if r := reads.count(page1.ID); r != 0 {
		t.Fatalf("page 1 read %d times while at work, want none", r)
	}
	worked()
	w.sendPage(t, 1)
	if s := w.state(t); s != content.BroadcastDone {
		t.Fatalf("after the last page task the broadcast is %s, want done", s)
	}
	if r0, r1 := reads.count(content.LedgerPageID("brd_1", 0)), reads.count(page1.ID); r0 != 1 || r1 != 1 {
		t.Fatalf("pages read %d and %d times, want once each (by their own tasks)", r0, r1)
	}
}

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
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// pageSender is what the per-page dispatcher calls for each channel.
type pageSender interface {
	SendPage(ctx context.Context, page *content.LedgerPage) error
}

var (
	_ pageSender = (*SMSPages)(nil)
	_ pageSender = (*EmailPages)(nil)
	_ pageSender = (*PushPages)(nil)
)

// broadcastFixture: a London school, a broadcast of the "award" template
// and its ledger pages, LedgerPageSize entries a page, one entry per
// parent on the channel chosen for it.
type broadcastFixture struct {
	store *mongostore.Store
	clock *clocktest.Clock
	queue *taskstest.Recorder
	log   *slog.Logger
	pages []string
	ref   map[string]string // parent id → content.EntryRef of its entry
}

func newBroadcastFixture(t *testing.T, parents []*content.Parent, channel func(i int) notify.Channel) *broadcastFixture {
	t.Helper()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	// 10:00 on a Monday in London: inside the send window.
	clock := clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	school := &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "20:00", QuietEnd: "07:30", SMSBudgetPence: 1_000_000}
	if err := store.CreateSchool(ctx, school); err != nil {
		t.Fatal(err)
	}
	b := &content.Broadcast{ID: "brd_1", SchoolID: "sch_1", Template: string(notify.TemplateAward), Category: "awards",
		Params: map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"}, State: content.BroadcastSending}
	if err := store.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	f := &broadcastFixture{store: store, clock: clock, queue: &taskstest.Recorder{},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), ref: map[string]string{}}
	var pages []*content.LedgerPage
	for i, p := range parents {
		if err := store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		if i%content.LedgerPageSize == 0 {
			n := len(pages)
			pages = append(pages, &content.LedgerPage{ID: content.LedgerPageID("brd_1", n), BroadcastID: "brd_1", SchoolID: "sch_1", N: n})
		}
		page := pages[len(pages)-1]
		f.ref[p.ID] = content.EntryRef(page.ID, len(page.Entries))
		page.Entries = append(page.Entries, content.LedgerEntry{RecipientID: p.ID, Channel: string(channel(i))})
	}
	if err := store.PutLedgerPages(ctx, pages); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		f.pages = append(f.pages, p.ID)
	}
	return f
}

func allOn(ch notify.Channel) func(int) notify.Channel { return func(int) notify.Channel { return ch } }

// send runs h on one page as the dispatcher does: load it, hand it over.
func (f *broadcastFixture) send(t *testing.T, h pageSender, pageID string) {
	t.Helper()
	ctx := context.Background()
	page, err := f.store.LedgerPage(ctx, pageID)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SendPage(ctx, page); err != nil {
		t.Fatalf("send page %s: %v", pageID, err)
	}
}

func (f *broadcastFixture) sendAll(t *testing.T, h pageSender) {
	t.Helper()
	for _, id := range f.pages {
		f.send(t, h, id)
	}
}

// entries maps parent id → its ledger entry, across every page.
func (f *broadcastFixture) entries(t *testing.T) map[string]content.LedgerEntry {
	t.Helper()
	out := map[string]content.LedgerEntry{}
	for _, id := range f.pages {
		page, err := f.store.LedgerPage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			out[e.RecipientID] = e
		}
	}
	return out
}

// newEmailPages wires EmailPages to the fixture's store and a fake SendGrid
// through the real SendGrid adapter.
func newEmailPages(t *testing.T, f *broadcastFixture, timeout time.Duration) (*EmailPages, *providerfake.SendGrid) {
	t.Helper()
	fake := providerfake.NewSendGrid(t)
	sender, err := sendgrid.New(sendgrid.Config{APIKey: fake.APIKey, Host: fake.URL, From: "noreply@school.hometime.test",
		FromName: "Hometime", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	h := &EmailPages{Ledger: f.store, Roster: f.store, Suppressions: f.store, Email: sender, Catalog: notify.MustCatalog(),
		Tasks: f.queue, HashKey: []byte("test-key"), Clock: f.clock, Log: f.log, RetryAfter: 10 * time.Second}
	return h, fake
}

// emailParents are n active parents with distinct addresses, writing in
// the given languages in turn.
func emailParents(n int, langs ...string) []*content.Parent {
	out := make([]*content.Parent, n)
	for i := range out {
		out[i] = &content.Parent{ID: fmt.Sprintf("par_%03d", i), FirstName: "P", LastName: "Q",
			Email: fmt.Sprintf("parent%03d@families.example", i), Language: langs[i%len(langs)],
			State: content.ParentActive, Sessions: []string{}}
	}
	return out
}

// TestEmailPagesBatchPerPage: 250 recipients of one broadcast, in English
// and Polish, on three ledger pages. Each page is at most two SendGrid
// requests (one per language), every recipient is exactly one
// personalization carrying its entry's ref, and a redelivered page sends
// nothing more.
func TestEmailPagesBatchPerPage(t *testing.T) {
	t.Parallel()
	ps := emailParents(250, "en", "pl")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	if len(f.pages) != 3 {
		t.Fatalf("%d pages, want 3", len(f.pages))
	}
	for n, id := range f.pages {
		before := len(fake.Received())
		f.send(t, h, id)
		per := fake.PersonalizationsPerRequest()[before:]
		t.Logf("page %d: %d requests, personalizations %v", n, len(per), per)
		if len(per) < 1 || len(per) > 2 {
			t.Errorf("page %d took %d requests, want 1 or 2 (one per language)", n, len(per))
		}
	}
	requests := fake.Requests()

	byEmail := map[string]string{} // address → parent id
	for _, p := range ps {
		byEmail[p.Email] = p.ID
	}
	seen := map[string]int{} // address → personalizations
	subjects := map[string]string{}
	for _, r := range fake.Accepted() {
		for _, p := range r.Personalizations {
			if len(p.To) != 1 {
				t.Fatalf("personalization with %d recipients, want 1", len(p.To))
			}
			seen[p.To[0]]++
			subjects[p.To[0]] = r.Subject
			if want := f.ref[byEmail[p.To[0]]]; p.CustomArgs["ref"] != want {
				t.Errorf("%s carries ref %q, want %q", byEmail[p.To[0]], p.CustomArgs["ref"], want)
			}
		}
	}
	entries := f.entries(t)
	for _, p := range ps {
		if seen[p.Email] != 1 {
			t.Errorf("%s: %d personalizations, want 1", p.ID, seen[p.Email])
		}
		if e := entries[p.ID]; e.State() != content.StateSent || e.ProviderID == "" {
			t.Errorf("%s: %s, provider id %q", p.ID, e.State(), e.ProviderID)
		}
	}
	if en, pl := subjects[ps[0].Email], subjects[ps[1].Email]; en == "" || en == pl {
		t.Errorf("English subject %q, Polish %q: want two languages", en, pl)
	}

	f.sendAll(t, h) // redelivered tasks
	if got := fake.Requests(); got != requests {
		t.Errorf("redelivery made %d more requests", got-requests)
	}
	if f.queue.Len() != 0 {
		t.Errorf("%d follow-up tasks for a page with nothing waiting", f.queue.Len())
	}
}

// TestEmailPagePolicy: closed accounts, missing or malformed addresses and
// unsubscribed addresses get nothing; the suppression is found whatever
// the case of the stored address.
func TestEmailPagePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := emailParents(6, "en")
	ps[1].State = content.ParentClosed
	ps[2].Email = ""
	ps[3].Email = "Parent003@Families.Example"
	ps[4].Email = "not an address"
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionEmail, "parent003@families.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionEmail,
		Reason: content.SuppressUnsubscribe, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	f.sendAll(t, h)

	entries := f.entries(t)
	tests := []struct {
		parent string
		state  content.MessageState
		code   string
	}{
		{"par_000", content.StateSent, ""},
		{"par_001", content.StateSuppressed, "account_closed"},
		{"par_002", content.StateFailed, "no_email"},
		{"par_003", content.StateSuppressed, "opted_out"},
		{"par_004", content.StateFailed, "invalid_email"},
		{"par_005", content.StateSent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.parent, func(t *testing.T) {
			e := entries[tt.parent]
			if e.State() != tt.state || e.ErrorCode != tt.code {
				t.Errorf("%s %q, want %s %q", e.State(), e.ErrorCode, tt.state, tt.code)
			}
		})
	}
	if got := fake.SentTo(ps[3].Email); got != 0 {
		t.Errorf("unsubscribed address got %d emails", got)
	}
	if per := fake.PersonalizationsPerRequest(); len(per) != 1 || per[0] != 2 {
		t.Errorf("personalizations per request %v, want [2]", per)
	}
}

// TestEmailPageRateLimitedThenSent: a 429 is not an accepted send. The
// entries are handed back until the later of the sender's RetryAfter and
// the provider's Retry-After, a follow-up is queued, and the retry sends
// each email once.
func TestEmailPageRateLimitedThenSent(t *testing.T) {
	t.Parallel()
	ps := emailParents(40, "en")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	fake.FailNext(1, providerfake.TooManyRequests(90*time.Second))
	start := f.clock.Now()
	f.sendAll(t, h)
	if n := len(fake.Accepted()); n != 0 {
		t.Fatalf("%d requests accepted during a 429", n)
	}
	for id, e := range f.entries(t) {
		if e.State() != content.StatePending || !e.NotBefore.Equal(start.Add(90*time.Second)) || e.ErrorCode != "http_429" {
			t.Errorf("%s after a 429: %s %q until %v, want pending until +90s", id, e.State(), e.ErrorCode, e.NotBefore)
		}
	}
	if f.queue.Len() != 1 {
		t.Fatalf("%d retry tasks, want 1", f.queue.Len())
	}
	f.clock.Set(start.Add(30 * time.Second))
	f.sendAll(t, h) // too early: nothing is due
	if n := fake.Requests(); n != 1 {
		t.Fatalf("%d requests before the retry time, want 1", n)
	}
	f.clock.Set(start.Add(2 * time.Minute))
	f.sendAll(t, h)
	f.sendAll(t, h)
	for _, p := range ps {
		if n := fake.SentTo(p.Email); n != 1 {
			t.Errorf("%s received %d emails", p.ID, n)
		}
	}
	if n := fake.Requests(); n != 2 {
		t.Errorf("%d requests, want 2 (the 429 and the retry)", n)
	}
}

// TestEmailPageAmbiguousTimeoutIsUnknown: SendGrid accepts the request and
// the answer never comes. Every email in it may have gone: the entries
// become unknown and are never sent again.
func TestEmailPageAmbiguousTimeoutIsUnknown(t *testing.T) {
	t.Parallel()
	ps := emailParents(30, "en")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 300*time.Millisecond)
	fake.FailNext(1, providerfake.AcceptThenHang())
	f.sendAll(t, h)
	for id, e := range f.entries(t) {
		if e.State() != content.StateUnknown || e.ErrorCode != "timeout" {
			t.Errorf("%s: %s %q, want unknown timeout", id, e.State(), e.ErrorCode)
		}
	}
	f.clock.Set(f.clock.Now().Add(time.Hour))
	f.sendAll(t, h)
	if n := fake.Requests(); n != 1 {
		t.Errorf("%d requests, want 1: an unknown send must not be repeated", n)
	}
	for _, p := range ps {
		if n := fake.SentTo(p.Email); n != 1 {
			t.Errorf("%s: the provider holds %d emails, want 1", p.ID, n)
		}
	}
	if f.queue.Len() != 0 {
		t.Errorf("%d follow-up tasks for unknown entries", f.queue.Len())
	}
}

// TestEmailPageConcurrentWorkersSendOnce: four workers handed the same page
// at once send each email once.
func TestEmailPageConcurrentWorkersSendOnce(t *testing.T) {
	t.Parallel()
	ps := emailParents(content.LedgerPageSize, "en", "cy")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			page, err := f.store.LedgerPage(context.Background(), f.pages[0])
			if err == nil {
				err = h.SendPage(context.Background(), page)
			}
			if err != nil {
				t.Errorf("send page: %v", err)
			}
		}()
	}
	wg.Wait()
	for _, p := range ps {
		if n := fake.SentTo(p.Email); n != 1 {
			t.Errorf("%s received %d emails", p.ID, n)
		}
	}
}

// sendGroup runs h on every page of the fixture as one TypeSendPages task
// does: load them all, hand them over together.
func (f *broadcastFixture) sendGroup(t *testing.T, h PageSender) {
	t.Helper()
	ctx := context.Background()
	var pages []*content.LedgerPage
	for _, id := range f.pages {
		page, err := f.store.LedgerPage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
	}
	if err := h.SendPages(ctx, pages); err != nil {
		t.Fatalf("send pages: %v", err)
	}
}

// TestEmailPagesShareRequestsAcrossPages: 1,000 recipients of one language
// on ten pages, sent as one task, are one SendGrid request of 1,000
// personalizations; 1,001 would be two. A redelivered task sends nothing.
func TestEmailPagesShareRequestsAcrossPages(t *testing.T) {
	t.Parallel()
	ps := emailParents(1000, "en")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	if len(f.pages) != 10 {
		t.Fatalf("%d pages, want 10", len(f.pages))
	}
	f.sendGroup(t, h)
	if per := fake.PersonalizationsPerRequest(); len(per) != 1 || per[0] != 1000 {
		t.Fatalf("personalizations per request %v, want [1000]", per)
	}
	for id, e := range f.entries(t) {
		if e.State() != content.StateSent {
			t.Errorf("%s: %s", id, e.State())
		}
	}
	f.sendGroup(t, h)
	if n := len(fake.Received()); n != 1 {
		t.Fatalf("%d requests after the task ran again, want 1", n)
	}
}

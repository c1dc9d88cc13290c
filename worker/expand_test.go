package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// rosterWithFamilies: n parents, each with a child in class A or B; every
// tenth parent also has a second child (a sibling) in the other class.
func rosterWithFamilies(t *testing.T, s *mongostore.Store, from, n int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < from+n; i++ {
		p := &content.Parent{ID: fmt.Sprintf("par_%04d", i), FirstName: "P", LastName: "Q", Language: "en",
			Phone: fmt.Sprintf("+4479111%05d", 30000+i), State: content.ParentActive, Sessions: []string{}}
		if i%7 == 0 {
			p.Phone, p.Email = "", fmt.Sprintf("family%04d@example.test", i) // email only
		}
		classes := []string{[]string{"cls_a", "cls_b"}[i%2]}
		if i%10 == 0 {
			classes = append(classes, []string{"cls_b", "cls_a"}[i%2])
		}
		for j, cls := range classes {
			k := &content.Child{ID: fmt.Sprintf("chd_%04d_%d", i, j), SchoolID: "sch_1", FirstName: "C", LastName: "D",
				YearGroup: "Y2", ClassIDs: []string{cls}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
				Parents: []content.ParentLink{{ParentID: p.ID, State: content.LinkLinked}}}
			if err := s.CreateChild(ctx, k); err != nil {
				t.Fatal(err)
			}
			p.Children = append(p.Children, content.ChildLink{ChildID: k.ID, SchoolID: "sch_1", State: content.LinkLinked})
		}
		if err := s.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

func expand(t *testing.T, s *mongostore.Store, q *taskstest.Recorder, id string) {
	t.Helper()
	h := &Expansions{Ledger: s, Roster: s, Tasks: q, Clock: clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	task, err := tasks.NewExpandBroadcast(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("expand: %v", err)
	}
}

// ledgerOf reads every page of a broadcast and counts entries per recipient.
func ledgerOf(t *testing.T, s *mongostore.Store, id string) (map[string]int, map[string]string, int) {
	t.Helper()
	count, channel := map[string]int{}, map[string]string{}
	n := 0
	for ; ; n++ {
		p, err := s.LedgerPage(context.Background(), content.LedgerPageID(id, n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) > content.LedgerPageSize {
			t.Fatalf("page %d holds %d entries", n, len(p.Entries))
		}
		for _, e := range p.Entries {
			count[e.RecipientID]++
			channel[e.RecipientID] = e.Channel
		}
	}
	return count, channel, n
}

// onePerPage fails the test unless every page of a broadcast holds
// entries of one channel.
func onePerPage(t *testing.T, s *mongostore.Store, broadcastID string, pages int) {
	t.Helper()
	for n := range pages {
		page, err := s.LedgerPage(context.Background(), content.LedgerPageID(broadcastID, n))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.Channel != page.Entries[0].Channel {
				t.Fatalf("page %d holds %s and %s entries", n, page.Entries[0].Channel, e.Channel)
			}
		}
	}
}

func TestExpandBroadcastOncePerParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rosterWithFamilies(t, s, 0, 250)
	// A closed account and a leaver's parent are not messaged.
	closed, _ := s.Parent(ctx, "par_0003")
	closed.State = content.ParentClosed
	if err := s.UpdateParent(ctx, closed); err != nil {
		t.Fatal(err)
	}
	leaver, _ := s.Child(ctx, "chd_0005_0")
	leaver.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: time.Now()}
	if err := s.UpdateChild(ctx, leaver); err != nil {
		t.Fatal(err)
	}
	// ...and, as the API's removal does, on the parent's copy of the link.
	if err := s.SetParentChildLinks(ctx, "par_0005", []content.ChildLink{{ChildID: leaver.ID, SchoolID: "sch_1",
		State: content.LinkRemoved}}); err != nil {
		t.Fatal(err)
	}
	b := &content.Broadcast{ID: "brd_all", SchoolID: "sch_1", Template: "award", Audience: content.Audience{AllParents: true},
		State: content.BroadcastExpanding, CreatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	q := &taskstest.Recorder{}
	expand(t, s, q, b.ID)
	count, channel, pages := ledgerOf(t, s, b.ID)
	// 212 texts on three pages and 36 emails on a fourth: a page holds
	// one channel.
	if len(count) != 248 || pages != 4 {
		t.Fatalf("%d recipients on %d pages, want 248 on 4", len(count), pages)
	}
	onePerPage(t, s, b.ID, pages)
	for id, c := range count {
		if c != 1 {
			t.Errorf("%s owed %d messages", id, c)
		}
	}
	if count["par_0003"] != 0 || count["par_0005"] != 0 || channel["par_0007"] != "email" || channel["par_0010"] != "sms" {
		t.Errorf("closed %d, leaver %d, email-only %q, sibling family %q", count["par_0003"], count["par_0005"], channel["par_0007"], channel["par_0010"])
	}
	// The four pages go in one task.
	if q.Len() != 1 || q.Tasks()[0].Type() != tasks.TypeSendPages {
		t.Fatalf("%d tasks queued, want one %s", q.Len(), tasks.TypeSendPages)
	}
	if p, err := tasks.ParseSendPages(q.Tasks()[0].Payload()); err != nil || len(p.PageIDs) != 4 ||
		p.PageIDs[0] != content.LedgerPageID(b.ID, 0) || p.PageIDs[3] != content.LedgerPageID(b.ID, 3) {
		t.Errorf("queued pages %+v %v", p, err)
	}
	got, _ := s.Broadcast(ctx, b.ID)
	if got.State != content.BroadcastSending || got.Pages != 4 || got.Recipients != 248 {
		t.Errorf("broadcast after expansion: %+v", got)
	}

	// The expansion runs again (a redelivered task) after 30 more families
	// joined: pages already written stay as they are, only the newcomers
	// are appended, and nobody is owed twice.
	before, _ := s.LedgerPage(ctx, content.LedgerPageID(b.ID, 0))
	rosterWithFamilies(t, s, 250, 30)
	expand(t, s, q, b.ID)
	count, _, pages = ledgerOf(t, s, b.ID)
	if len(count) != 278 || pages != 6 {
		t.Fatalf("after re-run: %d recipients on %d pages, want 278 on 6", len(count), pages)
	}
	onePerPage(t, s, b.ID, pages)
	for id, c := range count {
		if c != 1 {
			t.Errorf("after re-run %s owed %d messages", id, c)
		}
	}
	after, _ := s.LedgerPage(ctx, content.LedgerPageID(b.ID, 0))
	for i := range before.Entries {
		if before.Entries[i].RecipientID != after.Entries[i].RecipientID {
			t.Fatalf("page 0 changed at %d", i)
		}
	}
}

// A large school's sends start with its first pages: each run of
// tasks.MaxPagesPerTask pages is queued once written, runs start at
// multiples of it, and only the last, short run waits for the end.
func TestExpansionQueuesRunsAsPagesAreWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	b := &content.Broadcast{ID: "brd_big", SchoolID: "sch_1", Template: "award", Audience: content.Audience{AllParents: true},
		State: content.BroadcastExpanding, CreatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	q := &taskstest.Recorder{}
	w := &pageWriter{ledger: s, tasks: q, b: b, done: map[string]bool{}, now: b.CreatedAt}
	queuedAfter := map[int]int{} // recipients added -> tasks queued by then
	const recipients = (2*pagesPerWrite + 5) * content.LedgerPageSize
	for i := range recipients {
		if err := w.add(ctx, content.ParentContact{ID: fmt.Sprintf("par_%05d", i), Phone: "+447911123456",
			State: content.ParentActive}); err != nil {
			t.Fatal(err)
		}
		if (i+1)%(pagesPerWrite*content.LedgerPageSize) == 0 {
			queuedAfter[i+1] = q.Len()
		}
	}
	runsPerWrite := pagesPerWrite / tasks.MaxPagesPerTask
	if got := queuedAfter[pagesPerWrite*content.LedgerPageSize]; got != runsPerWrite {
		t.Fatalf("after the first %d pages were written, %d runs queued, want %d", pagesPerWrite, got, runsPerWrite)
	}
	if got := queuedAfter[2*pagesPerWrite*content.LedgerPageSize]; got != 2*runsPerWrite {
		t.Fatalf("after %d pages were written, %d runs queued, want %d", 2*pagesPerWrite, got, 2*runsPerWrite)
	}
	if err := w.finish(ctx); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 2*runsPerWrite+1 {
		t.Fatalf("%d runs queued in all, want %d", q.Len(), 2*runsPerWrite+1)
	}
	next := 0 // every page in exactly one run, in order
	for k, task := range q.Tasks() {
		p, err := tasks.ParseSendPages(task.Payload())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range p.PageIDs {
			if id != content.LedgerPageID(b.ID, next) {
				t.Fatalf("run %d holds %s, want %s", k, id, content.LedgerPageID(b.ID, next))
			}
			next++
		}
	}
	if next != 2*pagesPerWrite+5 {
		t.Fatalf("runs hold %d pages, want %d", next, 2*pagesPerWrite+5)
	}
	if _, err := s.LedgerPage(ctx, content.LedgerPageID(b.ID, next-1)); err != nil {
		t.Fatalf("last page: %v", err)
	}
}

func TestExpandBroadcastToAClass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rosterWithFamilies(t, s, 0, 40)
	b := &content.Broadcast{ID: "brd_cls", SchoolID: "sch_1", Template: "award", Audience: content.Audience{ClassIDs: []string{"cls_a"}}}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	expand(t, s, &taskstest.Recorder{}, b.ID)
	count, _, _ := ledgerOf(t, s, b.ID)
	// Class A holds the children of the 20 even-numbered parents (every
	// tenth of them also has a child in class B, which changes nothing).
	if len(count) != 20 {
		t.Fatalf("%d recipients, want 20", len(count))
	}
	for id := range count {
		var i int
		fmt.Sscanf(id, "par_%04d", &i)
		if i%2 != 0 {
			t.Errorf("%s is not a parent in class A", id)
		}
	}
}

// A broadcast naming more parents than its document keeps (a roster
// import's invites) expands to every one of them.
func TestExpandBroadcastToALargeNamedAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	const n = 1100
	rosterWithFamilies(t, s, 0, n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("par_%04d", i)
	}
	b := &content.Broadcast{ID: "brd_named", SchoolID: "sch_1", Template: "award", Audience: content.Audience{ParentIDs: ids},
		State: content.BroadcastExpanding, CreatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Broadcast(ctx, b.ID); len(got.Audience.ParentIDs) != 0 {
		t.Fatalf("the broadcast document carries %d ids; this test wants them kept apart", len(got.Audience.ParentIDs))
	}
	expand(t, s, &taskstest.Recorder{}, b.ID)
	count, _, _ := ledgerOf(t, s, b.ID)
	if len(count) != n {
		t.Fatalf("%d recipients on the ledger, want %d", len(count), n)
	}
}

// A broadcast to parents reached on every channel in several languages
// makes pages of one channel, and runs whose email or push pages share one
// language: a run of email is one SendGrid request, a run of push as few
// FCM batches as its size allows. Each group's last pages share runs with
// other groups' but are never split between two.
func TestExpansionGroupsPagesByChannelAndLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	b := &content.Broadcast{ID: "brd_mix", SchoolID: "sch_1", Template: "award", Category: "general",
		Audience: content.Audience{AllParents: true}, State: content.BroadcastExpanding,
		CreatedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	q := &taskstest.Recorder{}
	w := &pageWriter{ledger: s, tasks: q, b: b, done: map[string]bool{}, now: b.CreatedAt}
	langs := []string{"en", "cy", "pl"}
	lang := map[string]string{}
	const perGroup = groupRun + 150 // one whole run and a page and a half
	for i := range 9 * perGroup {
		pc := content.ParentContact{ID: fmt.Sprintf("par_%05d", i), State: content.ParentActive, Language: langs[i%3]}
		switch i / 3 % 3 {
		case 0:
			pc.Phone = "+447911123456"
		case 1:
			pc.Email = fmt.Sprintf("p%05d@example.test", i)
		case 2:
			pc.Devices = 1
		}
		if i%6 == 5 { // a category's language wins over the account's
			pc.Prefs = map[string]content.ChannelPreference{"general": {Language: langs[(i+1)%3]}}
		}
		lang[pc.ID] = pc.Language
		if l := pc.Prefs["general"].Language; l != "" {
			lang[pc.ID] = l
		}
		if err := w.add(ctx, pc); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.finish(ctx); err != nil {
		t.Fatal(err)
	}
	next := 0
	groupRuns := map[string]int{} // channel:language -> runs holding its pages
	entries := map[string]int{}   // channel:language -> entries on its pages
	for k, task := range q.Tasks() {
		p, err := tasks.ParseSendPages(task.Payload())
		if err != nil {
			t.Fatal(err)
		}
		inRun := map[string]bool{}
		for _, id := range p.PageIDs {
			if id != content.LedgerPageID(b.ID, next) {
				t.Fatalf("run %d holds %s, want %s", k, id, content.LedgerPageID(b.ID, next))
			}
			next++
			page, err := s.LedgerPage(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			g := page.Entries[0].Channel + ":" + lang[page.Entries[0].RecipientID]
			if page.Entries[0].Channel == "sms" {
				g = "sms"
			}
			for _, e := range page.Entries {
				eg := e.Channel + ":" + lang[e.RecipientID]
				if e.Channel == "sms" {
					eg = "sms"
				}
				if eg != g {
					t.Fatalf("page %s holds %s and %s entries", id, g, eg)
				}
			}
			entries[g] += len(page.Entries)
			if !inRun[g] {
				inRun[g] = true
				groupRuns[g]++
			}
		}
	}
	if next != w.n || w.n != w.written {
		t.Fatalf("runs hold %d pages of %d made, %d written", next, w.n, w.written)
	}
	// A group is in one run per whole run of entries, and one more for
	// the rest.
	for g, runs := range groupRuns {
		if want := (entries[g] + groupRun - 1) / groupRun; runs != want {
			t.Errorf("group %s of %d entries spread over %d runs, want %d", g, entries[g], runs, want)
		}
	}
	if len(groupRuns) != 7 {
		t.Errorf("groups %v, want sms and email and push in three languages", groupRuns)
	}
}

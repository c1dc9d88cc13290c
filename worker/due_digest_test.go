package worker

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
	"github.com/prometheus/client_golang/prometheus"
)

// dueWorld is one London school on the real store with the worker's mux as
// NewMux wires it, pushes going to a fake FCM through the real adapter, and
// a clock that travels. Tasks queued are run by hand: drain runs the ones
// that are due at once, the tests run timed ones (releases, digests) at
// their time.
type dueWorld struct {
	t     *testing.T
	ctx   context.Context
	store *mongostore.Store
	clock *clocktest.Clock
	queue *taskstest.Recorder
	mux   *asynq.ServeMux
	fcm   *providerfake.FCM
}

// Monday 2 November 2026, 09:00 in London (GMT, so UTC too).
var dueStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newDueWorld(t *testing.T) *dueWorld {
	t.Helper()
	return newDueWorldQuiet(t, "20:00", "07:30")
}

// newDueWorldQuiet is a dueWorld whose school keeps the quiet hours given.
func newDueWorldQuiet(t *testing.T, quietStart, quietEnd string) *dueWorld {
	t.Helper()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rdb, _ := redistest.New(t)
	log := slog.New(slog.DiscardHandler)
	ob, err := outbox.New(filepath.Join(t.TempDir(), "outbox"), log)
	must(t, err)
	fake := providerfake.NewFCM(t)
	push, err := fcm.New(ctx, fcm.Config{ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(), WithoutAuth: true, Timeout: 5 * time.Second})
	must(t, err)
	clock := clocktest.New(dueStart)
	q := &taskstest.Recorder{}
	mux, err := NewMux(Deps{Identity: s, Roster: s, Ledger: s, Suppressions: s, Budgets: s, Email: ob, SMS: ob, Push: push,
		Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: q, HashKey: []byte("due-test-key"), Log: log,
		Clock: clock, Imports: s, Messages: NewMessageMetrics(prometheus.NewRegistry()), Assignments: s, Feed: s,
		Submissions: s, Digests: s, Devices: s, StaffNotices: s, Retention: s, ErasureRecords: s, ErasureAreas: s, Audit: s, Exports: s,
		Invited: s, ExpiredExports: s, Announcements: s, Conversations: s, DigestMarks: s})
	must(t, err)
	must(t, s.CreateSchool(ctx, &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: quietStart, QuietEnd: quietEnd, SMSBudgetPence: 100_000,
		Subscription: content.Subscription{State: content.SubscriptionActive}}))
	return &dueWorld{t: t, ctx: ctx, store: s, clock: clock, queue: q, mux: mux, fcm: fake}
}

// family adds parent id with a device (token "tok-<id>") linked to the
// children given as childID → class.
func (w *dueWorld) family(id string, kids map[string]string, digest bool) {
	w.t.Helper()
	p := &content.Parent{ID: id, FirstName: "P", LastName: "Q", Language: "en", State: content.ParentActive,
		Phone: "+447700900" + id[len(id)-3:], Sessions: []string{}, Digest: digest, CreatedAt: dueStart}
	// Linked in the order of their ids, as a parent's links are kept in
	// the order they were made: the digest names them in that order.
	for _, kid := range slices.Sorted(maps.Keys(kids)) {
		class := kids[kid]
		k, err := w.store.Child(w.ctx, kid)
		if content.IsCode(err, content.CodeNotFound) {
			k = &content.Child{ID: kid, SchoolID: "sch_1", FirstName: strings.ToUpper(kid[4:5]) + kid[5:], LastName: "D",
				YearGroup: "Y2", ClassIDs: []string{class}, SchoolLink: content.SchoolLink{State: content.LinkLinked}}
			k.Parents = append(k.Parents, content.ParentLink{ParentID: id, State: content.LinkLinked})
			must(w.t, w.store.CreateChild(w.ctx, k))
		} else {
			must(w.t, err)
			k.Parents = append(k.Parents, content.ParentLink{ParentID: id, State: content.LinkLinked})
			must(w.t, w.store.UpdateChild(w.ctx, k))
		}
		p.Children = append(p.Children, content.ChildLink{ChildID: kid, SchoolID: "sch_1", FirstName: k.FirstName,
			State: content.LinkLinked})
	}
	must(w.t, w.store.CreateParent(w.ctx, p))
	tok := "tok-" + id
	must(w.t, w.store.PutDevice(w.ctx, id, content.Device{ID: content.DeviceID([]byte("due-test-key"), tok),
		Platform: content.PlatformAndroid, Token: tok, LastSeen: dueStart, Created: dueStart}))
}

// run hands one task to the mux.
func (w *dueWorld) run(task *asynq.Task) {
	w.t.Helper()
	if err := w.mux.ProcessTask(w.ctx, task); err != nil {
		w.t.Fatalf("%s: %v", task.Type(), err)
	}
}

// drain runs the queued tasks that are due at once — expansions, sends,
// reminders and feed refreshes — until none is left; timed ones (and a
// page's follow-up for messages deferred out of quiet hours) stay.
func (w *dueWorld) drain() {
	w.t.Helper()
	for range 200 {
		var next *asynq.Task
		for _, typ := range []string{tasks.TypeDueReminder, tasks.TypeRefreshAssignmentFeed, tasks.TypeExpandBroadcast,
			tasks.TypeSendPages} {
			if next = w.queue.Take(typ); next != nil {
				break
			}
		}
		if next == nil {
			return
		}
		w.run(next)
	}
	w.t.Fatal("the queue never drained")
}

// tick runs the due-reminder sweep at the clock's time, then what it queued.
func (w *dueWorld) tick() {
	w.t.Helper()
	w.run(asynq.NewTask(tasks.TypeDueRemindersTick, nil))
	w.drain()
}

// pushes counts accepted pushes to id's device whose title starts with prefix.
func (w *dueWorld) pushes(id, prefix string) int {
	n := 0
	for _, m := range w.fcm.Accepted() {
		if m.Token == "tok-"+id && strings.HasPrefix(m.Title, prefix) {
			n++
		}
	}
	return n
}

// release creates an assignment for class released at rel and due at due,
// and runs its release.
func (w *dueWorld) release(id, class string, rel, due time.Time) *content.Assignment {
	w.t.Helper()
	a := &content.Assignment{ID: id, SchoolID: "sch_1", ClassID: class, SetBy: "stf_1", TeacherName: "Mrs Khan",
		Activities: []content.AssignedActivity{{ID: "act_starter_001", Title: "Story bag", Kind: content.ActivityTogether,
			Subject: content.SubjectReading, Minutes: 15}},
		ChildIDs: []string{}, ReleaseAt: rel, DueAt: due, State: content.AssignmentScheduled, CreatedAt: rel}
	must(w.t, w.store.CreateAssignment(w.ctx, a))
	w.clock.Set(rel)
	task, err := tasks.NewReleaseAssignment(a.ID, rel)
	must(w.t, err)
	w.run(task)
	w.drain()
	return a
}

// TestDueReminderTheDayBeforeOnceToFamiliesThatHaveNotSubmitted: released
// Monday, due Thursday 15:00. Nothing before Wednesday 16:00; then one
// reminder push to each parent of a child nobody has sent anything back
// for (both parents of such a child), none to the family that submitted
// or to a parent who turned activity messages off; the next sweeps and a
// re-run of the reminder send nothing more.
func TestDueReminderTheDayBeforeOnceToFamiliesThatHaveNotSubmitted(t *testing.T) {
	t.Parallel()
	w := newDueWorld(t)
	w.family("par_001", map[string]string{"chd_amy": "cls_a"}, false)
	w.family("par_002", map[string]string{"chd_ben": "cls_a"}, false)
	w.family("par_003", map[string]string{"chd_amy": "cls_a"}, false) // Amy's other parent
	w.family("par_004", map[string]string{"chd_cat": "cls_b"}, false) // another class
	w.family("par_005", map[string]string{"chd_dan": "cls_a"}, false) // wants no activity messages
	must(t, w.store.SetPreferences(w.ctx, "par_005", map[string]content.ChannelPreference{
		content.CategoryActivities: {Channel: content.ChannelNone}}, false))
	due := time.Date(2026, 11, 5, 15, 0, 0, 0, time.UTC)
	a := w.release("asg_1", "cls_a", dueStart.Add(time.Hour), due)
	for _, p := range []string{"par_001", "par_002", "par_003"} {
		if n := w.pushes(p, "New activity"); n != 1 {
			t.Fatalf("%s: %d release pushes", p, n)
		}
	}
	// Ben's family sends something back.
	done := true
	_, err := w.store.PutSubmission(w.ctx, &content.Submission{ID: content.SubmissionID(a.ID, "chd_ben", "par_002"),
		SchoolID: "sch_1", AssignmentID: a.ID, ChildID: "chd_ben", ParentID: "par_002"},
		content.SubmissionUpdate{Done: &done}, dueStart.Add(3*time.Hour))
	must(t, err)

	for _, at := range []time.Time{dueStart.Add(5 * time.Hour), time.Date(2026, 11, 4, 15, 59, 0, 0, time.UTC)} {
		w.clock.Set(at)
		w.tick()
		if n := len(w.fcm.Accepted()); n != 3 {
			t.Fatalf("at %s: %d pushes, want only the 3 release pushes", at, n)
		}
	}
	w.clock.Set(time.Date(2026, 11, 4, 16, 0, 0, 0, time.UTC))
	w.tick()
	for p, want := range map[string]int{"par_001": 1, "par_002": 0, "par_003": 1, "par_004": 0, "par_005": 0} {
		if n := w.pushes(p, "Due tomorrow"); n != want {
			t.Errorf("%s: %d reminders, want %d", p, n, want)
		}
	}
	for _, m := range w.fcm.Accepted() {
		if strings.HasPrefix(m.Title, "Due tomorrow") && (m.Title != "Due tomorrow for Amy" || m.Body != "Story bag") {
			// Each family's reminder names its own child only.
			t.Errorf("reminder reads %q / %q", m.Title, m.Body)
		}
	}
	b, err := w.store.Broadcast(w.ctx, content.DueReminderBroadcastID(a.ID, "2026-11-05"))
	must(t, err)
	if b.Template != string(notify.TemplateDueReminder) || b.Category != content.CategoryActivities ||
		strings.Join(b.Audience.ParentIDs, ",") != "par_001,par_003,par_005" || b.Params["child_ids"] != "chd_amy,chd_dan" {
		t.Fatalf("reminder broadcast: %s %s %v %v", b.Template, b.Category, b.Audience.ParentIDs, b.Params)
	}
	// Later sweeps that day, and the reminder task run again, add nothing.
	for _, at := range []time.Time{time.Date(2026, 11, 4, 16, 15, 0, 0, time.UTC), time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)} {
		w.clock.Set(at)
		w.tick()
	}
	task, err := tasks.NewDueReminder(a.ID, due)
	must(t, err)
	w.run(task)
	w.drain()
	if n := len(w.fcm.Accepted()); n != 5 {
		t.Fatalf("%d pushes in all, want 3 releases and 2 reminders", n)
	}
	// Past the due time nothing is sent.
	w.clock.Set(due.Add(time.Hour))
	w.tick()
	if n := len(w.fcm.Accepted()); n != 5 {
		t.Fatalf("after the due time: %d pushes", n)
	}
}

// TestDueReminderFollowsAMovedDueDateAndSkipsWithdrawn: a released
// assignment's due date moved from Thursday to Friday before its reminder
// is reminded on Thursday at 16:00, not Wednesday, and the feed shows the
// new date; an assignment withdrawn before release is never reminded.
func TestDueReminderFollowsAMovedDueDateAndSkipsWithdrawn(t *testing.T) {
	t.Parallel()
	w := newDueWorld(t)
	w.family("par_001", map[string]string{"chd_amy": "cls_a"}, false)
	due := time.Date(2026, 11, 5, 15, 0, 0, 0, time.UTC)
	a := w.release("asg_1", "cls_a", dueStart.Add(time.Hour), due)
	// Withdrawn before its release, due Thursday too.
	wd := &content.Assignment{ID: "asg_w", SchoolID: "sch_1", ClassID: "cls_a", SetBy: "stf_1", TeacherName: "Mrs Khan",
		Activities: a.Activities, ChildIDs: []string{}, ReleaseAt: dueStart.Add(48 * time.Hour), DueAt: due,
		State: content.AssignmentScheduled}
	must(t, w.store.CreateAssignment(w.ctx, wd))
	withdrawn := *wd
	withdrawn.State = content.AssignmentWithdrawn
	must(t, w.store.UpdateScheduledAssignment(w.ctx, &withdrawn, wd.ReleaseAt))

	moved := time.Date(2026, 11, 6, 15, 0, 0, 0, time.UTC)
	w.clock.Set(time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC))
	must(t, w.store.SetAssignmentDue(w.ctx, a.ID, due, moved, w.clock.Now()))
	refresh, err := tasks.NewRefreshAssignmentFeed(a.ID, moved)
	must(t, err)
	w.run(refresh)
	items, _, err := w.store.FeedPage(w.ctx, "chd_amy", -1, 10)
	must(t, err)
	if len(items) != 1 || !items[0].DueAt.Equal(moved) {
		t.Fatalf("feed after the move: %d items, due %v", len(items), items[0].DueAt)
	}

	w.clock.Set(time.Date(2026, 11, 4, 16, 0, 0, 0, time.UTC))
	w.tick()
	if n := w.pushes("par_001", "Due tomorrow"); n != 0 {
		t.Fatalf("reminded on the old day: %d", n)
	}
	// The reminder queued for the old due time, should one still run, does nothing.
	old, err := tasks.NewDueReminder(a.ID, due)
	must(t, err)
	w.run(old)
	w.drain()
	w.clock.Set(time.Date(2026, 11, 5, 16, 0, 0, 0, time.UTC))
	w.tick()
	if n := w.pushes("par_001", "Due tomorrow"); n != 1 {
		t.Fatalf("reminders on the new day: %d, want 1", n)
	}
	if _, err := w.store.Broadcast(w.ctx, content.DueReminderBroadcastID("asg_w", "2026-11-05")); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("withdrawn assignment reminded: %v", err)
	}
}

// TestDigestParentGetsOneDailyPushUrgentStillImmediate: a parent of two who
// chose the digest gets no push for a release and two awards through the
// day (the feed still shows the activity), an urgent message at once, and
// at 17:00 exactly one push counting the three — once, however often the
// digest task runs. A parent without the digest gets each push at once.
func TestDigestParentGetsOneDailyPushUrgentStillImmediate(t *testing.T) {
	t.Parallel()
	w := newDueWorld(t)
	w.family("par_001", map[string]string{"chd_amy": "cls_a", "chd_ben": "cls_b"}, true)
	w.family("par_002", map[string]string{"chd_cat": "cls_a"}, false)
	w.release("asg_1", "cls_a", dueStart.Add(time.Hour), time.Date(2026, 11, 9, 15, 0, 0, 0, time.UTC))
	send := func(id string, at time.Time, urgent bool) {
		t.Helper()
		w.clock.Set(at)
		b := &content.Broadcast{ID: id, SchoolID: "sch_1", CreatedBy: "stf_1", Template: string(notify.TemplateAward),
			Category: content.CategoryAwards, Urgent: urgent, Params: map[string]string{"child_first_name": "Amy", "teacher_name": "Mrs Khan"},
			Audience: content.Audience{ParentIDs: []string{"par_001", "par_002"}}, State: content.BroadcastExpanding, CreatedAt: at}
		if _, _, err := content.Publish(w.ctx, w.store, tasks.Expander(w.queue), b, nil); err != nil {
			t.Fatal(err)
		}
		w.drain()
	}
	send("brd_a1", dueStart.Add(2*time.Hour), false)
	send("brd_a2", dueStart.Add(3*time.Hour), false)
	if n := w.pushes("par_001", ""); n != 0 {
		t.Fatalf("digest parent got %d pushes during the day", n)
	}
	if n := w.pushes("par_002", ""); n != 3 {
		t.Fatalf("other parent got %d pushes, want each of 3 at once", n)
	}
	items, _, err := w.store.FeedPage(w.ctx, "chd_amy", -1, 10)
	must(t, err)
	if len(items) != 1 || items[0].AssignmentID != "asg_1" {
		t.Fatalf("the feed should show the released activity: %d items", len(items))
	}
	send("brd_urgent", dueStart.Add(4*time.Hour), true)
	if n := w.pushes("par_001", ""); n != 1 {
		t.Fatalf("urgent message: %d pushes to the digest parent, want 1 at once", n)
	}
	p, err := w.store.Parent(w.ctx, "par_001")
	must(t, err)
	if held := p.DigestHeld["2026-11-02"]; len(held) != 3 {
		t.Fatalf("held for the digest: %v", held)
	}
	digests := w.queue.OfType(tasks.TypeSendDigest)
	if len(digests) == 0 {
		t.Fatal("no digest queued")
	}
	w.clock.Set(time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC))
	for _, d := range digests { // one per held push, all with the same TaskID
		w.run(d)
		w.drain()
	}
	if n := w.pushes("par_001", "Today on Hometime"); n != 1 {
		t.Fatalf("%d digest pushes, want 1", n)
	}
	for _, m := range w.fcm.Accepted() {
		if m.Title == "Today on Hometime" && m.Body != "New for Amy & Ben: 3. Tap to see them." {
			t.Fatalf("digest reads %q", m.Body)
		}
	}
	if n := w.pushes("par_001", ""); n != 2 {
		t.Fatalf("digest parent: %d pushes in the day, want the urgent one and the digest", n)
	}
	// The next day nothing is owed: the day's list is gone.
	p, err = w.store.Parent(w.ctx, "par_001")
	must(t, err)
	if len(p.DigestHeld) != 0 {
		t.Fatalf("held after the digest: %v", p.DigestHeld)
	}
}

// followUps runs, once each, the page follow-ups queued so far (messages
// deferred out of quiet hours) at the clock's time; what they queue again
// stays queued.
func (w *dueWorld) followUps() {
	w.t.Helper()
	for _, next := range w.queue.OfType(tasks.TypeSendPage) {
		w.queue.Take(tasks.TypeSendPage)
		w.run(next)
	}
	w.drain()
}

// TestDueReminderAndDigestWaitOutQuietHours: at a school quiet from 15:00
// to 08:00, the reminder due at 16:00 the day before and the 17:00 digest
// are not pushed then but at 08:00 the next morning, once each.
func TestDueReminderAndDigestWaitOutQuietHours(t *testing.T) {
	t.Parallel()
	w := newDueWorldQuiet(t, "15:00", "08:00")
	w.family("par_001", map[string]string{"chd_amy": "cls_a", "chd_ben": "cls_b"}, true)
	w.family("par_002", map[string]string{"chd_cat": "cls_a"}, false)
	due := time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC) // Wednesday
	w.release("asg_1", "cls_a", dueStart.Add(time.Hour), due)
	if n := w.pushes("par_002", "New activity"); n != 1 {
		t.Fatalf("release pushes to the other parent: %d", n)
	}
	w.clock.Set(time.Date(2026, 11, 3, 16, 0, 0, 0, time.UTC))
	w.tick()
	w.clock.Set(time.Date(2026, 11, 3, 17, 0, 0, 0, time.UTC))
	for _, d := range w.queue.OfType(tasks.TypeSendDigest) {
		w.run(d)
	}
	w.drain()
	w.followUps() // still quiet: deferred again
	if n := len(w.fcm.Accepted()); n != 1 {
		t.Fatalf("%d pushes inside quiet hours, want only the morning release push", n)
	}
	w.clock.Set(time.Date(2026, 11, 4, 8, 0, 0, 0, time.UTC))
	w.followUps()
	w.followUps()
	for p, want := range map[string]int{"par_001": 1, "par_002": 1} {
		if n := w.pushes(p, "Due tomorrow"); n != want {
			t.Errorf("%s: %d reminders after quiet hours, want %d", p, n, want)
		}
	}
	if n := w.pushes("par_001", "Today on Hometime"); n != 1 {
		t.Errorf("%d digests after quiet hours, want 1", n)
	}
}

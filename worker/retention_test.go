package worker

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// retentionWorld is one school with families on the real store, the sweeps
// and the erasure chains wired as the worker wires them, and a clock that
// travels.
type retentionWorld struct {
	t       *testing.T
	ctx     context.Context
	store   *mongostore.Store
	clock   *clocktest.Clock
	queue   *taskstest.Recorder
	sweeps  *RetentionSweeps
	erasure *Erasures
	start   time.Time
}

var retentionHashKey = []byte("retention-test-hash-key-0123456789")

func newRetentionWorld(t *testing.T) *retentionWorld {
	t.Helper()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	start := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	q := &taskstest.Recorder{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &retentionWorld{t: t, ctx: ctx, store: s, clock: clock, queue: q, start: start,
		sweeps: &RetentionSweeps{Store: s, Roster: s, Ledger: s, Erasures: s, Audit: s, Invited: s, Exports: s, Tasks: q,
			Clock: clock, Log: log, AppURL: "https://hometime.test"},
		erasure: &Erasures{Records: s, Areas: s, Retention: s, Roster: s, Identity: s, Suppressions: s, Audit: s, Tasks: q,
			HashKey: retentionHashKey, Clock: clock, Log: log}}
	must(t, s.CreateSchool(ctx, &content.School{ID: "sch_r", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", Subscription: content.Subscription{State: content.SubscriptionActive}, CreatedAt: start}))
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// family adds a child at the school and a parent linked to it, active and
// last seen at the world's start, signed in on one device.
func (w *retentionWorld) family(parentID, childID string) {
	w.t.Helper()
	ctx, now := w.ctx, w.start
	must(w.t, w.store.CreateChild(ctx, &content.Child{ID: childID, SchoolID: "sch_r", FirstName: "Kid", LastName: "K", YearGroup: "Y2",
		Parents:    []content.ParentLink{{ParentID: parentID, State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}))
	must(w.t, w.store.CreateParent(ctx, &content.Parent{ID: parentID, FirstName: "Pat", LastName: "P",
		Phone: "+447700900" + parentID[len(parentID)-3:], Email: parentID + "@example.test", Language: "cy",
		State: content.ParentActive, Children: []content.ChildLink{{ChildID: childID, SchoolID: "sch_r", FirstName: "Kid",
			YearGroup: "Y2", State: content.LinkLinked, LinkedAt: now}}, LastActiveAt: now, CreatedAt: now}))
	sid := "ses_" + parentID
	must(w.t, w.store.CreateSession(ctx, &content.Session{ID: sid, Kind: content.KindParent, AccountID: parentID,
		CreatedAt: now, ExpiresAt: now.AddDate(1, 0, 0)}))
	must(w.t, w.store.AddAccountSession(ctx, content.KindParent, parentID, sid, 10))
	must(w.t, w.store.PutRefreshToken(ctx, &content.RefreshToken{Hash: "rt_" + parentID, SessionID: sid, CreatedAt: now}))
	must(w.t, w.store.PutLogin(ctx, &content.Login{Key: "parent:email:" + parentID + "@example.test", Kind: content.KindParent, AccountID: parentID}))
}

func (w *retentionWorld) at(months, days int) {
	w.clock.Set(w.start.AddDate(0, months, days))
}

func (w *retentionWorld) sweep() ParentSweepResult {
	w.t.Helper()
	res, err := w.sweeps.SweepParents(w.ctx)
	must(w.t, err)
	return res
}

func (w *retentionWorld) parent(id string) *content.Parent {
	w.t.Helper()
	p, err := w.store.Parent(w.ctx, id)
	must(w.t, err)
	return p
}

// drain runs every queued erasure stage (and the stages they queue) until
// none is left; other tasks are dropped.
func (w *retentionWorld) drain() int {
	w.t.Helper()
	ran := 0
	for {
		next := w.queue.Take(tasks.TypeEraseStage)
		if next == nil {
			return ran
		}
		if err := w.erasure.ProcessTask(w.ctx, next); err != nil {
			w.t.Fatalf("erasure stage: %v", err)
		}
		ran++
	}
}

func (w *retentionWorld) noticeBroadcasts() []*content.Broadcast {
	w.t.Helper()
	bs, err := w.store.BroadcastsOfSchool(w.ctx, "sch_r", RetentionCreatedBy, content.BroadcastCursor{}, 100)
	must(w.t, err)
	return bs
}

// TestRetentionE1InactivityNoticeAndClosure: eleven months
// idle → one notice (a sweep run twice still sends one); a sign-in cancels
// it; twelve months idle with the notice 30 days old → closed, sessions
// revoked, devices dropped, nothing more sent.
func TestRetentionE1InactivityNoticeAndClosure(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.family("par_001", "chd_001")
	w.family("par_002", "chd_002")

	w.at(11, -1)
	if r := w.sweep(); r.Warned != 0 {
		t.Fatalf("a day before 11 months: warned %d", r.Warned)
	}
	w.at(11, 0)
	if r := w.sweep(); r.Warned != 2 || len(r.NoticeBroadcasts) != 1 {
		t.Fatalf("at 11 months: %+v, want both warned in one notice", r)
	}
	if r := w.sweep(); r.Warned != 0 { // the scheduler runs twice
		t.Fatalf("second sweep warned %d again", r.Warned)
	}
	bs := w.noticeBroadcasts()
	if len(bs) != 1 {
		t.Fatalf("%d notice broadcasts, want 1", len(bs))
	}
	b, err := w.store.Broadcast(w.ctx, bs[0].ID)
	must(t, err)
	if b.Template != "inactivity_notice" || b.Category != "account" || !slices.Equal(b.Audience.ParentIDs, []string{"par_001", "par_002"}) {
		t.Fatalf("notice broadcast %+v", b)
	}
	wantClose := content.DayKey(w.start.AddDate(0, 12, 0))
	if c := content.DayKey(w.start.AddDate(0, 11, 0).Add(content.NoticeMinAge)); c > wantClose {
		wantClose = c
	}
	if b.Params["close_date"] != wantClose {
		t.Fatalf("close_date %q, want %q", b.Params["close_date"], wantClose)
	}
	for k := range b.Params {
		if k != "close_date" && k != "link" {
			t.Fatalf("notice carries param %q: IDs and dates only", k)
		}
	}
	if n := w.queue.Len(); n != 1 || w.queue.Tasks()[0].Type() != tasks.TypeExpandBroadcast {
		t.Fatalf("queued %d tasks, want the notice's expansion", n)
	}
	p := w.parent("par_001")
	if p.State != content.ParentWarned || !p.WarnedAt.Equal(w.clock.Now()) {
		t.Fatalf("par_001 %s warned at %v", p.State, p.WarnedAt)
	}

	// par_002 signs in: the notice is cancelled and the cycle restarts.
	w.at(11, 10)
	must(t, w.store.ParentSignedIn(w.ctx, "par_002", w.clock.Now()))
	if p := w.parent("par_002"); p.State != content.ParentActive || !p.WarnedAt.IsZero() {
		t.Fatalf("after sign-in par_002 is %s (warned %v)", p.State, p.WarnedAt)
	}

	w.at(12, 0) // notice 31 days old, 12 months idle: par_001 closes
	r := w.sweep()
	if r.Closed != 1 || r.Warned != 0 {
		t.Fatalf("at 12 months: %+v, want par_001 closed only", r)
	}
	p = w.parent("par_001")
	if p.State != content.ParentClosed || len(p.Sessions) != 0 || !p.ClosedAt.Equal(w.clock.Now()) {
		t.Fatalf("par_001 after closure: %s sessions %v closed %v", p.State, p.Sessions, p.ClosedAt)
	}
	if p.CanSignIn() {
		t.Fatal("a closed parent can still sign in")
	}
	if se, _ := w.store.Session(w.ctx, "ses_par_001"); se.RevokedAt.IsZero() {
		t.Fatal("closure left the session unrevoked")
	}
	if p := w.parent("par_002"); p.State != content.ParentActive {
		t.Fatalf("par_002 signed in and is %s", p.State)
	}
	// par_002's new cycle: warned 11 months after the sign-in, not before.
	w.clock.Set(w.start.AddDate(0, 11, 10).AddDate(0, 11, -1))
	if r := w.sweep(); r.Warned != 0 {
		t.Fatalf("warned %d before 11 months from the sign-in", r.Warned)
	}
	w.clock.Set(w.start.AddDate(0, 11, 10).AddDate(0, 11, 0))
	if r := w.sweep(); r.Warned != 1 {
		t.Fatalf("warned %d at 11 months from the sign-in, want par_002", r.Warned)
	}
}

// TestRetentionE2ErasureAfterClosure: closed +89 days the
// data is there but the account is shut; +90 days it is erased. Scheduler
// runs missed for months catch up in one run.
func TestRetentionE2ErasureAfterClosure(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.family("par_001", "chd_001")
	w.at(11, 0)
	w.sweep()
	w.at(12, 0)
	if r := w.sweep(); r.Closed != 1 {
		t.Fatalf("closed %d", r.Closed)
	}
	closed := w.clock.Now()
	w.clock.Set(closed.Add(89 * 24 * time.Hour))
	if r := w.sweep(); r.Erasing != 0 {
		t.Fatalf("erasing %d at +89 days", r.Erasing)
	}
	if p := w.parent("par_001"); p.FirstName != "Pat" || p.State != content.ParentClosed {
		t.Fatalf("at +89 days the data should be present: %+v", p)
	}
	// The scheduler was down from +89 days to +150: one run catches up.
	w.clock.Set(closed.Add(150 * 24 * time.Hour))
	if r := w.sweep(); r.Erasing != 1 {
		t.Fatalf("erasing %d after the missed days", r.Erasing)
	}
	if n := w.drain(); n == 0 {
		t.Fatal("no erasure stage ran")
	}
	p := w.parent("par_001")
	if p.State != content.ParentErased || p.FirstName != "" || p.Phone != "" || p.Email != "" || p.PasswordHash != "" || len(p.Children) != 0 {
		t.Fatalf("after erasure: %+v", p)
	}
	rec, err := w.store.Erasure(w.ctx, "parent:par_001")
	must(t, err)
	if !rec.Complete() || rec.Reason != content.ErasureAfterClosure || rec.Counts["mongo:parents"] != 1 ||
		rec.Counts["mongo:logins"] != 1 || rec.Counts["mongo:sessions+refresh_tokens"] != 2 || rec.Counts["mongo:suppressions_added"] != 2 {
		t.Fatalf("erasure record %+v", rec)
	}
	// Suppression survives erasure: the erased contacts stay unreachable.
	for _, c := range []struct{ ch, v string }{{content.SuppressionSMS, "+447700900001"}, {content.SuppressionEmail, "par_001@example.test"}} {
		key, _ := content.SuppressionKeyOf(retentionHashKey, c.ch, c.v)
		if ok, err := w.store.IsSuppressed(w.ctx, key); err != nil || !ok {
			t.Fatalf("%s not suppressed after erasure (%v)", c.ch, err)
		}
	}
	// Another sweep the same day or later changes nothing.
	if r := w.sweep(); r.Erasing != 0 || r.Closed != 0 || r.Warned != 0 {
		t.Fatalf("sweep after erasure: %+v", r)
	}
}

// TestRetentionSweepDayKeyOnRealRedis: two schedulers tick the same day
// against one Redis; each sweep kind is queued once for the day, and again
// the next day.
func TestRetentionSweepDayKeyOnRealRedis(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	clock := clocktest.New(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC))
	h := &RetentionSweeps{Tasks: client, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 3; i++ {
		must(t, h.Tick(context.Background(), tasks.NewRetentionTick(time.Hour)))
	}
	pending, err := insp.ListPendingTasks(tasks.QueueBulk)
	must(t, err)
	if len(pending) != len(tasks.SweepKinds) {
		t.Fatalf("%d sweeps queued by three ticks, want %d", len(pending), len(tasks.SweepKinds))
	}
	clock.Set(clock.Now().Add(2 * time.Hour)) // the next day
	must(t, h.Tick(context.Background(), tasks.NewRetentionTick(time.Hour)))
	pending, err = insp.ListPendingTasks(tasks.QueueBulk)
	must(t, err)
	if len(pending) != 2*len(tasks.SweepKinds) {
		t.Fatalf("%d sweeps after the next day's tick, want %d", len(pending), 2*len(tasks.SweepKinds))
	}
}

package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/sync/semaphore"
)

// smsFixture: a London school, a broadcast of the "award" template and one
// ledger page of SMS entries for the given parents.
type smsFixture struct {
	store *mongostore.Store
	fake  *providerfake.Twilio
	h     *SMSPages
	clock *clocktest.Clock
	queue *taskstest.Recorder
	page  string
	phone map[string]string // parent id → phone
	logs  *lockedBuffer
}

func newSMSFixture(t *testing.T, parents []*content.Parent, budgetPence int64) *smsFixture {
	t.Helper()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	rdb, _ := redistest.New(t)
	fake := providerfake.NewTwilio(t)
	sender, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID, AuthToken: fake.AuthToken, From: "+447700900001",
		StatusCallback: "https://api.hometime.test/webhooks/twilio/status", BaseURL: fake.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// 10:00 on a Monday in London: inside the send window.
	clock := clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	school := &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "20:00", QuietEnd: "07:30", SMSBudgetPence: budgetPence}
	if err := store.CreateSchool(ctx, school); err != nil {
		t.Fatal(err)
	}
	b := &content.Broadcast{ID: "brd_1", SchoolID: "sch_1", Template: string(notify.TemplateAward), Category: "awards",
		Params: map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"}, State: content.BroadcastSending}
	if err := store.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	page := &content.LedgerPage{ID: content.LedgerPageID("brd_1", 0), BroadcastID: "brd_1", SchoolID: "sch_1"}
	phone := map[string]string{}
	for _, p := range parents {
		if err := store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		page.Entries = append(page.Entries, content.LedgerEntry{RecipientID: p.ID, Channel: "sms"})
		phone[p.ID] = p.Phone
	}
	if err := store.PutLedgerPages(ctx, []*content.LedgerPage{page}); err != nil {
		t.Fatal(err)
	}
	queue := &taskstest.Recorder{}
	logs := &lockedBuffer{b: &bytes.Buffer{}}
	h := &SMSPages{Ledger: store, Roster: store, Suppressions: store, Budgets: store, SMS: sender,
		Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: queue, HashKey: []byte("test-key"),
		Clock: clock, Log: slog.New(slog.NewJSONHandler(logs, nil)),
		SenderKey: ratelimit.SenderKey("twilio", "test"), Rate: ratelimit.Rate{PerSecond: 1000, Burst: 25},
		Price: 4, RetryAfter: time.Minute, ClaimSize: 25}
	return &smsFixture{store: store, fake: fake, h: h, clock: clock, queue: queue, page: page.ID, phone: phone, logs: logs}
}

func parentsN(n int) []*content.Parent {
	out := make([]*content.Parent, n)
	for i := range out {
		out[i] = &content.Parent{ID: fmt.Sprintf("par_%03d", i), FirstName: "P", LastName: "Q", Language: "en",
			Phone: fmt.Sprintf("+4479111%05d", 23000+i), State: content.ParentActive, Sessions: []string{}}
	}
	return out
}

func (f *smsFixture) run(t *testing.T) {
	t.Helper()
	page, err := f.store.LedgerPage(context.Background(), f.page)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.h.SendPage(context.Background(), page); err != nil {
		t.Fatalf("send page: %v", err)
	}
}

func (f *smsFixture) states(t *testing.T) map[string]content.LedgerEntry {
	t.Helper()
	page, err := f.store.LedgerPage(context.Background(), f.page)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]content.LedgerEntry{}
	for _, e := range page.Entries {
		out[e.RecipientID] = e
	}
	return out
}

// TestSMSPageSendsOncePerRecipientWithPolicy: every reachable parent gets
// exactly one SMS through the real Twilio client; closed, opted-out and
// landline recipients get none; a provider opt-out (21610) becomes a
// suppression; running the page again sends nothing more.
func TestSMSPageSendsOncePerRecipientWithPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(60)
	ps[1].State = content.ParentClosed
	ps[2].Phone = "+442079460000" // a London landline
	ps[3].Phone = ""
	ps[4].Language = "cy"
	f := newSMSFixture(t, ps, 1_000_000)
	key, _ := content.SuppressionKeyOf(f.h.HashKey, content.SuppressionSMS, ps[5].Phone)
	if err := f.store.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: content.SuppressStop, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	f.fake.RejectTo(ps[6].Phone, 21610)
	f.fake.RejectTo(ps[7].Phone, 21211)

	f.run(t)
	f.run(t) // a redelivered task changes nothing

	want := map[string]content.MessageState{"par_001": content.StateSuppressed, "par_002": content.StateFailed,
		"par_003": content.StateFailed, "par_005": content.StateSuppressed, "par_006": content.StateSuppressed,
		"par_007": content.StateFailed}
	states := f.states(t)
	for _, p := range ps {
		st := states[p.ID].State()
		w, special := want[p.ID]
		if !special {
			w = content.StateSent
		}
		if st != w {
			t.Errorf("%s: state %s, want %s", p.ID, st, w)
		}
		sent := 0
		if p.Phone != "" {
			sent = f.fake.SentTo(p.Phone)
		}
		if wantSent := map[bool]int{true: 1, false: 0}[w == content.StateSent]; sent != wantSent {
			t.Errorf("%s: provider accepted %d messages, want %d", p.ID, sent, wantSent)
		}
	}
	if got := len(f.fake.Accepted()); got != 54 {
		t.Errorf("provider accepted %d messages, want 54", got)
	}
	// Each parent is written to in their language.
	bodies := map[string]string{}
	for _, m := range f.fake.Accepted() {
		bodies[m.To] = m.Body
	}
	if en, cy := bodies[ps[0].Phone], bodies[ps[4].Phone]; en == "" || cy == "" || en == cy {
		t.Errorf("English %q and Welsh %q bodies", en, cy)
	}
	// The provider's opt-out is now ours: checked at the next send.
	k6, _ := content.SuppressionKeyOf(f.h.HashKey, content.SuppressionSMS, ps[6].Phone)
	if ok, err := f.store.IsSuppressed(ctx, k6); err != nil || !ok {
		t.Errorf("21610 did not suppress the number: %v %v", ok, err)
	}
	if e := states["par_007"]; e.ErrorCode != "21211" {
		t.Errorf("invalid number recorded code %q", e.ErrorCode)
	}
	if e := states["par_010"]; e.ProviderID == "" || e.Segments != 1 || e.CostPence != 4 {
		t.Errorf("sent entry record %+v", e)
	}
	// One summary line for the page's send, as email and push log theirs,
	// and no number in the log.
	var summaries []string
	for _, l := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"sms page sent"`) {
			summaries = append(summaries, l)
		}
	}
	if len(summaries) == 0 || !strings.Contains(summaries[0], `"page_id":"`+f.page+`"`) ||
		!strings.Contains(summaries[0], `"claimed":60`) || !strings.Contains(summaries[0], `"sent":54`) {
		t.Errorf("summary lines %q, want the first to count 60 claimed and 54 sent", summaries)
	}
	for _, p := range ps {
		if p.Phone != "" && strings.Contains(f.logs.String(), p.Phone[3:]) {
			t.Fatalf("the log holds %s's number", p.ID)
		}
	}
}

// TestSMSPageConcurrentWorkersSendOnce: four workers given the same page at
// once (duplicate tasks, a relay re-enqueue) send each message once.
func TestSMSPageConcurrentWorkersSendOnce(t *testing.T) {
	t.Parallel()
	ps := parentsN(content.LedgerPageSize)
	f := newSMSFixture(t, ps, 1_000_000)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.run(t)
		}()
	}
	wg.Wait()
	for _, p := range ps {
		if n := f.fake.SentTo(p.Phone); n != 1 {
			t.Errorf("%s received %d messages", p.ID, n)
		}
	}
}

// TestSMSPageDefersInQuietHours: at 21:30 London time nothing is sent; the
// entries wait until 07:30 and a follow-up task is queued for then.
func TestSMSPageDefersInQuietHours(t *testing.T) {
	t.Parallel()
	ps := parentsN(5)
	f := newSMSFixture(t, ps, 1_000_000)
	f.clock.Set(time.Date(2026, 11, 2, 21, 30, 0, 0, time.UTC)) // GMT in November
	f.run(t)
	if n := len(f.fake.Received()); n != 0 {
		t.Fatalf("%d messages sent in quiet hours", n)
	}
	morning := time.Date(2026, 11, 3, 7, 30, 0, 0, time.UTC)
	for id, e := range f.states(t) {
		if e.State() != content.StateDeferred || !e.NotBefore.Equal(morning) {
			t.Errorf("%s: %s until %s, want deferred until %s", id, e.State(), e.NotBefore, morning)
		}
	}
	if f.queue.Len() != 1 {
		t.Fatalf("%d follow-up tasks, want 1", f.queue.Len())
	}
	f.clock.Set(morning)
	f.run(t)
	if n := len(f.fake.Accepted()); n != 5 {
		t.Fatalf("%d sent in the morning, want 5", n)
	}
}

// TestSMSPageRefusesBeyondBudget: a claim that would take the school past
// its monthly budget sends what the budget pays for, in page order, and
// refuses the rest; only what was sent is charged.
func TestSMSPageRefusesBeyondBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(10)
	f := newSMSFixture(t, ps, 20) // 20p; 10 single-segment SMS at 4p = 40p
	f.run(t)
	if n := len(f.fake.Accepted()); n != 5 {
		t.Fatalf("%d messages sent on a budget for 5", n)
	}
	sent, refused := 0, 0
	for id, e := range f.states(t) {
		switch {
		case e.State() == content.StateSent:
			sent++
		case e.State() == content.StateFailed && e.ErrorCode == "budget_exceeded":
			refused++
		default:
			t.Errorf("%s: %s %q", id, e.State(), e.ErrorCode)
		}
	}
	if sent != 5 || refused != 5 {
		t.Fatalf("sent %d, refused %d; want 5 and 5", sent, refused)
	}
	if total, err := f.store.AddSMSSpend(ctx, "sch_1", "2026-11", 0); err != nil || total != 20 {
		t.Fatalf("spend after refusal: %d %v, want 20", total, err)
	}
	// Admins see the refusals on the school's budget.
	if m, err := f.store.SMSBudgetMonth(ctx, "sch_1", "2026-11"); err != nil || m.RefusedMessages != 5 || m.LastRefusedAt.IsZero() {
		t.Fatalf("budget month after refusal: %+v %v, want 5 refused", m, err)
	}
	// A second run finds nothing owed: refused entries are settled.
	f.run(t)
	if n := len(f.fake.Received()); n != 5 {
		t.Fatalf("%d requests after a second run, want 5", n)
	}
}

// TestSMSPageRetriesTransientFailures: a provider 500 is not an accepted
// send; the entry is handed back and retried later, and sends once.
func TestSMSPageRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	ps := parentsN(3)
	f := newSMSFixture(t, ps, 1_000_000)
	f.fake.FailNext(3, providerfake.Status(500))
	f.run(t)
	for id, e := range f.states(t) {
		if e.State() != content.StatePending || e.NotBefore.IsZero() {
			t.Errorf("%s after a 500: %s until %v", id, e.State(), e.NotBefore)
		}
	}
	if f.queue.Len() != 1 {
		t.Fatalf("%d retry tasks, want 1", f.queue.Len())
	}
	f.clock.Set(f.clock.Now().Add(2 * time.Minute))
	f.run(t)
	for _, p := range ps {
		if n := f.fake.SentTo(p.Phone); n != 1 {
			t.Errorf("%s received %d", p.ID, n)
		}
	}
}

// TestSMSClaimSize: a process holds at most half a second of the sender's
// rate claimed and unsent; a claim is half of that, from one message up to
// a whole page; a round of first claims is half of it too, uncapped, so at
// a provider's full speed a whole task's pages claim as one round.
func TestSMSClaimSize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate              float64
		held, want, round int
	}{
		{1, 1, 1, 1},             // slower than one message per claim window
		{10, 5, 2, 2},            // a slow sender: two messages per claim
		{50, 25, 12, 12},         // the rate-limit bench's cap
		{250, 125, 62, 62},       // the chaos test's rate
		{10000, 5000, 100, 2500}, // capped at a page; a round covers ten
	} {
		r := ratelimit.Rate{PerSecond: c.rate, Burst: 1}
		if got := SMSClaimSize(r); got != c.want {
			t.Errorf("SMSClaimSize(%g/s) = %d, want %d", c.rate, got, c.want)
		}
		if got := SMSRoundSize(r); got != c.round {
			t.Errorf("SMSRoundSize(%g/s) = %d, want %d", c.rate, got, c.round)
		}
		if got := smsHeldCap(r); got != int64(c.held) {
			t.Errorf("smsHeldCap(%g/s) = %d, want %d", c.rate, got, c.held)
		}
	}
}

// TestSMSPagesHoldAtMostTheWindow: with room to hold 4 claimed messages,
// 30 recipients on one page are sent in claims of at most 4, and every
// unit of room is given back.
func TestSMSPagesHoldAtMostTheWindow(t *testing.T) {
	t.Parallel()
	f := newSMSFixture(t, parentsN(30), 1_000_000)
	f.h.ClaimSize, f.h.Held = 4, semaphore.NewWeighted(4)
	f.run(t)
	if n := len(f.fake.Accepted()); n != 30 {
		t.Fatalf("%d sent, want 30", n)
	}
	if !f.h.Held.TryAcquire(4) {
		t.Fatal("room not given back after the page")
	}
}

// TestSMSOutcomesAreCounted: each recorded outcome is counted under its
// channel, the provider's name and the outcome — no ids in any label.
func TestSMSOutcomesAreCounted(t *testing.T) {
	t.Parallel()
	ps := parentsN(3)
	ps[2].Phone = "+442071234567" // a landline: failed, no_mobile
	f := newSMSFixture(t, ps, 1_000_000)
	reg := prometheus.NewRegistry()
	f.h.Metrics, f.h.Provider = NewMessageMetrics(reg), "twilio"
	f.run(t)
	counts := map[string]float64{} // "channel provider outcome" → count
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != "hometime_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			counts[strings.Join(key, " ")] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"channel=sms outcome=sent provider=twilio":   2,
		"channel=sms outcome=failed provider=twilio": 1,
	}
	if !maps.Equal(counts, want) {
		t.Fatalf("counted %v, want %v", counts, want)
	}
}

// TestSMSSuppressionOutlivesTheParentRecord, on the send path: a number that said STOP stays suppressed when the family is
// imported again as a new parent record (as a re-import after erasure
// does), because the suppression is keyed by the number, not the parent.
func TestSMSSuppressionOutlivesTheParentRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(2)
	f := newSMSFixture(t, ps, 1_000_000)
	// The STOP arrived before this parent record existed.
	key, err := content.SuppressionKeyOf([]byte("test-key"), content.SuppressionSMS, ps[0].Phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS,
		Reason: content.SuppressStop, At: f.clock.Now().Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	acc := f.fake.Accepted()
	if len(acc) != 1 || acc[0].To != ps[1].Phone {
		t.Fatalf("sent %+v, want only the number that did not say STOP", acc)
	}
	if e := f.states(t)[ps[0].ID]; e.State() != content.StateSuppressed || e.ErrorCode != "opted_out" {
		t.Fatalf("suppressed number's entry: %s %q", e.State(), e.ErrorCode)
	}
}

// TestSMSInTheCategoryLanguage: a parent who asked for award messages in
// Welsh gets them in Welsh, whatever their account's language.
func TestSMSInTheCategoryLanguage(t *testing.T) {
	t.Parallel()
	ps := parentsN(1)
	ps[0].Preferences = map[string]content.ChannelPreference{"awards": {Language: "cy"}}
	f := newSMSFixture(t, ps, 1_000_000)
	f.run(t)
	acc := f.fake.Accepted()
	if len(acc) != 1 {
		t.Fatalf("%d sent, want 1", len(acc))
	}
	cy, err := notify.MustCatalog().RenderOrEnglish(notify.TemplateAward, "cy",
		notify.Params{SchoolName: "Riverside Primary", ChildFirstName: "Cai", TeacherName: "Mrs Khan"})
	if err != nil || cy.Language != "cy" {
		t.Fatalf("render Welsh: %v %s", err, cy.Language)
	}
	if want := cy.SMS("", "").Body; acc[0].Body != want {
		t.Fatalf("body %q, want the Welsh %q", acc[0].Body, want)
	}
}

// TestSMSNamesEachFamilysOwnChild: a broadcast about several children (an
// assignment released to a class) names, in each family's message, that
// family's own child — by id from the broadcast, by name from the parent.
func TestSMSNamesEachFamilysOwnChild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(2)
	ps[0].Children = []content.ChildLink{{ChildID: "chd_a", SchoolID: "sch_1", FirstName: "Efa", State: content.LinkLinked},
		{ChildID: "chd_x", SchoolID: "sch_1", FirstName: "Notinclass", State: content.LinkLinked}}
	ps[1].Children = []content.ChildLink{{ChildID: "chd_b", SchoolID: "sch_1", FirstName: "Bryn", State: content.LinkLinked}}
	f := newSMSFixture(t, ps, 1_000_000)
	if _, err := f.store.Database().Collection("broadcasts").UpdateOne(ctx, bson.D{{Key: "_id", Value: "brd_1"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "params", Value: bson.D{{Key: "teacher_name", Value: "Mrs Khan"},
			{Key: "child_ids", Value: "chd_a,chd_b"}}}}}}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	body := map[string]string{}
	for _, m := range f.fake.Accepted() {
		body[m.To] = m.Body
	}
	if b := body[ps[0].Phone]; !strings.Contains(b, "Efa") || strings.Contains(b, "Bryn") || strings.Contains(b, "Notinclass") {
		t.Errorf("first family's SMS %q, want Efa only", b)
	}
	if b := body[ps[1].Phone]; !strings.Contains(b, "Bryn") || strings.Contains(b, "Efa") {
		t.Errorf("second family's SMS %q, want Bryn only", b)
	}
}

// TestSMSInactivityNoticeNamesTheCloseDate: the retention sweep's notice
// carries the closing day as a parameter (no personal data), and the SMS
// names that day.
func TestSMSInactivityNoticeNamesTheCloseDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(1)
	f := newSMSFixture(t, ps, 1_000_000)
	if _, err := f.store.Database().Collection("broadcasts").UpdateOne(ctx, bson.D{{Key: "_id", Value: "brd_1"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "template", Value: string(notify.TemplateInactivityNotice)},
			{Key: "category", Value: "account"},
			{Key: "params", Value: bson.D{{Key: "close_date", Value: "2026-12-02"}, {Key: "link", Value: "https://hometime.app/signin"}}}}}}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	acc := f.fake.Accepted()
	if len(acc) != 1 {
		t.Fatalf("%d sent, want 1 (render failed?): %+v", len(acc), f.states(t))
	}
	want, err := notify.MustCatalog().RenderOrEnglish(notify.TemplateInactivityNotice, "en", notify.Params{
		SchoolName: "Riverside Primary", Link: "https://hometime.app/signin",
		CloseDate: time.Date(2026, 12, 2, 0, 0, 0, 0, mustLoad(t, "Europe/London"))})
	if err != nil {
		t.Fatal(err)
	}
	if acc[0].Body != want.SMS("", "").Body {
		t.Fatalf("body %q, want %q", acc[0].Body, want.SMS("", "").Body)
	}
}

func mustLoad(t *testing.T, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

package worker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
)

// memDevices is an in-memory device register: parent id → tokens. Dead
// tokens reported by the sender are dropped from it, as the real register
// will drop them.
type memDevices struct {
	mu     sync.Mutex
	tokens map[string][]string
	dead   []string
}

func (d *memDevices) DeviceTokens(_ context.Context, parentID string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.tokens[parentID]), nil
}

func (d *memDevices) drop(parentID, token string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = append(d.dead, parentID+"/"+token)
	d.tokens[parentID] = slices.DeleteFunc(d.tokens[parentID], func(t string) bool { return t == token })
}

func (d *memDevices) reported() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(slices.Values(d.dead))
}

// countedPushes records the size of every SendPushes call: the FCM adapter
// makes one SendEach call per notify.MaxPushBatch pushes it is given.
type countedPushes struct {
	notify.PushSender
	mu    sync.Mutex
	calls []int
}

func (c *countedPushes) SendPushes(ctx context.Context, pushes []notify.Push) ([]notify.Result, error) {
	c.mu.Lock()
	c.calls = append(c.calls, len(pushes))
	c.mu.Unlock()
	return c.PushSender.SendPushes(ctx, pushes)
}

func (c *countedPushes) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// newPushPages wires PushPages to the fixture's store and a fake FCM
// through the real FCM adapter (Firebase Admin SDK).
func newPushPages(t *testing.T, f *broadcastFixture, devices *memDevices, timeout time.Duration) (*PushPages, *providerfake.FCM, *countedPushes) {
	t.Helper()
	fake := providerfake.NewFCM(t)
	sender, err := fcm.New(context.Background(), fcm.Config{ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(),
		WithoutAuth: true, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	counted := &countedPushes{PushSender: sender}
	h := &PushPages{Ledger: f.store, Roster: f.store, Devices: devices, Push: counted, Catalog: notify.MustCatalog(),
		Tasks: f.queue, Clock: f.clock, Log: f.log, RetryAfter: 10 * time.Second, OnDeadToken: devices.drop}
	return h, fake, counted
}

// pushParents are n active parents; parent i has 1 device when i is even
// and 2 when odd.
func pushParents(n int) ([]*content.Parent, *memDevices) {
	ps := emailParents(n, "en", "es")
	d := &memDevices{tokens: map[string][]string{}}
	for i, p := range ps {
		for k := range 1 + i%2 {
			d.tokens[p.ID] = append(d.tokens[p.ID], fmt.Sprintf("tok-%03d-%c", i, 'a'+k))
		}
	}
	return ps, d
}

// TestPushPagesOnePushPerDevice: 120 parents with one or two devices on two
// pages. Each live token gets one push through one SendPushes call (one
// SendEach batch) per page; dead tokens are reported; an entry whose every
// token is dead fails "unregistered", one with a live token is sent; a
// redelivered page sends nothing more.
func TestPushPagesOnePushPerDevice(t *testing.T) {
	t.Parallel()
	ps, devices := pushParents(120)
	devices.tokens["par_009"] = nil // no app installed
	ps[11].State = content.ParentClosed
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelPush))
	h, fake, calls := newPushPages(t, f, devices, 2*time.Second)
	fake.Unregister("tok-005-a", "tok-005-b") // both of par_005's devices are gone
	fake.Unregister("tok-007-a")              // one of par_007's two
	fake.Unregister("tok-104-a")              // par_104's only device, on page 2

	tokens := map[string][]string{} // before the sender drops any
	for id, ts := range devices.tokens {
		tokens[id] = slices.Clone(ts)
	}
	f.sendAll(t, h)

	if got := calls.sizes(); len(got) != 2 || got[0] != 146 || got[1] != 30 {
		// Page 1: 100 parents, 50 of them with two devices = 150, less
		// par_009's none and closed par_011's two = 146. Page 2: 20 parents,
		// 10 with two devices = 30.
		t.Errorf("SendPushes calls of %v, want [146 30]: one per page", got)
	}
	dead := []string{"par_005/tok-005-a", "par_005/tok-005-b", "par_007/tok-007-a", "par_104/tok-104-a"}
	if got := devices.reported(); !slices.Equal(got, dead) {
		t.Errorf("dead tokens reported %v, want %v", got, dead)
	}
	want := map[string]struct {
		state content.MessageState
		code  string
	}{
		"par_005": {content.StateFailed, "unregistered"},
		"par_009": {content.StateFailed, "no_device"},
		"par_011": {content.StateSuppressed, "account_closed"},
		"par_104": {content.StateFailed, "unregistered"},
	}
	entries := f.entries(t)
	for _, p := range ps {
		e := entries[p.ID]
		w, ok := want[p.ID]
		if !ok {
			w.state = content.StateSent
		}
		if e.State() != w.state || e.ErrorCode != w.code {
			t.Errorf("%s: %s %q, want %s %q", p.ID, e.State(), e.ErrorCode, w.state, w.code)
		}
		if w.state == content.StateSent && e.ProviderID == "" {
			t.Errorf("%s: sent without a provider id", p.ID)
		}
		for _, tok := range tokens[p.ID] {
			wantN := 1
			if p.ID == "par_011" || slices.Contains(dead, p.ID+"/"+tok) {
				wantN = 0
			}
			if n := fake.SentTo(tok); n != wantN {
				t.Errorf("%s %s: %d pushes accepted, want %d", p.ID, tok, n, wantN)
			}
		}
	}
	// The push names its entry, so the app can report it read; nothing personal.
	for _, m := range fake.Accepted() {
		if m.Token == "tok-010-a" && (m.Data["ref"] != f.ref["par_010"] || len(m.Data) != 2) {
			t.Errorf("push data %v, want the entry ref and broadcast id", m.Data)
		}
	}

	received := len(fake.Received())
	f.sendAll(t, h) // redelivered tasks
	if n := len(fake.Received()) - received; n != 0 || len(calls.sizes()) != 2 {
		t.Errorf("redelivery sent %d more pushes in %d more calls", n, len(calls.sizes())-2)
	}
}

// TestPushPageRetriesQuotaNotDeadTokens: a device FCM refuses for quota is
// not an accepted send. An entry with one such device and one dead one is
// retried later (the dead token reported once), and then sent once.
func TestPushPageRetriesQuotaNotDeadTokens(t *testing.T) {
	t.Parallel()
	ps, devices := pushParents(4) // par_001 and par_003 have two devices
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelPush))
	h, fake, _ := newPushPages(t, f, devices, 2*time.Second)
	fake.RejectToken("tok-001-a", "QUOTA_EXCEEDED")
	fake.Unregister("tok-001-b")
	start := f.clock.Now()
	f.sendAll(t, h)

	e := f.entries(t)["par_001"]
	if e.State() != content.StatePending || e.ErrorCode != "QUOTA_EXCEEDED" || !e.NotBefore.Equal(start.Add(10*time.Second)) {
		t.Fatalf("par_001 after a quota refusal: %s %q until %v, want pending until +10s", e.State(), e.ErrorCode, e.NotBefore)
	}
	if f.queue.Len() != 1 {
		t.Fatalf("%d retry tasks, want 1", f.queue.Len())
	}
	fake.RejectToken("tok-001-a", "") // quota back
	f.clock.Set(start.Add(time.Minute))
	f.sendAll(t, h)
	f.sendAll(t, h)
	if e := f.entries(t)["par_001"]; e.State() != content.StateSent {
		t.Errorf("par_001 after the retry: %s %q", e.State(), e.ErrorCode)
	}
	for _, tok := range []string{"tok-000-a", "tok-001-a", "tok-002-a", "tok-003-a", "tok-003-b"} {
		if n := fake.SentTo(tok); n != 1 {
			t.Errorf("%s: %d pushes accepted, want 1", tok, n)
		}
	}
	if got := devices.reported(); !slices.Equal(got, []string{"par_001/tok-001-b"}) {
		t.Errorf("dead tokens reported %v", got)
	}
}

// TestQuietHoursDeferPushNotEmail: at 21:30 London time, on one page that
// owes some parents an email and others a push, the emails go at once and
// the pushes wait until 07:30, when they go once; the emails are not sent
// again.
func TestQuietHoursDeferPushNotEmail(t *testing.T) {
	t.Parallel()
	ps, devices := pushParents(6)
	channel := func(i int) notify.Channel {
		if i%2 == 0 {
			return notify.ChannelEmail
		}
		return notify.ChannelPush
	}
	f := newBroadcastFixture(t, ps, channel)
	email, sendgridFake := newEmailPages(t, f, 5*time.Second)
	push, fcmFake, calls := newPushPages(t, f, devices, 2*time.Second)
	f.clock.Set(time.Date(2026, 11, 2, 21, 30, 0, 0, time.UTC)) // GMT in November
	f.sendAll(t, email)
	f.sendAll(t, push)

	if per := sendgridFake.PersonalizationsPerRequest(); len(per) != 1 || per[0] != 3 {
		t.Errorf("emails at 21:30: personalizations per request %v, want [3]", per)
	}
	if n := len(fcmFake.Received()); n != 0 || len(calls.sizes()) != 0 {
		t.Fatalf("%d pushes sent in quiet hours", n)
	}
	morning := time.Date(2026, 11, 3, 7, 30, 0, 0, time.UTC)
	for i, p := range ps {
		e := f.entries(t)[p.ID]
		if i%2 == 0 && e.State() != content.StateSent {
			t.Errorf("%s email at night: %s", p.ID, e.State())
		}
		if i%2 == 1 && (e.State() != content.StateDeferred || !e.NotBefore.Equal(morning)) {
			t.Errorf("%s push at night: %s until %v, want deferred until %v", p.ID, e.State(), e.NotBefore, morning)
		}
	}
	if f.queue.Len() != 1 {
		t.Fatalf("%d follow-up tasks, want 1 (for the pushes)", f.queue.Len())
	}

	f.clock.Set(morning)
	f.sendAll(t, email)
	f.sendAll(t, push)
	if n := sendgridFake.Requests(); n != 1 {
		t.Errorf("%d email requests after the morning run, want still 1", n)
	}
	for i, p := range ps {
		for _, tok := range devices.tokens[p.ID] {
			want := i % 2 // only the push parents' devices
			if n := fcmFake.SentTo(tok); n != want {
				t.Errorf("%s %s: %d pushes in the morning, want %d", p.ID, tok, n, want)
			}
		}
	}
	if got := calls.sizes(); len(got) != 1 || got[0] != 6 {
		t.Errorf("morning SendPushes calls %v, want [6]", got)
	}
}

// TestPushPageAmbiguousTimeoutIsUnknown: FCM accepts a push and the answer
// never comes. It may be on the phone: the entry becomes unknown and is
// never pushed again.
func TestPushPageAmbiguousTimeoutIsUnknown(t *testing.T) {
	t.Parallel()
	ps, devices := pushParents(1)
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelPush))
	h, fake, _ := newPushPages(t, f, devices, 300*time.Millisecond)
	fake.FailNext(1, providerfake.AcceptThenHang())
	f.sendAll(t, h)
	if e := f.entries(t)["par_000"]; e.State() != content.StateUnknown {
		t.Fatalf("par_000 after a lost answer: %s %q, want unknown", e.State(), e.ErrorCode)
	}
	f.clock.Set(f.clock.Now().Add(time.Hour))
	f.sendAll(t, h)
	if n := len(fake.Received()); n != 1 {
		t.Errorf("FCM received %d pushes, want 1: an unknown send must not be repeated", n)
	}
	if f.queue.Len() != 0 {
		t.Errorf("%d follow-up tasks for an unknown entry", f.queue.Len())
	}
}

// TestPushPagesShareCallsAcrossPages: 600 parents with one device each, on
// six pages sent as one task, are two SendEach calls (500 + 100), not six.
func TestPushPagesShareCallsAcrossPages(t *testing.T) {
	t.Parallel()
	ps := emailParents(600, "en")
	devices := &memDevices{tokens: map[string][]string{}}
	for i, p := range ps {
		devices.tokens[p.ID] = []string{fmt.Sprintf("tok-%03d", i)}
	}
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelPush))
	h, _, counted := newPushPages(t, f, devices, 5*time.Second)
	f.sendGroup(t, h)
	if got := counted.sizes(); !slices.Equal(got, []int{500, 100}) {
		t.Fatalf("SendPushes calls %v, want [500 100]", got)
	}
	for id, e := range f.entries(t) {
		if e.State() != content.StateSent {
			t.Errorf("%s: %s", id, e.State())
		}
	}
}

package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Delivery webhooks are tested on the real store: a ledger page written
// with PutLedgerPages, callbacks and event batches built and signed by the
// provider fakes, and — end to end — refs put there by the real adapters.

const testMessageSID = "SM0123456789abcdef0123456789abcdef"

// newLedgerPage writes a page of n entries on channel, all at rank.
func (h *harness) newLedgerPage(n int, channel string, rank int) *content.LedgerPage {
	h.t.Helper()
	b := content.NewID("brd")
	p := &content.LedgerPage{ID: content.LedgerPageID(b, 0), BroadcastID: b, SchoolID: "sch_1", CreatedAt: h.clock.Now()}
	for i := 0; i < n; i++ {
		p.Entries = append(p.Entries, content.LedgerEntry{RecipientID: fmt.Sprintf("par_%03d", i), Channel: channel, Rank: rank})
	}
	if err := h.store.PutLedgerPages(context.Background(), []*content.LedgerPage{p}); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) entry(pageID string, i int) content.LedgerEntry {
	h.t.Helper()
	p, err := h.store.LedgerPage(context.Background(), pageID)
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Entries[i]
}

// send runs a request built elsewhere (by a provider fake) through the app
// and checks it and its answer against the OpenAPI document.
func (h *harness) send(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	resp, err := h.app.Test(req, 30_000)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	vreq := httptest.NewRequest(req.Method, req.URL.RequestURI(), bytes.NewReader(raw))
	vreq.Header = req.Header.Clone()
	checkContract(h.t, vreq, raw, resp, out)
	return resp, out
}

// withLedger rebuilds the app with another ledger (a counting or failing
// wrapper around the store).
func (h *harness) withLedger(l content.Ledger) {
	d := h.deps
	d.Ledger = l
	h.deps, h.app = d, mustNew(h.t, d)
}

// countingLedger counts RaiseEntryState calls and can fail the next few.
type countingLedger struct {
	content.Ledger
	mu       sync.Mutex
	raises   int
	failNext int // the next failNext calls fail as an unavailable store would
}

func (l *countingLedger) RaiseEntryState(ctx context.Context, pageID string, index int, state content.MessageState, errorCode string, at time.Time) error {
	l.mu.Lock()
	if l.failNext > 0 {
		l.failNext--
		l.mu.Unlock()
		return content.Errorf(content.CodeUnavailable, "the store is not answering")
	}
	l.raises++
	l.mu.Unlock()
	return l.Ledger.RaiseEntryState(ctx, pageID, index, state, errorCode, at)
}

func (l *countingLedger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raises
}

// --- Twilio status callbacks ---

// statusURL is the status callback URL the SMS sender gives Twilio for ref.
func statusURL(ref string) string {
	if ref == "" {
		return testPublicURL + TwilioStatusPath
	}
	return testPublicURL + TwilioStatusPath + "?ref=" + url.QueryEscape(ref)
}

// statusForm is an unsigned status callback form (for requests that must be refused).
func statusForm(status string, errorCode int) url.Values {
	f := url.Values{"MessageSid": {testMessageSID}, "SmsSid": {testMessageSID}, "MessageStatus": {status},
		"SmsStatus": {status}, "AccountSid": {"AC" + strings.Repeat("1b", 16)}, "ApiVersion": {"2010-04-01"}}
	if errorCode != 0 {
		f.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	return f
}

// twilioFake starts a fake Twilio and makes the app check signatures with
// its auth token, so the fake's signed callbacks are accepted.
func (h *harness) twilioFake(t *testing.T) *providerfake.Twilio {
	t.Helper()
	f := providerfake.NewTwilio(t)
	d := h.deps
	d.Twilio = twilio.NewWebhooks(f.AuthToken)
	h.deps, h.app = d, mustNew(t, d)
	return f
}

type callback struct {
	status    string
	errorCode int
}

// TestTwilioStatusMovesForwardOnly plays callbacks in order, duplicated and
// out of order against one entry and checks where it ends up; its
// neighbours never move.
func TestTwilioStatusMovesForwardOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		startRank int
		callbacks []callback
		want      content.MessageState
		wantCode  string
	}{
		{"sent then delivered", content.RankSent, []callback{{"sent", 0}, {"delivered", 0}}, content.StateDelivered, ""},
		{"delivered then sent", content.RankSent, []callback{{"delivered", 0}, {"sent", 0}}, content.StateDelivered, ""},
		{"delivered then queued and sending", content.RankSent, []callback{{"delivered", 0}, {"queued", 0}, {"sending", 0}}, content.StateDelivered, ""},
		{"delivered twice", content.RankSent, []callback{{"delivered", 0}, {"delivered", 0}}, content.StateDelivered, ""},
		{"read is delivered", content.RankSent, []callback{{"read", 0}}, content.StateDelivered, ""},
		{"early statuses change nothing", content.RankSent, []callback{{"queued", 0}, {"accepted", 0}, {"scheduled", 0}, {"sending", 0}}, content.StateSent, ""},
		{"failed landline keeps 30006", content.RankSent, []callback{{"sent", 0}, {"failed", 30006}}, content.StateFailed, "30006"},
		{"undelivered unreachable keeps 30003", content.RankSent, []callback{{"undelivered", 30003}}, content.StateFailed, "30003"},
		{"unknown handset then a late sent", content.RankSent, []callback{{"undelivered", 30005}, {"sent", 0}, {"queued", 0}}, content.StateFailed, "30005"},
		{"callback before the sender recorded the send", content.RankPending, []callback{{"delivered", 0}}, content.StateDelivered, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			fake := h.twilioFake(t)
			p := h.newLedgerPage(3, "sms", tc.startRank)
			ref := content.EntryRef(p.ID, 1)
			for i, cb := range tc.callbacks {
				req := fake.StatusCallbackRequest(statusURL(ref), providerfake.TwilioStatus{MessageSID: testMessageSID,
					MessageStatus: cb.status, ErrorCode: cb.errorCode, To: "+447700900123", From: "+447700900001"})
				resp, body := h.send(req)
				wantStatus(t, resp, body, http.StatusNoContent)
				if len(body) != 0 {
					t.Fatalf("callback %d (%s): body %q, want none", i, cb.status, body)
				}
			}
			e := h.entry(p.ID, 1)
			if e.State() != tc.want || e.ErrorCode != tc.wantCode {
				t.Fatalf("entry: %s, error code %q; want %s, %q", e.State(), e.ErrorCode, tc.want, tc.wantCode)
			}
			for _, i := range []int{0, 2} {
				if n := h.entry(p.ID, i); n.Rank != tc.startRank || n.ErrorCode != "" {
					t.Fatalf("neighbour %d moved: %+v", i, n)
				}
			}
			if strings.Contains(h.logBuf.String(), "7700900") {
				t.Fatal("the log holds a phone number")
			}
		})
	}
}

// TestTwilioStatusFollowsTheSendersRef: the real Twilio adapter puts the
// entry's ref in the callback URL; the callback the fake then signs for
// that URL finds the entry.
func TestTwilioStatusFollowsTheSendersRef(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fake := h.twilioFake(t)
	p := h.newLedgerPage(5, "sms", content.RankSent)
	sender, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID, AuthToken: fake.AuthToken, From: "+447700900001",
		StatusCallback: testPublicURL + TwilioStatusPath, BaseURL: fake.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := sender.SendSMS(context.Background(), notify.SMS{Ref: content.EntryRef(p.ID, 3), To: "+447700900123", Body: "Hello"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	req, err := fake.StatusCallbackFor(res.ProviderID, "undelivered", 30006)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := h.send(req)
	wantStatus(t, resp, body, http.StatusNoContent)
	if e := h.entry(p.ID, 3); e.State() != content.StateFailed || e.ErrorCode != "30006" {
		t.Fatalf("entry 3: %s %q, want failed 30006", e.State(), e.ErrorCode)
	}
}

// TestTwilioStatusWithoutAnEntry: a signed callback naming no entry, or
// one that does not exist, is acknowledged (Twilio would retry, and it
// will never become known) and logged with the message SID only.
func TestTwilioStatusWithoutAnEntry(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"", "not-a-ref", "brd_1:p00000/100", content.EntryRef(content.LedgerPageID("brd_gone", 0), 2)} {
		t.Run(fmt.Sprintf("ref %q", ref), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			fake := h.twilioFake(t)
			p := h.newLedgerPage(3, "sms", content.RankSent)
			req := fake.StatusCallbackRequest(statusURL(ref), providerfake.TwilioStatus{MessageSID: testMessageSID,
				MessageStatus: "delivered", To: "+447700900123"})
			resp, body := h.send(req)
			wantStatus(t, resp, body, http.StatusNoContent)
			for i := range 3 {
				if e := h.entry(p.ID, i); e.Rank != content.RankSent {
					t.Fatalf("entry %d moved: %+v", i, e)
				}
			}
			logs := h.logBuf.String()
			if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, testMessageSID) {
				t.Fatalf("no warning naming the message SID: %s", logs)
			}
			if strings.Contains(logs, "7700900123") {
				t.Fatal("the log holds the phone number")
			}
		})
	}
}

// TestTwilioStatusRefusesBadSignatures: whatever is wrong with the
// signature — including a ref changed after signing — the answer is 403
// and the entry does not move.
func TestTwilioStatusRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// edit returns the URL to post to, the form and the signature.
		edit func(ref, other string, f url.Values) (string, url.Values, string)
	}{
		{"unsigned", func(ref, _ string, f url.Values) (string, url.Values, string) { return statusURL(ref), f, "" }},
		{"junk signature", func(ref, _ string, f url.Values) (string, url.Values, string) {
			return statusURL(ref), f, "bm90IGEgc2lnbmF0dXJl"
		}},
		{"ref changed after signing", func(ref, other string, f url.Values) (string, url.Values, string) {
			return statusURL(other), f, providerfake.TwilioSignature(testTwilioToken, statusURL(ref), f)
		}},
		{"ref dropped after signing", func(ref, _ string, f url.Values) (string, url.Values, string) {
			return statusURL(""), f, providerfake.TwilioSignature(testTwilioToken, statusURL(ref), f)
		}},
		{"status changed after signing", func(ref, _ string, f url.Values) (string, url.Values, string) {
			sig := providerfake.TwilioSignature(testTwilioToken, statusURL(ref), f)
			f.Set("MessageStatus", "failed")
			f.Set("ErrorCode", "30006")
			return statusURL(ref), f, sig
		}},
		{"signed for the inbound webhook", func(ref, _ string, f url.Values) (string, url.Values, string) {
			return statusURL(ref), f, providerfake.TwilioSignature(testTwilioToken, testPublicURL+inboundPath, f)
		}},
		{"signed with another token", func(ref, _ string, f url.Values) (string, url.Values, string) {
			return statusURL(ref), f, providerfake.TwilioSignature("someoneelsestoken0123456789abcd", statusURL(ref), f)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			p := h.newLedgerPage(3, "sms", content.RankSent)
			target, form, sig := tc.edit(content.EntryRef(p.ID, 0), content.EntryRef(p.ID, 1), statusForm("delivered", 0))
			opts := []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}
			if sig != "" {
				opts = append(opts, withHeader("X-Twilio-Signature", sig))
			}
			resp, body := h.do("POST", strings.TrimPrefix(target, testPublicURL), form.Encode(), "", opts...)
			wantStatus(t, resp, body, http.StatusForbidden)
			if e := decode[errorBody](t, body); e.Error.Code != string(content.CodeForbidden) {
				t.Fatalf("error body %s", body)
			}
			for i := range 3 {
				if e := h.entry(p.ID, i); e.Rank != content.RankSent {
					t.Fatalf("a refused callback moved entry %d: %+v", i, e)
				}
			}
		})
	}
}

func TestTwilioStatusEdges(t *testing.T) {
	t.Parallel()
	t.Run("a signed callback without MessageStatus is invalid", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		p := h.newLedgerPage(1, "sms", content.RankSent)
		target := statusURL(content.EntryRef(p.ID, 0))
		form := statusForm("delivered", 0)
		form.Del("MessageStatus")
		resp, body := h.do("POST", strings.TrimPrefix(target, testPublicURL), form.Encode(), "",
			withHeader("Content-Type", "application/x-www-form-urlencoded"),
			withHeader("X-Twilio-Signature", providerfake.TwilioSignature(testTwilioToken, target, form)))
		wantStatus(t, resp, body, http.StatusBadRequest)
	})
	t.Run("without a Twilio auth token the route is unavailable", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		d := h.deps
		d.Twilio = nil
		h.app = mustNew(t, d)
		p := h.newLedgerPage(1, "sms", content.RankSent)
		target := statusURL(content.EntryRef(p.ID, 0))
		form := statusForm("delivered", 0)
		resp, body := h.do("POST", strings.TrimPrefix(target, testPublicURL), form.Encode(), "",
			withHeader("Content-Type", "application/x-www-form-urlencoded"),
			withHeader("X-Twilio-Signature", providerfake.TwilioSignature(testTwilioToken, target, form)))
		wantStatus(t, resp, body, http.StatusServiceUnavailable)
		if e := h.entry(p.ID, 0); e.Rank != content.RankSent {
			t.Fatalf("entry moved: %+v", e)
		}
	})
	t.Run("a store failure is a 5xx so Twilio may retry", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		fake := h.twilioFake(t)
		l := &countingLedger{Ledger: h.store, failNext: 1}
		h.withLedger(l)
		p := h.newLedgerPage(1, "sms", content.RankSent)
		cb := providerfake.TwilioStatus{MessageSID: testMessageSID, MessageStatus: "delivered"}
		resp, body := h.send(fake.StatusCallbackRequest(statusURL(content.EntryRef(p.ID, 0)), cb))
		wantStatus(t, resp, body, http.StatusServiceUnavailable)
		resp, body = h.send(fake.StatusCallbackRequest(statusURL(content.EntryRef(p.ID, 0)), cb))
		wantStatus(t, resp, body, http.StatusNoContent)
		if e := h.entry(p.ID, 0); e.State() != content.StateDelivered {
			t.Fatalf("after the retry: %s, want delivered", e.State())
		}
	})
}

// --- SendGrid Event Webhook ---

// sgEvent is one event as SendGrid posts it, for entry ref (may be "").
func sgEvent(event, id, email, ref string) providerfake.SendGridEvent {
	e := providerfake.SendGridEvent{Email: email, Timestamp: 1793613600, Event: event, SGEventID: id,
		SGMessageID: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}
	if ref != "" {
		e.CustomArgs = map[string]string{"ref": ref}
	}
	return e
}

// withArg adds a top-level field (reason, for dropped) the fake has no field for.
func withArg(e providerfake.SendGridEvent, k, v string) providerfake.SendGridEvent {
	args := map[string]string{k: v}
	for ak, av := range e.CustomArgs {
		args[ak] = av
	}
	e.CustomArgs = args
	return e
}

func (h *harness) postEvents(events ...providerfake.SendGridEvent) (*http.Response, []byte) {
	h.t.Helper()
	return h.send(h.sendGrid.EventRequest(testPublicURL+SendGridEventsPath, events))
}

func (h *harness) emailSuppression(email string) (content.SuppressionReason, bool) {
	h.t.Helper()
	key, err := content.SuppressionKeyOf(h.deps.HashKey, content.SuppressionEmail, email)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.store.Suppression(context.Background(), key)
	if content.IsCode(err, content.CodeNotFound) {
		return "", false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Reason, true
}

func (h *harness) webhookEventCount() int64 {
	h.t.Helper()
	n, err := h.store.Database().Collection("webhook_events").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// noEmailsLogged fails if an address of the example domains reached the log.
func noEmailsLogged(t *testing.T, h *harness) {
	t.Helper()
	for _, canary := range []string{"@example.com", "@example.test", "parent.", "old.address"} {
		if strings.Contains(h.logBuf.String(), canary) {
			t.Fatalf("the log holds %q", canary)
		}
	}
}

// TestSendGridEventEffects: each kind of event, applied to a sent email,
// leaves the entry in the state it proves and suppresses the address only
// for what says the address must not be mailed again.
func TestSendGridEventEffects(t *testing.T) {
	t.Parallel()
	type ev struct {
		event  string
		typ    string // bounce type
		reason string // dropped reason
	}
	cases := []struct {
		name     string
		events   []ev
		want     content.MessageState
		wantCode string
		suppress content.SuppressionReason // "" = not suppressed
	}{
		{"delivered", []ev{{event: "delivered"}}, content.StateDelivered, "", ""},
		{"bounce", []ev{{event: "bounce", typ: "bounce"}}, content.StateFailed, "bounce", content.SuppressBounce},
		{"bounce without a type", []ev{{event: "bounce"}}, content.StateFailed, "bounce", content.SuppressBounce},
		{"blocked is a failure, not a dead address", []ev{{event: "bounce", typ: "blocked"}}, content.StateFailed, "blocked", ""},
		{"dropped: bounced address", []ev{{event: "dropped", reason: "Bounced Address"}}, content.StateFailed, "dropped", content.SuppressBounce},
		{"dropped: unsubscribed address", []ev{{event: "dropped", reason: "Unsubscribed Address"}}, content.StateFailed, "dropped", content.SuppressUnsubscribe},
		{"dropped: spam reporting address", []ev{{event: "dropped", reason: "Spam Reporting Address"}}, content.StateFailed, "dropped", content.SuppressSpam},
		{"dropped: invalid", []ev{{event: "dropped", reason: "Invalid"}}, content.StateFailed, "dropped", ""},
		{"spam report", []ev{{event: "delivered"}, {event: "spamreport"}}, content.StateDelivered, "", content.SuppressSpam},
		{"unsubscribe", []ev{{event: "unsubscribe"}}, content.StateSent, "", content.SuppressUnsubscribe},
		{"group unsubscribe", []ev{{event: "group_unsubscribe"}}, content.StateSent, "", content.SuppressUnsubscribe},
		{"group resubscribe lifts nothing", []ev{{event: "unsubscribe"}, {event: "group_resubscribe"}}, content.StateSent, "", content.SuppressUnsubscribe},
		{"processed, deferred, open and click change nothing",
			[]ev{{event: "processed"}, {event: "deferred"}, {event: "open"}, {event: "click"}}, content.StateSent, "", ""},
		{"delivered after a bounce stays failed", []ev{{event: "bounce", typ: "bounce"}, {event: "delivered"}}, content.StateFailed, "bounce", content.SuppressBounce},
		{"a bounce after delivered moves on to failed", []ev{{event: "delivered"}, {event: "bounce", typ: "bounce"}}, content.StateFailed, "bounce", content.SuppressBounce},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			p := h.newLedgerPage(3, "email", content.RankSent)
			const addr = "parent.one@example.com"
			for i, e := range tc.events {
				se := sgEvent(e.event, fmt.Sprintf("evt-%d", i), addr, content.EntryRef(p.ID, 1))
				se.Type = e.typ
				if e.reason != "" {
					se = withArg(se, "reason", e.reason)
				}
				resp, body := h.postEvents(se)
				wantStatus(t, resp, body, http.StatusNoContent)
			}
			if e := h.entry(p.ID, 1); e.State() != tc.want || e.ErrorCode != tc.wantCode {
				t.Fatalf("entry: %s %q, want %s %q", e.State(), e.ErrorCode, tc.want, tc.wantCode)
			}
			reason, suppressed := h.emailSuppression(addr)
			if reason != tc.suppress || suppressed != (tc.suppress != "") {
				t.Fatalf("suppression: %q (%v), want %q", reason, suppressed, tc.suppress)
			}
			if _, other := h.emailSuppression("parent.two@example.com"); other {
				t.Fatal("another address is suppressed")
			}
			noEmailsLogged(t, h)
		})
	}
}

// TestSendGridEventRepeated46Times (TESTING D8): the same delivered event
// and the same bounce, each 46 times — in one batch, in separate batches
// and in concurrent ones — make one transition each, and the address is
// suppressed once.
func TestSendGridEventRepeated46Times(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	l := &countingLedger{Ledger: h.store}
	h.withLedger(l)
	sup := &countingSuppressions{Suppressions: h.store}
	d := h.deps
	d.Suppressions = sup
	h.deps, h.app = d, mustNew(t, d)

	p := h.newLedgerPage(3, "email", content.RankSent)
	const addr = "old.address@example.com"
	delivered := sgEvent("delivered", "ZGVsaXZlcmVkLTA", "parent.one@example.com", content.EntryRef(p.ID, 0))
	bounce := sgEvent("bounce", "Ym91bmNlLTE", addr, content.EntryRef(p.ID, 1))
	bounce.Type = "bounce"

	// 6 of each in one batch, 24 in separate batches, 16 concurrently.
	batch := []providerfake.SendGridEvent{}
	for range 6 {
		batch = append(batch, delivered, bounce)
	}
	resp, body := h.postEvents(batch...)
	wantStatus(t, resp, body, http.StatusNoContent)
	for range 24 {
		resp, body := h.postEvents(bounce, delivered)
		wantStatus(t, resp, body, http.StatusNoContent)
	}
	var wg sync.WaitGroup
	for range 16 {
		req := h.sendGrid.EventRequest(testPublicURL+SendGridEventsPath, []providerfake.SendGridEvent{delivered, bounce})
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.app.Test(req, 30_000)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("concurrent batch: status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()

	if n := l.count(); n != 2 {
		t.Errorf("%d ledger transitions for two events delivered 46 times each, want 2", n)
	}
	if n := sup.count(); n != 1 {
		t.Errorf("%d suppressions written for one bounce delivered 46 times, want 1", n)
	}
	if n := h.webhookEventCount(); n != 2 {
		t.Errorf("%d events recorded, want 2", n)
	}
	if e := h.entry(p.ID, 0); e.State() != content.StateDelivered {
		t.Errorf("entry 0: %s, want delivered", e.State())
	}
	if e := h.entry(p.ID, 1); e.State() != content.StateFailed {
		t.Errorf("entry 1: %s, want failed", e.State())
	}
	if reason, ok := h.emailSuppression(addr); !ok || reason != content.SuppressBounce {
		t.Errorf("suppression %q (%v), want bounce", reason, ok)
	}
	if n := h.suppressionCount(); n != 1 {
		t.Errorf("%d suppression documents, want 1", n)
	}
	noEmailsLogged(t, h)
}

type countingSuppressions struct {
	content.Suppressions
	mu sync.Mutex
	n  int
}

func (s *countingSuppressions) Suppress(ctx context.Context, sup *content.Suppression) error {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Suppressions.Suppress(ctx, sup)
}

func (s *countingSuppressions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// TestSendGridBatchWithMalformedEvents: events that are not objects or
// lack event or sg_event_id are skipped, each logged by its index only,
// and every other event in the batch is applied.
func TestSendGridBatchWithMalformedEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newLedgerPage(3, "email", content.RankSent)
	good := func(event, id, email string, i int) string {
		b, err := sgEvent(event, id, email, content.EntryRef(p.ID, i)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	body := "[" + strings.Join([]string{
		good("delivered", "evt-0", "parent.zero@example.com", 0),
		`"not an event"`,
		`{"event":"bounce","email":"parent.one@example.com","ref":"` + content.EntryRef(p.ID, 1) + `"}`,
		`{"sg_event_id":"evt-3","email":"parent.one@example.com"}`,
		`42`,
		good("unsubscribe", "evt-5", "parent.five@example.com", 1),
		good("bounce", "evt-6", "parent.six@example.com", 2),
	}, ",") + "]"
	sig, ts := h.sendGrid.SignEventBody([]byte(body))
	resp, out := h.do("POST", SendGridEventsPath, body, "",
		withHeader("X-Twilio-Email-Event-Webhook-Signature", sig), withHeader("X-Twilio-Email-Event-Webhook-Timestamp", ts))
	wantStatus(t, resp, out, http.StatusNoContent)

	for i, want := range []content.MessageState{content.StateDelivered, content.StateSent, content.StateFailed} {
		if e := h.entry(p.ID, i); e.State() != want {
			t.Errorf("entry %d: %s, want %s", i, e.State(), want)
		}
	}
	for addr, want := range map[string]content.SuppressionReason{"parent.five@example.com": content.SuppressUnsubscribe,
		"parent.six@example.com": content.SuppressBounce, "parent.one@example.com": ""} {
		if reason, _ := h.emailSuppression(addr); reason != want {
			t.Errorf("%s: suppression %q, want %q", addr, reason, want)
		}
	}
	logs := h.logBuf.String()
	for _, i := range []int{1, 2, 3, 4} {
		if !strings.Contains(logs, fmt.Sprintf(`"index":%d`, i)) {
			t.Errorf("malformed event %d is not logged by index", i)
		}
	}
	if !strings.Contains(logs, `"malformed":4`) {
		t.Errorf("the batch summary does not count 4 malformed events: %s", logs)
	}
	noEmailsLogged(t, h)
}

// TestSendGridFollowsTheSendersRef: the real SendGrid adapter puts the
// entry's ref in custom_args; the events the fake then builds for what it
// accepted find their entries.
func TestSendGridFollowsTheSendersRef(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newLedgerPage(4, "email", content.RankSent)
	sender, err := sendgrid.New(sendgrid.Config{APIKey: h.sendGrid.APIKey, Host: h.sendGrid.URL,
		From: "noreply@school.hometime.test", FromName: "Hometime", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var emails []notify.Email
	for _, i := range []int{1, 3} {
		emails = append(emails, notify.Email{Ref: content.EntryRef(p.ID, i), To: fmt.Sprintf("parent.%d@example.com", i),
			Subject: "Robins: this week", Text: "Hello"})
	}
	results, err := sender.SendEmails(context.Background(), emails)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	resp, body := h.postEvents(h.sendGrid.EventsFor("delivered")...)
	wantStatus(t, resp, body, http.StatusNoContent)
	for i, want := range []content.MessageState{content.StateSent, content.StateDelivered, content.StateSent, content.StateDelivered} {
		if e := h.entry(p.ID, i); e.State() != want {
			t.Errorf("entry %d: %s, want %s", i, e.State(), want)
		}
	}
}

// TestSendGridEventsRefuseBadSignatures: unsigned, badly signed or altered
// batches are 403 and change nothing.
func TestSendGridEventsRefuseBadSignatures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// sign returns the body to send and its two headers ("" omits one).
		sign func(h *harness, body []byte) (sent []byte, sig, ts string)
	}{
		{"unsigned", func(_ *harness, b []byte) ([]byte, string, string) { return b, "", "" }},
		{"no timestamp", func(h *harness, b []byte) ([]byte, string, string) {
			sig, _ := h.sendGrid.SignEventBody(b)
			return b, sig, ""
		}},
		{"junk signature", func(h *harness, b []byte) ([]byte, string, string) {
			_, ts := h.sendGrid.SignEventBody(b)
			return b, "bm90IGEgc2lnbmF0dXJl", ts
		}},
		{"body changed after signing", func(h *harness, b []byte) ([]byte, string, string) {
			sig, ts := h.sendGrid.SignEventBody(b)
			return bytes.Replace(b, []byte(`"delivered"`), []byte(`"bounce"`), 1), sig, ts
		}},
		{"timestamp changed after signing", func(h *harness, b []byte) ([]byte, string, string) {
			sig, ts := h.sendGrid.SignEventBody(b)
			n, _ := strconv.ParseInt(ts, 10, 64)
			return b, sig, strconv.FormatInt(n+1, 10)
		}},
		{"signed with another key", func(h *harness, b []byte) ([]byte, string, string) {
			sig, ts := providerfake.NewSendGrid(h.t).SignEventBody(b)
			return b, sig, ts
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			p := h.newLedgerPage(1, "email", content.RankSent)
			body, _, _ := h.sendGrid.SignedEvents([]providerfake.SendGridEvent{
				sgEvent("delivered", "evt-0", "parent.one@example.com", content.EntryRef(p.ID, 0)),
				sgEvent("unsubscribe", "evt-1", "parent.one@example.com", ""),
			})
			sent, sig, ts := tc.sign(h, body)
			var opts []reqOpt
			if sig != "" {
				opts = append(opts, withHeader("X-Twilio-Email-Event-Webhook-Signature", sig))
			}
			if ts != "" {
				opts = append(opts, withHeader("X-Twilio-Email-Event-Webhook-Timestamp", ts))
			}
			resp, out := h.do("POST", SendGridEventsPath, sent, "", opts...)
			wantStatus(t, resp, out, http.StatusForbidden)
			if e := decode[errorBody](t, out); e.Error.Code != string(content.CodeForbidden) {
				t.Fatalf("error body %s", out)
			}
			if e := h.entry(p.ID, 0); e.Rank != content.RankSent {
				t.Fatalf("a refused batch moved the entry: %+v", e)
			}
			if h.suppressionCount() != 0 || h.webhookEventCount() != 0 {
				t.Fatal("a refused batch suppressed or recorded something")
			}
		})
	}
}

// TestSendGridEventsRefuseStaleBatches: a batch whose signed timestamp is
// more than ten minutes from our clock, either way, is refused with 403 and
// changes nothing, so a signed batch captured on the wire cannot be
// replayed later; within the window it is applied.
func TestSendGridEventsRefuseStaleBatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		skew time.Duration // when the batch was signed, relative to our clock
		want int
	}{
		{"signed now", 0, http.StatusNoContent},
		{"signed 9 minutes ago", -9 * time.Minute, http.StatusNoContent},
		{"signed 10 minutes ago", -10 * time.Minute, http.StatusNoContent},
		{"signed 11 minutes ago", -11 * time.Minute, http.StatusForbidden},
		{"signed a day ago", -24 * time.Hour, http.StatusForbidden},
		{"signed 9 minutes ahead", 9 * time.Minute, http.StatusNoContent},
		{"signed 11 minutes ahead", 11 * time.Minute, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.sendGrid.SetClock(func() time.Time { return h.clock.Now().Add(tc.skew) })
			resp, body := h.postEvents(sgEvent("unsubscribe", "evt-0", "parent.one@example.com", ""))
			wantStatus(t, resp, body, tc.want)
			_, suppressed := h.emailSuppression("parent.one@example.com")
			if suppressed != (tc.want == http.StatusNoContent) {
				t.Fatalf("status %d, suppressed = %v", tc.want, suppressed)
			}
			if tc.want == http.StatusForbidden && h.webhookEventCount() != 0 {
				t.Fatal("a stale batch recorded its event")
			}
		})
	}
	t.Run("a captured batch replayed later", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		captured, sig, ts := h.sendGrid.SignedEvents([]providerfake.SendGridEvent{
			sgEvent("unsubscribe", "evt-0", "parent.one@example.com", "")})
		h.clock.Advance(11 * time.Minute)
		resp, out := h.do("POST", SendGridEventsPath, captured, "",
			withHeader("X-Twilio-Email-Event-Webhook-Signature", sig), withHeader("X-Twilio-Email-Event-Webhook-Timestamp", ts))
		wantStatus(t, resp, out, http.StatusForbidden)
		if _, suppressed := h.emailSuppression("parent.one@example.com"); suppressed {
			t.Fatal("a replayed batch suppressed the address")
		}
	})
}

func TestSendGridEventsEdges(t *testing.T) {
	t.Parallel()
	t.Run("without a verification key the route is unavailable", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		d := h.deps
		d.SendGridEvents = nil
		h.app = mustNew(t, d)
		resp, body := h.postEvents(sgEvent("unsubscribe", "evt-0", "parent.one@example.com", ""))
		wantStatus(t, resp, body, http.StatusServiceUnavailable)
		if h.suppressionCount() != 0 {
			t.Fatal("suppressed without checking the signature")
		}
	})
	t.Run("a signed body that is not an array is invalid", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body := `{"event":"unsubscribe","sg_event_id":"evt-0","email":"parent.one@example.com"}`
		sig, ts := h.sendGrid.SignEventBody([]byte(body))
		resp, out := h.do("POST", SendGridEventsPath, body, "",
			withHeader("X-Twilio-Email-Event-Webhook-Signature", sig), withHeader("X-Twilio-Email-Event-Webhook-Timestamp", ts))
		wantStatus(t, resp, out, http.StatusBadRequest)
		if h.suppressionCount() != 0 {
			t.Fatal("suppressed from an invalid body")
		}
	})
	t.Run("an event for another sender's mail only suppresses", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		resp, body := h.postEvents(sgEvent("delivered", "evt-0", "parent.one@example.com", ""),
			sgEvent("bounce", "evt-1", "parent.two@example.com", ""))
		wantStatus(t, resp, body, http.StatusNoContent)
		if reason, _ := h.emailSuppression("parent.two@example.com"); reason != content.SuppressBounce {
			t.Fatalf("suppression %q, want bounce", reason)
		}
		if n := h.webhookEventCount(); n != 1 {
			t.Fatalf("%d events recorded, want 1 (a delivered event with no ref changes nothing)", n)
		}
	})
	t.Run("a store failure is forgotten so SendGrid's retry applies it", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		l := &countingLedger{Ledger: h.store}
		h.withLedger(l)
		p := h.newLedgerPage(3, "email", content.RankSent)
		events := []providerfake.SendGridEvent{
			sgEvent("delivered", "evt-0", "parent.zero@example.com", content.EntryRef(p.ID, 0)),
			sgEvent("delivered", "evt-1", "parent.one@example.com", content.EntryRef(p.ID, 1)),
			sgEvent("delivered", "evt-2", "parent.two@example.com", content.EntryRef(p.ID, 2)),
		}
		// Fail the second event's write: the first is applied, the batch
		// answered 503 and the rest left for the retry.
		h.withLedger(&failingAt{Ledger: h.store, failIndex: 1})
		resp, body := h.postEvents(events...)
		wantStatus(t, resp, body, http.StatusServiceUnavailable)
		if e := h.entry(p.ID, 0); e.State() != content.StateDelivered {
			t.Fatalf("entry 0 before the failure: %s, want delivered", e.State())
		}
		if n := h.webhookEventCount(); n != 1 {
			t.Fatalf("%d events recorded after the failure, want 1 (the failed one forgotten)", n)
		}
		h.withLedger(l)
		resp, body = h.postEvents(events...)
		wantStatus(t, resp, body, http.StatusNoContent)
		for i := range 3 {
			if e := h.entry(p.ID, i); e.State() != content.StateDelivered {
				t.Fatalf("entry %d after the retry: %s, want delivered", i, e.State())
			}
		}
		if n := l.count(); n != 2 {
			t.Fatalf("the retry made %d transitions, want 2 (event 0 was a repeat)", n)
		}
	})
}

// failingAt fails RaiseEntryState for one entry index as the store would
// when it stops answering.
type failingAt struct {
	content.Ledger
	failIndex int
}

func (l *failingAt) RaiseEntryState(ctx context.Context, pageID string, index int, state content.MessageState, errorCode string, at time.Time) error {
	if index == l.failIndex {
		return content.Errorf(content.CodeUnavailable, "the store is not answering")
	}
	return l.Ledger.RaiseEntryState(ctx, pageID, index, state, errorCode, at)
}

package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The harness verifies Twilio signatures with notify/twilio's validator
// (the SDK's) under this token; the tests sign with providerfake's signer,
// written independently of the SDK, so each checks the other.
const (
	testTwilioToken = "twiliotesttoken0123456789abcdef"
	testPublicURL   = "https://api.hometime.test"
	inboundPath     = "/webhooks/twilio/inbound"
)

// inboundForm is what Twilio posts for one incoming text; each text has a
// MessageSid of its own.
func inboundForm(from, body string) url.Values {
	sid := newMessageSid()
	return url.Values{
		"MessageSid": {sid},
		"SmsSid":     {sid},
		"AccountSid": {"AC" + strings.Repeat("1b", 16)},
		"From":       {from},
		"To":         {"+447700900999"},
		"Body":       {body},
		"NumMedia":   {"0"},
		"ApiVersion": {"2010-04-01"},
	}
}

// newMessageSid returns a random Twilio message SID ("SM" + 32 hex).
func newMessageSid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

func signInbound(form url.Values) string {
	return providerfake.TwilioSignature(testTwilioToken, testPublicURL+inboundPath, form)
}

// inbound posts form to the webhook with signature sig ("" sends none).
func (h *harness) inbound(form url.Values, sig string) (*http.Response, []byte) {
	h.t.Helper()
	opts := []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}
	if sig != "" {
		opts = append(opts, withHeader("X-Twilio-Signature", sig))
	}
	return h.do("POST", inboundPath, form.Encode(), "", opts...)
}

func (h *harness) smsSuppressed(phone string) bool {
	h.t.Helper()
	key, err := content.SuppressionKeyOf(h.deps.HashKey, content.SuppressionSMS, phone)
	if err != nil {
		h.t.Fatal(err)
	}
	ok, err := h.store.IsSuppressed(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	return ok
}

func (h *harness) suppressionCount() int64 {
	h.t.Helper()
	n, err := h.store.Database().Collection("suppressions").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

const (
	emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response/>`
	helpPrefix = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Message>Hometime: `
)

// TestTwilioInboundKeywords sends signed texts in order from one number and
// checks, after each, the answer and whether the number is suppressed.
func TestTwilioInboundKeywords(t *testing.T) {
	t.Parallel()
	type text struct {
		body       string
		optOutType string // Twilio Advanced Opt-Out's classification, if sent
		suppressed bool   // afterwards
		help       bool   // answered with the HELP message
	}
	cases := []struct {
		name  string
		texts []text
	}{
		{"STOP suppresses", []text{{body: "STOP", suppressed: true}}},
		{"trailing space", []text{{body: "stop ", suppressed: true}}},
		{"mixed case", []text{{body: "Stop", suppressed: true}}},
		{"STOPALL", []text{{body: "STOPALL", suppressed: true}}},
		{"every opt-out synonym", []text{{body: "unsubscribe", suppressed: true}, {body: "START"}, {body: "end", suppressed: true},
			{body: "YES"}, {body: "Quit", suppressed: true}, {body: "unstop"}, {body: "REVOKE", suppressed: true}, {body: "start"},
			{body: "optout", suppressed: true}, {body: "start"}, {body: "Cancel", suppressed: true}}},
		{"stop please is an ordinary text", []text{{body: "stop please"}}},
		{"a reply to the teacher", []text{{body: "Thanks, see you Monday!"}}},
		{"START lifts STOP", []text{{body: "STOP", suppressed: true}, {body: "START"}}},
		{"START when never stopped", []text{{body: "START"}}},
		{"STOP twice", []text{{body: "STOP", suppressed: true}, {body: "STOP", suppressed: true}}},
		{"STOP again after START", []text{{body: "STOP", suppressed: true}, {body: "START"}, {body: "stop", suppressed: true}}},
		{"HELP", []text{{body: "HELP", help: true}}},
		{"INFO while stopped", []text{{body: "STOP", suppressed: true}, {body: "info", suppressed: true, help: true}}},
		{"Twilio's OptOutType wins over the body", []text{{body: "Arrêt", optOutType: "STOP", suppressed: true},
			{body: "Oui", optOutType: "START"}, {body: "Aide", optOutType: "HELP", help: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			const phone = "+447700900123"
			for i, tx := range tc.texts {
				form := inboundForm(phone, tx.body)
				if tx.optOutType != "" {
					form.Set("OptOutType", tx.optOutType)
				}
				resp, body := h.inbound(form, signInbound(form))
				wantStatus(t, resp, body, http.StatusOK)
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
					t.Fatalf("text %d (%q): Content-Type %q, want text/xml", i, tx.body, ct)
				}
				switch {
				case tx.help && !(strings.HasPrefix(string(body), helpPrefix) && strings.Contains(string(body), "Reply STOP") &&
					strings.HasSuffix(string(body), "</Message></Response>")):
					t.Fatalf("text %d (%q): answer %q, want the HELP message", i, tx.body, body)
				case !tx.help && string(body) != emptyTwiML:
					t.Fatalf("text %d (%q): answer %q, want an empty <Response/>", i, tx.body, body)
				}
				if got := h.smsSuppressed(phone); got != tx.suppressed {
					t.Fatalf("text %d (%q): suppressed = %v, want %v", i, tx.body, got, tx.suppressed)
				}
				if n := h.suppressionCount(); n > 1 {
					t.Fatalf("text %d (%q): %d suppression documents for one number", i, tx.body, n)
				}
			}
			if h.smsSuppressed("+447700900124") {
				t.Fatal("another number is suppressed")
			}
			logs := h.logBuf.String()
			for _, tx := range tc.texts {
				for _, canary := range []string{"7700900123", "\"" + tx.body + "\""} {
					if strings.Contains(logs, canary) {
						t.Errorf("the log holds %q", canary)
					}
				}
			}
		})
	}
}

// TestTwilioInboundRefusesBadSignatures: whatever is wrong with the
// signature, the answer is 403 with the standard error body and nothing is
// suppressed.
func TestTwilioInboundRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	const phone = "+447700900123"
	cases := []struct {
		name string
		sign func(form url.Values) (url.Values, string) // returns what is sent
	}{
		{"unsigned", func(f url.Values) (url.Values, string) { return f, "" }},
		{"junk signature", func(f url.Values) (url.Values, string) { return f, "bm90IGEgc2lnbmF0dXJl" }},
		{"tampered body", func(f url.Values) (url.Values, string) {
			f.Set("Body", "HELP")
			sig := signInbound(f)
			f.Set("Body", "STOP")
			return f, sig
		}},
		{"tampered sender", func(f url.Values) (url.Values, string) {
			sig := signInbound(f)
			f.Set("From", "+447700900124")
			return f, sig
		}},
		{"added parameter", func(f url.Values) (url.Values, string) {
			sig := signInbound(f)
			f.Set("OptOutType", "STOP")
			return f, sig
		}},
		{"signed for another URL", func(f url.Values) (url.Values, string) {
			return f, providerfake.TwilioSignature(testTwilioToken, "https://elsewhere.test"+inboundPath, f)
		}},
		{"signed over plain http", func(f url.Values) (url.Values, string) {
			return f, providerfake.TwilioSignature(testTwilioToken, "http://api.hometime.test"+inboundPath, f)
		}},
		{"signed with another token", func(f url.Values) (url.Values, string) {
			return f, providerfake.TwilioSignature("someoneelsestoken0123456789abcd", testPublicURL+inboundPath, f)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			form, sig := tc.sign(inboundForm(phone, "STOP"))
			resp, body := h.inbound(form, sig)
			wantStatus(t, resp, body, http.StatusForbidden)
			if e := decode[errorBody](t, body); e.Error.Code != string(content.CodeForbidden) {
				t.Fatalf("error body %s", body)
			}
			if h.smsSuppressed(phone) || h.smsSuppressed("+447700900124") || h.suppressionCount() != 0 {
				t.Fatal("a refused request suppressed a number")
			}
		})
	}
}

// TestTwilioInboundDeduplicates: each text is applied once, by its
// MessageSid. A STOP delivered again after a later START, or a START
// replayed after a later STOP, changes nothing; a new text still does.
func TestTwilioInboundDeduplicates(t *testing.T) {
	t.Parallel()
	type text struct {
		sid        int // texts with the same number are one message delivered again
		body       string
		suppressed bool // afterwards
	}
	cases := []struct {
		name  string
		texts []text
	}{
		{"the same STOP twice, then START", []text{{1, "STOP", true}, {1, "STOP", true}, {2, "START", false}}},
		{"a STOP redelivered after a later START", []text{{1, "STOP", true}, {2, "START", false}, {1, "STOP", false}}},
		{"a START replayed after a later STOP", []text{{1, "START", false}, {2, "STOP", true}, {1, "START", true}}},
		{"a START redelivered after STOP, START, STOP", []text{{1, "STOP", true}, {2, "START", false}, {3, "STOP", true},
			{2, "START", true}}},
		{"new texts still act", []text{{1, "STOP", true}, {2, "START", false}, {3, "STOP", true}, {4, "START", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			const phone = "+447700900123"
			sids := map[int]string{}
			for i, tx := range tc.texts {
				if sids[tx.sid] == "" {
					sids[tx.sid] = newMessageSid()
				}
				form := inboundForm(phone, tx.body)
				form.Set("MessageSid", sids[tx.sid])
				form.Set("SmsSid", sids[tx.sid])
				resp, body := h.inbound(form, signInbound(form))
				wantStatus(t, resp, body, http.StatusOK)
				if string(body) != emptyTwiML {
					t.Fatalf("text %d: answer %q", i, body)
				}
				if got := h.smsSuppressed(phone); got != tx.suppressed {
					t.Fatalf("text %d (%s, message %d): suppressed = %v, want %v", i, tx.body, tx.sid, got, tx.suppressed)
				}
			}
			if n := h.webhookEventCount(); n != int64(len(sids)) {
				t.Fatalf("%d texts recorded, want %d (one per message)", n, len(sids))
			}
		})
	}
	t.Run("a STOP whose write failed is applied when Twilio retries it", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		failing := &failingSuppressions{Suppressions: h.store, fail: 1}
		d := h.deps
		d.Suppressions = failing
		h.app = mustNew(t, d)
		const phone = "+447700900123"
		form := inboundForm(phone, "STOP")
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusInternalServerError)
		if h.smsSuppressed(phone) || h.webhookEventCount() != 0 {
			t.Fatal("a failed STOP left a suppression or its record")
		}
		resp, body = h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusOK)
		if !h.smsSuppressed(phone) {
			t.Fatal("the retried STOP was taken for a repeat")
		}
	})
	t.Run("a signed STOP without MessageSid is invalid", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		form := inboundForm("+447700900123", "STOP")
		form.Del("MessageSid")
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusBadRequest)
		if e := decode[errorBody](t, body); e.Error.Fields["MessageSid"] != "required" || h.suppressionCount() != 0 {
			t.Fatalf("error body %s", body)
		}
	})
}

// failingSuppressions fails the next fail Suppress calls.
type failingSuppressions struct {
	content.Suppressions
	fail int
}

func (f *failingSuppressions) Suppress(ctx context.Context, s *content.Suppression) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("store down")
	}
	return f.Suppressions.Suppress(ctx, s)
}

func TestTwilioInboundEdges(t *testing.T) {
	t.Parallel()
	t.Run("a body that is not a form is refused", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// Off the contract on purpose, so sent without checkContract.
		for _, ct := range []string{"", "application/json"} {
			req := httptest.NewRequest("POST", inboundPath, strings.NewReader(`{"From":"+447700900123","Body":"STOP"}`))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			req.Header.Set("X-Twilio-Signature", signInbound(url.Values{}))
			resp, err := h.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || h.suppressionCount() != 0 {
				t.Fatalf("Content-Type %q: status %d, want 403", ct, resp.StatusCode)
			}
		}
	})
	t.Run("a signed text without From is invalid", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		form := inboundForm("+447700900123", "STOP")
		form.Del("From")
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusBadRequest)
		if e := decode[errorBody](t, body); e.Error.Fields["From"] != "required" {
			t.Fatalf("error body %s", body)
		}
	})
	t.Run("STOP from a short code is ignored", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		form := inboundForm("88022", "STOP")
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusOK)
		if string(body) != emptyTwiML || h.suppressionCount() != 0 {
			t.Fatalf("answer %q, %d suppressions", body, h.suppressionCount())
		}
	})
	t.Run("START never lifts an erasure", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		const phone = "+447700900123"
		key, err := content.SuppressionKeyOf(h.deps.HashKey, content.SuppressionSMS, phone)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.Suppress(context.Background(), &content.Suppression{Key: key, Channel: content.SuppressionSMS,
			Reason: content.SuppressErasure, At: h.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, b := range []string{"STOP", "START"} {
			form := inboundForm(phone, b)
			resp, body := h.inbound(form, signInbound(form))
			wantStatus(t, resp, body, http.StatusOK)
		}
		sup, err := h.store.Suppression(context.Background(), key)
		if err != nil || sup.Reason != content.SuppressErasure {
			t.Fatalf("after STOP, START: %+v, %v; want still suppressed for erasure", sup, err)
		}
	})
	t.Run("without a Twilio auth token the route is unavailable", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		d := h.deps
		d.Twilio = nil
		h.app = mustNew(t, d)
		form := inboundForm("+447700900123", "STOP")
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, http.StatusServiceUnavailable)
		if e := decode[errorBody](t, body); e.Error.Code != string(content.CodeUnavailable) || h.suppressionCount() != 0 {
			t.Fatalf("error body %s", body)
		}
	})
}

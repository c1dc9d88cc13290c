package providerfake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SendGrid is a fake of the SendGrid v3 Mail Send API: POST /v3/mail/send
// with Authorization: Bearer KEY and an SGMailV3 JSON body, answering 202
// with an X-Message-Id header or {"errors":[{"message","field","help"}]}.
// It also signs Event Webhook batches with an ECDSA P-256 key it generates.
//
// Controls (promoted from the shared fault control): FailNext, LimitRate, Hanging,
// SetClock, RateLimited, Requests. The rate cap counts personalizations
// (messages), so a request larger than the cap is always refused.
type SendGrid struct {
	*control
	journal[SendGridRequest]
	URL    string // host to give the adapter (HOMETIME_SENDGRID_BASE_URL)
	APIKey string

	key *ecdsa.PrivateKey
}

// FakeSendGridAPIKey is the key the fake accepts.
const FakeSendGridAPIKey = "SG.fake-key.fake-secret"

// SendGridRequest is one mail-send request the fake parsed.
type SendGridRequest struct {
	MessageID        string // X-Message-Id when accepted
	Accepted         bool
	HTTPStatus       int // 0 when the fake hung instead of answering
	From             string
	Subject          string
	Categories       []string
	Contents         []SendGridContent
	Personalizations []SendGridPersonalization
}

func (r SendGridRequest) accepted() bool { return r.Accepted }

// SendGridContent is one content part (type text/plain or text/html).
type SendGridContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// SendGridPersonalization is one personalization block.
type SendGridPersonalization struct {
	To         []string
	Subject    string
	CustomArgs map[string]string
}

// NewSendGrid starts a fake SendGrid API that shuts down when the test ends.
func NewSendGrid(t testing.TB) *SendGrid {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("providerfake: generate event webhook key: %v", err)
	}
	f := &SendGrid{control: newControl(), APIKey: FakeSendGridAPIKey, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/mail/send", f.send)
	f.URL = f.serve(t, mux)
	return f
}

// PersonalizationsPerRequest lists, for each parsed request in order, how
// many personalizations it carried.
func (f *SendGrid) PersonalizationsPerRequest() []int {
	var out []int
	for _, r := range f.Received() {
		out = append(out, len(r.Personalizations))
	}
	return out
}

// SentTo counts accepted personalizations addressed to one email address
// (case-insensitive).
func (f *SendGrid) SentTo(addr string) int {
	return f.countAccepted(func(r SendGridRequest) int {
		n := 0
		for _, p := range r.Personalizations {
			for _, to := range p.To {
				n += btoi(strings.EqualFold(to, addr))
			}
		}
		return n
	})
}

// wire shape of the parts of SGMailV3 the fake checks.
type sgMail struct {
	From *struct {
		Email string `json:"email"`
	} `json:"from"`
	Subject          string            `json:"subject"`
	Categories       []string          `json:"categories"`
	Content          []SendGridContent `json:"content"`
	Personalizations []struct {
		To []struct {
			Email string `json:"email"`
		} `json:"to"`
		Subject    string            `json:"subject"`
		CustomArgs map[string]string `json:"custom_args"`
	} `json:"personalizations"`
}

func (f *SendGrid) send(w http.ResponseWriter, r *http.Request) {
	f.countRequest()
	if !constEq(r.Header.Get("Authorization"), "Bearer "+f.APIKey) {
		sendGridError(w, http.StatusUnauthorized, "", "The provided authorization grant is invalid, expired, or revoked")
		return
	}
	var m sgMail
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		sendGridError(w, http.StatusBadRequest, "", "Bad Request")
		return
	}
	req := SendGridRequest{Subject: m.Subject, Categories: m.Categories, Contents: m.Content}
	if m.From != nil {
		req.From = m.From.Email
	}
	for _, p := range m.Personalizations {
		sp := SendGridPersonalization{Subject: p.Subject, CustomArgs: maps.Clone(p.CustomArgs)}
		for _, to := range p.To {
			sp.To = append(sp.To, to.Email)
		}
		req.Personalizations = append(req.Personalizations, sp)
	}
	reply := func(status int, field, msg string) {
		req.HTTPStatus = status
		f.record(req)
		sendGridError(w, status, field, msg)
	}
	if field, msg := validateMail(req); msg != "" {
		reply(http.StatusBadRequest, field, msg)
		return
	}

	fault, _ := f.nextFault()
	if fault.Status != 0 {
		setRetryAfter(w, fault.RetryAfter)
		if fault.Status == http.StatusTooManyRequests {
			f.rateHeaders(w, fault.RetryAfter)
		}
		reply(fault.Status, "", http.StatusText(fault.Status))
		return
	}
	if fault.Hang == HangBeforeAccept {
		f.record(req)
		f.hang(r)
	}
	if !f.admit(len(req.Personalizations)) {
		f.rateHeaders(w, time.Second)
		reply(http.StatusTooManyRequests, "", "too many requests")
		return
	}

	req.MessageID = randomHex(11)
	req.Accepted = true
	if fault.Hang == HangAfterAccept {
		f.record(req)
		f.hang(r)
	}
	req.HTTPStatus = http.StatusAccepted
	f.record(req)
	w.Header().Set("X-Message-Id", req.MessageID)
	w.WriteHeader(http.StatusAccepted)
}

// validateMail applies the request-level rules SendGrid enforces; one
// failure rejects the whole request.
func validateMail(r SendGridRequest) (field, msg string) {
	switch {
	case r.From == "":
		return "from.email", "The from email does not contain a valid address."
	case len(r.Personalizations) == 0:
		return "personalizations", "The personalizations field is required and must have at least one personalization."
	case len(r.Personalizations) > 1000:
		return "personalizations", "The personalizations field is limited to 1000 personalizations per request."
	case len(r.Contents) == 0:
		return "content", "The content value must be a string at least one character in length."
	}
	seen := map[string]bool{}
	for i, p := range r.Personalizations {
		if len(p.To) == 0 {
			return fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects."
		}
		if r.Subject == "" && p.Subject == "" {
			return "subject", "The subject is required."
		}
		for _, to := range p.To {
			key := strings.ToLower(to)
			if !strings.Contains(to, "@") {
				return fmt.Sprintf("personalizations.%d.to.0.email", i), "Does not contain a valid address."
			}
			if seen[key] {
				// The real message names the duplicate address.
				return fmt.Sprintf("personalizations.%d.to", i), fmt.Sprintf(
					"Each email address in the personalization block should be unique. We found the first duplicate instance of [%s] in the personalizations.%d.to field.", to, i)
			}
			seen[key] = true
		}
	}
	return "", ""
}

func (f *SendGrid) rateHeaders(w http.ResponseWriter, reset time.Duration) {
	w.Header().Set("X-RateLimit-Limit", "600")
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.clock().Add(reset).Unix(), 10))
}

func sendGridError(w http.ResponseWriter, status int, field, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "field": nil, "help": nil}
	if field != "" {
		e["field"] = field
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{e}})
}

// SendGridEvent is one Event Webhook event. CustomArgs are flattened to the
// top level of the JSON object, as SendGrid does.
type SendGridEvent struct {
	Email       string
	Timestamp   int64
	Event       string // processed, delivered, bounce, open, unsubscribe, …
	SGEventID   string
	SGMessageID string
	Type        string // bounce type: "bounce" or "blocked"
	CustomArgs  map[string]string
}

// MarshalJSON flattens the event the way the webhook delivers it.
func (e SendGridEvent) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range e.CustomArgs {
		m[k] = v
	}
	m["email"] = e.Email
	m["timestamp"] = e.Timestamp
	m["event"] = e.Event
	m["sg_event_id"] = e.SGEventID
	m["sg_message_id"] = e.SGMessageID
	if e.Type != "" {
		m["type"] = e.Type
	}
	return json.Marshal(m)
}

// EventsFor builds one event of the given kind for every personalization the
// fake accepted, with a fresh sg_event_id, the request's message id and the
// personalization's custom_args.
func (f *SendGrid) EventsFor(event string) []SendGridEvent {
	now := f.clock().Unix()
	var out []SendGridEvent
	for _, r := range f.Accepted() {
		for _, p := range r.Personalizations {
			for _, to := range p.To {
				out = append(out, SendGridEvent{
					Email:       to,
					Timestamp:   now,
					Event:       event,
					SGEventID:   randomHex(11),
					SGMessageID: r.MessageID + ".filterdrecv-fake-1-" + randomHex(4) + ".0",
					CustomArgs:  maps.Clone(p.CustomArgs),
				})
			}
		}
	}
	return out
}

// EventWebhookPublicKey returns the verification key as SendGrid shows it in
// its settings: base64 of the DER (PKIX) encoding of the P-256 public key.
func (f *SendGrid) EventWebhookPublicKey() string {
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		panic("providerfake: marshal public key: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(der)
}

// SignEventBody signs a raw webhook body: signature = base64(ASN.1 ECDSA
// over SHA-256(timestamp + body)), timestamp = Unix seconds of the fake's clock.
func (f *SendGrid) SignEventBody(body []byte) (signature, timestamp string) {
	timestamp = strconv.FormatInt(f.clock().Unix(), 10)
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, f.key, h.Sum(nil))
	if err != nil {
		panic("providerfake: sign events: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(sig), timestamp
}

// SignedEvents marshals an event batch and signs it.
func (f *SendGrid) SignedEvents(events []SendGridEvent) (body []byte, signature, timestamp string) {
	body, err := json.Marshal(events)
	if err != nil {
		panic("providerfake: marshal events: " + err.Error())
	}
	signature, timestamp = f.SignEventBody(body)
	return body, signature, timestamp
}

// EventRequest builds a signed Event Webhook POST to target.
func (f *SendGrid) EventRequest(target string, events []SendGridEvent) *http.Request {
	body, sig, ts := f.SignedEvents(events)
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	return r
}

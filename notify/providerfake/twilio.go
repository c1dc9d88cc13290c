package providerfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Twilio is a fake of the Twilio Programmable Messaging API:
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP
// Basic auth, answering 201 with {"sid":"SM…","num_segments":"1",…} or a
// Twilio error {"code","message","more_info","status"}.
//
// Controls (promoted from the shared fault control): FailNext, LimitRate, Hanging,
// SetClock, RateLimited, Requests.
type Twilio struct {
	*control
	journal[TwilioMessage]
	URL        string // base URL to give the adapter (HOMETIME_TWILIO_BASE_URL)
	AccountSID string
	AuthToken  string

	mu      sync.Mutex
	rejects map[string]int // To -> Twilio error code
}

// TwilioMessage is one message the fake received, with what it answered.
type TwilioMessage struct {
	SID                 string // "SM…" when accepted
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	ValidityPeriod      string
	Segments            int
	Accepted            bool
	HTTPStatus          int // 0 when the fake hung instead of answering
	ErrorCode           int
}

func (m TwilioMessage) accepted() bool { return m.Accepted }

// Default credentials of a fake Twilio account (alphanumeric, as the SDK requires).
const (
	FakeTwilioAccountSID = "AC00000000000000000000000000000001"
	FakeTwilioAuthToken  = "faketwilioauthtoken0000000000001"
)

// NewTwilio starts a fake Twilio API that shuts down when the test ends.
func NewTwilio(t testing.TB) *Twilio {
	t.Helper()
	f := &Twilio{
		control:    newControl(),
		AccountSID: FakeTwilioAccountSID,
		AuthToken:  FakeTwilioAuthToken,
		rejects:    map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", f.createMessage)
	f.URL = f.serve(t, mux)
	return f
}

// RejectTo makes every message to the number fail with a Twilio error code,
// e.g. 21610 (recipient replied STOP) or 21211 (invalid 'To' number).
func (f *Twilio) RejectTo(to string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejects[to] = code
}

// SentTo counts accepted messages to one number.
func (f *Twilio) SentTo(to string) int {
	return f.countAccepted(func(m TwilioMessage) int { return btoi(m.To == to) })
}

func (f *Twilio) createMessage(w http.ResponseWriter, r *http.Request) {
	f.countRequest()
	user, pass, ok := r.BasicAuth()
	if !ok || !constEq(user, f.AccountSID) || !constEq(pass, f.AuthToken) {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.PathValue("account") != f.AccountSID {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 21600, "Unreadable form")
		return
	}
	m := TwilioMessage{
		To:                  r.PostForm.Get("To"),
		From:                r.PostForm.Get("From"),
		MessagingServiceSID: r.PostForm.Get("MessagingServiceSid"),
		Body:                r.PostForm.Get("Body"),
		StatusCallback:      r.PostForm.Get("StatusCallback"),
		ValidityPeriod:      r.PostForm.Get("ValidityPeriod"),
	}
	m.Segments = segments(m.Body)
	reply := func(status, code int, msg string) {
		m.HTTPStatus, m.ErrorCode = status, code
		f.record(m)
		twilioError(w, status, code, msg)
	}
	switch {
	case m.To == "":
		reply(http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case m.From == "" && m.MessagingServiceSID == "":
		reply(http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case m.Body == "":
		reply(http.StatusBadRequest, 21602, "Message body is required.")
		return
	}

	fault, _ := f.nextFault()
	if fault.Status != 0 {
		setRetryAfter(w, fault.RetryAfter)
		code := 20500
		if fault.Status == http.StatusTooManyRequests {
			code = 20429
		}
		reply(fault.Status, code, http.StatusText(fault.Status))
		return
	}
	if fault.Hang == HangBeforeAccept {
		f.record(m)
		f.hang(r)
	}
	if !f.admit(1) {
		setRetryAfter(w, time.Second)
		reply(http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	}
	f.mu.Lock()
	code := f.rejects[m.To]
	f.mu.Unlock()
	if code != 0 {
		// Twilio's real messages echo the number; so does the fake, so that
		// adapters are tested for not leaking it into errors and logs.
		reply(http.StatusBadRequest, code, fmt.Sprintf("Message to %s refused (%d)", m.To, code))
		return
	}

	m.SID = "SM" + randomHex(16)
	m.Accepted = true
	if fault.Hang == HangAfterAccept {
		f.record(m)
		f.hang(r)
	}
	m.HTTPStatus = http.StatusCreated
	f.record(m)

	status := "queued"
	if m.MessagingServiceSID != "" {
		status = "accepted"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid":                   m.SID,
		"account_sid":           f.AccountSID,
		"to":                    m.To,
		"from":                  nullable(m.From),
		"messaging_service_sid": nullable(m.MessagingServiceSID),
		"body":                  m.Body,
		"status":                status,
		"num_segments":          strconv.Itoa(m.Segments),
		"num_media":             "0",
		"direction":             "outbound-api",
		"api_version":           "2010-04-01",
		"price":                 nil,
		"error_code":            nil,
		"error_message":         nil,
		"date_created":          time.Now().UTC().Format(time.RFC1123Z),
		"uri":                   "/2010-04-01/Accounts/" + f.AccountSID + "/Messages/" + m.SID + ".json",
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func constEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// TwilioStatus is the content of one Twilio status callback.
type TwilioStatus struct {
	MessageSID    string
	MessageStatus string // queued, sending, sent, delivered, undelivered, failed, …
	ErrorCode     int    // 0 = none, e.g. 30003, 30006
	To, From      string
}

// StatusCallbackForm builds the form Twilio posts to a StatusCallback URL and
// the X-Twilio-Signature it would carry, signed with the fake's auth token.
func (f *Twilio) StatusCallbackForm(callbackURL string, st TwilioStatus) (url.Values, string) {
	form := url.Values{}
	form.Set("AccountSid", f.AccountSID)
	form.Set("ApiVersion", "2010-04-01")
	form.Set("MessageSid", st.MessageSID)
	form.Set("SmsSid", st.MessageSID)
	form.Set("MessageStatus", st.MessageStatus)
	form.Set("SmsStatus", st.MessageStatus)
	if st.To != "" {
		form.Set("To", st.To)
	}
	if st.From != "" {
		form.Set("From", st.From)
	}
	if st.ErrorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(st.ErrorCode))
	}
	return form, TwilioSignature(f.AuthToken, callbackURL, form)
}

// StatusCallbackRequest builds a signed status callback POST to callbackURL,
// ready for a handler or an app.Test call.
func (f *Twilio) StatusCallbackRequest(callbackURL string, st TwilioStatus) *http.Request {
	form, sig := f.StatusCallbackForm(callbackURL, st)
	return signedFormRequest(callbackURL, form, sig)
}

// StatusCallbackFor builds the signed callback for a message the fake
// accepted, sent to the StatusCallback URL the message carried.
func (f *Twilio) StatusCallbackFor(sid, status string, errorCode int) (*http.Request, error) {
	for _, m := range f.Accepted() {
		if m.SID != sid {
			continue
		}
		if m.StatusCallback == "" {
			return nil, fmt.Errorf("providerfake: message %s has no StatusCallback", sid)
		}
		return f.StatusCallbackRequest(m.StatusCallback, TwilioStatus{
			MessageSID: sid, MessageStatus: status, ErrorCode: errorCode, To: m.To, From: m.From,
		}), nil
	}
	return nil, fmt.Errorf("providerfake: no accepted message %s", sid)
}

func signedFormRequest(target string, form url.Values, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", sig)
	return r
}

// TwilioSignature computes X-Twilio-Signature the way Twilio does, written
// independently of the SDK's validator so that each checks the other:
// base64(HMAC-SHA1(authToken, url + each key+value in key order)).
func TwilioSignature(authToken, callbackURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(callbackURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

package providerfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// FCM is a fake of the Firebase Cloud Messaging HTTP v1 API:
// POST /v1/projects/{project}/messages:send with {"message":{…}}, answering
// {"name":"projects/p/messages/…"} or a Google error whose details carry an
// FcmError errorCode (UNREGISTERED, QUOTA_EXCEEDED, …).
//
// Controls (promoted from the shared fault control): FailNext, LimitRate, Hanging,
// SetClock, RateLimited, Requests.
type FCM struct {
	*control
	journal[FCMMessage]
	URL       string // server root; the SDK endpoint is URL + "/v1"
	ProjectID string

	mu      sync.Mutex
	rejects map[string]string // token -> FCM error code
	bearer  string
	token   string // access token served at /token
}

// FCMMessage is one message the fake received, with what it answered.
type FCMMessage struct {
	Name         string // "projects/p/messages/…" when accepted
	Token        string
	Title        string
	Body         string
	Data         map[string]string
	ValidateOnly bool
	Accepted     bool
	HTTPStatus   int // 0 when the fake hung instead of answering
	ErrorCode    string
}

func (m FCMMessage) accepted() bool { return m.Accepted }

// FakeFCMProjectID is the project the fake serves.
const FakeFCMProjectID = "hometime-fake"

// MaxFCMPayload is FCM's limit on a message payload, in bytes.
const MaxFCMPayload = 4096

// NewFCM starts a fake FCM API that shuts down when the test ends.
func NewFCM(t testing.TB) *FCM {
	t.Helper()
	f := &FCM{control: newControl(), ProjectID: FakeFCMProjectID, rejects: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	mux.HandleFunc("POST /token", f.issueToken)
	f.URL = f.serve(t, mux)
	return f
}

// ServiceAccountFile writes a service-account file whose token_uri is the
// fake's (the value for HOMETIME_FCM_CREDENTIALS) into a temporary folder
// of the test, and returns its path.
func (f *FCM) ServiceAccountFile(t testing.TB) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": f.ProjectID, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "sender@" + f.ProjectID + ".iam.gserviceaccount.com", "client_id": "1", "token_uri": f.TokenURL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Endpoint is the value for option.WithEndpoint (HOMETIME_FCM_ENDPOINT).
func (f *FCM) Endpoint() string { return f.URL + "/v1" }

// TokenURL is an OAuth2 token endpoint served by the fake: it grants any
// request the access token set by RequireBearer. Use it as token_uri in a
// fake service-account file to test the authenticated path.
func (f *FCM) TokenURL() string { return f.URL + "/token" }

// RequireBearer makes sends require "Authorization: Bearer <token>" and
// makes TokenURL grant that token. Empty turns the check off.
func (f *FCM) RequireBearer(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bearer, f.token = token, token
}

// Unregister makes sends to the tokens fail with 404 UNREGISTERED.
func (f *FCM) Unregister(tokens ...string) {
	for _, t := range tokens {
		f.RejectToken(t, "UNREGISTERED")
	}
}

// RejectToken makes sends to one token fail with an FCM error code:
// UNREGISTERED, INVALID_ARGUMENT (token-level), SENDER_ID_MISMATCH,
// QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL or THIRD_PARTY_AUTH_ERROR.
func (f *FCM) RejectToken(token, errorCode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejects[token] = errorCode
}

// SentTo counts accepted messages to one device token.
func (f *FCM) SentTo(token string) int {
	return f.countAccepted(func(m FCMMessage) int { return btoi(m.Token == token) })
}

type fcmWire struct {
	ValidateOnly bool `json:"validate_only"`
	Message      *struct {
		Token        string `json:"token"`
		Notification *struct {
			Title string `json:"title"`
			Body  string `json:"body"`
		} `json:"notification"`
		Data map[string]string `json:"data"`
	} `json:"message"`
}

func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	f.countRequest()
	f.mu.Lock()
	bearer := f.bearer
	f.mu.Unlock()
	if bearer != "" && !constEq(r.Header.Get("Authorization"), "Bearer "+bearer) {
		fcmError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")
		return
	}
	if r.PathValue("project") != f.ProjectID {
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "SENDER_ID_MISMATCH", "Requested entity was not found.")
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var in fcmWire
	if err := json.Unmarshal(raw, &in); err != nil || in.Message == nil {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	m := FCMMessage{Token: in.Message.Token, Data: maps.Clone(in.Message.Data), ValidateOnly: in.ValidateOnly}
	if n := in.Message.Notification; n != nil {
		m.Title, m.Body = n.Title, n.Body
	}
	reply := func(code string) {
		st := fcmCodes[code]
		m.HTTPStatus, m.ErrorCode = st.http, code
		f.record(m)
		fcmError(w, st.http, st.status, code, st.message)
	}
	if m.Token == "" {
		reply("INVALID_ARGUMENT")
		return
	}
	if payloadSize(m) > MaxFCMPayload {
		m.HTTPStatus, m.ErrorCode = http.StatusBadRequest, "INVALID_ARGUMENT"
		f.record(m)
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Message is too big")
		return
	}

	fault, _ := f.nextFault()
	if fault.Status != 0 {
		setRetryAfter(w, fault.RetryAfter)
		code := fcmCodeForStatus(fault.Status)
		st := fcmCodes[code]
		m.HTTPStatus, m.ErrorCode = fault.Status, code
		f.record(m)
		fcmError(w, fault.Status, st.status, code, st.message)
		return
	}
	if fault.Hang == HangBeforeAccept {
		f.record(m)
		f.hang(r)
	}
	if !f.admit(1) {
		setRetryAfter(w, time.Second)
		reply("QUOTA_EXCEEDED")
		return
	}
	f.mu.Lock()
	code := f.rejects[m.Token]
	f.mu.Unlock()
	if code != "" {
		reply(code)
		return
	}

	m.Name = fmt.Sprintf("projects/%s/messages/0:%s", f.ProjectID, randomHex(8))
	m.Accepted = true
	if fault.Hang == HangAfterAccept {
		f.record(m)
		f.hang(r)
	}
	m.HTTPStatus = http.StatusOK
	f.record(m)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"name": m.Name})
}

func (f *FCM) issueToken(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	tok := f.token
	f.mu.Unlock()
	if tok == "" {
		tok = "fake-access-token"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// payloadSize approximates FCM's payload measure: the JSON of the
// notification and data, without the token.
func payloadSize(m FCMMessage) int {
	b, _ := json.Marshal(map[string]any{
		"notification": map[string]string{"title": m.Title, "body": m.Body},
		"data":         m.Data,
	})
	return len(b)
}

type fcmStatus struct {
	http    int
	status  string
	message string
}

var fcmCodes = map[string]fcmStatus{
	"UNREGISTERED":           {http.StatusNotFound, "NOT_FOUND", "Requested entity was not found."},
	"INVALID_ARGUMENT":       {http.StatusBadRequest, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"},
	"SENDER_ID_MISMATCH":     {http.StatusForbidden, "PERMISSION_DENIED", "SenderId mismatch"},
	"QUOTA_EXCEEDED":         {http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'."},
	"UNAVAILABLE":            {http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable."},
	"INTERNAL":               {http.StatusInternalServerError, "INTERNAL", "Internal error encountered."},
	"THIRD_PARTY_AUTH_ERROR": {http.StatusUnauthorized, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"},
}

func fcmCodeForStatus(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "QUOTA_EXCEEDED"
	case status == http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

func fcmError(w http.ResponseWriter, httpStatus int, status, errorCode, msg string) {
	body := map[string]any{"code": httpStatus, "message": msg, "status": status}
	if errorCode != "" {
		body["details"] = []any{map[string]string{
			"@type":     "type.googleapis.com/google.firebase.fcm.v1.FcmError",
			"errorCode": errorCode,
		}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

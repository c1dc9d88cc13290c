package providerfake

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

func TestTwilioSignatureMatchesPublishedVector(t *testing.T) {
	t.Parallel()
	params := url.Values{}
	for k, v := range map[string]string{
		"Digits": "1234", "CallSid": "CA1234567890ABCDE", "To": "+18005551212",
		"Caller": "+14158675309", "From": "+14158675309",
		"ReasonConferenceEnded": "test", "Reason": "Participant",
	} {
		params.Set(k, v)
	}
	got := TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if got != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("signature = %s", got)
	}
}

func TestSendGridSignatureVerifiesWithSDK(t *testing.T) {
	t.Parallel()
	f := NewSendGrid(t)
	body, sig, ts := f.SignedEvents([]SendGridEvent{{Email: "a@example.com", Event: "delivered", SGEventID: "e1"}})
	pub, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(f.EventWebhookPublicKey())
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	ok, err := eventwebhook.VerifySignature(pub, body, sig, ts)
	if err != nil || !ok {
		t.Fatalf("SDK verification: ok=%v err=%v", ok, err)
	}
	ok, _ = eventwebhook.VerifySignature(pub, append(body, ' '), sig, ts)
	if ok {
		t.Fatal("a changed body verified")
	}
	if !strings.Contains(string(body), `"sg_event_id":"e1"`) {
		t.Fatalf("body = %s", body)
	}
}

func TestRateCapSlidesWithTheClock(t *testing.T) {
	t.Parallel()
	c := newControl()
	var now atomic.Int64
	now.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c.SetClock(func() time.Time { return time.Unix(0, now.Load()) })
	c.LimitRate(3)

	admitted := 0
	for range 5 {
		if c.admit(1) {
			admitted++
		}
	}
	if admitted != 3 || c.RateLimited() != 2 {
		t.Fatalf("admitted %d, refused %d; want 3 and 2", admitted, c.RateLimited())
	}
	now.Add(int64(999 * time.Millisecond))
	if c.admit(1) {
		t.Fatal("admitted inside the same second")
	}
	now.Add(int64(2 * time.Millisecond))
	if !c.admit(3) || c.admit(1) {
		t.Fatal("the window did not slide by one second exactly")
	}
	if c.admit(4) {
		t.Fatal("a batch larger than the cap was admitted")
	}
}

func TestHangReleasesWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	f := NewTwilio(t)
	f.FailNext(1, AcceptThenHang())
	form := url.Values{"To": {"+447700900123"}, "From": {"+447700900001"}, "Body": {"hi"}}
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/2010-04-01/Accounts/"+f.AccountSID+"/Messages.json",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.AccountSID, f.AuthToken)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := client.Do(req); err == nil {
		t.Fatal("a hung request answered")
	}
	select {
	case <-f.Hanging():
	default:
		t.Fatal("Hanging did not signal")
	}
	if f.SentTo("+447700900123") != 1 || f.Requests() != 1 {
		t.Fatalf("accepted %d of %d requests, want 1 of 1", f.SentTo("+447700900123"), f.Requests())
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},          // extension characters cost two septets
		{strings.Repeat("€", 81), 2},          // 162 septets
		{strings.Repeat("ś", 70), 1},          // UCS-2
		{strings.Repeat("ś", 71), 2},          // 67 per part
		{"Hi 👋" + strings.Repeat("a", 66), 2}, // the emoji is two UTF-16 units: 71
	}
	for _, tt := range tests {
		if got := segments(tt.body); got != tt.want {
			t.Errorf("segments(%d chars) = %d, want %d", len([]rune(tt.body)), got, tt.want)
		}
	}
}

func TestFakesRefuseWrongCredentials(t *testing.T) {
	t.Parallel()
	tw := NewTwilio(t)
	sg := NewSendGrid(t)
	tests := []struct {
		name string
		url  string
		want int
	}{
		{"twilio", tw.URL + "/2010-04-01/Accounts/" + tw.AccountSID + "/Messages.json", http.StatusUnauthorized},
		{"sendgrid", sg.URL + "/v3/mail/send", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		resp, err := http.Post(tt.url, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}

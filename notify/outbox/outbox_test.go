package outbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
)

var fixedNow = time.Date(2026, time.March, 2, 9, 15, 0, 0, time.UTC)

// mustOutbox is a test helper: an outbox in a fresh private directory.
func mustOutbox(t *testing.T, logger *slog.Logger, opts ...Option) *Outbox {
	t.Helper()
	opts = append([]Option{WithClock(func() time.Time { return fixedNow })}, opts...)
	o, err := New(filepath.Join(t.TempDir(), "outbox"), logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// readRecords decodes every line of a channel's file.
func readRecords(t *testing.T, o *Outbox, ch notify.Channel) []Record {
	t.Helper()
	f, err := os.Open(o.Path(ch))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func wantKind(t *testing.T, err error, kind notify.ErrorKind, code string) {
	t.Helper()
	var se *notify.SendError
	if !errors.As(err, &se) || se.Kind != kind || se.Code != code {
		t.Fatalf("err = %v, want %s/%s", err, kind, code)
	}
}

func TestNew(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		wantErr string
	}{
		{"creates nested private dir", filepath.Join(base, "a", "b"), ""},
		{"refuses a dir others can read", shared, "0700"},
		{"refuses a file", file, ""},
		{"refuses no dir", "", "no directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := New(tt.dir, nil)
			if tt.name == "creates nested private dir" {
				if err != nil {
					t.Fatal(err)
				}
				info, err := os.Stat(tt.dir)
				if err != nil {
					t.Fatal(err)
				}
				if perm := info.Mode().Perm(); perm != 0o700 {
					t.Errorf("dir mode %#o, want 0700", perm)
				}
				if o.Path(notify.ChannelSMS) != filepath.Join(tt.dir, "sms.jsonl") {
					t.Errorf("Path = %s", o.Path(notify.ChannelSMS))
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestSendSMS(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		m        notify.SMS
		segments int
		encoding notify.Encoding
		kind     notify.ErrorKind
		code     string
	}{
		{"GSM-7 single", context.Background(), notify.SMS{Ref: "m1", To: "+447700900123", Body: "Your code is K7QX2M9P"}, 1, notify.EncodingGSM7, "", ""},
		{"GSM-7 two parts", context.Background(), notify.SMS{Ref: "m2", To: "+447700900123", From: "Hometime", Body: strings.Repeat("a", 161)}, 2, notify.EncodingGSM7, "", ""},
		{"Welsh circumflex is UCS-2", context.Background(), notify.SMS{Ref: "m3", To: "+447700900123", Body: "Croeso i Ysgol Bro Ŵyr! " + strings.Repeat("a", 60)}, 2, notify.EncodingUCS2, "", ""},
		{"national format refused", context.Background(), notify.SMS{Ref: "m4", To: "07700900123", Body: "hi"}, 0, "", notify.KindRecipientInvalid, CodeInvalidTo},
		{"spaces refused", context.Background(), notify.SMS{Ref: "m5", To: "+44 7700 900123", Body: "hi"}, 0, "", notify.KindRecipientInvalid, CodeInvalidTo},
		{"no recipient", context.Background(), notify.SMS{Ref: "m6", Body: "hi"}, 0, "", notify.KindRecipientInvalid, CodeInvalidTo},
		{"empty body", context.Background(), notify.SMS{Ref: "m7", To: "+447700900123", Body: "  "}, 0, "", notify.KindPermanent, CodeEmptyMessage},
		{"canceled context", canceled, notify.SMS{Ref: "m8", To: "+447700900123", Body: "hi"}, 0, "", notify.KindTransient, CodeCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustOutbox(t, nil)
			res := o.SendSMS(tt.ctx, tt.m)
			if res.Ref != tt.m.Ref {
				t.Errorf("Ref = %q, want %q", res.Ref, tt.m.Ref)
			}
			recs := readRecords(t, o, notify.ChannelSMS)
			if tt.kind != "" {
				wantKind(t, res.Err, tt.kind, tt.code)
				if res.ProviderID != "" || len(recs) != 0 || len(o.Recent()) != 0 {
					t.Errorf("a rejected SMS was recorded: %+v, %v", res, recs)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if !strings.HasPrefix(res.ProviderID, "outbox-sms-") || res.Segments != tt.segments {
				t.Errorf("result %+v, want outbox-sms-… with %d segments", res, tt.segments)
			}
			want := Record{Channel: notify.ChannelSMS, Ref: tt.m.Ref, ProviderID: res.ProviderID, At: fixedNow,
				To: tt.m.To, From: tt.m.From, Body: tt.m.Body, Segments: tt.segments, Encoding: tt.encoding}
			if len(recs) != 1 || !recordsEqual(recs[0], want) {
				t.Errorf("file has %+v, want %+v", recs, want)
			}
			info, err := os.Stat(o.Path(notify.ChannelSMS))
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("file mode %#o, want 0600", perm)
			}
		})
	}
}

// recordsEqual compares records as they come back from the file.
func recordsEqual(a, b Record) bool {
	if !a.At.Equal(b.At) {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func TestSendEmails(t *testing.T) {
	ok := func(ref, to string) notify.Email {
		return notify.Email{Ref: ref, To: to, Subject: "Reset your Hometime password", Text: "Use the link", HTML: "<p>Use the link</p>", Category: "password_reset"}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		emails   []notify.Email
		callErr  notify.ErrorKind // whole-call failure
		perEmail []notify.ErrorKind
		recorded int
	}{
		{"empty batch", context.Background(), nil, "", nil, 0},
		{"mixed batch keeps order", context.Background(), []notify.Email{
			ok("e1", "amira@example.org"),
			ok("e2", "not-an-address"),
			ok("e3", "Amira <amira@example.org>"),
			{Ref: "e4", To: "amira@example.org", Text: "no subject"},
			{Ref: "e5", To: "amira@example.org", Subject: "no body"},
			ok("e6", "bob@example.org"),
		}, "", []notify.ErrorKind{"", notify.KindRecipientInvalid, notify.KindRecipientInvalid, notify.KindPermanent, notify.KindPermanent, ""}, 2},
		{"over the batch limit", context.Background(), make([]notify.Email, notify.MaxEmailBatch+1), notify.KindPermanent, nil, 0},
		{"canceled", canceled, []notify.Email{ok("e1", "a@example.org"), ok("e2", "b@example.org")}, notify.KindTransient, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustOutbox(t, nil)
			results, err := o.SendEmails(tt.ctx, tt.emails)
			if len(results) != len(tt.emails) {
				t.Fatalf("%d results for %d emails", len(results), len(tt.emails))
			}
			if got := notify.KindOf(err); got != tt.callErr {
				t.Fatalf("call err = %v, want kind %q", err, tt.callErr)
			}
			for i, r := range results {
				if r.Ref != tt.emails[i].Ref {
					t.Errorf("result %d has ref %q, want %q", i, r.Ref, tt.emails[i].Ref)
				}
				want := tt.callErr
				if tt.perEmail != nil {
					want = tt.perEmail[i]
				}
				if got := notify.KindOf(r.Err); got != want {
					t.Errorf("result %d kind %q, want %q (%v)", i, got, want, r.Err)
				}
				if (r.ProviderID != "") != (want == "") {
					t.Errorf("result %d provider id %q with error %v", i, r.ProviderID, r.Err)
				}
			}
			recs := readRecords(t, o, notify.ChannelEmail)
			if len(recs) != tt.recorded {
				t.Fatalf("recorded %d, want %d", len(recs), tt.recorded)
			}
			for _, rec := range recs {
				if rec.Subject == "" || rec.Body == "" || rec.HTML == "" || rec.Category != "password_reset" || rec.Channel != notify.ChannelEmail {
					t.Errorf("incomplete record %+v", rec)
				}
			}
		})
	}
}

func TestSendPushes(t *testing.T) {
	o := mustOutbox(t, nil)
	data := map[string]string{"messageId": "p1"}
	results, err := o.SendPushes(context.Background(), []notify.Push{
		{Ref: "p1", Token: "tok-1", Title: "New activity", Body: "Counting conkers", Data: data},
		{Ref: "p2", Token: "", Title: "t"},
		{Ref: "p3", Token: "tok-3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Err != nil || !strings.HasPrefix(results[0].ProviderID, "outbox-push-") {
		t.Errorf("result 0: %+v", results[0])
	}
	wantKind(t, results[1].Err, notify.KindRecipientInvalid, CodeInvalidTo)
	wantKind(t, results[2].Err, notify.KindPermanent, CodeEmptyMessage)

	data["messageId"] = "changed by caller"
	got, ok := o.Last(notify.ChannelPush, "tok-1")
	if !ok || got.Data["messageId"] != "p1" || got.Title != "New activity" {
		t.Errorf("Last = %+v, %v; the caller's map must not alias the record", got, ok)
	}
	got.Data["messageId"] = "changed by reader"
	if again, _ := o.Last(notify.ChannelPush, "tok-1"); again.Data["messageId"] != "p1" {
		t.Error("a reader's map aliases the stored record")
	}
	if n := len(readRecords(t, o, notify.ChannelPush)); n != 1 {
		t.Errorf("recorded %d pushes, want 1", n)
	}
	if _, err := o.SendPushes(context.Background(), make([]notify.Push, notify.MaxPushBatch+1)); notify.KindOf(err) != notify.KindPermanent {
		t.Errorf("over-limit batch: err = %v", err)
	}
}

func TestRecentIsBoundedAndLastFindsNewest(t *testing.T) {
	o := mustOutbox(t, nil, WithKeep(3))
	ctx := context.Background()
	for i, to := range []string{"+447700900001", "+447700900002", "+447700900001", "+447700900003", "+447700900001"} {
		if res := o.SendSMS(ctx, notify.SMS{Ref: string(rune('a' + i)), To: to, Body: "code " + string(rune('A'+i))}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	recent := o.Recent()
	var refs []string
	for _, r := range recent {
		refs = append(refs, r.Ref)
	}
	if strings.Join(refs, ",") != "c,d,e" {
		t.Errorf("Recent refs = %v, want the newest three oldest first", refs)
	}
	tests := []struct {
		ch   notify.Channel
		to   string
		ok   bool
		body string
	}{
		{notify.ChannelSMS, "+447700900001", true, "code E"},
		{notify.ChannelSMS, "+447700900003", true, "code D"},
		{notify.ChannelSMS, "+447700900002", false, ""}, // pushed out of memory
		{notify.ChannelEmail, "+447700900001", false, ""},
	}
	for _, tt := range tests {
		got, ok := o.Last(tt.ch, tt.to)
		if ok != tt.ok || got.Body != tt.body {
			t.Errorf("Last(%s, %s) = %q, %v; want %q, %v", tt.ch, tt.to, got.Body, ok, tt.body, tt.ok)
		}
	}
	// The file keeps everything; only memory is bounded.
	if n := len(readRecords(t, o, notify.ChannelSMS)); n != 5 {
		t.Errorf("file has %d records, want 5", n)
	}
}

// TestLogsCarryIDsOnly sends messages full of personal data, accepted and
// rejected, and checks every log line holds only allowed keys and none of
// the data.
func TestLogsCarryIDsOnly(t *testing.T) {
	var buf bytes.Buffer
	o := mustOutbox(t, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	secrets := []string{"+447700900123", "07700900999", "amira.khan@example.org", "fcm-token-SECRET", "K7QX2M9P", "Amira", "Maximilian"}
	sms := o.SendSMS(ctx, notify.SMS{Ref: "msg-1", To: "+447700900123", Body: "Amira, your code is K7QX2M9P"})
	o.SendSMS(ctx, notify.SMS{Ref: "msg-2", To: "07700900999", Body: "Amira, code K7QX2M9P"})
	emails, _ := o.SendEmails(ctx, []notify.Email{
		{Ref: "msg-3", To: "amira.khan@example.org", Subject: "Maximilian has an award", Text: "Code K7QX2M9P"},
		{Ref: "msg-4", To: "Amira <amira.khan@example.org>", Subject: "Maximilian", Text: "K7QX2M9P"},
	})
	pushes, _ := o.SendPushes(ctx, []notify.Push{{Ref: "msg-5", Token: "fcm-token-SECRET", Title: "Maximilian", Body: "K7QX2M9P"}})

	logs := buf.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
	for _, id := range []string{"msg-1", "msg-2", "msg-3", "msg-4", "msg-5", sms.ProviderID, emails[0].ProviderID, pushes[0].ProviderID} {
		if !strings.Contains(logs, id) {
			t.Errorf("logs lack %q", id)
		}
	}
	allowed := map[string]bool{"time": true, "level": true, "msg": true, "channel": true, "ref": true,
		"provider_id": true, "kind": true, "code": true, "messages": true, "error": true}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	// One line per message at debug (the rejected one's is its refusal)
	// and one info summary per accepted batch: SMS, email, push.
	if len(lines) != 5+3 {
		t.Errorf("%d log lines, want one per message and one per accepted batch", len(lines))
	}
	if n := strings.Count(logs, `"msg":"outbox recorded messages"`); n != 3 {
		t.Errorf("%d batch summaries, want 3", n)
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatal(err)
		}
		for k := range entry {
			if !allowed[k] {
				t.Errorf("log key %q not allowed: %s", k, line)
			}
		}
	}
}

func TestWriteFailureIsTransientAndNotRemembered(t *testing.T) {
	o := mustOutbox(t, nil)
	// A directory where the file should be fails the open, even for root.
	if err := os.Mkdir(o.Path(notify.ChannelSMS), 0o700); err != nil {
		t.Fatal(err)
	}
	res := o.SendSMS(context.Background(), notify.SMS{Ref: "m1", To: "+447700900123", Body: "hi"})
	wantKind(t, res.Err, notify.KindTransient, CodeWriteFailed)
	if res.ProviderID != "" || len(o.Recent()) != 0 {
		t.Errorf("failed write left %+v, recent %v", res, o.Recent())
	}
	if err := os.Mkdir(o.Path(notify.ChannelEmail), 0o700); err != nil {
		t.Fatal(err)
	}
	results, err := o.SendEmails(context.Background(), []notify.Email{{Ref: "e1", To: "a@example.org", Subject: "s", Text: "t"}})
	if notify.KindOf(err) != notify.KindTransient || notify.KindOf(results[0].Err) != notify.KindTransient {
		t.Errorf("email write failure: %v / %v", err, results[0].Err)
	}
}

// TestConcurrentSends runs many senders, including two Outbox values on one
// directory as two processes would, and checks no line is lost or torn.
func TestConcurrentSends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	a, err := New(dir, nil, WithKeep(1000))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 40
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range workers {
		o := a
		if w%2 == 1 {
			o = b
		}
		wg.Go(func() {
			for i := range each {
				body := strings.Repeat("x", 100+i) // long lines make tearing visible
				if r := o.SendSMS(ctx, notify.SMS{Ref: "s", To: "+447700900123", Body: body}); r.Err != nil {
					t.Error(r.Err)
				}
				if _, err := o.SendEmails(ctx, []notify.Email{{Ref: "e", To: "a@example.org", Subject: "s", Text: body}, {Ref: "e", To: "b@example.org", Subject: "s", Text: body}}); err != nil {
					t.Error(err)
				}
				if _, err := o.SendPushes(ctx, []notify.Push{{Ref: "p", Token: "t", Body: body}}); err != nil {
					t.Error(err)
				}
				_ = o.Recent()
			}
		})
	}
	wg.Wait()
	for ch, want := range map[notify.Channel]int{notify.ChannelSMS: workers * each, notify.ChannelEmail: 2 * workers * each, notify.ChannelPush: workers * each} {
		recs := readRecords(t, a, ch)
		if len(recs) != want {
			t.Errorf("%s: %d records, want %d", ch, len(recs), want)
		}
		seen := map[string]bool{}
		for _, r := range recs {
			if seen[r.ProviderID] {
				t.Errorf("%s: duplicate provider id %s", ch, r.ProviderID)
			}
			seen[r.ProviderID] = true
		}
	}
	if n := len(a.Recent()); n != 4*workers/2*each {
		t.Errorf("outbox a remembers %d, want %d (its own sends only)", n, 4*workers/2*each)
	}
}

// TestDemoReadsInviteCode is the dev/demo journey: render an invite, send it
// through the outbox, read the code back.
func TestDemoReadsInviteCode(t *testing.T) {
	o := mustOutbox(t, nil)
	cat := notify.MustCatalog()
	r, err := cat.Render(notify.TemplateInvite, notify.LangEnglish, notify.Params{
		SchoolName: "Oak Hill Primary", ChildFirstName: "Sam", Code: "K7QX2M9P", Link: "https://join.hometime.example/i/K7QX2M9P",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := o.SendSMS(context.Background(), r.SMS("inv-1", "+447700900123")); res.Err != nil || res.Segments != 1 {
		t.Fatalf("send: %+v", res)
	}
	if _, err := o.SendEmails(context.Background(), []notify.Email{r.Email("inv-1e", "sam.parent@example.org")}); err != nil {
		t.Fatal(err)
	}
	sms, ok := o.Last(notify.ChannelSMS, "+447700900123")
	if !ok || !strings.Contains(sms.Body, "K7QX2M9P") {
		t.Errorf("SMS record %+v lacks the code", sms)
	}
	email, ok := o.Last(notify.ChannelEmail, "sam.parent@example.org")
	if !ok || email.Category != "invite" || !strings.Contains(email.HTML, `href="https://join.hometime.example/i/K7QX2M9P"`) {
		t.Errorf("email record %+v lacks the join link", email)
	}
}

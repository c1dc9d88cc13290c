package api

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// phoneParent adds an active parent who signs in by mobile number only.
func (w *world) phoneParent(t testing.TB, phone string) *content.Parent {
	t.Helper()
	ctx := context.Background()
	hash, err := w.h.deps.Passwords.Hash(ctx, fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	p := &content.Parent{ID: content.NewID("par"), FirstName: "Text", LastName: "Parent", Phone: phone, Language: "en",
		State: content.ParentActive, PasswordHash: hash, Sessions: []string{}, LastActiveAt: w.h.clock.Now(), CreatedAt: w.h.clock.Now()}
	if err := w.h.store.CreateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := w.h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "phone", phone), Kind: content.KindParent, AccountID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.h.linkForTest(ctx, p, w.K1); err != nil {
		t.Fatal(err)
	}
	return p
}

var smsCode = regexp.MustCompile(`\b([0-9]{8})\b`)

// textedCode runs the queued account-message tasks through the real worker
// and returns the code texted to phone ("" if none was).
func textedCode(t *testing.T, w *world, iw *inviteWorker, phone string) string {
	t.Helper()
	for _, task := range w.h.queue.OfType(tasks.TypeSendAccountEmail) {
		iw.run(t, task)
	}
	code := ""
	for _, m := range iw.twilio.Accepted() {
		if m.To == phone {
			if got := smsCode.FindStringSubmatch(m.Body); got != nil {
				code = got[1]
			}
		}
	}
	return code
}

func signInByPhone(w *world, phone, password string) int {
	resp, _ := w.h.do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": password}, "")
	return resp.StatusCode
}

// TestPasswordResetByText walks a phone-only parent's reset: the request's
// answer is the same for a known and an unknown number; the texted code is
// 8 digits in one GSM-7 segment, stored only as a hash; it sets the
// password once and signs out every session; used again it is refused.
func TestPasswordResetByText(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	iw := newInviteWorker(t, w.h)
	phone := "+447911123655"
	p := w.phoneParent(t, phone)
	resp, body := w.h.do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": fixturePassword}, "")
	wantStatus(t, resp, body, 200)
	session := decode[tokenResponse](t, body).AccessToken

	known, knownBody := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"phone": "07911 123655"}, "")
	unknown, unknownBody := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"phone": "+447911123999"}, "")
	if known.StatusCode != 202 || unknown.StatusCode != known.StatusCode || string(knownBody) != string(unknownBody) {
		t.Fatalf("known %d %s, unknown %d %s", known.StatusCode, knownBody, unknown.StatusCode, unknownBody)
	}
	if n := len(w.h.queue.OfType(tasks.TypeSendAccountEmail)); n != 1 {
		t.Fatalf("%d account messages queued, want 1 (the known number's)", n)
	}
	code := textedCode(t, w, iw, phone)
	if code == "" {
		t.Fatal("no code was texted")
	}
	msgs := iw.twilio.Accepted()
	if len(msgs) != 1 || msgs[0].Segments != 1 {
		t.Fatalf("texts %+v, want one of one segment", msgs)
	}
	if strings.Contains(w.h.logBuf.String(), code) {
		t.Fatal("the code reached the logs")
	}
	rc, err := w.h.store.CountResetCodeAttempt(context.Background(), content.KindParent, p.ID)
	if err != nil || strings.Contains(rc.Hash, code) || rc.Hash != content.ResetCodeHash(w.h.deps.HashKey, content.KindParent, p.ID, code) {
		t.Fatalf("stored code %+v %v", rc, err)
	}

	confirm := func(phone, code string) (int, string) {
		resp, body := w.h.do("POST", "/v1/auth/password-reset/confirm",
			map[string]string{"phone": phone, "code": code, "password": "A new passphrase 42"}, "")
		return resp.StatusCode, string(body)
	}
	wrongStatus, wrongBody := confirm(phone, wrongCode(code))
	unknownStatus, unknownConfirm := confirm("+447911123999", code)
	if wrongStatus != 400 || unknownStatus != 400 || wrongBody != unknownConfirm || !strings.Contains(wrongBody, `"code"`) {
		t.Fatalf("wrong code %d %s; unknown number %d %s", wrongStatus, wrongBody, unknownStatus, unknownConfirm)
	}
	if st, b := confirm(phone, code[:4]+" "+code[4:]); st != 204 {
		t.Fatalf("the right code: %d %s", st, b)
	}
	resp, body = w.h.do("GET", "/v1/me", nil, session)
	wantStatus(t, resp, body, 401)
	if st := signInByPhone(w, phone, "A new passphrase 42"); st != 200 {
		t.Fatalf("sign in with the new password: %d", st)
	}
	if st, b := confirm(phone, code); st != 400 || b != wrongBody {
		t.Fatalf("the code again: %d %s", st, b)
	}
	if n, _ := w.h.store.CountAudit(context.Background(), "auth.password_reset", "parent:"+p.ID); n != 1 {
		t.Fatalf("%d reset audit events, want 1", n)
	}
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestResetCodeGuessesAreLimited: a code takes at most five guesses, the
// right one after that is refused too; a code expires after 15 minutes;
// a new request replaces the old code.
func TestResetCodeGuessesAreLimited(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Loosen the per-number throttle so the per-code limit is what shows.
	w.h.deps.Limits.LoginPerAccount = Limit{Max: 100, Window: 15 * time.Minute}
	w.h.app = mustNew(t, w.h.deps)
	iw := newInviteWorker(t, w.h)
	phone := "+447911123656"
	w.phoneParent(t, phone)
	ask := func() string {
		t.Helper()
		resp, body := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"phone": phone}, "")
		wantStatus(t, resp, body, 202)
		return textedCode(t, w, iw, phone)
	}
	confirm := func(code string) int {
		resp, _ := w.h.do("POST", "/v1/auth/password-reset/confirm",
			map[string]string{"phone": phone, "code": code, "password": "A new passphrase 42"}, "")
		return resp.StatusCode
	}
	code := ask()
	for i := 0; i < content.ResetCodeMaxAttempts; i++ {
		if st := confirm(wrongCode(code)); st != 400 {
			t.Fatalf("wrong guess %d: %d", i+1, st)
		}
	}
	if st := confirm(code); st != 400 {
		t.Fatalf("the right code after %d wrong guesses: %d", content.ResetCodeMaxAttempts, st)
	}
	if st := signInByPhone(w, phone, "A new passphrase 42"); st != 401 {
		t.Fatalf("the password changed: sign-in %d", st)
	}

	w.h.clock.Advance(time.Minute)
	first := ask()
	second := ask()
	if first == second {
		t.Skip("two random codes matched; nothing to tell apart")
	}
	if st := confirm(first); st != 400 {
		t.Fatalf("a replaced code: %d", st)
	}
	w.h.clock.Advance(content.ResetCodeTTL + time.Second)
	if st := confirm(second); st != 400 {
		t.Fatalf("an expired code: %d", st)
	}
}

// TestResetCodeConfirmIsThrottled: guesses for one number count before
// they are checked; past the limit even the right code is 429.
func TestResetCodeConfirmIsThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	iw := newInviteWorker(t, w.h)
	phone := "+447911123657"
	w.phoneParent(t, phone)
	resp, body := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"phone": phone}, "")
	wantStatus(t, resp, body, 202)
	code := textedCode(t, w, iw, phone)
	limit := int(w.h.deps.Limits.LoginPerAccount.Max)
	for i := 0; i < limit; i++ {
		resp, body := w.h.do("POST", "/v1/auth/password-reset/confirm",
			map[string]string{"phone": phone, "code": "00000000", "password": "A new passphrase 42"}, "")
		if resp.StatusCode != 400 {
			t.Fatalf("guess %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body = w.h.do("POST", "/v1/auth/password-reset/confirm",
		map[string]string{"phone": phone, "code": code, "password": "A new passphrase 42"}, "")
	wantStatus(t, resp, body, 429)
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	pw := sharedPasswords(t)
	cases := []struct {
		password string
		ok       bool
	}{
		{strings.Repeat("x", 7), false},
		{"a-fine-passphrase", true},
		{strings.Repeat("abcdefgh", 8), true}, // 64 characters
		{strings.Repeat("é", 128), true},      // counted in characters, not bytes
		{strings.Repeat("a", 129), false},
		{"password1", false},
		{"Qwerty123", false}, // breached lists are matched case-insensitively
		{"iloveyou", false},
	}
	for _, c := range cases {
		if got := pw.Check(c.password) == ""; got != c.ok {
			t.Errorf("Check(%q) ok = %v, want %v", c.password, got, c.ok)
		}
	}
	hash, err := pw.Hash(context.Background(), "a-fine-passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use argon2id m=19MiB t=2 p=1", hash)
	}
	for pass, want := range map[string]bool{"a-fine-passphrase": true, "a-fine-passphrasE": false} {
		if ok, err := pw.Verify(context.Background(), hash, pass); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pass, ok, err, want)
		}
	}
	if _, err := NewPasswords(Argon2Params{MemoryKiB: 8 * 1024, Time: 2, Threads: 1}, 1); err == nil {
		t.Error("parameters below m=19MiB were accepted")
	}
}

func TestLoginDoesNotTellAccountsApart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r1, b1 := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": "wrong-password-1"}, "")
	r2, b2 := w.h.do("POST", "/v1/auth/login", map[string]string{"email": "nobody.here@example.test", "password": "wrong-password-1"}, "")
	if r1.StatusCode != 401 || r2.StatusCode != 401 || string(b1) != string(b2) {
		t.Fatalf("known: %d %s; unknown: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	r3, b3 := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"email": w.ParentA.Email}, "")
	r4, b4 := w.h.do("POST", "/v1/auth/password-reset", map[string]string{"email": "nobody.here@example.test"}, "")
	if r3.StatusCode != 202 || r4.StatusCode != 202 || string(b3) != string(b4) {
		t.Fatalf("reset known: %d %s; unknown: %d %s", r3.StatusCode, b3, r4.StatusCode, b4)
	}
	if n := len(w.h.queue.OfType(tasks.TypeSendAccountEmail)); n != 1 {
		t.Fatalf("%d reset emails queued, want 1 (for the known account only)", n)
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	t.Run("per account, even with the right password afterwards", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		for i := 0; i < 5; i++ {
			r, b := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": "guess-number-" + string(rune('a'+i))}, "")
			wantStatus(t, r, b, 401)
		}
		r, b := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": fixturePassword}, "")
		wantStatus(t, r, b, 429)
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		w.h.clock.Advance(16 * time.Minute) // the window is Redis's: it expires on its own TTL
	})
	t.Run("per IP, across many accounts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		first429 := 0
		for i := 1; i <= 60 && first429 == 0; i++ {
			r, _ := h.do("POST", "/v1/auth/login", map[string]string{"email": content.NewID("victim") + "@example.test", "password": "guess-1234"}, "")
			if r.StatusCode == http.StatusTooManyRequests {
				first429 = i
			}
		}
		if first429 != int(DefaultLimits.LoginPerIP.Max)+1 {
			t.Fatalf("first 429 at attempt %d, want %d", first429, DefaultLimits.LoginPerIP.Max+1)
		}
	})
}

func TestRefreshRotationAndReplay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	first := w.h.login(w.ParentA.Email, fixturePassword)
	r, b := w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}, "")
	wantStatus(t, r, b, 200)
	second := decode[tokenResponse](t, b)
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh token did not rotate")
	}
	r, b = w.h.do("GET", "/v1/me", nil, second.AccessToken)
	wantStatus(t, r, b, 200)
	// Replaying the first token revokes the whole family.
	r, b = w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}, "")
	wantStatus(t, r, b, 401)
	r, b = w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": second.RefreshToken}, "")
	wantStatus(t, r, b, 401)
	r, b = w.h.do("GET", "/v1/me", nil, second.AccessToken)
	wantStatus(t, r, b, 401)
	// Other sessions of the same account are untouched.
	r, b = w.h.do("GET", "/v1/me", nil, w.tokens[actParentA])
	wantStatus(t, r, b, 200)
}

func TestRefreshAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.h.login(w.ParentA.Email, fixturePassword)
	for i := 0; i < 4; i++ { // rotating every 14 days does not extend the session
		w.h.clock.Advance(14 * 24 * time.Hour)
		r, b := w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}, "")
		wantStatus(t, r, b, 200)
		tok = decode[tokenResponse](t, b)
	}
	w.h.clock.Advance(5 * 24 * time.Hour) // day 61
	r, b := w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}, "")
	wantStatus(t, r, b, 401)
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.h.login(w.Teacher.Email, fixturePassword)
	r, b := w.h.do("POST", "/v1/auth/logout", nil, tok.AccessToken)
	wantStatus(t, r, b, 204)
	r, b = w.h.do("GET", "/v1/me", nil, tok.AccessToken)
	wantStatus(t, r, b, 401)
	r, b = w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}, "")
	wantStatus(t, r, b, 401)
}

func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := w.h.clock.Now()
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": tokenIssuer, "aud": tokenAudience, "sub": "parent:" + w.ParentA.ID,
			"sid": w.ParentA.ID, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	}
	valid := w.tokens[actParentA]
	parts := strings.Split(valid, ".")
	none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good())
	cases := map[string]string{
		"alg none":              none,
		"alg none, real claims": strings.Join([]string{strings.Split(none, ".")[0], parts[1], ""}, "."),
		"wrong algorithm":       sign(jwt.SigningMethodHS512, w.h.deps.HashKey, good()),
		"wrong key":             sign(jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), good()),
		"wrong audience": func() string {
			c := good()
			c["aud"] = "another-service"
			return sign(jwt.SigningMethodHS256, w.h.deps.HashKey, c)
		}(),
		"expired": func() string {
			c := good()
			c["exp"] = now.Add(-time.Minute).Unix()
			return sign(jwt.SigningMethodHS256, w.h.deps.HashKey, c)
		}(),
		"no expiry": func() string {
			c := good()
			delete(c, "exp")
			return sign(jwt.SigningMethodHS256, w.h.deps.HashKey, c)
		}(),
		"tampered payload": parts[0] + "." + parts[1] + "x." + parts[2],
		"garbage":          "not-a-jwt",
	}
	for name, tok := range cases {
		r, b := w.h.do("GET", "/v1/me", nil, tok)
		if r.StatusCode != 401 {
			t.Errorf("%s: status %d: %s", name, r.StatusCode, b)
		}
	}
	// The token of a correctly signed session that is not on the account
	// (e.g. forged sid) is refused too: signatures alone are not enough.
	r, b := w.h.do("GET", "/v1/me", nil, sign(jwt.SigningMethodHS256, w.h.deps.HashKey, good()))
	if r.StatusCode != 401 {
		t.Errorf("unknown session id: status %d: %s", r.StatusCode, b)
	}
	// The 15-minute lifetime holds.
	w.h.clock.Advance(16 * time.Minute)
	if r, _ := w.h.do("GET", "/v1/me", nil, valid); r.StatusCode != 401 {
		t.Errorf("a 16-minute-old access token was accepted: %d", r.StatusCode)
	}
}

func TestPasswordResetConfirm(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	token := content.NewSecret()
	if err := w.h.store.PutResetToken(ctx, &content.ResetToken{Hash: content.KeyedHash(w.h.deps.HashKey, "reset:"+token),
		Kind: content.KindParent, AccountID: w.ParentA.ID, ExpiresAt: w.h.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r, b := w.h.do("POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "password": "password123"}, "")
	wantStatus(t, r, b, 400) // breached password refused before the token is spent
	r, b = w.h.do("POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "password": "a brand new passphrase"}, "")
	wantStatus(t, r, b, 204)
	r, b = w.h.do("GET", "/v1/me", nil, w.tokens[actParentA])
	wantStatus(t, r, b, 401) // every session signed out
	r, b = w.h.do("POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "password": "another passphrase"}, "")
	wantStatus(t, r, b, 400) // single use
	r, _ = w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": fixturePassword}, "")
	if r.StatusCode != 401 {
		t.Errorf("old password still works: %d", r.StatusCode)
	}
	w.h.login(w.ParentA.Email, "a brand new passphrase")
}

// TestConcurrentRefreshSucceedsOnce: the same refresh token presented twice
// at once (a retrying app, or a thief racing the owner) rotates once; the
// other use is a replay and ends the family.
func TestConcurrentRefreshSucceedsOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.h.login(w.ParentB.Email, fixturePassword)
	statuses := make(chan int, 4)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := w.h.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}, "")
			statuses <- r.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		switch st {
		case 200:
			ok++
		case 401:
		default:
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 4 concurrent refreshes succeeded, want exactly 1", ok)
	}
}

// TestConcurrentWrongPasswordsVerifyAtMostTheLimit: 50 wrong passwords for
// one account at once through the app reach the password check at most
// LoginPerAccount.Max times.
func TestConcurrentWrongPasswordsVerifyAtMostTheLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pw, err := NewPasswords(DefaultArgon2, 4)
	if err != nil {
		t.Fatal(err)
	}
	w.h.deps.Passwords = pw
	app := mustNew(t, w.h.deps)
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"email": w.ParentA.Email, "password": fmt.Sprintf("wrong-guess-%02d", i)})
			req := httptest.NewRequest("POST", "/v1/auth/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := app.Test(req, 60_000)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	verified := pw.Verifications()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	t.Logf("%d concurrent wrong passwords: %d password verifications; statuses %v", n, verified, counts)
	max := DefaultLimits.LoginPerAccount.Max
	if verified > max || int64(counts[401]) > max || counts[401]+counts[429] != n {
		t.Fatalf("%d verifications, statuses %v; want at most %d verifications and 401s, the rest 429", verified, counts, max)
	}
}

// TestSuccessfulSignInsUseNoAllowance: attempts are counted before the
// password is checked, and a success gives them back, so a school's NAT
// address signing many parents in is never throttled, and a parent who
// gets in after a few typos starts afresh.
func TestSuccessfulSignInsUseNoAllowance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for round := 0; round < 2; round++ {
		for i := 0; i < int(DefaultLimits.LoginPerAccount.Max)-1; i++ {
			r, b := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentB.Email, "password": fmt.Sprintf("typo-%d-%d", round, i)}, "")
			wantStatus(t, r, b, 401)
		}
		w.h.login(w.ParentB.Email, fixturePassword)
	}
	// The world signed eight actors in from this IP and the rounds above
	// failed eight times: 8 failures in all, so DefaultLimits.LoginPerIP
	// more successes still pass.
	for i := 0; i < int(DefaultLimits.LoginPerIP.Max); i++ {
		w.h.login(w.ParentA.Email, fixturePassword)
	}
}

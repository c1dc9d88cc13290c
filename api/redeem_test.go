package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// joinPassword is the password redeemBody chooses.
const joinPassword = "a-long-enough-pass-9"

// join walks the app's flow for a new sign-in: redeem (the one answer, no
// tokens), sign in, claim the code (answered again for its redeemer).
func (h *harness) join(code, email string) (tokenResponse, claimResponse) {
	h.t.Helper()
	r, b := h.do("POST", "/v1/invites/redeem", redeemBody(code, email), "")
	wantStatus(h.t, r, b, 202)
	if strings.Contains(string(b), "token") {
		h.t.Fatalf("redeem answered tokens: %s", b)
	}
	tok := h.login(email, joinPassword)
	return tok, h.claim(code, tok.AccessToken)
}

// claim claims a code as the signed-in parent and wants 200.
func (h *harness) claim(code, token string) claimResponse {
	h.t.Helper()
	r, b := h.do("POST", "/v1/me/invites/claim", claimBody(code), token)
	wantStatus(h.t, r, b, 200)
	return decode[claimResponse](h.t, b)
}

func claimBody(code string) map[string]any {
	return map[string]any{"code": code, "consent": map[string]any{"privacy_notice_version": "2026-09", "accepted": true}}
}

// foreignInvite makes, at the other school (S2), an invited parent of a new
// child and that parent's code, as an admin there can.
func (w *world) foreignInvite(t *testing.T) (code string, placeholder *content.Parent, child *content.Child) {
	t.Helper()
	ctx := context.Background()
	k := &content.Child{ID: content.NewID("chd"), SchoolID: "sch_2", FirstName: "Ffion", LastName: "Other", YearGroup: "Y2",
		ClassIDs: []string{"cls_o"}, SchoolLink: content.SchoolLink{State: content.LinkLinked}}
	if err := w.h.store.CreateChild(ctx, k); err != nil {
		t.Fatal(err)
	}
	p := w.newInvitedParent(t, k)
	r, b := w.h.do("POST", "/v1/schools/sch_2/parents/"+p.ID+"/invite-code", nil, w.tokens[actAdminOther])
	wantStatus(t, r, b, 201)
	return decode[inviteCodeDTO](t, b).Code, p, k
}

// familyState is what a redemption must not change about an account.
func (w *world) familyState(t *testing.T, id string) string {
	t.Helper()
	p, err := w.h.store.Parent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%v|%+v|%+v", p.State, p.PasswordHash, p.Email, p.Phone, p.Sessions, p.Children, p.Consents)
}

func (w *world) codeUses(t *testing.T, code string) int {
	t.Helper()
	ic, err := w.h.store.InviteCode(context.Background(), content.KeyedHash(w.h.deps.HashKey, "invite:"+code))
	if err != nil {
		t.Fatal(err)
	}
	return ic.Uses
}

// TestRedeemWithAnExistingAccountSignsNobodyIn is the reported attack: an
// admin elsewhere mints a code for a placeholder parent and redeems it with
// a victim's email and password. No tokens, no links, no spent code, and
// the victim's login lock still holds.
func TestRedeemWithAnExistingAccountSignsNobodyIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	code, placeholder, child := w.foreignInvite(t)
	before := w.familyState(t, w.ParentA.ID)
	// Five wrong passwords lock the victim's sign-in.
	for i := 0; i < 5; i++ {
		r, b := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": fmt.Sprintf("guess-number-%d", i)}, "")
		wantStatus(t, r, b, 401)
	}
	r, b := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": fixturePassword}, "")
	wantStatus(t, r, b, 429)
	// Wrong passwords, then the right one, through redeem.
	bodies := map[string]bool{}
	for _, pw := range []string{"wrong-password-1", "wrong-password-2", "wrong-password-3", fixturePassword} {
		req := redeemBody(code, strings.ToUpper(w.ParentA.Email))
		req["password"] = pw
		r, b := w.h.do("POST", "/v1/invites/redeem", req, "")
		wantStatus(t, r, b, 202)
		if strings.Contains(string(b), "token") || strings.Contains(string(b), w.ParentA.ID) {
			t.Fatalf("redeem with an existing account's sign-in answered %s", b)
		}
		bodies[string(b)] = true
	}
	if len(bodies) != 1 {
		t.Fatalf("wrong and right passwords got different answers: %v", bodies)
	}
	if got := w.familyState(t, w.ParentA.ID); got != before {
		t.Fatalf("the account changed:\n%s\n%s", before, got)
	}
	if n := w.codeUses(t, code); n != 0 {
		t.Fatalf("code used %d times, want unspent", n)
	}
	k, err := w.h.store.Child(context.Background(), child.ID)
	if err != nil || linkedTo(k, w.ParentA.ID) || !linkedTo(k, placeholder.ID) {
		t.Fatalf("child links %+v, %v", k.Parents, err)
	}
	if p, _ := w.h.store.Parent(context.Background(), placeholder.ID); p.State != content.ParentInvited {
		t.Fatalf("placeholder %s, want still invited", p.State)
	}
	r, b = w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.ParentA.Email, "password": fixturePassword}, "")
	wantStatus(t, r, b, 429)
	// The code still works for a new sign-in, once.
	w.h.join(code, "new.family@example.test")
}

// TestRedeemAnswersAlikeForTakenAndFreeSignIns: the answer for a sign-in
// that has an account is byte for byte the answer for a new one.
func TestRedeemAnswersAlikeForTakenAndFreeSignIns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	codeA, _, _ := w.foreignInvite(t)
	codeB, newcomer, _ := w.foreignInvite(t)
	r1, b1 := w.h.do("POST", "/v1/invites/redeem", redeemBody(codeA, w.ParentB.Email), "")
	r2, b2 := w.h.do("POST", "/v1/invites/redeem", redeemBody(codeB, "brand.new@example.test"), "")
	if r1.StatusCode != r2.StatusCode || !bytes.Equal(b1, b2) {
		t.Fatalf("taken: %d %s\nfree:  %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	for _, k := range []string{"Content-Type", "Content-Length", "Retry-After"} {
		if r1.Header.Get(k) != r2.Header.Get(k) {
			t.Errorf("header %s: %q vs %q", k, r1.Header.Get(k), r2.Header.Get(k))
		}
	}
	// By phone too.
	codeC, _, _ := w.foreignInvite(t)
	codeD, _, _ := w.foreignInvite(t)
	if err := w.h.store.PutLogin(context.Background(), &content.Login{Key: loginKey(content.KindParent, "phone", w.ParentB.Phone),
		Kind: content.KindParent, AccountID: w.ParentB.ID}); err != nil {
		t.Fatal(err)
	}
	taken := redeemBody(codeC, "")
	delete(taken, "email")
	taken["phone"] = "07911 123502" // parent B's sign-in
	free := redeemBody(codeD, "")
	delete(free, "email")
	free["phone"] = "07911 123698"
	r3, b3 := w.h.do("POST", "/v1/invites/redeem", taken, "")
	r4, b4 := w.h.do("POST", "/v1/invites/redeem", free, "")
	if r3.StatusCode != 202 || r3.StatusCode != r4.StatusCode || !bytes.Equal(b3, b4) || !bytes.Equal(b1, b3) {
		t.Fatalf("phone: %d %s / %d %s", r3.StatusCode, b3, r4.StatusCode, b4)
	}
	// The free one became the newcomer's account; the taken one is unspent.
	if p, _ := w.h.store.Parent(context.Background(), newcomer.ID); p.State != content.ParentActive || p.Email != "brand.new@example.test" {
		t.Fatalf("newcomer %s %q", p.State, p.Email)
	}
	if n := w.codeUses(t, codeA); n != 0 {
		t.Fatalf("code for the taken sign-in used %d times", n)
	}
}

// TestClaimAddsTheFamilyToTheSignedInAccount: an existing account adds a
// second school's children by signing in and claiming; only when signed in
// as a parent; a repeat is answered again; nobody else can use the code.
func TestClaimAddsTheFamilyToTheSignedInAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	code, placeholder, child := w.foreignInvite(t)
	// Redeem answers, changes nothing; the family signs in as usual.
	r, b := w.h.do("POST", "/v1/invites/redeem", redeemBody(code, w.ParentA.Email), "")
	wantStatus(t, r, b, 202)
	tok := w.h.login(w.ParentA.Email, fixturePassword)

	for name, token := range map[string]string{"no token": "", "staff": w.tokens[actAdminOther]} {
		r, b := w.h.do("POST", "/v1/me/invites/claim", claimBody(code), token)
		if r.StatusCode != 401 && r.StatusCode != 403 {
			t.Fatalf("%s: %d %s", name, r.StatusCode, b)
		}
	}
	if n := w.codeUses(t, code); n != 0 {
		t.Fatalf("refused claims used the code %d times", n)
	}
	got := w.h.claim(code, tok.AccessToken)
	if got.SchoolID != "sch_2" || len(got.Children) != 1 || got.Children[0].ID != child.ID {
		t.Fatalf("claim answered %+v", got)
	}
	k, _ := w.h.store.Child(ctx, child.ID)
	if !linkedTo(k, w.ParentA.ID) || linkedTo(k, placeholder.ID) {
		t.Fatalf("child links after claim: %+v", k.Parents)
	}
	if p, _ := w.h.store.Parent(ctx, placeholder.ID); p.State != content.ParentClosed {
		t.Fatalf("placeholder %s, want closed", p.State)
	}
	a, _ := w.h.store.Parent(ctx, w.ParentA.ID)
	if n := len(a.Consents); n != 1 || a.Consents[0].Version != "2026-09" {
		t.Fatalf("consents %+v", a.Consents)
	}
	// The redeemer may ask again; the answer is the same.
	if again := w.h.claim(code, tok.AccessToken); !slices.Equal(again.Children, got.Children) {
		t.Fatalf("repeat claim %+v, want %+v", again, got)
	}
	// Anyone else: the one invalid-code answer, as for a code that never was.
	r1, b1 := w.h.do("POST", "/v1/me/invites/claim", claimBody(code), w.tokens[actParentB])
	r2, b2 := w.h.do("POST", "/v1/me/invites/claim", claimBody(content.NewInviteCode()), w.tokens[actParentB])
	wantStatus(t, r1, b1, 400)
	if r2.StatusCode != 400 || !bytes.Equal(b1, b2) {
		t.Fatalf("someone else's code: %s; unknown code: %d %s", b1, r2.StatusCode, b2)
	}
	if p, _ := w.h.store.Parent(ctx, w.ParentB.ID); slices.ContainsFunc(p.Children, func(cl content.ChildLink) bool { return cl.ChildID == child.ID }) {
		t.Fatal("parent B was linked by another family's code")
	}
	// Redeeming the claimed code is refused like any used code.
	r, b = w.h.do("POST", "/v1/invites/redeem", redeemBody(code, "late.comer@example.test"), "")
	wantStatus(t, r, b, 400)
}

// TestClaimKeepsASchoolsUnlink: a child the school unlinked from the
// invited parent is not linked by claiming that parent's code.
func TestClaimKeepsASchoolsUnlink(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	code, placeholder, child := w.foreignInvite(t)
	second := &content.Child{ID: content.NewID("chd"), SchoolID: "sch_2", FirstName: "Gethin", LastName: "Other", YearGroup: "Y4",
		ClassIDs: []string{"cls_o"}, SchoolLink: content.SchoolLink{State: content.LinkLinked}}
	if err := w.h.store.CreateChild(ctx, second); err != nil {
		t.Fatal(err)
	}
	ph, _ := w.h.store.Parent(ctx, placeholder.ID)
	if err := w.h.linkForTest(ctx, ph, second); err != nil {
		t.Fatal(err)
	}
	r, b := w.h.do("DELETE", "/v1/schools/sch_2/children/"+second.ID+"/parents/"+placeholder.ID, map[string]any{"reason": "Safeguarding"}, w.tokens[actAdminOther])
	wantStatus(t, r, b, 204)
	got := w.h.claim(code, w.tokens[actParentA])
	if len(got.Children) != 1 || got.Children[0].ID != child.ID {
		t.Fatalf("claim linked %+v, want only %s", got.Children, child.ID)
	}
	if k, _ := w.h.store.Child(ctx, second.ID); linkedTo(k, w.ParentA.ID) {
		t.Fatal("claiming relinked a child the school had unlinked")
	}
}

// TestConcurrentRedeemGuessesStopAtTheLimits: a burst of bad codes from one
// IP, and of one code, get no more answers than the limits allow.
func TestConcurrentRedeemGuessesStopAtTheLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	burst := func(n int, code func(i int) string) map[int]int {
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(redeemBody(code(i), "guess@example.test"))
				req := httptest.NewRequest("POST", "/v1/invites/redeem", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				<-start
				resp, err := h.app.Test(req, 60_000)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		return counts
	}
	one := content.NewInviteCode()
	got := burst(10, func(int) string { return one })
	if int64(got[400]) != DefaultLimits.RedeemPerCode.Max || got[429] != 10-got[400] {
		t.Fatalf("one code 10 times at once: %v, want %d answered and the rest 429", got, DefaultLimits.RedeemPerCode.Max)
	}
	// Those 10 attempts count against the IP (the 429s too): of 30 fresh
	// codes at once, only the IP's remaining 10 are looked up.
	got = burst(30, func(int) string { return content.NewInviteCode() })
	if left := int(DefaultLimits.RedeemPerIP.Max) - 10; got[400] != left || got[429] != 30-left {
		t.Fatalf("30 codes at once: %v, want %d answered and the rest 429", got, left)
	}
}

// TestRedeemFailuresRaiseTheAlert: failed redemptions count on /metrics
// (no labels) and, above the global per-window threshold, the alert gauge
// reads 1.
func TestRedeemFailuresRaiseTheAlert(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deps.Limits = DefaultLimits
	h.deps.Limits.RedeemFailureAlert = Limit{Max: 3, Window: time.Minute}
	h.app = mustNew(t, h.deps)
	metric := func(name string) string {
		r, b := h.do("GET", "/metrics", nil, "")
		wantStatus(t, r, b, 200)
		m := regexp.MustCompile(`(?m)^` + name + `(\{[^}]*\})? (\S+)$`).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		if m[1] != "" {
			t.Fatalf("%s has labels %s", name, m[1])
		}
		return m[2]
	}
	if v := metric("hometime_invite_redeem_failure_alert"); v != "0" {
		t.Fatalf("alert %s before any failure", v)
	}
	for i := 0; i < 3; i++ {
		r, b := h.do("POST", "/v1/invites/redeem", redeemBody(content.NewInviteCode(), "guess@example.test"), "")
		wantStatus(t, r, b, 400)
	}
	if v := metric("hometime_invite_redeem_failure_alert"); v != "0" {
		t.Fatalf("alert %s at the threshold", v)
	}
	r, b := h.do("POST", "/v1/invites/redeem", redeemBody(content.NewInviteCode(), "guess@example.test"), "")
	wantStatus(t, r, b, 400)
	if v := metric("hometime_invite_redeem_failures_total"); v != "4" {
		t.Fatalf("failures_total %s, want 4", v)
	}
	if v := metric("hometime_invite_redeem_failure_alert"); v != "1" {
		t.Fatalf("alert %s above the threshold, want 1", v)
	}
}

package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

type errorFields struct {
	Error struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

// TestDestructiveActionsNeedThePassword: closing, erasing and ending a
// subscription with a valid session but no password, or a wrong one, are
// refused with 403 reauthentication_required naming the password, change
// nothing and are audited; the right password goes through.
func TestDestructiveActionsNeedThePassword(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	type action struct {
		name    string
		path    string
		body    func(password string) any
		token   func() (string, string) // token and audit subject
		refusal string                  // audit action of a refusal
		changed func() bool
		noBody  int // status without a body: 422 where a confirmation is missing too
	}
	var closed, erased *content.Parent
	actions := []action{
		{name: "close", path: "/v1/me/close",
			body: func(pw string) any { return map[string]string{"password": pw} },
			token: func() (string, string) {
				p, tok := w.freshParent(t, w.K1)
				closed = p
				return tok, content.SubjectParent + ":" + p.ID
			},
			refusal: "account.close_refused",
			changed: func() bool { st, _ := w.h.store.Parent(ctx, closed.ID); return st.State != content.ParentActive }},
		{name: "erase", path: "/v1/me/erase",
			body: func(pw string) any { return map[string]string{"password": pw} },
			token: func() (string, string) {
				p, tok := w.freshParent(t, w.K1)
				erased = p
				return tok, content.SubjectParent + ":" + p.ID
			},
			refusal: "account.erase_refused",
			changed: func() bool { st, _ := w.h.store.Parent(ctx, erased.ID); return st.State != content.ParentActive }},
		{name: "end subscription", path: "/v1/schools/sch_1/subscription/end",
			body: func(pw string) any {
				return map[string]string{"confirm_school_name": "Riverside Primary", "password": pw}
			},
			token:   func() (string, string) { return w.tokens[actAdmin], content.SubjectSchool + ":sch_1" },
			refusal: "school.subscription_end_refused", noBody: 422,
			changed: func() bool {
				sc, _ := w.h.store.School(ctx, "sch_1")
				return sc.Subscription.State == content.SubscriptionEnded
			}},
	}
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			tok, subject := a.token()
			for _, tc := range []struct {
				name    string
				body    any
				problem string
			}{
				{"no body", nil, "required"},
				{"empty password", a.body(""), "required"},
				{"wrong password", a.body("not-the-password-1"), "is not right"},
			} {
				resp, body := w.h.do("POST", a.path, tc.body, tok)
				if tc.body == nil && a.noBody != 0 {
					wantStatus(t, resp, body, a.noBody)
					continue
				}
				wantStatus(t, resp, body, 403)
				e := decode[errorFields](t, body)
				if e.Error.Code != string(content.CodeReauthRequired) || e.Error.Fields["password"] != tc.problem {
					t.Fatalf("%s: answer %s", tc.name, body)
				}
				if a.changed() {
					t.Fatalf("%s: the refused request changed the account or school", tc.name)
				}
			}
			if n, err := w.h.store.CountAudit(ctx, a.refusal, subject); err != nil || n != 1 {
				t.Fatalf("%d %s audit events (%v), want 1 for the wrong password", n, a.refusal, err)
			}
			resp, body := w.h.do("POST", a.path, a.body(fixturePassword), tok)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("with the password: %d %s", resp.StatusCode, body)
			}
			if !a.changed() {
				t.Fatal("the confirmed request changed nothing")
			}
		})
	}
}

// TestStepUpSharesTheLoginThrottle: wrong passwords on a destructive action
// count against the account's sign-in failures, before the password is
// checked: after the limit even the right password is refused (429), and
// so is signing in; the same holds the other way round.
func TestStepUpSharesTheLoginThrottle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p, tok := w.freshParent(t, w.K1)
	limit := int(w.h.deps.Limits.LoginPerAccount.Max)
	for i := 0; i < limit; i++ {
		resp, body := w.h.do("POST", "/v1/me/erase", map[string]string{"password": "not-the-password-1"}, tok)
		wantStatus(t, resp, body, 403)
	}
	resp, body := w.h.do("POST", "/v1/me/erase", map[string]string{"password": fixturePassword}, tok)
	wantStatus(t, resp, body, 429)
	resp, body = w.h.do("POST", "/v1/auth/login", map[string]string{"email": p.Email, "password": fixturePassword}, "")
	wantStatus(t, resp, body, 429)
	if st, _ := w.h.store.Parent(context.Background(), p.ID); st.State != content.ParentActive {
		t.Fatalf("account %s after throttled attempts", st.State)
	}

	// Failed sign-ins spend the same allowance for the step-up.
	q, qtok := w.freshParent(t, w.K1)
	for i := 0; i < limit; i++ {
		resp, body := w.h.do("POST", "/v1/auth/login", map[string]string{"email": q.Email, "password": "not-the-password-1"}, "")
		wantStatus(t, resp, body, 401)
	}
	resp, body = w.h.do("POST", "/v1/me/close", map[string]string{"password": fixturePassword}, qtok)
	wantStatus(t, resp, body, 429)
}

// TestEndSubscriptionNeedsTheSchoolsName: a name that is not the school's
// is 422 naming the field; case and spacing do not matter. Teachers are
// refused, admins of other schools do not see the school, and an admin of
// the school's trust with no role at the school itself may end it.
func TestEndSubscriptionNeedsTheSchoolsName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	path := "/v1/schools/sch_1/subscription/end"
	ended := func() bool {
		sc, _ := w.h.store.School(ctx, "sch_1")
		return sc.Subscription.State == content.SubscriptionEnded
	}
	for _, name := range []string{"", "Hilltop Primary", "Riverside"} {
		resp, body := w.h.do("POST", path, map[string]string{"confirm_school_name": name, "password": fixturePassword}, w.tokens[actAdmin])
		wantStatus(t, resp, body, 422)
		if e := decode[errorFields](t, body); e.Error.Fields["confirm_school_name"] == "" {
			t.Fatalf("%q: no field error: %s", name, body)
		}
	}
	for actor, status := range map[string]int{actTeacher: 403, actTeacherOther: 403, actAdminOther: 404, actParentA: 403} {
		resp, body := w.h.do("POST", path, map[string]string{"confirm_school_name": "Riverside Primary", "password": fixturePassword}, w.tokens[actor])
		wantStatus(t, resp, body, status)
	}
	if ended() {
		t.Fatal("a refused request ended the subscription")
	}
	// A trust admin with no role at any school.
	hash, err := w.h.deps.Passwords.Hash(ctx, fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	ta := &content.Staff{ID: "stf_trust", Email: "tia.trust@trust-one.test", FirstName: "Tia", LastName: "Trust",
		PasswordHash: hash, TrustAdmin: []string{"trs_1"}, CreatedAt: w.h.clock.Now()}
	if err := w.h.store.CreateStaff(ctx, ta); err != nil {
		t.Fatal(err)
	}
	if err := w.h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindStaff, "email", ta.Email), Kind: content.KindStaff, AccountID: ta.ID}); err != nil {
		t.Fatal(err)
	}
	tok := w.h.login(ta.Email, fixturePassword).AccessToken
	resp, body := w.h.do("POST", path, map[string]string{"confirm_school_name": "  riverside   PRIMARY ", "password": fixturePassword}, tok)
	wantStatus(t, resp, body, 200)
	if !ended() {
		t.Fatal("the trust admin's confirmed request did not end the subscription")
	}
	if n, _ := w.h.store.CountAudit(ctx, "school.subscription_ended", "school:sch_1"); n != 1 {
		t.Fatalf("%d subscription_ended audit events, want 1", n)
	}
}

// acceptInvitationCell invites a staff actor, by their own email, to a
// school made for the cell; other actors get an invitation meant for the
// teacher (and are refused before it matters).
func acceptInvitationCell(t *testing.T, w *world, actor string) cell {
	ctx := context.Background()
	sc := NewSchoolDefaults("trs_2", w.h.clock.Now())
	sc.Name = "Matrix Infants"
	if err := w.h.store.CreateSchool(ctx, sc); err != nil {
		t.Fatal(err)
	}
	st := map[string]*content.Staff{actTeacher: w.Teacher, actTeacherOther: w.TeacherOther, actAdmin: w.Admin, actAdminOther: w.AdminOther}[actor]
	if st == nil {
		st = w.Teacher
	}
	inv := &content.StaffInvitation{ID: content.StaffInvitationID(w.h.deps.HashKey, sc.ID, st.Email), SchoolID: sc.ID,
		StaffID: st.ID, Roles: []content.Role{content.RoleTeacher}, InvitedBy: w.AdminOther.ID,
		CreatedAt: w.h.clock.Now(), ExpiresAt: w.h.clock.Now().Add(content.StaffInvitationTTL)}
	if err := w.h.store.PutStaffInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	return cell{path: "/v1/me/staff-invitations/" + inv.ID + "/accept"}
}

// TestAddingStaffNeverAttachesAnExistingAccount: an admin of another school
// who types the email of a teacher at Riverside gets exactly the answer a
// new address gets, learns no name, and the teacher is not added to
// their school until the teacher accepts the invitation after signing in.
func TestAddingStaffNeverAttachesAnExistingAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	add := func(email string) []byte {
		resp, body := w.h.do("POST", "/v1/schools/sch_2/staff", map[string]any{"email": email,
			"first_name": "Someone", "last_name": "Else", "roles": []string{"admin"}}, w.tokens[actAdminOther])
		wantStatus(t, resp, body, 202)
		return body
	}
	existing := add(strings.ToUpper(w.Teacher.Email))
	fresh := add("nia.newydd@hilltop.test")
	if string(existing) != string(fresh) {
		t.Fatalf("answers differ: existing %s, new %s", existing, fresh)
	}
	for _, v := range []string{w.Teacher.ID, w.Teacher.FirstName, w.Teacher.LastName} {
		if strings.Contains(string(existing), v) {
			t.Fatalf("the answer names the existing account (%q): %s", v, existing)
		}
	}
	st, err := w.h.store.Staff(ctx, w.Teacher.ID)
	if err != nil || st.WorksAt("sch_2") || len(st.Schools) != 1 {
		t.Fatalf("the teacher's schools changed without consent: %+v %v", st.Schools, err)
	}
	resp, body := w.h.do("GET", "/v1/schools/sch_2/staff", nil, w.tokens[actAdminOther])
	wantStatus(t, resp, body, 200)
	if strings.Contains(string(body), w.Teacher.ID) || strings.Contains(string(body), "nia.newydd") {
		t.Fatalf("an invitee is on the staff list before accepting: %s", body)
	}
	// Only the new address gets a welcome email (an existing account has
	// a password already).
	if n := len(w.h.queue.OfType(tasks.TypeSendAccountEmail)); n != 1 {
		t.Fatalf("%d account emails queued, want 1 (the new address's welcome)", n)
	}

	resp, body = w.h.do("GET", "/v1/me/staff-invitations", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	list := decode[listDTO[staffInvitationDTO]](t, body)
	if len(list.Items) != 1 || list.Items[0].SchoolID != "sch_2" || list.Items[0].SchoolName != "Hilltop Primary" ||
		len(list.Items[0].Roles) != 1 || list.Items[0].Roles[0] != "admin" {
		t.Fatalf("invitations %+v", list.Items)
	}
	id := list.Items[0].ID
	// Nobody else can accept it.
	for _, actor := range []string{actTeacherOther, actAdminOther, actAdmin} {
		resp, body := w.h.do("POST", "/v1/me/staff-invitations/"+id+"/accept", nil, w.tokens[actor])
		wantStatus(t, resp, body, 404)
	}
	resp, body = w.h.do("POST", "/v1/me/staff-invitations/"+id+"/accept", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	if got := decode[schoolDTO](t, body); got.ID != "sch_2" || len(got.Roles) != 1 || got.Roles[0] != "admin" {
		t.Fatalf("accepted %+v", got)
	}
	st, _ = w.h.store.Staff(ctx, w.Teacher.ID)
	if !st.WorksAt("sch_2") || !st.WorksAt("sch_1") {
		t.Fatalf("after accepting, schools %+v", st.Schools)
	}
	resp, body = w.h.do("POST", "/v1/me/staff-invitations/"+id+"/accept", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 404)
	if n, _ := w.h.store.CountAudit(ctx, "staff.invitation_accepted", "staff:"+w.Teacher.ID); n != 1 {
		t.Fatalf("%d acceptance audit events, want 1", n)
	}
}

// TestStaffInvitationsExpire: an invitation not accepted within its
// lifetime is no longer listed or accepted.
func TestStaffInvitationsExpire(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	resp, body := w.h.do("POST", "/v1/schools/sch_2/staff", map[string]any{"email": w.Teacher.Email,
		"first_name": "T", "last_name": "L", "roles": []string{"teacher"}}, w.tokens[actAdminOther])
	wantStatus(t, resp, body, 202)
	id := content.StaffInvitationID(w.h.deps.HashKey, "sch_2", w.Teacher.Email)
	w.h.clock.Advance(content.StaffInvitationTTL + time.Minute)
	tok := w.h.login(w.Teacher.Email, fixturePassword).AccessToken
	resp, body = w.h.do("GET", "/v1/me/staff-invitations", nil, tok)
	wantStatus(t, resp, body, 200)
	if l := decode[listDTO[staffInvitationDTO]](t, body); len(l.Items) != 0 {
		t.Fatalf("expired invitations listed: %+v", l.Items)
	}
	resp, body = w.h.do("POST", "/v1/me/staff-invitations/"+id+"/accept", nil, tok)
	wantStatus(t, resp, body, 404)
}

// TestDevicesPerParentAreCapped: registering an eleventh device drops the
// least recently seen one, and a device refreshed since is kept.
func TestDevicesPerParentAreCapped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p, tok := w.freshParent(t, w.K1)
	register := func(token string) string {
		t.Helper()
		w.h.clock.Advance(time.Minute)
		resp, body := w.h.do("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": token}, tok)
		if resp.StatusCode != 201 && resp.StatusCode != 200 {
			t.Fatalf("register: %d %s", resp.StatusCode, body)
		}
		return decode[deviceDTO](t, body).ID
	}
	var ids []string
	for i := 0; i < content.MaxDevicesPerParent; i++ {
		ids = append(ids, register("token-"+string(rune('a'+i))))
	}
	held := func() map[string]bool {
		st, err := w.h.store.Parent(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, d := range st.Devices {
			out[d.ID] = true
		}
		return out
	}
	if n := len(held()); n != content.MaxDevicesPerParent {
		t.Fatalf("%d devices after %d registrations", n, content.MaxDevicesPerParent)
	}
	register("token-a") // the oldest is seen again: now device b is the least recent
	eleventh := register("token-eleventh")
	got := held()
	if len(got) != content.MaxDevicesPerParent || !got[eleventh] || !got[ids[0]] || got[ids[1]] {
		t.Fatalf("after the eleventh: %d devices, eleventh %v, refreshed a %v, stale b %v",
			len(got), got[eleventh], got[ids[0]], got[ids[1]])
	}
	// The dropped device is gone for the API too.
	resp, body := w.h.do("DELETE", "/v1/me/devices/"+ids[1], nil, tok)
	wantStatus(t, resp, body, 404)
}

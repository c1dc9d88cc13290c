package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
)

// TestConversationJourney walks a conversation on the real stack — API,
// queue in Redis, worker, store — with the real provider clients talking
// to the FCM and Twilio fakes:
//
//  1. a parent with the app writes to the class teacher; the teacher's
//     device gets one push (no words of the message), the inbox lists it
//     unread and GET /v1/me counts it;
//  2. the teacher's reply reaches the parent as exactly one push, which
//     names the class only: no text of the message, no names;
//  3. a signed Twilio text from a parent without the app lands in a new
//     thread with the class teacher, marked by SMS;
//  4. the teacher's reply goes back to that parent as exactly one SMS
//     carrying the reply.
func TestConversationJourney(t *testing.T) {
	_, redisURL := redistest.New(t)
	tw, fc := providerfake.NewTwilio(t), providerfake.NewFCM(t)
	const publicURL = "https://api.hometime.test"
	env := map[string]string{
		"HOMETIME_DATA_DIR": t.TempDir(), "REDIS_URL": redisURL,
		"HOMETIME_TWILIO_ACCOUNT_SID": tw.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": tw.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": tw.URL,
		"HOMETIME_PUBLIC_URL": publicURL, "HOMETIME_SMS_RATE": "500",
		"HOMETIME_FCM_CREDENTIALS": fc.ServiceAccountFile(t), "HOMETIME_FCM_ENDPOINT": fc.Endpoint(),
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := NewLogger(journeyLog(t), "warn")
	ctx := context.Background()
	st, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app, err := st.APIApp(log, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, mux, err := st.WorkerServer(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	s := st.Store
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const password = "Journey-Password-42"
	pw, err := api.NewPasswords(api.DefaultArgon2, 2)
	must(err)
	hash, err := pw.Hash(ctx, password)
	must(err)
	must(s.CreateSchool(ctx, &content.School{ID: "sch_c", Name: "Conversation Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "00:00", QuietEnd: "00:00", SMSBudgetPence: 1_000_000, Subscription: content.Subscription{State: "active"}}))
	must(s.CreateStaff(ctx, &content.Staff{ID: "stf_t", Email: "teacher@conv.test", PasswordHash: hash, Title: "Mrs", FirstName: "Awen", LastName: "Khan",
		Schools: []content.SchoolRoles{{SchoolID: "sch_c", Roles: []content.Role{content.RoleTeacher}}}}))
	must(s.PutLogin(ctx, &content.Login{Key: "staff:email:teacher@conv.test", Kind: content.KindStaff, AccountID: "stf_t"}))
	must(s.CreateClass(ctx, &content.Class{ID: "cls_c", SchoolID: "sch_c", Name: "Robins", YearGroup: "R", TeacherIDs: []string{"stf_t"}}))
	families := []struct{ parent, child, first, phone string }{
		{"par_1", "chd_1", "Efa", "+447911200001"}, // has the app
		{"par_2", "chd_2", "Cai", "+447911200002"}, // texts only
	}
	for _, f := range families {
		k := &content.Child{ID: f.child, SchoolID: "sch_c", FirstName: f.first, LastName: "J", YearGroup: "R",
			ClassIDs: []string{"cls_c"}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
			Parents: []content.ParentLink{{ParentID: f.parent, State: content.LinkLinked}}}
		p := &content.Parent{ID: f.parent, FirstName: "Parent", LastName: "J", Phone: f.phone, Language: "en",
			State: content.ParentActive, PasswordHash: hash, Sessions: []string{},
			Children: []content.ChildLink{{ChildID: k.ID, SchoolID: "sch_c", FirstName: k.FirstName, YearGroup: "R", State: content.LinkLinked}}}
		must(s.CreateChild(ctx, k))
		must(s.CreateParent(ctx, p))
		must(s.PutLogin(ctx, &content.Login{Key: "parent:phone:" + f.phone, Kind: content.KindParent, AccountID: f.parent}))
	}

	do := func(method, path, ct string, raw []byte, token string, hdr map[string]string, want int) []byte {
		t.Helper()
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		if raw != nil {
			req.Header.Set("Content-Type", ct)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := app.Test(req, 60_000)
		must(err)
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, out)
		}
		return out
	}
	call := func(method, path string, body any, token string, want int) []byte {
		t.Helper()
		var raw []byte
		if body != nil {
			raw, err = json.Marshal(body)
			must(err)
		}
		return do(method, path, "application/json", raw, token, nil, want)
	}
	login := func(body map[string]string) string {
		t.Helper()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		must(json.Unmarshal(call("POST", "/v1/auth/login", body, "", http.StatusOK), &tok))
		return tok.AccessToken
	}
	type conv struct {
		ID     string `json:"id"`
		Unread bool   `json:"unread"`
		BySMS  bool   `json:"by_sms"`
	}
	inbox := func(token, query string) []conv {
		t.Helper()
		var l struct {
			Items []conv `json:"items"`
		}
		must(json.Unmarshal(call("GET", "/v1/schools/sch_c/conversations"+query, nil, token, http.StatusOK), &l))
		return l.Items
	}
	teacher := login(map[string]string{"email": "teacher@conv.test", "password": password})
	p1 := login(map[string]string{"phone": "+447911200001", "password": password})
	call("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "fcm-token-p1"}, p1, http.StatusCreated)
	// The teacher's phone, pushed at any hour (working hours every day).
	call("POST", "/v1/me/devices", map[string]any{"platform": "ios", "token": "fcm-token-teacher"}, teacher, http.StatusCreated)
	call("PUT", "/v1/me/staff-settings", map[string]any{"email_digest": true, "working_hours": map[string]any{"start": "00:00", "end": "23:59",
		"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}}, teacher, http.StatusOK)

	// 1. The parent writes; the teacher's inbox has it unread.
	var started conv
	must(json.Unmarshal(call("POST", "/v1/me/conversations", map[string]any{"child_id": "chd_1", "body": "Efa lost her jumper, size 5"},
		p1, http.StatusCreated), &started))
	if got := inbox(teacher, "?unread=true"); len(got) != 1 || got[0].ID != started.ID || !got[0].Unread {
		t.Fatalf("teacher's unread inbox %+v", got)
	}
	var me struct {
		Unread int `json:"unread_conversations"`
	}
	must(json.Unmarshal(call("GET", "/v1/me", nil, teacher, http.StatusOK), &me))
	if me.Unread != 1 {
		t.Fatalf("teacher's unread count %d, want 1", me.Unread)
	}
	// The teacher's device gets one push, with no words of the message.
	waitFor(t, "the teacher's push", func() bool { return fc.SentTo("fcm-token-teacher") >= 1 })
	for _, m := range fc.Accepted() {
		if m.Token == "fcm-token-teacher" && (strings.Contains(m.Title+m.Body, "jumper") || strings.Contains(m.Title+m.Body, "Efa")) {
			t.Errorf("the teacher's push carries the message or a name: %q %q", m.Title, m.Body)
		}
	}
	call("GET", "/v1/schools/sch_c/conversations/"+started.ID, nil, teacher, http.StatusOK)

	// 2. The reply reaches the parent's phone as one push naming only the class.
	const reply1 = "Found it in the hall, Efa can collect it tomorrow"
	call("POST", "/v1/schools/sch_c/conversations/"+started.ID+"/messages", map[string]any{"body": reply1}, teacher, http.StatusCreated)
	waitFor(t, "the reply's push", func() bool { return fc.SentTo("fcm-token-p1") >= 1 })
	var push providerfake.FCMMessage
	for _, m := range fc.Accepted() {
		if m.Token == "fcm-token-p1" {
			push = m
		}
	}
	if push.Title != "New message from Robins class" {
		t.Errorf("push title %q", push.Title)
	}
	for _, leak := range []string{"jumper", "hall", "Efa", "Khan", "Awen", "Parent"} {
		if strings.Contains(push.Title+" "+push.Body+" "+strings.Join(mapValues(push.Data), " "), leak) {
			t.Errorf("the push carries %q: %+v", leak, push)
		}
	}
	if n := len(tw.Received()); n != 0 {
		t.Errorf("the parent with the app was also texted (%d)", n)
	}

	// 3. A signed text from the parent without the app.
	form := url.Values{"MessageSid": {"SM" + strings.Repeat("c0", 16)}, "AccountSid": {tw.AccountSID}, "From": {"+447911200002"},
		"To": {"+447700900001"}, "Body": {"Cai has a dentist appointment at 2pm"}, "NumMedia": {"0"}}
	sig := providerfake.TwilioSignature(tw.AuthToken, publicURL+"/webhooks/twilio/inbound", form)
	for i := 0; i < 2; i++ { // Twilio retries: one message
		do("POST", "/webhooks/twilio/inbound", "application/x-www-form-urlencoded", []byte(form.Encode()), "",
			map[string]string{"X-Twilio-Signature": sig}, http.StatusOK)
	}
	var bySMS *conv
	for _, c := range inbox(teacher, "?unread=true") {
		if c.BySMS {
			c := c
			bySMS = &c
		}
	}
	if bySMS == nil {
		t.Fatalf("the text is not in the teacher's unread inbox: %+v", inbox(teacher, ""))
	}
	var thread struct {
		Messages []struct {
			Body string `json:"body"`
			Via  string `json:"via"`
		} `json:"messages"`
	}
	must(json.Unmarshal(call("GET", "/v1/schools/sch_c/conversations/"+bySMS.ID, nil, teacher, http.StatusOK), &thread))
	if len(thread.Messages) != 1 || thread.Messages[0].Via != "sms" || !strings.Contains(thread.Messages[0].Body, "dentist") {
		t.Fatalf("the texted thread %+v", thread)
	}

	// 4. The reply goes back as one SMS with the text.
	const reply2 = "Thanks, noted for 2pm"
	var posted struct {
		ID string `json:"id"`
	}
	must(json.Unmarshal(call("POST", "/v1/schools/sch_c/conversations/"+bySMS.ID+"/messages", map[string]any{"body": reply2},
		teacher, http.StatusCreated), &posted))
	// The reply's one ledger entry settles sent; once settled it is never
	// claimed again, so the count below is final.
	waitFor(t, "the reply's SMS to settle", func() bool {
		pg, err := s.LedgerPage(ctx, content.LedgerPageID("brd_"+posted.ID, 0))
		return err == nil && len(pg.Entries) == 1 && pg.Entries[0].State().Settled()
	})
	pg, err := s.LedgerPage(ctx, content.LedgerPageID("brd_"+posted.ID, 0))
	must(err)
	if e := pg.Entries[0]; e.Channel != "sms" || e.State() != content.StateSent {
		t.Fatalf("the reply's ledger entry: %s %s %s", e.Channel, e.State(), e.ErrorCode)
	}
	if n := tw.SentTo("+447911200002"); n != 1 {
		t.Fatalf("%d texts to the parent, want 1", n)
	}
	if body := tw.Accepted()[0].Body; !strings.Contains(body, reply2) || !strings.HasPrefix(body, "Conversation Primary (Robins): ") {
		t.Errorf("the SMS reads %q", body)
	}
	if n := fc.SentTo("fcm-token-p1"); n != 1 {
		t.Errorf("%d pushes to the first parent, want 1", n)
	}
	// The teacher was pushed once per parent message: the app message and the text.
	waitFor(t, "the teacher's push for the text", func() bool { return fc.SentTo("fcm-token-teacher") >= 2 })
	if n := fc.SentTo("fcm-token-teacher"); n != 2 {
		t.Errorf("%d pushes to the teacher, want 2", n)
	}
	t.Logf("conversation journey: FCM accepted %d, Twilio accepted %d", len(fc.Accepted()), len(tw.Accepted()))
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

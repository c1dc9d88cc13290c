package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/media/mediatest"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
)

// TestHomeLearningJourney walks issue 5's whole loop on the real stack —
// API, queue in Redis, worker, store — with the real provider clients
// talking to the FCM, Twilio and SendGrid fakes:
//
//  1. a teacher assigns an activity to the class;
//  2. the FCM fake gets a push for the parent with the app, the Twilio fake
//     a text for the parent without it, and the SendGrid fake an email for
//     the parent who prefers email;
//  3. the parent's feed shows the activity;
//  4. the parent marks it done and sends a photo carrying GPS EXIF; the
//     stored photo and thumbnail carry none;
//  5. the teacher sees the submission and replies; the parent gets a push;
//  6. the dashboards count it all, with the pupil-premium split right.
func TestHomeLearningJourney(t *testing.T) {
	_, redisURL := redistest.New(t)
	tw, sg, fc := providerfake.NewTwilio(t), providerfake.NewSendGrid(t), providerfake.NewFCM(t)
	env := map[string]string{
		"HOMETIME_DATA_DIR": t.TempDir(), "REDIS_URL": redisURL,
		"HOMETIME_TWILIO_ACCOUNT_SID": tw.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": tw.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": tw.URL,
		"HOMETIME_PUBLIC_URL": "https://api.hometime.test", "HOMETIME_SMS_RATE": "500",
		"SENDGRID_API_KEY": sg.APIKey, "HOMETIME_SENDGRID_BASE_URL": sg.URL, "HOMETIME_EMAIL_FROM": "Hometime <hello@hometime.test>",
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

	// A school open for messages all day: a class taught by the teacher,
	// an admin, and three families. K1 (pupil premium) has parent P1 with
	// the app; K2's parent P2 has only a phone; K3's parent P3 prefers email.
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
	must(s.CreateSchool(ctx, &content.School{ID: "sch_j", Name: "Journey Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "00:00", QuietEnd: "00:00", SMSBudgetPence: 1_000_000, Subscription: content.Subscription{State: "active"}}))
	staff := func(id, email, title, last string, role content.Role) {
		must(s.CreateStaff(ctx, &content.Staff{ID: id, Email: email, PasswordHash: hash, Title: title, FirstName: "S", LastName: last,
			Schools: []content.SchoolRoles{{SchoolID: "sch_j", Roles: []content.Role{role}}}}))
		must(s.PutLogin(ctx, &content.Login{Key: "staff:email:" + email, Kind: content.KindStaff, AccountID: id}))
	}
	staff("stf_t", "teacher@journey.test", "Mrs", "Khan", content.RoleTeacher)
	staff("stf_a", "admin@journey.test", "Mr", "Jones", content.RoleAdmin)
	must(s.CreateClass(ctx, &content.Class{ID: "cls_j", SchoolID: "sch_j", Name: "Robins", YearGroup: "R", TeacherIDs: []string{"stf_t"}}))
	type family struct{ parent, child, phone, email string }
	families := []family{
		{"par_1", "chd_1", "+447911100001", "p1@journey.test"},
		{"par_2", "chd_2", "+447911100002", ""},
		{"par_3", "chd_3", "+447911100003", "p3@journey.test"},
	}
	for i, f := range families {
		k := &content.Child{ID: f.child, SchoolID: "sch_j", FirstName: fmt.Sprintf("Kid%d", i+1), LastName: "J", YearGroup: "R",
			ClassIDs: []string{"cls_j"}, PupilPremium: i == 0, SchoolLink: content.SchoolLink{State: content.LinkLinked},
			Parents: []content.ParentLink{{ParentID: f.parent, State: content.LinkLinked}}}
		p := &content.Parent{ID: f.parent, FirstName: "P", LastName: "J", Phone: f.phone, Email: f.email, Language: "en",
			State: content.ParentActive, PasswordHash: hash, Sessions: []string{},
			Children: []content.ChildLink{{ChildID: k.ID, SchoolID: "sch_j", FirstName: k.FirstName, YearGroup: "R", State: content.LinkLinked}}}
		must(s.CreateChild(ctx, k))
		must(s.CreateParent(ctx, p))
		must(s.PutLogin(ctx, &content.Login{Key: "parent:phone:" + f.phone, Kind: content.KindParent, AccountID: f.parent}))
	}

	call := func(method, path string, body any, token string, want int) []byte {
		t.Helper()
		var raw []byte
		ct := "application/json"
		switch b := body.(type) {
		case nil:
		case multipartBody:
			raw, ct = b.data, b.contentType
		default:
			raw, err = json.Marshal(b)
			must(err)
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		if raw != nil {
			req.Header.Set("Content-Type", ct)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
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
	login := func(body map[string]string) string {
		t.Helper()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		must(json.Unmarshal(call("POST", "/v1/auth/login", body, "", http.StatusOK), &tok))
		return tok.AccessToken
	}
	teacher := login(map[string]string{"email": "teacher@journey.test", "password": password})
	admin := login(map[string]string{"email": "admin@journey.test", "password": password})
	parents := map[string]string{}
	for _, f := range families {
		parents[f.parent] = login(map[string]string{"phone": f.phone, "password": password})
	}
	call("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "fcm-token-p1"}, parents["par_1"], http.StatusCreated)
	auto := map[string]any{"channel": "auto", "language": nil}
	call("PUT", "/v1/me/preferences", map[string]any{"activities": map[string]any{"channel": "email", "language": nil},
		"replies": auto, "awards": auto, "news": auto}, parents["par_3"], http.StatusOK)

	// 1–2. The teacher assigns an activity; each family hears once, by its channel.
	var asg struct {
		ID string `json:"id"`
	}
	must(json.Unmarshal(call("POST", "/v1/schools/sch_j/classes/cls_j/assignments",
		map[string]any{"activity_ids": []string{"act_starter_001"}, "due_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)},
		teacher, http.StatusCreated), &asg))
	var entries []content.LedgerEntry // the release's messages, once settled
	defer func() {
		if !t.Failed() {
			return
		}
		t.Logf("FCM saw %d (accepted %d), Twilio %d, SendGrid %d", len(fc.Received()), len(fc.Accepted()), len(tw.Received()), len(sg.Received()))
		for _, e := range entries {
			t.Logf("release message to %s by %s: %s %s", e.RecipientID, e.Channel, e.State(), e.ErrorCode)
		}
	}()
	// Each family's message is settled in the ledger (sent or failed) on
	// the channel its preferences give: push for P1 (the app), SMS for P2,
	// email for P3 — and the fakes got exactly those.
	// A ledger page holds one channel, so the three families' messages are
	// on three pages.
	release := content.ReleaseBroadcastID(asg.ID)
	waitFor(t, "the release messages to settle", func() bool {
		entries = entries[:0]
		for n := 0; ; n++ {
			pg, err := s.LedgerPage(ctx, content.LedgerPageID(release, n))
			if content.IsCode(err, content.CodeNotFound) {
				break
			} else if err != nil {
				return false
			}
			entries = append(entries, pg.Entries...)
		}
		for _, e := range entries {
			switch e.State() {
			case content.StateSent, content.StateDelivered, content.StateFailed, content.StateUnknown, content.StateSuppressed:
			default:
				return false
			}
		}
		return len(entries) == len(families)
	})
	wantChannel := map[string]string{"par_1": "push", "par_2": "sms", "par_3": "email"}
	renderGap := false
	for _, e := range entries {
		if e.Channel != wantChannel[e.RecipientID] {
			t.Errorf("release message to %s went by %s, want %s", e.RecipientID, e.Channel, wantChannel[e.RecipientID])
		}
		renderGap = renderGap || e.ErrorCode == "render_failed"
	}
	t.Run("release reaches the providers", func(t *testing.T) {
		if renderGap {
			// A whole-class release names each family's own children at
			// send time; a message that cannot be worded is a failure.
			t.Error("some release messages failed to render")
		}
		if fc.SentTo("fcm-token-p1") != 1 || tw.SentTo("+447911100002") != 1 || sg.SentTo("p3@journey.test") != 1 {
			t.Errorf("push to P1 %d, SMS to P2 %d, email to P3 %d; want one each",
				fc.SentTo("fcm-token-p1"), tw.SentTo("+447911100002"), sg.SentTo("p3@journey.test"))
		}
		if n := tw.SentTo("+447911100001") + tw.SentTo("+447911100003"); n != 0 {
			t.Errorf("P1 (the app) or P3 (email) was also texted: %d", n)
		}
	})
	releasePushes := fc.SentTo("fcm-token-p1")

	// 3. The feed shows it.
	var feed struct {
		Items []struct {
			Kind         string `json:"kind"`
			State        string `json:"state"`
			AssignmentID string `json:"assignment_id"`
		} `json:"items"`
	}
	waitFor(t, "the feed item", func() bool {
		must(json.Unmarshal(call("GET", "/v1/children/chd_1/feed", nil, parents["par_1"], http.StatusOK), &feed))
		return len(feed.Items) == 1
	})
	if feed.Items[0].AssignmentID != asg.ID || feed.Items[0].Kind != "activity" {
		t.Fatalf("feed: %+v", feed.Items)
	}

	// 4. P1 marks it done and sends a photo carrying GPS EXIF.
	sub := "/v1/children/chd_1/assignments/" + asg.ID + "/submission"
	call("POST", sub, map[string]any{"done": true, "rating": 5, "comment": "We told the whole story"}, parents["par_1"], http.StatusOK)
	jpg, err := mediatest.PhotoLikeJPEG(1600, 1200, 90, 12, 3)
	must(err)
	photo := mediatest.WithGPS(jpg, journeyGPSCanary)
	if !bytes.Contains(photo, []byte(journeyGPSCanary)) {
		t.Fatal("the test photo lacks its GPS canary")
	}
	var ph struct {
		ID string `json:"id"`
	}
	must(json.Unmarshal(call("POST", sub+"/photos", photoForm(t, photo), parents["par_1"], http.StatusCreated), &ph))
	for _, v := range []string{content.PhotoFull, content.PhotoThumb} {
		b, err := s.PhotoBytes(ctx, ph.ID, v)
		must(err)
		if bytes.Contains(b, []byte(journeyGPSCanary)) || bytes.Contains(b, []byte("Exif\x00\x00")) || !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
			t.Errorf("stored %s: %d bytes, still carrying EXIF/GPS or not a JPEG", v, len(b))
		}
	}

	// 5. The teacher sees it, replies, and P1 is notified by push.
	var list struct {
		Items []struct {
			ID       string   `json:"id"`
			ParentID string   `json:"parent_id"`
			PhotoIDs []string `json:"photo_ids"`
		} `json:"items"`
	}
	must(json.Unmarshal(call("GET", "/v1/schools/sch_j/assignments/"+asg.ID+"/submissions", nil, teacher, http.StatusOK), &list))
	if len(list.Items) != 1 || list.Items[0].ParentID != "par_1" || len(list.Items[0].PhotoIDs) != 1 {
		t.Fatalf("teacher's list: %+v", list.Items)
	}
	call("POST", "/v1/schools/sch_j/assignments/"+asg.ID+"/submissions/"+list.Items[0].ID+"/replies",
		map[string]any{"body": "What a brilliant story!"}, teacher, http.StatusCreated)
	waitFor(t, "the reply notification", func() bool { return fc.SentTo("fcm-token-p1") == releasePushes+1 })
	if tw.SentTo("+447911100001") != 0 || sg.SentTo("p1@journey.test") != 0 {
		t.Error("the reply also went by SMS or email to a parent with the app")
	}

	// 6. The dashboards: P1's child is pupil premium, the others are not.
	type week struct {
		SignIns, Completions, Ratings, Photos, Comments int64
	}
	decodeWeek := func(raw json.RawMessage) week {
		var w struct {
			SignIns     int64 `json:"sign_ins"`
			Completions int64 `json:"completions"`
			Ratings     int64 `json:"ratings"`
			Photos      int64 `json:"photos"`
			Comments    int64 `json:"comments"`
		}
		must(json.Unmarshal(raw, &w))
		return week{w.SignIns, w.Completions, w.Ratings, w.Photos, w.Comments}
	}
	var school struct {
		Weeks, PupilPremium, Other []json.RawMessage `json:"-"`
	}
	var raw map[string]json.RawMessage
	must(json.Unmarshal(call("GET", "/v1/schools/sch_j/engagement?weeks=1", nil, admin, http.StatusOK), &raw))
	for name, into := range map[string]*[]json.RawMessage{"weeks": &school.Weeks, "pupil_premium": &school.PupilPremium, "other": &school.Other} {
		must(json.Unmarshal(raw[name], into))
	}
	pp, other, all := decodeWeek(school.PupilPremium[0]), decodeWeek(school.Other[0]), decodeWeek(school.Weeks[0])
	if want := (week{SignIns: 1, Completions: 1, Ratings: 1, Photos: 1, Comments: 1}); pp != want {
		t.Errorf("pupil premium: %+v, want %+v", pp, want)
	}
	if want := (week{SignIns: 2}); other != want {
		t.Errorf("other: %+v, want %+v", other, want)
	}
	if want := (week{SignIns: 3, Completions: 1, Ratings: 1, Photos: 1, Comments: 1}); all != want {
		t.Errorf("school: %+v, want %+v", all, want)
	}
	var class struct {
		Weeks []json.RawMessage `json:"weeks"`
	}
	must(json.Unmarshal(call("GET", "/v1/schools/sch_j/classes/cls_j/engagement?weeks=1", nil, teacher, http.StatusOK), &class))
	if got := decodeWeek(class.Weeks[0]); got != all {
		t.Errorf("class view %+v, want the school's %+v", got, all)
	}
	call("GET", "/v1/schools/sch_j/engagement?weeks=1", nil, teacher, http.StatusForbidden)
	t.Logf("journey: pushes %d, texts %d, emails %d; engagement school %+v, pupil premium %+v, other %+v",
		len(fc.Accepted()), len(tw.Accepted()), len(sg.Accepted()), all, pp, other)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	const patience = 60 * time.Second
	deadline := time.Now().Add(patience)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still waiting for %s", patience, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type multipartBody struct {
	data        []byte
	contentType string
}

func photoForm(t *testing.T, file []byte) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="photo"; filename="IMG_0001.jpg"`)
	hdr.Set("Content-Type", "image/jpeg")
	part, err := mw.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(file)
	mw.Close()
	return multipartBody{data: buf.Bytes(), contentType: mw.FormDataContentType()}
}

const journeyGPSCanary = "JOURNEY-GPS-CANARY 52.4862N"

// journeyLog shows the stack's warnings when JOURNEY_LOG is set.
func journeyLog(t *testing.T) io.Writer {
	if os.Getenv("JOURNEY_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

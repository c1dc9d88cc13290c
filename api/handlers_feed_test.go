package api

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

var parentActors = []string{actParentA, actParentB, actParentOther}

func (w *world) parentOf(actor string) *content.Parent {
	return map[string]*content.Parent{actParentA: w.ParentA, actParentB: w.ParentB, actParentOther: w.ParentOther}[actor]
}

// addFeedItem puts an activity item in a child's feed, as a release does.
func (w *world) addFeedItem(t testing.TB, childID, key string) string {
	t.Helper()
	id, err := w.h.store.AddFeedItem(context.Background(), &content.FeedItem{ChildID: childID, Key: key,
		Kind: content.FeedActivity, At: w.h.clock.Now(), AssignmentID: "asg_x", ActivityID: "act_starter_001",
		Title: "Story bag", ActivityKind: content.ActivityTogether, Subject: content.SubjectReading, Minutes: 15,
		DueAt: w.h.clock.Now().Add(72 * time.Hour), SetBy: w.Teacher.ID, TeacherName: "Ms Llewellyn"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func feedSeenCell(t *testing.T, w *world, actor string) cell {
	id := w.addFeedItem(t, "chd_1", "asg:matrix:"+content.NewID("x"))
	return cell{path: "/v1/children/chd_1/feed/" + id + "/seen"}
}

func deviceCell(t *testing.T, w *world, actor string) cell {
	return cell{path: "/v1/me/devices", body: map[string]any{"platform": "android", "token": content.NewSecret()}}
}

func removeDeviceCell(t *testing.T, w *world, actor string) cell {
	token := content.NewSecret()
	id := content.DeviceID(w.h.deps.HashKey, token)
	now := w.h.clock.Now()
	d := content.Device{ID: id, Platform: content.PlatformIOS, Token: token, LastSeen: now, Created: now}
	if p := w.parentOf(actor); p != nil {
		if err := w.h.store.PutDevice(context.Background(), p.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	if st := w.staffOf(actor); st != nil {
		if err := w.h.store.PutStaffDevice(context.Background(), st.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	return cell{path: "/v1/me/devices/" + id}
}

func autoPreferences() map[string]any {
	auto := map[string]any{"channel": "auto", "language": nil}
	return map[string]any{"activities": auto, "replies": auto, "awards": auto, "news": auto}
}

func newActivityBody() map[string]any {
	return map[string]any{"title": "Leaf sorting", "kind": "activity", "subject": "science", "year_groups": []string{"R", "Y1"},
		"minutes": 15, "summary": "Collect leaves on a walk and sort them by colour, size and shape.",
		"materials": []string{"a bag"}, "steps": []string{"Go for a walk and collect leaves.", "Sort them into groups."}}
}

func (w *world) newSchoolActivity(t testing.TB, schoolID string) *content.Activity {
	t.Helper()
	a := &content.Activity{ID: content.NewID("act"), Title: "Leaf sorting", Kind: content.ActivityTogether,
		Subject: content.SubjectScience, YearGroups: []string{"R"}, Minutes: 15, Language: "en",
		Summary: "Sort leaves.", Steps: []string{"Collect leaves."}, SchoolID: schoolID, CreatedBy: "stf_x",
		CreatedAt: w.h.clock.Now()}
	if err := w.h.store.CreateActivity(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func schoolActivityCell(body any) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, actor string) cell {
		return cell{path: "/v1/schools/sch_1/activities/" + w.newSchoolActivity(t, "sch_1").ID, body: body}
	}
}

func newAssignmentCell(t *testing.T, w *world, actor string) cell {
	return cell{path: "/v1/schools/sch_1/classes/cls_1/assignments", body: map[string]any{
		"activity_ids": []string{"act_starter_001"}, "due_at": w.h.clock.Now().Add(7 * 24 * time.Hour).Format(time.RFC3339)}}
}

// newScheduled stores an assignment of C1 releasing tomorrow.
func (w *world) newScheduled(t testing.TB) *content.Assignment {
	t.Helper()
	now := w.h.clock.Now()
	a := &content.Assignment{ID: content.NewID("asg"), SchoolID: "sch_1", ClassID: "cls_1", SetBy: w.Teacher.ID,
		TeacherName: "Ms Llewellyn", Activities: []content.AssignedActivity{{ID: "act_starter_001", Title: "Story bag",
			Kind: content.ActivityTogether, Subject: content.SubjectReading, Minutes: 15}},
		ChildIDs: []string{}, ReleaseAt: now.Add(24 * time.Hour).Truncate(time.Second), DueAt: now.Add(96 * time.Hour).Truncate(time.Second),
		State: content.AssignmentScheduled, CreatedAt: now, UpdatedAt: now}
	if err := w.h.store.CreateAssignment(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func assignmentCell(patch bool) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, actor string) cell {
		c := cell{path: "/v1/schools/sch_1/classes/cls_1/assignments/" + w.newScheduled(t).ID}
		if patch {
			c.body = map[string]any{"due_at": w.h.clock.Now().Add(120 * time.Hour).Format(time.RFC3339)}
		}
		return c
	}
}

// TestFeedPagesAndSeen: parent A pages K1's feed newest first with cursors,
// marks an item seen, and cannot mark another child's item through K1; a
// bad cursor is 400 naming it.
func TestFeedPagesAndSeen(t *testing.T) {
	w := newWorld(t)
	h := w.h
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, w.addFeedItem(t, "chd_1", fmt.Sprintf("asg:a%02d:act", i)))
	}
	other := w.addFeedItem(t, "chd_2", "asg:b:act")
	tokA := w.tokens[actParentA]

	resp, body := h.do("GET", "/v1/children/chd_1/feed?limit=10", nil, tokA)
	wantStatus(t, resp, body, 200)
	var got []string
	page := decode[feedPageDTO](t, body)
	for pages := 1; ; pages++ {
		for _, it := range page.Items {
			got = append(got, it.ID)
			if it.State != "new" || it.Activity == nil || it.Activity.Subject != "reading" || it.DueAt == nil {
				t.Fatalf("item %+v", it)
			}
		}
		if page.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		resp, body = h.do("GET", "/v1/children/chd_1/feed?limit=10&cursor="+page.NextCursor, nil, tokA)
		wantStatus(t, resp, body, 200)
		page = decode[feedPageDTO](t, body)
	}
	if len(got) != 25 || got[0] != ids[24] || got[24] != ids[0] {
		t.Fatalf("paged %d items, first %s last %s", len(got), got[0], got[len(got)-1])
	}

	resp, body = h.do("POST", "/v1/children/chd_1/feed/"+ids[3]+"/seen", nil, tokA)
	wantStatus(t, resp, body, 204)
	resp, body = h.do("POST", "/v1/children/chd_1/feed/"+ids[3]+"/seen", nil, tokA)
	wantStatus(t, resp, body, 204)
	it, err := h.store.FeedItem(context.Background(), ids[3])
	if err != nil || it.State() != content.FeedSeen {
		t.Fatalf("after seen: %+v %v", it, err)
	}
	// Opened twice, viewed once: the child's engagement counts one view.
	week := content.ISOWeek(h.clock.Now())
	if c, err := h.store.EngagementWeeks(context.Background(), content.ScopeChild, "chd_1", []string{week}); err != nil ||
		c[0][content.EngageView] != 1 {
		t.Fatalf("views after two seen reports: %v %v, want 1", c, err)
	}
	// K2's item through K1's path (A2): 404, and K2's item is untouched.
	resp, body = h.do("POST", "/v1/children/chd_1/feed/"+other+"/seen", nil, tokA)
	wantStatus(t, resp, body, 404)
	if it, _ := h.store.FeedItem(context.Background(), other); it.Seen {
		t.Fatal("another child's item was marked")
	}
	for _, bad := range []string{"f1.0", "f1.x", "zz", "f1.-3"} {
		resp, body = h.do("GET", "/v1/children/chd_1/feed?cursor="+bad, nil, tokA)
		wantStatus(t, resp, body, 400)
		if e := decode[struct {
			Error struct{ Fields map[string]string }
		}](t, body); e.Error.Fields["cursor"] == "" {
			t.Fatalf("cursor %q: %s", bad, body)
		}
	}
}

// TestDevicesAndPreferences: registration is 201 then 200 for the same
// token, the response never carries the token, a token moves to the parent
// who registers it last, and preferences are validated against the
// account's contacts.
func TestDevicesAndPreferences(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	body := map[string]any{"platform": "ios", "token": "tok-phone-shared-1"}
	resp, out := h.do("POST", "/v1/me/devices", body, w.tokens[actParentA])
	wantStatus(t, resp, out, 201)
	if json.Valid(out) && containsString(out, "tok-phone-shared-1") {
		t.Fatalf("response carries the token: %s", out)
	}
	resp, out = h.do("POST", "/v1/me/devices", body, w.tokens[actParentA])
	wantStatus(t, resp, out, 200)
	dev := decode[deviceDTO](t, out)
	resp, out = h.do("POST", "/v1/me/devices", body, w.tokens[actParentB])
	wantStatus(t, resp, out, 201)
	if ts, _ := h.store.DeviceTokens(ctx, w.ParentA.ID); len(ts) != 0 {
		t.Fatalf("token stayed with parent A: %v", ts)
	}
	if ts, _ := h.store.DeviceTokens(ctx, w.ParentB.ID); len(ts) != 1 {
		t.Fatalf("parent B tokens %v", ts)
	}
	// A no longer has it: 404; B removes it.
	resp, out = h.do("DELETE", "/v1/me/devices/"+dev.ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, out, 404)
	resp, out = h.do("DELETE", "/v1/me/devices/"+dev.ID, nil, w.tokens[actParentB])
	wantStatus(t, resp, out, 204)
	for _, bad := range []map[string]any{{"platform": "windows", "token": "x"}, {"platform": "ios", "token": ""},
		{"platform": "ios", "token": "a b"}, {"platform": "ios", "token": "x", "parent_id": "par_b"}} {
		resp, out = h.do("POST", "/v1/me/devices", bad, w.tokens[actParentA])
		wantStatus(t, resp, out, 400)
	}
	if strings := h.logBuf.String(); containsString([]byte(strings), "tok-phone-shared-1") {
		t.Fatal("a token reached the log")
	}

	prefs := autoPreferences()
	prefs["awards"] = map[string]any{"channel": "sms", "language": "cy"}
	prefs["news"] = map[string]any{"channel": "none", "language": nil}
	resp, out = h.do("PUT", "/v1/me/preferences", prefs, w.tokens[actParentA])
	wantStatus(t, resp, out, 200)
	resp, out = h.do("GET", "/v1/me/preferences", nil, w.tokens[actParentA])
	wantStatus(t, resp, out, 200)
	got := decode[preferencesDTO](t, out)
	if got.Awards.Channel != "sms" || got.Awards.Language == nil || *got.Awards.Language != "cy" || got.News.Channel != "none" || got.Activities.Channel != "auto" {
		t.Fatalf("preferences: %s", out)
	}
	// Bad values name the field, and nothing is stored.
	bad := autoPreferences()
	bad["replies"] = map[string]any{"channel": "fax", "language": "fr"}
	resp, out = h.do("PUT", "/v1/me/preferences", bad, w.tokens[actParentA])
	wantStatus(t, resp, out, 400)
	fields := decode[struct {
		Error struct{ Fields map[string]string }
	}](t, out).Error.Fields
	if fields["replies.channel"] == "" || fields["replies.language"] == "" {
		t.Fatalf("fields: %v", fields)
	}
	p, err := h.store.Parent(ctx, w.ParentA.ID)
	if err != nil || p.Preferences[content.CategoryAwards].Channel != "sms" {
		t.Fatalf("stored preferences changed by a refused request: %+v", p.Preferences)
	}
	// Email for a parent with no address is refused.
	p.Email = ""
	if err := h.store.UpdateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	noEmail := autoPreferences()
	noEmail["activities"] = map[string]any{"channel": "email", "language": nil}
	resp, out = h.do("PUT", "/v1/me/preferences", noEmail, w.tokens[actParentA])
	wantStatus(t, resp, out, 400)
}

func containsString(b []byte, s string) bool { return len(s) > 0 && bytesContains(b, []byte(s)) }

func bytesContains(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Matrix cells for deletion and hiding.

func (w *world) staffOf(actor string) *content.Staff {
	return map[string]*content.Staff{actTeacher: w.Teacher, actTeacherOther: w.TeacherOther, actAdmin: w.Admin,
		actAdminOther: w.AdminOther}[actor]
}

func staffSettingsBody() map[string]any {
	return map[string]any{"working_hours": map[string]any{"start": "08:00", "end": "16:30", "days": []string{"mon", "tue"}},
		"email_digest": true}
}

// commentOfA stores parent A's submission for K1 and asg_1 with a comment.
func (w *world) commentOfA(t testing.TB, comment string) *content.Submission {
	t.Helper()
	sub, err := w.h.store.PutSubmission(context.Background(), &content.Submission{ID: content.SubmissionID("asg_1", "chd_1", "par_a"),
		SchoolID: "sch_1", AssignmentID: "asg_1", ChildID: "chd_1", ParentID: "par_a"},
		content.SubmissionUpdate{Comment: &comment}, w.h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// replyOfA adds a reply of parent A's to their thread on asg_1.
func (w *world) replyOfA(t testing.TB, body string) string {
	t.Helper()
	sub := w.submitAsA(t)
	id := content.NewID("rpl")
	if _, err := w.h.store.AddReply(context.Background(), sub.ID, content.Reply{ID: id, AuthorKind: content.KindParent,
		AuthorID: "par_a", Body: body, At: w.h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}

func commentCell(t *testing.T, w *world, _ string) cell {
	w.commentOfA(t, "We loved this")
	return cell{path: "/v1/children/chd_1/assignments/asg_1/submission/comment"}
}

func parentReplyCell(t *testing.T, w *world, _ string) cell {
	return cell{path: "/v1/children/chd_1/assignments/asg_1/submission/replies/" + w.replyOfA(t, "Thanks")}
}

func hideCell(t *testing.T, w *world, _ string) cell {
	p := w.storePhotoOfA(t)
	return cell{path: "/v1/schools/sch_1/moderation/hide", body: map[string]any{"kind": "photo", "id": p.ID, "reason": "Shows another pupil"}}
}

func decodeInto[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// TestParentDeletesOwnWords: parent A's comment, reply and photo can be
// deleted by A alone (another parent gets 404, staff 403); once deleted,
// the photo's signed URL answers 404, its pictures are gone from GridFS,
// staff views and both exports lack all three.
func TestParentDeletesOwnWords(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.h, context.Background()
	tokA, tokB, tokT := w.tokens[actParentA], w.tokens[actParentB], w.tokens[actTeacher]
	base := "/v1/children/chd_1/assignments/asg_1/submission"

	resp, body := h.do("POST", base, map[string]any{"done": true, "comment": "Canary-comment-7731"}, tokA)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %s", resp.StatusCode, body)
	}
	resp, body = h.do("POST", base+"/replies", map[string]any{"body": "Canary-reply-7731"}, tokA)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	sub := decodeInto[submissionDTO](t, body)
	replyID := sub.Replies[len(sub.Replies)-1].ID
	mp, ct := multipartPhoto(t, smallJPEG(t))
	resp, body = h.do("POST", base+"/photos", mp, tokA, withHeader("Content-Type", ct))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("photo: %d %s", resp.StatusCode, body)
	}
	photoID := decodeInto[photoDTO](t, body).ID
	resp, body = h.do("GET", "/v1/photos/"+photoID+"?variant=thumb", nil, tokA)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("photo url: %d %s", resp.StatusCode, body)
	}
	mediaURL := decodeInto[photoURLDTO](t, body).URL
	if resp, _ := h.do("GET", mediaURL, nil, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("media before deletion: %d", resp.StatusCode)
	}

	// Nobody else deletes them.
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"parent B, A's photo", "/v1/photos/" + photoID, tokB, http.StatusNotFound},
		{"parent B, A's reply", base + "/replies/" + replyID, tokB, http.StatusNotFound},
		{"parent B, comment", base + "/comment", tokB, http.StatusNotFound},
		{"teacher, A's photo", "/v1/photos/" + photoID, tokT, http.StatusForbidden},
		{"parent in another school", "/v1/photos/" + photoID, w.tokens[actParentOther], http.StatusNotFound},
	} {
		if resp, body := h.do("DELETE", c.path, nil, c.token); resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, resp.StatusCode, c.want, body)
		}
	}
	if got, err := h.store.Photo(ctx, photoID); err != nil || got.ID != photoID {
		t.Fatalf("photo after refused deletions: %v", err)
	}

	for _, path := range []string{"/v1/photos/" + photoID, base + "/replies/" + replyID, base + "/comment"} {
		if resp, body := h.do("DELETE", path, nil, tokA); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d %s", path, resp.StatusCode, body)
		}
		// Gone: a second delete is 404.
		if resp, _ := h.do("DELETE", path, nil, tokA); resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE %s again: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := h.do("GET", mediaURL, nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("media URL after deletion: %d, want 404", resp.StatusCode)
	}
	for _, v := range []string{content.PhotoFull, content.PhotoThumb} {
		if _, err := h.store.PhotoBytes(ctx, photoID, v); !content.IsCode(err, content.CodeNotFound) {
			t.Errorf("%s picture after deletion: %v, want not found", v, err)
		}
	}
	n, err := h.store.Database().Collection("photofiles.files").CountDocuments(ctx, map[string]any{})
	if err != nil || n != 0 {
		t.Errorf("GridFS files left: %d (%v)", n, err)
	}

	resp, body = h.do("GET", "/v1/schools/sch_1/assignments/asg_1/submissions", nil, tokT)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "Canary") || strings.Contains(string(body), photoID) {
		t.Errorf("teacher's view after deletion: %d %s", resp.StatusCode, body)
	}
	pe, files, err := h.store.ParentExportData(ctx, "par_a")
	if err != nil {
		t.Fatal(err)
	}
	se, sfiles, err := h.store.SchoolExportData(ctx, "sch_1")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"parent export": pe, "school export": se} {
		raw, _ := json.Marshal(v)
		if strings.Contains(string(raw), "Canary") || strings.Contains(string(raw), photoID) {
			t.Errorf("%s still holds deleted content", name)
		}
	}
	if len(files)+len(sfiles) != 0 {
		t.Errorf("exports hold %d photo files after deletion", len(files)+len(sfiles))
	}
}

// TestStaffHideContent: only staff who see the child hide, with a reason
// (422 without); hidden content leaves staff views, photo URLs and the
// school's export but stays in its author's view and export; the reason is
// audited.
func TestStaffHideContent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.h, context.Background()
	tokA, tokT := w.tokens[actParentA], w.tokens[actTeacher]
	sub := w.commentOfA(t, "Canary-hide-comment")
	replyID := w.replyOfA(t, "Canary-hide-reply")
	ph := w.storePhotoOfA(t)
	hide := func(token string, body map[string]any) (*http.Response, []byte) {
		return h.do("POST", "/v1/schools/sch_1/moderation/hide", body, token)
	}

	// Teacher of another class, admin of another school: 404.
	for _, actor := range []string{actTeacherOther, actAdminOther} {
		if resp, body := hide(w.tokens[actor], map[string]any{"kind": "photo", "id": ph.ID, "reason": "x"}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s hides: %d %s", actor, resp.StatusCode, body)
		}
	}
	// A reason is required.
	resp, body := hide(tokT, map[string]any{"kind": "comment", "id": sub.ID, "reason": "  "})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"reason"`) {
		t.Errorf("no reason: %d %s, want 422 naming reason", resp.StatusCode, body)
	}
	if resp, body := hide(tokT, map[string]any{"kind": "comment", "id": sub.ID}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(string(body), `"reason"`) {
		t.Errorf("reason left out: %d %s", resp.StatusCode, body)
	}
	if resp, body := hide(tokT, map[string]any{"kind": "video", "id": "", "reason": "x"}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(body), `"kind"`) || !strings.Contains(string(body), `"id"`) {
		t.Errorf("bad kind and id: %d %s", resp.StatusCode, body)
	}
	if got, _ := h.store.Submission(ctx, sub.ID); got.CommentHidden != nil {
		t.Fatal("a refused hide changed the submission")
	}

	for _, b := range []map[string]any{
		{"kind": "comment", "id": sub.ID, "reason": "Names another family"},
		{"kind": "comment", "id": sub.ID, "reply_id": replyID, "reason": "Abusive"},
		{"kind": "photo", "id": ph.ID, "reason": "Shows another pupil"},
	} {
		if resp, body := hide(tokT, b); resp.StatusCode != http.StatusOK {
			t.Fatalf("hide %v: %d %s", b, resp.StatusCode, body)
		}
	}
	for action, want := range map[string][2]string{
		"moderation.hide.comment": {"submission:" + sub.ID, "Names another family"},
		"moderation.hide.photo":   {"photo:" + ph.ID, "Shows another pupil"},
	} {
		cur, err := h.store.Database().Collection("audit").Find(ctx, bson.M{"action": action, "subject": want[0]})
		if err != nil {
			t.Fatal(err)
		}
		var events []struct {
			ActorID string `bson:"actorId"`
			Reason  string `bson:"reason"`
		}
		if err := cur.All(ctx, &events); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].ActorID != w.Teacher.ID || events[0].Reason != want[1] {
			t.Errorf("%s audit events %+v", action, events)
		}
	}
	if strings.Contains(h.logBuf.String(), "Names another family") {
		t.Error("a moderation reason reached the log")
	}

	// Staff: no comment, no reply, no photo.
	for _, path := range []string{"/v1/schools/sch_1/assignments/asg_1/submissions",
		"/v1/schools/sch_1/assignments/asg_1/submissions/" + sub.ID + "/replies"} {
		resp, body := h.do("GET", path, nil, tokT)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "Canary") {
			t.Errorf("staff view %s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, actor := range []string{actTeacher, actAdmin} {
		if resp, _ := h.do("GET", "/v1/photos/"+ph.ID, nil, w.tokens[actor]); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s opens the hidden photo: %d", actor, resp.StatusCode)
		}
	}
	// The author: everything, marked hidden.
	resp, body = h.do("GET", "/v1/children/chd_1/assignments/asg_1/submission", nil, tokA)
	own := decodeInto[submissionDTO](t, body)
	if resp.StatusCode != http.StatusOK || own.Comment != "Canary-hide-comment" || !own.CommentHidden ||
		!slices.ContainsFunc(own.Replies, func(r replyDTO) bool { return r.ID == replyID && r.Hidden }) {
		t.Errorf("author's view: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.do("GET", "/v1/photos/"+ph.ID, nil, tokA); resp.StatusCode != http.StatusOK {
		t.Errorf("author opens their hidden photo: %d", resp.StatusCode)
	}
	se, sfiles, err := h.store.SchoolExportData(ctx, "sch_1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(se)
	if i := max(strings.Index(string(raw), "Canary"), strings.Index(string(raw), ph.ID)); i >= 0 || len(sfiles) != 0 {
		t.Errorf("school export holds hidden content (%d files): %s", len(sfiles), raw[max(0, i-300):min(len(raw), i+100)])
	}
	pe, pfiles, err := h.store.ParentExportData(ctx, "par_a")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(pe)
	if !strings.Contains(string(raw), "Canary-hide-comment") || !strings.Contains(string(raw), "Canary-hide-reply") || len(pfiles) != 1 {
		t.Errorf("author's export lacks their hidden content (%d files)", len(pfiles))
	}
	// Hiding again is not an error and keeps the first record.
	if resp, body := hide(w.tokens[actAdmin], map[string]any{"kind": "photo", "id": ph.ID, "reason": "again"}); resp.StatusCode != http.StatusOK {
		t.Errorf("hide again: %d %s", resp.StatusCode, body)
	}
	if got, _ := h.store.Photo(ctx, ph.ID); got.Hidden == nil || got.Hidden.By != w.Teacher.ID {
		t.Errorf("hidden record %+v, want the teacher's", got.Hidden)
	}
}

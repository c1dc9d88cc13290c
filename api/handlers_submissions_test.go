package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/media"
	"github.com/hometime-edu/hometime/content/media/mediatest"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// testAssignments serves the assignment look-up submissions need. The
// assignments store belongs to another part of issue 5; the wiring adapts
// it (worker/cmd/stack), and these tests name the assignments they use.
type testAssignments struct {
	mu sync.Mutex
	m  map[string]*content.AssignmentTarget
}

func newTestAssignments() *testAssignments {
	return &testAssignments{m: map[string]*content.AssignmentTarget{
		// Released for C1 (K1 parent A, K2 parent B), with one activity.
		"asg_1": {ID: "asg_1", SchoolID: "sch_1", ClassIDs: []string{"cls_1"}, ActivityIDs: []string{"act_1"}, Title: "Shape hunt", Released: true},
		// Set for C1 but not yet released.
		"asg_later": {ID: "asg_later", SchoolID: "sch_1", ClassIDs: []string{"cls_1"}, ActivityIDs: []string{"act_1"}, Title: "Later"},
		// Released for K2 alone.
		"asg_k2": {ID: "asg_k2", SchoolID: "sch_1", ClassIDs: []string{"cls_1"}, ChildIDs: []string{"chd_2"}, ActivityIDs: []string{"act_1"}, Title: "Just K2", Released: true},
	}}
}

func (a *testAssignments) AssignmentTarget(_ context.Context, id string) (*content.AssignmentTarget, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.m[id]
	if !ok {
		return nil, content.Errorf(content.CodeNotFound, "no such assignment")
	}
	cp := *t
	return &cp, nil
}

// submitAsA stores parent A's submission for K1 and asg_1.
func (w *world) submitAsA(t testing.TB) *content.Submission {
	t.Helper()
	done, rating := true, 4
	sub, err := w.h.store.PutSubmission(context.Background(), &content.Submission{ID: content.SubmissionID("asg_1", "chd_1", "par_a"),
		SchoolID: "sch_1", AssignmentID: "asg_1", ChildID: "chd_1", ParentID: "par_a"}, content.SubmissionUpdate{Done: &done, Rating: &rating}, w.h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// storePhotoOfA stores a small photo of parent A's for K1, on a
// submission of its own (so matrix cells never reach the photo cap).
func (w *world) storePhotoOfA(t testing.TB) *content.Photo {
	t.Helper()
	asg := content.NewID("asg")
	sub := &content.Submission{ID: content.SubmissionID(asg, "chd_1", "par_a"), SchoolID: "sch_1", AssignmentID: asg,
		ChildID: "chd_1", ParentID: "par_a"}
	p := &content.Photo{ID: content.NewID("pho"), SubmissionID: sub.ID, SchoolID: "sch_1", ChildID: "chd_1", ParentID: "par_a",
		ContentType: "image/jpeg", SourceFormat: "jpeg", Width: 4, Height: 3, CreatedAt: w.h.clock.Now()}
	if err := w.h.store.PutPhoto(context.Background(), sub, p, []byte("\xFF\xD8\xFFfull"), []byte("\xFF\xD8\xFFthumb")); err != nil {
		t.Fatal(err)
	}
	return p
}

func submissionCell(suffix string, seed bool, body any) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		if seed {
			w.submitAsA(t)
		}
		return cell{path: "/v1/children/chd_1/assignments/asg_1/submission" + suffix, body: body}
	}
}

func staffSubmissionCell(suffix string, post bool) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		sub := w.submitAsA(t)
		var body any
		if post {
			body = map[string]any{"body": "Lovely work"}
		}
		path := "/v1/schools/sch_1/assignments/asg_1/submissions"
		if suffix != "" {
			path += "/" + sub.ID + suffix
		}
		return cell{path: path, body: body}
	}
}

func photoCell(suffix string) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		p := w.storePhotoOfA(t)
		var body any
		if suffix == "/consent" {
			body = map[string]any{"promotion": true}
		}
		return cell{path: "/v1/photos/" + p.ID + suffix, body: body}
	}
}

func mediaCell(t *testing.T, w *world, _ string) cell {
	p := w.storePhotoOfA(t)
	srv := &server{Deps: w.h.deps}
	return cell{path: "/v1/media/" + srv.mediaToken(p.ID, content.PhotoThumb, w.h.clock.Now().Add(mediaURLTTL))}
}

func photoUploadCell(t *testing.T, w *world, _ string) cell {
	body, ct := multipartPhoto(t, smallJPEG(t))
	return cell{path: "/v1/children/chd_1/assignments/asg_1/submission/photos", body: body,
		opts: []reqOpt{withHeader("Content-Type", ct)}}
}

func smallJPEG(t testing.TB) []byte {
	t.Helper()
	j, err := mediatest.PhotoLikeJPEG(64, 48, 85, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// multipartPhoto wraps a file as the upload form's "photo" field.
func multipartPhoto(t testing.TB, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="photo"; filename="photo.jpg"`)
	hdr.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// gpsCanary sits in the GPS IFD of the uploaded photo's EXIF: no stored picture may hold it.
const gpsCanary = "HOMETIME-GPS-CANARY 51.5012N"

// TestSubmissionScenarios: a linked parent submits, repeats (one document,
// updated), reads it back; bad input is refused field by field with
// nothing stored; other parents and unreleased or other children's
// assignments are 404; the class's teacher lists it.
func TestSubmissionScenarios(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	a, b := w.tokens[actParentA], w.tokens[actParentB]
	path := "/v1/children/chd_1/assignments/asg_1/submission"

	bad := []struct {
		name  string
		body  any
		field string
	}{
		{"rating too high", map[string]any{"done": true, "rating": 6}, "rating"},
		{"rating zero", map[string]any{"rating": 0}, "rating"},
		{"comment too long", map[string]any{"comment": strings.Repeat("é", content.SubmissionCommentMax+1)}, "comment"},
		{"control characters", map[string]any{"comment": "hi\x00there"}, "comment"},
		{"unknown field", map[string]any{"done": true, "parent_id": "par_b"}, "parent_id"},
		{"wrong type", map[string]any{"rating": "five"}, "rating"},
	}
	for _, tc := range bad {
		resp, body := h.do("POST", path, tc.body, a)
		wantStatus(t, resp, body, http.StatusBadRequest)
		if e := decode[errorBody](t, body); e.Error.Fields[tc.field] == "" {
			t.Errorf("%s: no problem named for %s: %s", tc.name, tc.field, body)
		}
	}
	if resp, body := h.do("GET", path, nil, a); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("refused submits stored something: %d %s", resp.StatusCode, body)
	}

	resp, body := h.do("POST", path, map[string]any{"done": true, "rating": 4, "comment": "  We built a tower  "}, a)
	wantStatus(t, resp, body, http.StatusOK)
	first := decode[submissionDTO](t, body)
	if !first.Done || first.Rating == nil || *first.Rating != 4 || first.Comment != "We built a tower" || first.ParentID != "" {
		t.Fatalf("first submit: %s", body)
	}
	h.clock.Advance(time.Minute)
	resp, body = h.do("POST", path, map[string]any{"done": true, "rating": 5, "comment": "We built a tower"}, a)
	wantStatus(t, resp, body, http.StatusOK)
	again := decode[submissionDTO](t, body)
	if again.ID != first.ID || *again.Rating != 5 || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("repeat submit: %s", body)
	}
	// A field left out keeps its value.
	resp, body = h.do("POST", path, map[string]any{"rating": 3}, a)
	wantStatus(t, resp, body, http.StatusOK)
	if p := decode[submissionDTO](t, body); *p.Rating != 3 || p.Comment != "We built a tower" || !p.Done {
		t.Fatalf("partial update: %s", body)
	}
	resp, body = h.do("GET", path, nil, a)
	wantStatus(t, resp, body, http.StatusOK)

	refusals := []struct {
		name, path, token string
	}{
		{"parent B on K1", path, b},
		{"parent A, unreleased assignment", "/v1/children/chd_1/assignments/asg_later/submission", a},
		{"parent A, assignment for K2 only", "/v1/children/chd_1/assignments/asg_k2/submission", a},
		{"parent A, unknown assignment", "/v1/children/chd_1/assignments/asg_nope/submission", a},
	}
	for _, tc := range refusals {
		resp, body := h.do("POST", tc.path, map[string]any{"done": true}, tc.token)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404: %s", tc.name, resp.StatusCode, body)
		}
	}

	resp, body = h.do("GET", "/v1/schools/sch_1/assignments/asg_1/submissions", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, http.StatusOK)
	list := decode[submissionListDTO](t, body)
	if len(list.Items) != 1 || list.Items[0].ParentID != "par_a" || list.Items[0].Comment != "We built a tower" {
		t.Fatalf("teacher's list: %s", body)
	}
	resp, body = h.do("GET", "/v1/schools/sch_1/assignments/asg_1/submissions", nil, w.tokens[actTeacherOther])
	wantStatus(t, resp, body, http.StatusNotFound)

	// Engagement counted the completion, the rating and the comment once,
	// for K1's class and the pupil-premium side (K1 is pupil premium).
	wk := []string{content.ISOWeek(h.clock.Now())}
	for scope, id := range map[string]string{content.ScopeClass: "cls_1", content.ScopeSchoolPP: "sch_1", content.ScopeChild: "chd_1"} {
		got, err := h.store.EngagementWeeks(context.Background(), scope, id, wk)
		if err != nil {
			t.Fatal(err)
		}
		if got[0][content.EngageCompletion] != 1 || got[0][content.EngageRating] != 1 || got[0][content.EngageComment] != 1 {
			t.Errorf("%s %s counts %v, want one completion, rating and comment", scope, id, got[0])
		}
	}
	other, _ := h.store.EngagementWeeks(context.Background(), content.ScopeSchoolOther, "sch_1", wk)
	if other[0][content.EngageCompletion] != 0 {
		t.Errorf("other children counted %v", other[0])
	}
}

// TestPhotoUploadAndSignedURLs: a photo carrying GPS EXIF is stored
// re-encoded with neither EXIF nor GPS in photo or thumbnail, served only
// through a signed URL that expires and cannot be altered, with nosniff;
// non-images are refused by their bytes; consent is the uploader's.
func TestPhotoUploadAndSignedURLs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	a := w.tokens[actParentA]
	upload := "/v1/children/chd_1/assignments/asg_1/submission/photos"

	for name, file := range map[string][]byte{
		"svg":              []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"html":             []byte("<!doctype html><p>hi"),
		"jpeg header only": []byte("\xFF\xD8\xFF\xE0garbage"),
	} {
		body, ct := multipartPhoto(t, file)
		resp, out := h.do("POST", upload, body, a, withHeader("Content-Type", ct))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422: %s", name, resp.StatusCode, out)
		}
	}
	if resp, out := h.do("POST", upload, map[string]any{"photo": "x"}, a); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON instead of a form: %d %s", resp.StatusCode, out)
	}
	// A 12 MP progressive 4:4:4 JPEG: its pixels pass the caps, but the
	// decoder would hold 180 MB of coefficients and planes. Refused from
	// its header with 413 and a message saying what to do.
	{
		sof := []byte{8, 0x0B, 0xB8, 0x0F, 0xA0, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0} // 3000 high, 4000 wide
		costly := append([]byte{0xFF, 0xD8, 0xFF, 0xC2, 0, byte(len(sof) + 2)}, sof...)
		costly = append(costly, 0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 63, 0)
		body, ct := multipartPhoto(t, costly)
		resp, out := h.do("POST", upload, body, a, withHeader("Content-Type", ct))
		wantStatus(t, resp, out, http.StatusRequestEntityTooLarge)
		if e := decode[errorBody](t, out); e.Error.Message != media.ErrTooMuchMemory.Message {
			t.Errorf("progressive 12 MP 4:4:4: %s", out)
		}
	}

	src := mediatest.WithGPS(smallJPEG(t), gpsCanary)
	if !bytes.Contains(src, []byte(gpsCanary)) {
		t.Fatal("the test photo lacks its GPS canary")
	}
	body, ct := multipartPhoto(t, src)
	resp, out := h.do("POST", upload, body, a, withHeader("Content-Type", ct), withHeader("Idempotency-Key", "photo-1"))
	wantStatus(t, resp, out, http.StatusCreated)
	ph := decode[photoDTO](t, out)
	// The same upload retried with its key is stored once.
	resp, out = h.do("POST", upload, body, a, withHeader("Content-Type", ct), withHeader("Idempotency-Key", "photo-1"))
	wantStatus(t, resp, out, http.StatusCreated)
	if decode[photoDTO](t, out).ID != ph.ID || resp.Header.Get(headerIdempotentReplayed) != "true" {
		t.Fatalf("retried upload: %s", out)
	}
	sub, err := h.store.Submission(context.Background(), content.SubmissionID("asg_1", "chd_1", "par_a"))
	if err != nil || len(sub.PhotoIDs) != 1 || sub.PhotoIDs[0] != ph.ID {
		t.Fatalf("submission after upload: %+v %v", sub, err)
	}
	for _, v := range []string{content.PhotoFull, content.PhotoThumb} {
		stored, err := h.store.PhotoBytes(context.Background(), ph.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(gpsCanary)) || bytes.Contains(stored, []byte("Exif\x00\x00")) {
			t.Errorf("stored %s still carries EXIF/GPS", v)
		}
	}

	// Parent B (not K1's) and the teacher of another class cannot get a URL.
	for _, actor := range []string{actParentB, actTeacherOther, actAdminOther} {
		if resp, _ := h.do("GET", "/v1/photos/"+ph.ID, nil, w.tokens[actor]); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s got %d for parent A's photo", actor, resp.StatusCode)
		}
	}
	resp, out = h.do("GET", "/v1/photos/"+ph.ID+"?variant=thumb", nil, w.tokens[actTeacher])
	wantStatus(t, resp, out, http.StatusOK)
	u := decode[photoURLDTO](t, out)
	resp, img := h.do("GET", u.URL, nil, "")
	wantStatus(t, resp, img, http.StatusOK)
	for hdr, want := range map[string]string{"Content-Type": "image/jpeg", "X-Content-Type-Options": "nosniff",
		"Cache-Control": "private, max-age=300", "Content-Disposition": "inline"} {
		if got := resp.Header.Get(hdr); got != want {
			t.Errorf("%s: %q, want %q", hdr, got, want)
		}
	}
	if !bytes.HasPrefix(img, []byte{0xFF, 0xD8, 0xFF}) || bytes.Contains(img, []byte(gpsCanary)) {
		t.Errorf("served thumbnail: %d bytes, JPEG %v", len(img), bytes.HasPrefix(img, []byte{0xFF, 0xD8}))
	}
	// Altered tokens and an expired one are the same 404.
	tok := strings.TrimPrefix(u.URL, "/v1/media/")
	srv := &server{Deps: h.deps}
	forged := srv.mediaToken(ph.ID, content.PhotoFull, h.clock.Now().Add(time.Hour))
	// One character of the signature changed: not the last, whose low
	// bits are padding that a base64 decoder may ignore.
	alter := func(s string) string {
		c := byte('A')
		if s[len(s)-3] == c {
			c = 'B'
		}
		return s[:len(s)-3] + string(c) + s[len(s)-2:]
	}
	for _, bad := range []string{alter(tok), "x" + tok, alter(forged), "nope"} {
		if resp, _ := h.do("GET", "/v1/media/"+bad, nil, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("token %q: %d, want 404", bad, resp.StatusCode)
		}
	}
	h.clock.Advance(mediaURLTTL + time.Second)
	if resp, _ := h.do("GET", u.URL, nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired URL: %d, want 404", resp.StatusCode)
	}

	// Consent: the uploader opts in, recorded with who and when.
	resp, out = h.do("PUT", "/v1/photos/"+ph.ID+"/consent", map[string]any{"promotion": true}, a)
	wantStatus(t, resp, out, http.StatusOK)
	if got := decode[photoDTO](t, out); !got.PromotionConsent || got.PromotionConsentAt == nil {
		t.Fatalf("consent: %s", out)
	}
	meta, err := h.store.Photo(context.Background(), ph.ID)
	if err != nil || meta.Promotion.By != "par_a" || !meta.Promotion.At.Equal(h.clock.Now()) {
		t.Fatalf("consent record: %+v %v", meta, err)
	}
	if resp, out := h.do("PUT", "/v1/photos/"+ph.ID+"/consent", map[string]any{}, a); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("consent without a choice: %d %s", resp.StatusCode, out)
	}
}

// TestPhotoTooLargeRefusedFromHeader: an upload declaring more than 10 MB
// is refused with 413 from its header, before the rest of its body is
// sent; the upload routes' own limits apply to them alone.
func TestPhotoTooLargeRefusedFromHeader(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		method, path string
		want         int // 0: not an upload route, BodyLimit applies
	}{
		{"POST", "/v1/children/c/assignments/a/submission/photos", PhotoMaxBytes + photoUploadOverhead},
		{"POST", "/v1/children/c/assignments/a/submission/photos/", PhotoMaxBytes + photoUploadOverhead},
		{"POST", "/V1/Children/c/Assignments/a/Submission/Photos", PhotoMaxBytes + photoUploadOverhead},
		{"POST", "/v1/schools/sch_1/imports", ImportBodyLimit},
		{"POST", "/v1/children/c/assignments/a/submission", 0},
		{"POST", "/v1/children//assignments/a/submission/photos", 0},
		{"POST", "/v1/children/c/assignments/a/submission/photos/x", 0},
		{"GET", "/v1/children/c/assignments/a/submission/photos", 0},
		{"POST", "/v1/schools/sch_1/imports/x", 0},
		{"PUT", "/v1/schools/sch_1/imports", 0},
	} {
		if got, _ := uploadLimit(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: upload limit %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
	status := rawStatus(t, w.h, "POST /v1/children/chd_1/assignments/asg_1/submission/photos HTTP/1.1\r\nHost: hometime.test\r\n"+
		"Authorization: Bearer "+w.tokens[actParentA]+"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 11000000\r\n\r\n"+
		strings.Repeat("x", 16<<10)) // fasthttp reads the first 8 KiB with the headers
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("11 MB upload: %d, want 413", status)
	}
}

// TestRepliesThreadAndNotification: the class's teacher replies; the thread
// shows it to the parent and staff; the submitting parent alone is
// notified through one teacher_reply broadcast; a retry with the same
// Idempotency-Key adds nothing; the parent may answer back.
func TestRepliesThreadAndNotification(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	sub := w.submitAsA(t)
	path := "/v1/schools/sch_1/assignments/asg_1/submissions/" + sub.ID + "/replies"
	teacher := w.tokens[actTeacher]

	for _, body := range []any{map[string]any{"body": "   "}, map[string]any{"body": strings.Repeat("x", content.ReplyBodyMax+1)}, map[string]any{"text": "hi"}} {
		if resp, out := h.do("POST", path, body, teacher); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bad reply %v: %d %s", body, resp.StatusCode, out)
		}
	}
	if resp, _ := h.do("POST", path, map[string]any{"body": "Hi"}, w.tokens[actTeacherOther]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("teacher of another class replied: %d", resp.StatusCode)
	}
	if resp, _ := h.do("POST", "/v1/schools/sch_1/assignments/asg_k2/submissions/"+sub.ID+"/replies", map[string]any{"body": "Hi"}, teacher); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a submission under another assignment: %d", resp.StatusCode)
	}
	for i := 0; i < 2; i++ {
		resp, out := h.do("POST", path, map[string]any{"body": "What a great tower!"}, teacher, withHeader("Idempotency-Key", "reply-1"))
		wantStatus(t, resp, out, http.StatusCreated)
	}
	got, err := h.store.Submission(context.Background(), sub.ID)
	if err != nil || len(got.Replies) != 1 || got.Replies[0].AuthorName != "Tesni Llewellyn" {
		t.Fatalf("thread after a retried reply: %+v %v", got, err)
	}
	expands := h.queue.OfType(tasks.TypeExpandBroadcast)
	if len(expands) != 1 { // the retry is answered from the stored reply
		t.Fatalf("%d expansion tasks queued, want 1", len(expands))
	}
	var p tasks.ExpandBroadcast
	if err := json.Unmarshal(expands[0].Payload(), &p); err != nil {
		t.Fatal(err)
	}
	brd, err := h.store.Broadcast(context.Background(), p.BroadcastID)
	if err != nil {
		t.Fatal(err)
	}
	if brd.Template != "teacher_reply" || brd.Category != "replies" || len(brd.Audience.ParentIDs) != 1 || brd.Audience.ParentIDs[0] != "par_a" ||
		brd.Params["child_first_name"] != "Eirlys" || brd.Params["teacher_name"] != "Tesni Llewellyn" || brd.Params["link"] == "" {
		t.Fatalf("notification: %+v", brd)
	}
	if bytes.Contains(expands[0].Payload(), []byte("Eirlys")) {
		t.Error("the task payload carries a name")
	}

	resp, out := h.do("GET", "/v1/children/chd_1/assignments/asg_1/submission", nil, w.tokens[actParentA])
	wantStatus(t, resp, out, http.StatusOK)
	if s := decode[submissionDTO](t, out); len(s.Replies) != 1 || s.Replies[0].Author != "teacher" {
		t.Fatalf("parent's view of the thread: %s", out)
	}
	resp, out = h.do("POST", "/v1/children/chd_1/assignments/asg_1/submission/replies", map[string]any{"body": "Thank you!"}, w.tokens[actParentA])
	wantStatus(t, resp, out, http.StatusCreated)
	resp, out = h.do("GET", path, nil, w.tokens[actAdmin])
	wantStatus(t, resp, out, http.StatusOK)
	if l := decode[replyListDTO](t, out); len(l.Items) != 2 || l.Items[1].Author != "parent" {
		t.Fatalf("staff view of the thread: %s", out)
	}
}

// TestAwardNotifiesParentsAndShowsInFeed: an award reaches every linked
// parent through one award broadcast and appears once in the child's feed
// even when the request is retried.
func TestAwardNotifiesParentsAndShowsInFeed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	path := "/v1/schools/sch_1/children/chd_1/awards"
	if resp, out := h.do("POST", path, map[string]any{"reason": strings.Repeat("x", content.AwardReasonMax+1)}, w.tokens[actTeacher]); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("long reason: %d %s", resp.StatusCode, out)
	}
	if resp, _ := h.do("POST", "/v1/schools/sch_1/children/chd_3/awards", map[string]any{"reason": "Kind"}, w.tokens[actTeacher]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("award to a child of another class: %d", resp.StatusCode)
	}
	var first awardDTO
	for i := 0; i < 2; i++ {
		resp, out := h.do("POST", path, map[string]any{"reason": "Super counting"}, w.tokens[actTeacher], withHeader("Idempotency-Key", "award-1"))
		wantStatus(t, resp, out, http.StatusCreated)
		first = decode[awardDTO](t, out)
	}
	brd, err := h.store.Broadcast(context.Background(), "brd_"+first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if brd.Template != "award" || brd.Category != "awards" || len(brd.Audience.ParentIDs) != 1 || brd.Audience.ParentIDs[0] != "par_a" {
		t.Fatalf("award notification: %+v", brd)
	}
	items, _, err := h.store.FeedPage(context.Background(), "chd_1", -1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Kind != content.FeedAward || items[0].Reason != "Super counting" || items[0].AwardID != first.ID {
		t.Fatalf("feed: %+v", items)
	}
}

// TestEngagementDashboards: a sign-in, a completion and a photo show in the
// teacher's class view (no split) and the admin's school view with the
// pupil-premium split; the CSV neutralises formula cells.
func TestEngagementDashboards(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	// The world's own sign-ins (parents A, B and X) are already counted;
	// count from there.
	week := []string{content.ISOWeek(h.clock.Now())}
	base := map[string]int64{}
	for _, scope := range []string{content.ScopeClass + ":cls_1", content.ScopeSchool + ":sch_1", content.ScopeSchoolPP + ":sch_1", content.ScopeSchoolOther + ":sch_1"} {
		sc, id, _ := strings.Cut(scope, ":")
		got, err := h.store.EngagementWeeks(ctx, sc, id, week)
		if err != nil {
			t.Fatal(err)
		}
		base[scope] = got[0][content.EngageSignIn]
	}
	if base[content.ScopeSchoolPP+":sch_1"] != 1 || base[content.ScopeSchoolOther+":sch_1"] != 2 {
		t.Fatalf("the world's sign-ins: %v", base)
	}
	h.login(w.ParentA.Email, fixturePassword) // K1: pupil premium, C1
	h.login(w.ParentB.Email, fixturePassword) // K2: other, C1
	resp, out := h.do("POST", "/v1/children/chd_2/assignments/asg_1/submission", map[string]any{"done": true}, w.tokens[actParentB])
	wantStatus(t, resp, out, http.StatusOK)
	if err := h.store.CreateClass(ctx, &content.Class{ID: "cls_evil", SchoolID: "sch_1", Name: "=HYPERLINK(\"http://x\")", YearGroup: "Y1"}); err != nil {
		t.Fatal(err)
	}

	resp, out = h.do("GET", "/v1/schools/sch_1/classes/cls_1/engagement?weeks=3", nil, w.tokens[actTeacher])
	wantStatus(t, resp, out, http.StatusOK)
	cl := decode[classEngagementDTO](t, out)
	if len(cl.Weeks) != 3 || cl.Weeks[2].SignIns != base[content.ScopeClass+":cls_1"]+2 || cl.Weeks[2].Completions != 1 || strings.Contains(string(out), "pupil") {
		t.Fatalf("class view: %s", out)
	}
	resp, out = h.do("GET", "/v1/schools/sch_1/engagement", nil, w.tokens[actAdmin])
	wantStatus(t, resp, out, http.StatusOK)
	sc := decode[schoolEngagementDTO](t, out)
	last := len(sc.Weeks) - 1
	if len(sc.Weeks) != engagementWeeksDefault || sc.Weeks[last].SignIns != base[content.ScopeSchool+":sch_1"]+2 ||
		sc.PupilPremium[last].SignIns != 2 || sc.Other[last].SignIns != 3 || sc.Other[last].Completions != 1 || sc.PupilPremium[last].Completions != 0 {
		t.Fatalf("school view: %s", out)
	}
	if resp, _ := h.do("GET", "/v1/schools/sch_1/engagement", nil, w.tokens[actTeacher]); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("teacher on the split: %d", resp.StatusCode)
	}
	// Out-of-range weeks break the contract on purpose: sent unchecked.
	for _, q := range []string{"0", "27", "x", "-1"} {
		status, out := w.doOutsideContract(t, "GET", "/v1/schools/sch_1/engagement?weeks="+q, w.tokens[actAdmin])
		if e := decode[errorBody](t, out); status != http.StatusBadRequest || e.Error.Fields["weeks"] == "" {
			t.Errorf("weeks=%s: %d %s, want 400 naming weeks", q, status, out)
		}
	}
	resp, out = h.do("GET", "/v1/schools/sch_1/engagement.csv?weeks=1", nil, w.tokens[actAdmin])
	wantStatus(t, resp, out, http.StatusOK)
	csv := string(out)
	if !strings.HasPrefix(csv, "group,name,week,sign_ins,") || !strings.Contains(csv, "pupil_premium,") ||
		!strings.Contains(csv, `class,"'=HYPERLINK(""http://x"")",`) {
		t.Fatalf("csv: %s", csv)
	}
	if got := csvCell("=1+1"); got != "'=1+1" {
		t.Errorf("csvCell: %q", got)
	}
	if got := csvCell("@SUM(A1)"); got != "'@SUM(A1)" {
		t.Errorf("csvCell: %q", got)
	}
}

// rawStatus sends a raw request head through a real socket (fasthttp
// refuses oversize bodies from the header, which app.Test cannot show) and
// returns the status.
func rawStatus(t *testing.T, h *harness, head string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.app.Listener(ln) }()
	t.Cleanup(func() { _ = h.app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSubmissionsReachTheFeed: marking the assignment done marks the
// child's feed item done with the rating, and a teacher's reply shows on
// it once even when retried.
func TestSubmissionsReachTheFeed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	itemID, err := h.store.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_1", Key: feedKey("asg_1", "act_1"), Kind: content.FeedActivity,
		At: h.clock.Now(), AssignmentID: "asg_1", ActivityID: "act_1", Title: "Shape hunt"})
	if err != nil {
		t.Fatal(err)
	}
	resp, out := h.do("POST", "/v1/children/chd_1/assignments/asg_1/submission", map[string]any{"done": true, "rating": 3, "comment": "Found 12 circles"}, w.tokens[actParentA])
	wantStatus(t, resp, out, http.StatusOK)
	sub := decode[submissionDTO](t, out)
	for i := 0; i < 2; i++ {
		resp, out = h.do("POST", "/v1/schools/sch_1/assignments/asg_1/submissions/"+sub.ID+"/replies", map[string]any{"body": "Brilliant!"},
			w.tokens[actTeacher], withHeader("Idempotency-Key", "feed-reply"))
		wantStatus(t, resp, out, http.StatusCreated)
	}
	stored, err := h.store.FeedItem(ctx, itemID)
	if err != nil {
		t.Fatal(err)
	}
	item := stored.ForReader("par_a", false)
	if item.State() != content.FeedDone || item.Rating != 3 || item.SubmitID != sub.ID || item.ReplyCount() != 1 || item.LatestReply != "Brilliant!" {
		t.Fatalf("feed item: %+v", item)
	}
}

// TestAssignmentTargetsOfTheStore: the adapter over the assignments store
// says released only once the assignment is, and lists its activities.
func TestAssignmentTargetsOfTheStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	now := h.clock.Now()
	a := &content.Assignment{ID: "asg_real", SchoolID: "sch_1", ClassID: "cls_1", SetBy: "stf_t", TeacherName: "Mrs Khan",
		Activities: []content.AssignedActivity{{ID: "act_a", Title: "Leaf sort"}, {ID: "act_b", Title: "Count steps"}},
		ReleaseAt:  now, DueAt: now.Add(7 * 24 * time.Hour), State: content.AssignmentScheduled, CreatedAt: now, UpdatedAt: now}
	if err := h.store.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	targets := AssignmentTargetsOf(h.store)
	got, err := targets.AssignmentTarget(ctx, a.ID)
	if err != nil || got.Released || got.Title != "Leaf sort" || len(got.ActivityIDs) != 2 || got.ClassIDs[0] != "cls_1" {
		t.Fatalf("scheduled: %+v %v", got, err)
	}
	if ok, err := h.store.StartRelease(ctx, a.ID, a.ReleaseAt, now); err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
	if got, err = targets.AssignmentTarget(ctx, a.ID); err != nil || !got.Released {
		t.Fatalf("released: %+v %v", got, err)
	}
	if _, err := targets.AssignmentTarget(ctx, "asg_none"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("unknown assignment: %v", err)
	}
}

// TestPhotoSlotsBoundProcessing: with every slot taken, an upload waits
// and then is told to retry (503), never processed beside the others.
func TestPhotoSlotsBoundProcessing(t *testing.T) {
	t.Parallel()
	slots := newPhotoSlots(2)
	var releases []func()
	for i := 0; i < 2; i++ {
		r, err := slots.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := slots.acquire(ctx); !content.IsCode(err, content.CodeUnavailable) {
		t.Fatalf("a third photo at once: %v, want unavailable", err)
	}
	releases[0]()
	r, err := slots.acquire(context.Background())
	if err != nil {
		t.Fatalf("after a slot is freed: %v", err)
	}
	r()
	releases[1]()
}

package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// exportArchive asks for an export through the API (POST path), builds it
// with the real worker handler, downloads it through the API with the
// same token and returns the archive's files by name.
func (w *world) exportArchive(t *testing.T, token, requestPath, downloadBase string) map[string][]byte {
	t.Helper()
	h := w.h
	resp, body := h.do(http.MethodPost, requestPath, nil, token)
	wantStatus(t, resp, body, http.StatusAccepted)
	e := decode[exportDTO](t, body)
	task, err := tasks.NewBuildExport(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	builder := &worker.Exports{Store: h.store, Roster: h.store, Ledger: h.store, Tasks: h.queue, Clock: h.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AppURL: "https://hometime.test"}
	if err := builder.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("build export: %v", err)
	}
	resp, body = h.do(http.MethodGet, downloadBase+e.ID+"/download", nil, token)
	wantStatus(t, resp, body, http.StatusOK)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	if len(files["export.json"]) == 0 {
		t.Fatal("the archive has no export.json")
	}
	return files
}

// archiveText is every file of an archive, for leak checks.
func archiveText(files map[string][]byte) string {
	var b strings.Builder
	for name, f := range files {
		b.WriteString(name + "\n")
		b.Write(f)
		b.WriteString("\n")
	}
	return b.String()
}

// The demo's reproduction: an admin sets pupil premium on one of a
// parent's children and unlinks the parent from the other, then gives the
// unlinked child an award. The parent's export holds neither UPN nor pupil
// premium, nothing of the unlinked child and not that award.
func TestParentExportHoldsOnlyWhatTheParentMaySee(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	k4 := &content.Child{ID: "chd_4", SchoolID: "sch_1", FirstName: "Osian", LastName: "Bevan-Unlinked", UPN: "H801200001099",
		YearGroup: "Y2", ClassIDs: []string{"cls_1"}, SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: h.clock.Now()}
	if err := h.store.CreateChild(ctx, k4); err != nil {
		t.Fatal(err)
	}
	if err := h.linkForTest(ctx, w.ParentA, k4); err != nil {
		t.Fatal(err)
	}
	admin := w.tokens[actAdmin]
	award := func(child, reason string) {
		t.Helper()
		resp, body := h.do(http.MethodPost, "/v1/schools/sch_1/children/"+child+"/awards", map[string]any{"reason": reason}, admin)
		wantStatus(t, resp, body, http.StatusCreated)
	}
	award("chd_1", "Kind to everyone at lunch")
	award("chd_4", "Award before the unlink")
	resp, body := h.do(http.MethodPatch, "/v1/schools/sch_1/children/chd_1", map[string]any{"pupil_premium": true}, admin)
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = h.do(http.MethodDelete, "/v1/schools/sch_1/children/chd_4/parents/par_a",
		map[string]any{"reason": "Court order"}, admin)
	if resp.StatusCode >= 300 {
		t.Fatalf("unlink: %d %s", resp.StatusCode, body)
	}
	award("chd_4", "Award after the unlink")

	files := w.exportArchive(t, w.tokens[actParentA], "/v1/me/export", "/v1/me/exports/")
	js := string(files["export.json"])
	all := archiveText(files)
	for _, want := range []string{"Gwenllian", "gwen.p@example.test", "+447911123501", "chd_1", "Eirlys", "Pritchard",
		"Kingfishers", "Riverside Primary", "Kind to everyone at lunch"} {
		if !strings.Contains(js, want) {
			t.Errorf("export.json lacks %q", want)
		}
	}
	for _, leak := range []string{"upn", "UPN", w.K1.UPN, k4.UPN, "pupil_premium", "pupilPremium", "pupil premium",
		"chd_4", "Osian", "Bevan-Unlinked", "Award before the unlink", "Award after the unlink",
		"passwordHash", "sessions", "par_b", "Katarzyna"} {
		if strings.Contains(all, leak) {
			t.Errorf("parent A's export carries %q", leak)
		}
	}
	var doc struct {
		Children []struct {
			ID     string `json:"id"`
			Awards []struct {
				Reason string `json:"reason"`
			} `json:"awards"`
		} `json:"children"`
	}
	if err := json.Unmarshal(files["export.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Children) != 1 || doc.Children[0].ID != "chd_1" || len(doc.Children[0].Awards) != 1 {
		t.Fatalf("children in A's export: %+v", doc.Children)
	}
}

// coParentWorld adds parent C, a co-parent of K1 with parent A, and a
// feed item for asg_1 in K1's feed; A and C each submit a comment and a
// rating and upload a photo, and the teacher replies to C alone.
type coParents struct {
	w              *world
	tokC           string
	photoA, photoC string
	subC           string
}

func newCoParents(t *testing.T) *coParents {
	t.Helper()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	hash, err := h.deps.Passwords.Hash(ctx, fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	pc := &content.Parent{ID: "par_c", FirstName: "Cadfael", LastName: "Morgan", Email: "cad.m@example.test", Phone: "+447911123509",
		Language: "en", State: content.ParentActive, PasswordHash: hash, Sessions: []string{}, LastActiveAt: h.clock.Now(), CreatedAt: h.clock.Now()}
	if err := h.store.CreateParent(ctx, pc); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "email", pc.Email), Kind: content.KindParent, AccountID: pc.ID}); err != nil {
		t.Fatal(err)
	}
	if err := h.linkForTest(ctx, pc, w.K1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_1", Key: feedKey("asg_1", "act_1"), Kind: content.FeedActivity,
		At: h.clock.Now(), AssignmentID: "asg_1", ActivityID: "act_1", Title: "Shape hunt", TeacherName: "Ms Llewellyn",
		ActivityKind: content.ActivityTogether, Subject: content.SubjectMaths, Minutes: 15}); err != nil {
		t.Fatal(err)
	}
	cp := &coParents{w: w, tokC: h.login(pc.Email, fixturePassword).AccessToken}
	submit := func(tok, comment string, rating int) string {
		t.Helper()
		resp, body := h.do(http.MethodPost, "/v1/children/chd_1/assignments/asg_1/submission",
			map[string]any{"done": true, "rating": rating, "comment": comment}, tok)
		wantStatus(t, resp, body, http.StatusOK)
		return decode[submissionDTO](t, body).ID
	}
	upload := func(tok string) string {
		t.Helper()
		body, ct := multipartPhoto(t, smallJPEG(t))
		resp, out := h.do(http.MethodPost, "/v1/children/chd_1/assignments/asg_1/submission/photos", body, tok,
			withHeader("Content-Type", ct))
		wantStatus(t, resp, out, http.StatusCreated)
		return decode[photoDTO](t, out).ID
	}
	submit(w.tokens[actParentA], "Alpha private comment", 5)
	h.clock.Advance(time.Minute)
	cp.subC = submit(cp.tokC, "Charlie private comment", 2)
	cp.photoA, cp.photoC = upload(w.tokens[actParentA]), upload(cp.tokC)
	resp, body := h.do(http.MethodPost, "/v1/schools/sch_1/assignments/asg_1/submissions/"+cp.subC+"/replies",
		map[string]any{"body": "Teacher reply meant for Charlie"}, w.tokens[actTeacher])
	wantStatus(t, resp, body, http.StatusCreated)
	return cp
}

// Two parents of one child: each one's comment, rating, photos and the
// teacher's reply to them are theirs alone, in the feed, through the photo
// route and in each export; until the school shares family threads.
func TestCoParentsCommentsAndPhotosArePrivate(t *testing.T) {
	t.Parallel()
	cp := newCoParents(t)
	w, h := cp.w, cp.w.h
	tokA := w.tokens[actParentA]

	feedOf := func(tok string) feedItemDTO {
		t.Helper()
		resp, body := h.do(http.MethodGet, "/v1/children/chd_1/feed", nil, tok)
		wantStatus(t, resp, body, http.StatusOK)
		page := decode[feedPageDTO](t, body)
		if len(page.Items) != 1 {
			t.Fatalf("feed: %s", body)
		}
		return page.Items[0]
	}
	a, c := feedOf(tokA), feedOf(cp.tokC)
	if a.Comment != "Alpha private comment" || a.Rating == nil || *a.Rating != 5 || a.ReplyCount != 0 || a.LatestReply != nil || a.State != "done" {
		t.Errorf("A's feed item: %+v", a)
	}
	if c.Comment != "Charlie private comment" || c.Rating == nil || *c.Rating != 2 || c.ReplyCount != 1 || c.LatestReply == nil ||
		c.LatestReply.Excerpt != "Teacher reply meant for Charlie" {
		t.Errorf("C's feed item: %+v", c)
	}

	// A co-parent's photo id is not found; one's own opens.
	for _, tc := range []struct {
		tok, photo string
		want       int
	}{{tokA, cp.photoC, 404}, {cp.tokC, cp.photoA, 404}, {tokA, cp.photoA, 200}, {cp.tokC, cp.photoC, 200},
		{w.tokens[actTeacher], cp.photoA, 200}, {w.tokens[actParentB], cp.photoA, 404}} {
		if resp, body := h.do(http.MethodGet, "/v1/photos/"+tc.photo, nil, tc.tok); resp.StatusCode != tc.want {
			t.Errorf("GET photo %s: %d %s, want %d", tc.photo, resp.StatusCode, body, tc.want)
		}
	}

	// Each export holds its owner's words and photos only.
	for _, tc := range []struct {
		name, tok, own, ownPhoto, other, otherPhoto string
		otherWords                                  []string
	}{
		{"A", tokA, "Alpha private comment", cp.photoA, "Charlie private comment", cp.photoC,
			[]string{"Teacher reply meant for Charlie", "par_c", "Cadfael", "cad.m@example.test"}},
		{"C", cp.tokC, "Charlie private comment", cp.photoC, "Alpha private comment", cp.photoA,
			[]string{"par_a", "Gwenllian", "gwen.p@example.test"}},
	} {
		files := w.exportArchive(t, tc.tok, "/v1/me/export", "/v1/me/exports/")
		js, all := string(files["export.json"]), archiveText(files)
		if !strings.Contains(js, tc.own) || !strings.Contains(js, tc.ownPhoto) || len(files["photos/"+tc.ownPhoto+".jpg"]) == 0 {
			t.Errorf("%s's export lacks their own comment or photo", tc.name)
		}
		for _, leak := range append(tc.otherWords, tc.other, tc.otherPhoto) {
			if strings.Contains(all, leak) {
				t.Errorf("%s's export carries the co-parent's %q", tc.name, leak)
			}
		}
	}

	// A teacher may not share family threads; the school's admin may.
	resp, body := h.do(http.MethodPatch, "/v1/schools/sch_1", map[string]any{"share_family_threads": true}, w.tokens[actTeacher])
	wantStatus(t, resp, body, http.StatusForbidden)
	resp, body = h.do(http.MethodGet, "/v1/schools/sch_1", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, http.StatusOK)
	if decode[schoolDTO](t, body).ShareFamilyThreads {
		t.Fatal("family threads are shared by default")
	}
	resp, body = h.do(http.MethodPatch, "/v1/schools/sch_1", map[string]any{"share_family_threads": true}, w.tokens[actAdmin])
	wantStatus(t, resp, body, http.StatusOK)
	if !decode[schoolDTO](t, body).ShareFamilyThreads {
		t.Fatalf("share_family_threads not set: %s", body)
	}
	if a := feedOf(tokA); a.Comment != "Charlie private comment" || a.ReplyCount != 1 {
		t.Errorf("with family threads shared, A's feed item: %+v", a)
	}
	// Sharing is in the app only: C's words are C's data, never in A's export.
	files := w.exportArchive(t, tokA, "/v1/me/export", "/v1/me/exports/")
	if all := archiveText(files); strings.Contains(all, "Charlie private comment") || strings.Contains(all, "Teacher reply meant for Charlie") {
		t.Error("with family threads shared, A's export carries C's words")
	}
}

// A school's export holds that school only: a parent's child at another
// school, a teacher's role at another school and another trust's
// administration stay out.
func TestSchoolExportHoldsNothingOfAnotherSchool(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	if err := h.linkForTest(ctx, w.ParentA, w.KO); err != nil {
		t.Fatal(err)
	}
	// A teacher here who also administers sch_2 and the other trust.
	if err := h.store.CreateStaff(ctx, &content.Staff{ID: "stf_both", Email: "both.schools@riverside.test", FirstName: "Bethan",
		LastName: "Dwyer", CreatedAt: h.clock.Now(), TrustAdmin: []string{"trs_2"},
		Schools: []content.SchoolRoles{{SchoolID: "sch_1", Roles: []content.Role{content.RoleTeacher}},
			{SchoolID: "sch_2", Roles: []content.Role{content.RoleAdmin}}}}); err != nil {
		t.Fatal(err)
	}
	files := w.exportArchive(t, w.tokens[actAdmin], "/v1/schools/sch_1/export", "/v1/schools/sch_1/exports/")
	js, all := string(files["export.json"]), archiveText(files)
	for _, want := range []string{"Riverside Primary", "chd_1", w.K1.UPN, "gwen.p@example.test", "tess.teacher@riverside.test",
		"both.schools@riverside.test", "Kingfishers"} {
		if !strings.Contains(js, want) {
			t.Errorf("school export lacks %q", want)
		}
	}
	for _, leak := range []string{"sch_2", "Hilltop", "trs_2", "chd_o", "Maryam", "Siddiqui", w.KO.UPN, "cls_o", "Badgers",
		"ayesha.s@example.test", "bo.admin@hilltop.test", "passwordHash", "sessions"} {
		if strings.Contains(all, leak) {
			t.Errorf("sch_1's export carries %q", leak)
		}
	}
	var doc struct {
		Staff []struct {
			ID    string   `json:"id"`
			Roles []string `json:"roles"`
		} `json:"staff"`
	}
	if err := json.Unmarshal(files["export.json"], &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Staff {
		if s.ID == "stf_both" && (len(s.Roles) != 1 || s.Roles[0] != "teacher") {
			t.Errorf("the teacher's roles in sch_1's export: %v", s.Roles)
		}
	}
}

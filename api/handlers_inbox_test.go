package api

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// testAnnouncements stands in for the announcement store the inbox and
// the staff counts read: announcements are written by another part of the
// API, and these tests need only what an announcement says.
type testAnnouncements struct {
	mu sync.Mutex
	m  map[string]*AnnouncementView
}

func newTestAnnouncements() *testAnnouncements {
	return &testAnnouncements{m: map[string]*AnnouncementView{}}
}

func (t *testAnnouncements) put(a *AnnouncementView) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[a.ID] = a
}

func (t *testAnnouncements) AnnouncementView(_ context.Context, id string) (*AnnouncementView, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[id]
	if !ok {
		return nil, content.Errorf(content.CodeNotFound, "announcement not found")
	}
	cp := *a
	return &cp, nil
}

const testPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// sentAnnouncement is an announcement from the admin to class C1, sent as
// a broadcast whose ledger page says: parent A's SMS delivered and push
// sent; parent B's push failed and email suppressed (not reached). Both
// parents got an inbox item; parent A's in Welsh.
func (w *world) sentAnnouncement(t testing.TB, attachments ...string) *AnnouncementView {
	t.Helper()
	ctx := context.Background()
	s := w.h.store
	now := w.h.clock.Now()
	a := &AnnouncementView{ID: content.NewID("ann"), SchoolID: "sch_1", CreatedBy: w.Admin.ID, Language: "en",
		Title: "Museum trip on Friday", Body: "The class goes to the museum.",
		Versions:      map[string]AnnouncementText{"cy": {Title: "Taith i'r amgueddfa", Body: "Bydd y dosbarth yn mynd i'r amgueddfa."}},
		AttachmentIDs: attachments, BroadcastID: content.NewID("brd"), ClassIDs: []string{"cls_1"}}
	w.h.announcements.put(a)
	// The message log's template enum lists the notify templates; a
	// stand-in template keeps this fixture valid there.
	b := &content.Broadcast{ID: a.BroadcastID, SchoolID: "sch_1", CreatedBy: w.Admin.ID, Template: "award",
		Category: "news", Params: map[string]string{announcementParam: a.ID}, Audience: content.Audience{ClassIDs: []string{"cls_1"}},
		State: content.BroadcastSending, Pages: 1, Recipients: 2, CreatedAt: now}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	page := &content.LedgerPage{ID: content.LedgerPageID(b.ID, 0), BroadcastID: b.ID, SchoolID: "sch_1", CreatedAt: now,
		Entries: []content.LedgerEntry{
			{RecipientID: w.ParentA.ID, Channel: "sms", Rank: content.RankDelivered},
			{RecipientID: w.ParentA.ID, Channel: "push", Rank: content.RankSent},
			{RecipientID: w.ParentB.ID, Channel: "push", Rank: content.RankFailed},
			{RecipientID: w.ParentB.ID, Channel: "email", Rank: content.RankSuppressed},
		}}
	if err := s.PutLedgerPages(ctx, []*content.LedgerPage{page}); err != nil {
		t.Fatal(err)
	}
	items := []*content.InboxItem{
		{ID: content.InboxItemID(w.ParentA.ID, a.ID), ParentID: w.ParentA.ID, SchoolID: "sch_1", Kind: content.InboxAnnouncement,
			SourceID: a.ID, Title: a.Versions["cy"].Title, Language: "cy", ChildIDs: []string{"chd_1"}, ClassIDs: []string{"cls_1"}, CreatedAt: now},
		{ID: content.InboxItemID(w.ParentB.ID, a.ID), ParentID: w.ParentB.ID, SchoolID: "sch_1", Kind: content.InboxAnnouncement,
			SourceID: a.ID, Title: a.Title, Language: "en", ChildIDs: []string{"chd_2"}, ClassIDs: []string{"cls_1"}, CreatedAt: now},
	}
	if err := s.AddToInbox(ctx, items); err != nil {
		t.Fatal(err)
	}
	return a
}

// uploadPDF stores a PDF attachment as the admin and answers its id.
func (w *world) uploadPDF(t testing.TB, token string) attachmentDTO {
	t.Helper()
	resp, body := w.h.do("POST", "/v1/schools/sch_1/attachments?name=consent.pdf", []byte(testPDF), token,
		withHeader("Content-Type", "application/pdf"))
	wantStatus(t, resp, body, 201)
	return decode[attachmentDTO](t, body)
}

func inboxOpenCell(t *testing.T, w *world, _ string) cell {
	a := w.sentAnnouncement(t)
	return cell{path: "/v1/me/inbox/" + content.InboxItemID(w.ParentA.ID, a.ID)}
}

func announcementStatsCell(t *testing.T, w *world, _ string) cell {
	a := w.sentAnnouncement(t)
	return cell{path: "/v1/schools/sch_1/announcements/" + a.ID + "/stats"}
}

func attachmentUploadCell(*testing.T, *world, string) cell {
	return cell{path: "/v1/schools/sch_1/attachments?name=letter.pdf", body: []byte(testPDF),
		opts: []reqOpt{withHeader("Content-Type", "application/pdf")}}
}

// TestInboxListsOnlyTheParentsOwnAndOpensInTheirLanguage: parent A sees
// their item (Welsh title), opens it (Welsh body, attachment URL that
// serves the PDF) and it becomes read; parent A cannot open parent B's
// item (404, nothing of it in the answer); a parent of another school
// sees an empty inbox.
func TestInboxListsOnlyTheParentsOwnAndOpensInTheirLanguage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	att := w.uploadPDF(t, w.tokens[actAdmin])
	a := w.sentAnnouncement(t, att.ID)

	resp, body := w.h.do("GET", "/v1/me/inbox", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	page := decode[inboxPageDTO](t, body)
	if len(page.Items) != 1 || page.Unread != 1 || page.Next != nil {
		t.Fatalf("parent A's inbox: %s", body)
	}
	if it := page.Items[0]; it.Title != "Taith i'r amgueddfa" || it.Read || it.Kind != "announcement" || it.SourceID != a.ID {
		t.Fatalf("item %+v", it)
	}
	if strings.Contains(string(body), w.ParentB.ID) {
		t.Fatalf("parent A's inbox names parent B: %s", body)
	}

	// Parent A tries parent B's item: 404, as for an unknown one.
	resp, body = w.h.do("GET", "/v1/me/inbox/"+content.InboxItemID(w.ParentB.ID, a.ID), nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 404)
	if strings.Contains(string(body), a.Title) || strings.Contains(string(body), w.ParentB.ID) {
		t.Fatalf("refusal leaks: %s", body)
	}

	resp, body = w.h.do("GET", "/v1/me/inbox/"+page.Items[0].ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	opened := decode[openedItemDTO](t, body)
	if !opened.Read || opened.ReadVia != content.ReadViaApp || opened.Language != "cy" ||
		opened.Body != "Bydd y dosbarth yn mynd i'r amgueddfa." || len(opened.Attachments) != 1 {
		t.Fatalf("opened: %s", body)
	}
	link := opened.Attachments[0]
	if link.ID != att.ID || link.ContentType != content.AttachmentPDF || link.Name != "consent.pdf" {
		t.Fatalf("attachment %+v", link)
	}
	resp, pdf := w.h.do("GET", link.URL, nil, "")
	wantStatus(t, resp, pdf, 200)
	if string(pdf) != testPDF || resp.Header.Get("Content-Type") != content.AttachmentPDF ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("attachment served as %v: %q", resp.Header, pdf)
	}
	// The link expires.
	w.h.clock.Advance(mediaURLTTL + 1)
	resp, body = w.h.do("GET", link.URL, nil, "")
	wantStatus(t, resp, body, 404)

	resp, body = w.h.do("GET", "/v1/me/inbox", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	if page := decode[inboxPageDTO](t, body); page.Unread != 0 || !page.Items[0].Read {
		t.Fatalf("after opening: %s", body)
	}
	// Parent B's own item is still unread; the other school's parent has none.
	resp, body = w.h.do("GET", "/v1/me/inbox", nil, w.tokens[actParentB])
	wantStatus(t, resp, body, 200)
	if page := decode[inboxPageDTO](t, body); len(page.Items) != 1 || page.Unread != 1 || page.Items[0].Title != a.Title {
		t.Fatalf("parent B's inbox: %s", body)
	}
	resp, body = w.h.do("GET", "/v1/me/inbox", nil, w.tokens[actParentOther])
	wantStatus(t, resp, body, 200)
	if page := decode[inboxPageDTO](t, body); len(page.Items) != 0 || page.Unread != 0 {
		t.Fatalf("other school's parent: %s", body)
	}
	// A cursor that is not one is refused with a field error.
	resp, body = w.h.do("GET", "/v1/me/inbox?cursor=i1.bogus", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 400)
	if !strings.Contains(string(body), `"cursor"`) {
		t.Fatalf("bad cursor: %s", body)
	}
}

// TestInboxPagesWithCursor: 25 items (some at the same time) come back
// 10, 10, 5, newest first, with no repeat; the last page's next is null.
func TestInboxPagesWithCursor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := w.h.clock.Now()
	var items []*content.InboxItem
	for i := 0; i < 25; i++ {
		src := content.NewID("ann")
		items = append(items, &content.InboxItem{ID: content.InboxItemID(w.ParentA.ID, src), ParentID: w.ParentA.ID, SchoolID: "sch_1",
			Kind: content.InboxAnnouncement, SourceID: src, Title: "News", CreatedAt: now.Add(-time.Duration(i/3) * time.Minute)})
	}
	if err := w.h.store.AddToInbox(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var sizes []int
	path := "/v1/me/inbox?limit=10"
	for len(sizes) < 5 {
		resp, body := w.h.do("GET", path, nil, w.tokens[actParentA])
		wantStatus(t, resp, body, 200)
		page := decode[inboxPageDTO](t, body)
		sizes = append(sizes, len(page.Items))
		for _, it := range page.Items {
			if seen[it.ID] {
				t.Fatalf("item %s twice", it.ID)
			}
			seen[it.ID] = true
		}
		if page.Unread != 25 {
			t.Fatalf("unread %d, want 25", page.Unread)
		}
		if page.Next == nil {
			break
		}
		path = "/v1/me/inbox?limit=10&cursor=" + *page.Next
	}
	if len(seen) != 25 || len(sizes) != 3 || sizes[2] != 5 {
		t.Fatalf("pages %v, %d items", sizes, len(seen))
	}
}

// TestAnnouncementStats: the admin sees delivery counts by channel, one
// read after parent A opens the item, the class's counts and parent B as
// not reached; the teacher of the targeted class sees them too; the
// teacher of another class and the admin of another school get 404.
func TestAnnouncementStats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.sentAnnouncement(t)
	path := "/v1/schools/sch_1/announcements/" + a.ID + "/stats"

	resp, body := w.h.do("GET", "/v1/me/inbox/"+content.InboxItemID(w.ParentA.ID, a.ID), nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)

	for _, actor := range []string{actAdmin, actTeacher} {
		resp, body = w.h.do("GET", path, nil, w.tokens[actor])
		wantStatus(t, resp, body, 200)
		st := decode[announcementStatsDTO](t, body)
		if st.Families != 2 || st.Read != 1 || st.ReadVia["app"] != 1 {
			t.Fatalf("%s: families/read: %s", actor, body)
		}
		if st.Channels["sms"].Delivered != 1 || st.Channels["push"].Sent != 1 || st.Channels["push"].Failed != 1 ||
			st.Channels["email"].Suppressed != 1 {
			t.Fatalf("%s: channels: %s", actor, body)
		}
		if len(st.ByClass) != 1 || st.ByClass[0].ClassID != "cls_1" || st.ByClass[0].Name != "Kingfishers" ||
			st.ByClass[0].Families != 2 || st.ByClass[0].Read != 1 || st.ByClass[0].NotReached != 1 {
			t.Fatalf("%s: by class: %s", actor, body)
		}
		if st.NotReachedTotal != 1 || len(st.NotReached) != 1 || st.NotReached[0].ParentID != w.ParentB.ID ||
			st.NotReached[0].Name != "Katarzyna Kowalczyk" {
			t.Fatalf("%s: not reached: %s", actor, body)
		}
	}
	for _, actor := range []string{actTeacherOther, actAdminOther, actParentA} {
		resp, body = w.h.do("GET", path, nil, w.tokens[actor])
		if resp.StatusCode != 404 && resp.StatusCode != 403 {
			t.Fatalf("%s: status %d, want 404/403: %s", actor, resp.StatusCode, body)
		}
		if strings.Contains(string(body), "Kowalczyk") {
			t.Fatalf("%s: refusal leaks a family: %s", actor, body)
		}
	}
	// Another school's admin asking through their own school: still 404.
	resp, body = w.h.do("GET", "/v1/schools/sch_2/announcements/"+a.ID+"/stats", nil, w.tokens[actAdminOther])
	wantStatus(t, resp, body, 404)
}

// TestPushOpenedMarksInboxRead: the app reporting the announcement's push
// opened marks parent A's item read via push; the staff count says so.
func TestPushOpenedMarksInboxRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.sentAnnouncement(t)
	ref := content.EntryRef(content.LedgerPageID(a.BroadcastID, 0), 1) // parent A's push
	// Parent B reporting parent A's push changes nothing.
	resp, body := w.h.do("POST", "/v1/me/notifications/read", map[string]any{"refs": []string{ref}}, w.tokens[actParentB])
	wantStatus(t, resp, body, 200)
	if it, err := w.h.store.InboxItem(context.Background(), content.InboxItemID(w.ParentA.ID, a.ID)); err != nil || !it.ReadAt.IsZero() {
		t.Fatalf("another parent's report read parent A's item: %+v %v", it, err)
	}
	resp, body = w.h.do("POST", "/v1/me/notifications/read", map[string]any{"refs": []string{ref}}, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	it, err := w.h.store.InboxItem(context.Background(), content.InboxItemID(w.ParentA.ID, a.ID))
	if err != nil || it.ReadVia != content.ReadViaPush {
		t.Fatalf("item after push opened: %+v %v", it, err)
	}
	resp, body = w.h.do("GET", "/v1/schools/sch_1/announcements/"+a.ID+"/stats", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if st := decode[announcementStatsDTO](t, body); st.Read != 1 || st.ReadVia["push"] != 1 {
		t.Fatalf("stats after push opened: %s", body)
	}
}

// TestAttachmentUpload: staff upload a PDF (raw) or an image (multipart,
// re-encoded); anything else is 422 by its bytes whatever its name;
// staff of another school get 404 and nothing is stored.
func TestAttachmentUpload(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pdf := w.uploadPDF(t, w.tokens[actTeacher])
	if pdf.ContentType != content.AttachmentPDF || pdf.Size != int64(len(testPDF)) || pdf.Name != "consent.pdf" {
		t.Fatalf("pdf %+v", pdf)
	}
	stored, err := w.h.store.Attachment(context.Background(), pdf.ID)
	if err != nil || stored.SchoolID != "sch_1" || stored.CreatedBy != w.Teacher.ID {
		t.Fatalf("stored %+v %v", stored, err)
	}

	form := func(name string, file []byte) ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		hdr.Set("Content-Type", "application/octet-stream")
		part, err := mw.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(file)
		_ = mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	body, ct := form("../../class photo.jpg", smallJPEG(t))
	resp, out := w.h.do("POST", "/v1/schools/sch_1/attachments", body, w.tokens[actAdmin], withHeader("Content-Type", ct))
	wantStatus(t, resp, out, 201)
	img := decode[attachmentDTO](t, out)
	if img.ContentType != content.AttachmentJPEG || img.Name != "class photo.jpg" {
		t.Fatalf("image %+v", img)
	}

	for name, file := range map[string][]byte{
		"letter.pdf": []byte("<html><script>alert(1)</script></html>"),
		"empty.pdf":  {},
		"gif.png":    []byte("GIF89a\x01\x00\x01\x00"),
	} {
		body, ct := form(name, file)
		resp, out := w.h.do("POST", "/v1/schools/sch_1/attachments", body, w.tokens[actAdmin], withHeader("Content-Type", ct))
		if resp.StatusCode != 422 && resp.StatusCode != 400 {
			t.Fatalf("%s: status %d, want 422 or 400: %s", name, resp.StatusCode, out)
		}
	}
	resp, out = w.h.do("POST", "/v1/schools/sch_1/attachments", []byte(testPDF), w.tokens[actAdminOther],
		withHeader("Content-Type", "application/pdf"))
	wantStatus(t, resp, out, 404)
	resp, out = w.h.do("POST", "/v1/schools/sch_1/attachments", []byte(testPDF), w.tokens[actParentA],
		withHeader("Content-Type", "application/pdf"))
	if resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Fatalf("parent upload: %d %s", resp.StatusCode, out)
	}
}

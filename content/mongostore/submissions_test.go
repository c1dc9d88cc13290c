package mongostore_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

func ptr[T any](v T) *T { return &v }

func upd(done bool, rating int, comment string) content.SubmissionUpdate {
	return content.SubmissionUpdate{Done: &done, Rating: &rating, Comment: &comment}
}

func newSubmission(assignment, child, parent string) *content.Submission {
	return &content.Submission{ID: content.SubmissionID(assignment, child, parent), SchoolID: "sch_1",
		AssignmentID: assignment, ChildID: child, ParentID: parent}
}

// TestSubmissionsPutIsIdempotentAndListed: a repeat submit updates the one
// document (created once), and the assignment's list holds each parent's
// submission once, found through the index document.
func TestSubmissionsPutIsIdempotentAndListed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	a := newSubmission("asg_1", "chd_1", "par_a")
	first, err := s.PutSubmission(ctx, a, upd(true, 4, "fun"), t0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.PutSubmission(ctx, a, upd(true, 5, "even better"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !again.CreatedAt.Equal(first.CreatedAt) || again.Rating != 5 || again.Comment != "even better" || !again.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a repeat submit: %+v", again)
	}
	// Fields left out keep their values.
	partial, err := s.PutSubmission(ctx, a, content.SubmissionUpdate{Rating: ptr(2)}, t0.Add(2*time.Hour))
	if err != nil || partial.Rating != 2 || partial.Comment != "even better" || !partial.Done {
		t.Fatalf("a partial update: %+v %v", partial, err)
	}
	if _, err := s.PutSubmission(ctx, newSubmission("asg_1", "chd_2", "par_b"), content.SubmissionUpdate{Done: ptr(true)}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSubmission(ctx, newSubmission("asg_2", "chd_1", "par_a"), content.SubmissionUpdate{Done: ptr(true)}, t0); err != nil {
		t.Fatal(err)
	}
	list, err := s.SubmissionsOfAssignment(ctx, "asg_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ParentID != "par_a" || list[1].ParentID != "par_b" {
		t.Fatalf("asg_1 lists %d submissions: %+v", len(list), list)
	}
	none, err := s.SubmissionsOfAssignment(ctx, "asg_none")
	if err != nil || len(none) != 0 {
		t.Fatalf("an assignment without submissions: %v %v", none, err)
	}
}

// TestSubmissionRepliesThread: replies append in order; the same reply id
// twice (a retried request) is stored once.
func TestSubmissionRepliesThread(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	a := newSubmission("asg_1", "chd_1", "par_a")
	if _, err := s.PutSubmission(ctx, a, content.SubmissionUpdate{Done: ptr(true)}, t0); err != nil {
		t.Fatal(err)
	}
	r1 := content.Reply{ID: "rpl_1", AuthorKind: content.KindStaff, AuthorID: "stf_t", AuthorName: "Mrs Khan", Body: "Lovely work!", At: t0}
	r2 := content.Reply{ID: "rpl_2", AuthorKind: content.KindParent, AuthorID: "par_a", Body: "Thank you", At: t0.Add(time.Minute)}
	for _, r := range []content.Reply{r1, r1, r2, r2} {
		if _, err := s.AddReply(ctx, a.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Submission(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Replies) != 2 || got.Replies[0] != r1 || got.Replies[1].Body != "Thank you" || got.Replies[1].AuthorKind != content.KindParent {
		t.Fatalf("thread: %+v", got.Replies)
	}
	if _, err := s.AddReply(ctx, "sub_missing", r1); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("reply to a missing submission: %v", err)
	}
}

// TestPhotosInGridFS: both pictures round-trip through GridFS by our own
// file ids, a photo sent before the submission creates it, storing the
// same photo again is a no-op, and consent records who and when.
func TestPhotosInGridFS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	base := newSubmission("asg_1", "chd_1", "par_a")
	full := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 1, 2, 3}, 100_000) // several GridFS chunks
	thumb := []byte{0xFF, 0xD8, 0xFF, 9}
	p := &content.Photo{ID: "pho_1", SubmissionID: base.ID, SchoolID: "sch_1", ChildID: "chd_1", ParentID: "par_a",
		ContentType: "image/jpeg", SourceFormat: "png", Width: 640, Height: 480, CreatedAt: t0}
	for i := 0; i < 2; i++ {
		if err := s.PutPhoto(ctx, base, p, full, thumb); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	sub, err := s.Submission(ctx, base.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.PhotoIDs) != 1 || sub.PhotoIDs[0] != "pho_1" || sub.Done {
		t.Fatalf("submission after a photo: %+v", sub)
	}
	for variant, want := range map[string][]byte{content.PhotoFull: full, content.PhotoThumb: thumb} {
		got, err := s.PhotoBytes(ctx, "pho_1", variant)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v", variant, len(got), err)
		}
	}
	if _, err := s.PhotoBytes(ctx, "pho_none", content.PhotoFull); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("missing photo: %v", err)
	}
	meta, err := s.Photo(ctx, "pho_1")
	if err != nil || meta.Bytes != len(full) || meta.ThumbBytes != len(thumb) || meta.Promotion.Granted {
		t.Fatalf("metadata: %+v %v", meta, err)
	}
	got, err := s.SetPhotoConsent(ctx, "pho_1", content.PhotoConsent{Granted: true, By: "par_a", At: t0.Add(time.Hour)})
	if err != nil || !got.Promotion.Granted || got.Promotion.By != "par_a" || !got.Promotion.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("consent: %+v %v", got, err)
	}
	// The submission's own fields survive a later submit.
	after, err := s.PutSubmission(ctx, base, content.SubmissionUpdate{Done: ptr(true), Rating: ptr(3)}, t0.Add(2*time.Hour))
	if err != nil || len(after.PhotoIDs) != 1 || !after.Done {
		t.Fatalf("submit after photo: %+v %v", after, err)
	}
}

// TestEngagementCounters: each event lands on the child, each class and
// the school, with the pupil-premium split, in its ISO week; reads of
// weeks without documents are zeros.
func TestEngagementCounters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	at := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC) // 2026-W47
	pp := &content.Child{ID: "chd_pp", SchoolID: "sch_1", ClassIDs: []string{"cls_1"}, PupilPremium: true}
	other := &content.Child{ID: "chd_o", SchoolID: "sch_1", ClassIDs: []string{"cls_1", "cls_2"}}
	events := []content.EngagementEvent{
		content.EventFor(content.EngageSignIn, pp, at),
		content.EventFor(content.EngageCompletion, pp, at),
		content.EventFor(content.EngageCompletion, other, at),
		content.EventFor(content.EngagePhoto, other, at.AddDate(0, 0, -7)), // W46
	}
	for _, e := range events {
		if err := s.RecordEngagement(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	weeks := []string{"2026-W45", "2026-W46", "2026-W47"}
	if got := content.RecentWeeks(at, 3); got[0] != weeks[0] || got[2] != weeks[2] {
		t.Fatalf("RecentWeeks: %v", got)
	}
	read := func(scope, id string) []content.EngagementCounts {
		t.Helper()
		c, err := s.EngagementWeeks(ctx, scope, id, weeks)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		scope, id string
		week      int
		kind      content.EngagementKind
		want      int64
	}{
		{content.ScopeSchool, "sch_1", 2, content.EngageCompletion, 2},
		{content.ScopeSchoolPP, "sch_1", 2, content.EngageCompletion, 1},
		{content.ScopeSchoolPP, "sch_1", 2, content.EngageSignIn, 1},
		{content.ScopeSchoolOther, "sch_1", 2, content.EngageSignIn, 0},
		{content.ScopeSchoolOther, "sch_1", 1, content.EngagePhoto, 1},
		{content.ScopeClass, "cls_1", 2, content.EngageCompletion, 2},
		{content.ScopeClass, "cls_2", 2, content.EngageCompletion, 1},
		{content.ScopeClassPP, "cls_1", 2, content.EngageCompletion, 1},
		{content.ScopeChild, "chd_pp", 2, content.EngageSignIn, 1},
		{content.ScopeSchool, "sch_1", 0, content.EngageCompletion, 0},
	}
	for _, tc := range tests {
		if got := read(tc.scope, tc.id)[tc.week][tc.kind]; got != tc.want {
			t.Errorf("%s %s %s %s = %d, want %d", tc.scope, tc.id, weeks[tc.week], tc.kind, got, tc.want)
		}
	}
}

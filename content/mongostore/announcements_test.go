package mongostore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// Announcements move only forward: a cancel and a start cannot both win;
// the due list holds what is scheduled or stuck sending at its time; the
// school's list pages newest first; erasure of a parent takes them out of
// audiences, erasure of the school takes the announcements.
func TestAnnouncementStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	mk := func(id string, sendAt time.Time, parents ...string) *content.Announcement {
		a := &content.Announcement{ID: id, SchoolID: "sch_1", CreatedBy: "stf_1", Title: "T", Body: "B", Language: "en",
			Versions: []content.AnnouncementVersion{{Language: "cy", Title: "T cy", Body: "B cy"}},
			Audience: content.AnnouncementAudience{ParentIDs: parents}, SendAt: sendAt, State: content.AnnouncementScheduled,
			Links: map[string]string{"en": "https://x/a/1", "cy": "https://x/a/2"}, CreatedAt: sendAt}
		if err := s.CreateAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	mk("ann_1", now, "par_a", "par_b")
	mk("ann_2", now.Add(time.Hour))
	mk("ann_3", now.Add(-time.Hour))
	if err := s.CreateAnnouncement(ctx, &content.Announcement{ID: "ann_1", SchoolID: "sch_1"}); !content.IsCode(err, content.CodeConflict) {
		t.Fatalf("second create: %v", err)
	}
	got, err := s.Announcement(ctx, "ann_1")
	if err != nil || got.Versions[0].Title != "T cy" || got.Links["cy"] != "https://x/a/2" || !got.SendAt.Equal(now) {
		t.Fatalf("read back %+v (%v)", got, err)
	}
	if title, _, lang := got.Version("cy-GB"); title != "T cy" || lang != "cy" {
		t.Fatalf("Welsh version: %q %q", title, lang)
	}
	if title, _, lang := got.Version("pl"); title != "T" || lang != "en" {
		t.Fatalf("no Polish version: %q %q", title, lang)
	}

	due, err := s.DueAnnouncements(ctx, now, 10)
	if err != nil || len(due) != 2 || due[0].ID != "ann_3" || due[1].ID != "ann_1" {
		t.Fatalf("due %v (%v)", due, err)
	}
	// ann_3 is cancelled; starting it then reports false. ann_1 starts, and
	// then can no longer be cancelled; starting it again carries on.
	if _, err := s.CancelAnnouncement(ctx, "ann_3", now); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.StartAnnouncement(ctx, "ann_3", now); ok || err != nil {
		t.Fatalf("start cancelled: %v %v", ok, err)
	}
	if ok, err := s.StartAnnouncement(ctx, "ann_1", now); !ok || err != nil {
		t.Fatalf("start: %v %v", ok, err)
	}
	if _, err := s.CancelAnnouncement(ctx, "ann_1", now); !content.IsCode(err, content.CodeConflict) {
		t.Fatalf("cancel while sending: %v", err)
	}
	if ok, err := s.StartAnnouncement(ctx, "ann_1", now); !ok || err != nil {
		t.Fatalf("start again while sending: %v %v", ok, err)
	}
	if due, _ := s.DueAnnouncements(ctx, now, 10); len(due) != 1 || due[0].ID != "ann_1" {
		t.Fatalf("due while sending: %v", due)
	}
	if err := s.FinishAnnouncement(ctx, "ann_1", now); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.StartAnnouncement(ctx, "ann_1", now); ok {
		t.Fatal("a sent announcement started again")
	}
	if due, _ := s.DueAnnouncements(ctx, now.Add(2*time.Hour), 10); len(due) != 1 || due[0].ID != "ann_2" {
		t.Fatalf("due later: %v", due)
	}

	page, err := s.AnnouncementsOfSchool(ctx, "sch_1", "", content.AnnouncementCursor{}, 2)
	if err != nil || len(page) != 2 || page[0].ID != "ann_2" || page[1].ID != "ann_1" {
		t.Fatalf("first page %v (%v)", page, err)
	}
	rest, err := s.AnnouncementsOfSchool(ctx, "sch_1", "", content.AnnouncementCursor{CreatedAt: page[1].CreatedAt, ID: page[1].ID}, 2)
	if err != nil || len(rest) != 1 || rest[0].ID != "ann_3" {
		t.Fatalf("second page %v (%v)", rest, err)
	}

	erase := func(kind, id, area string) {
		t.Helper()
		found := false
		for _, e := range s.Erasers(kind) {
			if e.Area() == area {
				found = true
				if _, err := e.Erase(ctx, content.ErasureSubject{Kind: kind, ID: id}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !found {
			t.Fatalf("no %s eraser for %s", kind, area)
		}
	}
	erase(content.SubjectParent, "par_a", "mongo:announcement_audiences")
	if got, _ := s.Announcement(ctx, "ann_1"); !slices.Equal(got.Audience.ParentIDs, []string{"par_b"}) {
		t.Fatalf("audience after the parent's erasure: %v", got.Audience.ParentIDs)
	}
	erase(content.SubjectSchool, "sch_1", "mongo:announcements")
	if _, err := s.Announcement(ctx, "ann_2"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("after the school's erasure: %v", err)
	}
}

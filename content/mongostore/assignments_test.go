package mongostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestReleaseRacesEdits: an edit made after the release started is refused;
// a release for a time the assignment no longer has does nothing; a retried
// release is told to carry on.
func TestReleaseRacesEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rel := t0.Add(24 * time.Hour)
	a := &content.Assignment{ID: "asg_1", SchoolID: "sch_1", ClassID: "cls_1", SetBy: "stf_1", TeacherName: "Mrs Khan",
		Activities: []content.AssignedActivity{{ID: "act_starter_001", Title: "Story bag", Kind: content.ActivityTogether, Subject: content.SubjectReading, Minutes: 15}},
		ReleaseAt:  rel, DueAt: rel.Add(72 * time.Hour), State: content.AssignmentScheduled, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Re-timed: the release for the old time does nothing.
	moved := *a
	moved.ReleaseAt = rel.Add(time.Hour)
	if err := s.UpdateScheduledAssignment(ctx, &moved, rel); err != nil {
		t.Fatal(err)
	}
	if go_, err := s.StartRelease(ctx, a.ID, rel, rel); err != nil || go_ {
		t.Fatalf("stale release: %v %v", go_, err)
	}
	// An edit that read the old time is refused.
	if err := s.UpdateScheduledAssignment(ctx, a, rel); content.ErrorCode(err) != content.CodeConflict {
		t.Fatalf("stale edit: %v", err)
	}
	for i := 0; i < 2; i++ {
		if go_, err := s.StartRelease(ctx, a.ID, moved.ReleaseAt, moved.ReleaseAt); err != nil || !go_ {
			t.Fatalf("release %d: %v %v", i, go_, err)
		}
	}
	if err := s.UpdateScheduledAssignment(ctx, &moved, moved.ReleaseAt); content.ErrorCode(err) != content.CodeConflict {
		t.Fatalf("edit after release: %v", err)
	}
	got, err := s.Assignment(ctx, a.ID)
	if err != nil || got.State != content.AssignmentReleased || got.BroadcastID != content.ReleaseBroadcastID(a.ID) {
		t.Fatalf("after release: %+v %v", got, err)
	}
	list, err := s.AssignmentsOfClass(ctx, "cls_1")
	if err != nil || len(list) != 1 || list[0].Activities[0].Title != "Story bag" {
		t.Fatalf("class list: %+v %v", list, err)
	}
}

// TestMovingADueDate: only a released assignment's due date moves, and only
// from the date the caller read; the reminder sweep's query finds released
// assignments by due date, never scheduled or withdrawn ones.
func TestMovingADueDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	due := t0.Add(72 * time.Hour)
	mk := func(id string, state content.AssignmentState, dueAt time.Time) {
		t.Helper()
		if err := s.CreateAssignment(ctx, &content.Assignment{ID: id, SchoolID: "sch_1", ClassID: "cls_1", SetBy: "stf_1",
			ReleaseAt: t0, DueAt: dueAt, State: state, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	mk("asg_r", content.AssignmentReleased, due)
	mk("asg_s", content.AssignmentScheduled, due)
	mk("asg_w", content.AssignmentWithdrawn, due)
	mk("asg_late", content.AssignmentReleased, due.Add(72*time.Hour))
	if err := s.SetAssignmentDue(ctx, "asg_s", due, due.Add(time.Hour), t0); content.ErrorCode(err) != content.CodeConflict {
		t.Fatalf("moving a scheduled one's due date here: %v", err)
	}
	if err := s.SetAssignmentDue(ctx, "asg_r", due.Add(-time.Hour), due.Add(time.Hour), t0); content.ErrorCode(err) != content.CodeConflict {
		t.Fatalf("stale move: %v", err)
	}
	got, err := s.ReleasedAssignmentsDue(ctx, t0, t0.Add(96*time.Hour))
	if err != nil || len(got) != 1 || got[0].ID != "asg_r" {
		t.Fatalf("due soon: %v %v", got, err)
	}
	if err := s.SetAssignmentDue(ctx, "asg_r", due, due.Add(48*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReleasedAssignmentsDue(ctx, t0, t0.Add(96*time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("moved out of the window: %v %v", got, err)
	}
	if a, err := s.Assignment(ctx, "asg_r"); err != nil || !a.DueAt.Equal(due.Add(48*time.Hour)) {
		t.Fatalf("stored: %v %v", a, err)
	}
}

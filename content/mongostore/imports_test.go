package mongostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

func TestFamilyInvitesUpsertAndCount(t *testing.T) {
	s := mongotest.NewStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	var invs []*content.FamilyInvite
	var ids []string
	for i := 0; i < 450; i++ {
		id := fmt.Sprintf("par_%04d", i)
		ids = append(ids, id)
		invs = append(invs, &content.FamilyInvite{ID: content.InvitationID("sch_1", id), SchoolID: "sch_1", ParentID: id,
			ImportID: "imp_1", BroadcastID: "brd_1", FirstAt: t0, LastAt: t0})
	}
	if err := s.PutFamilyInvites(ctx, invs); err != nil {
		t.Fatal(err)
	}
	// A later invite keeps the first time and import, follows the broadcast.
	later := []*content.FamilyInvite{{ID: content.InvitationID("sch_1", ids[0]), SchoolID: "sch_1", ParentID: ids[0],
		BroadcastID: "brd_2", FirstAt: t0.Add(time.Hour), LastAt: t0.Add(time.Hour)}}
	if err := s.PutFamilyInvites(ctx, later); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.CountReminder(ctx, "sch_1", ids); err != nil {
		t.Fatal(err)
	}
	t.Logf("counted %d reminders in %v", len(ids), time.Since(start))
	got, err := s.FamilyInvitesOfSchool(ctx, "sch_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d invites, want %d", len(got), len(ids))
	}
	for _, inv := range got {
		if inv.Reminders != 1 || inv.ImportID != "imp_1" || !inv.FirstAt.Equal(t0) {
			t.Fatalf("invite %+v", inv)
		}
		if inv.ParentID == ids[0] && (inv.BroadcastID != "brd_2" || !inv.LastAt.Equal(t0.Add(time.Hour))) {
			t.Errorf("re-invite not recorded: %+v", inv)
		}
	}
}

// TestApplyImportIsIdempotent applies a commit's writes twice (a resumed
// commit) and then a follow-up import's updates, in bulk.
func TestApplyImportIsIdempotent(t *testing.T) {
	s := mongotest.NewStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	w := &content.ImportWrites{NewClasses: []*content.Class{{ID: "cls_a", SchoolID: "sch_1", Name: "2K", YearGroup: "Y2", CreatedAt: now}}}
	for i := 0; i < 1200; i++ {
		k := &content.Child{ID: fmt.Sprintf("chd_%04d", i), SchoolID: "sch_1", FirstName: "C", LastName: "D", UPN: fmt.Sprintf("U%04d", i),
			YearGroup: "Y2", ClassIDs: []string{"cls_a"}, SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now,
			Parents: []content.ParentLink{{ParentID: fmt.Sprintf("par_%04d", i), State: content.LinkLinked, LinkedAt: now}}}
		w.NewChildren = append(w.NewChildren, k)
		w.NewParents = append(w.NewParents, &content.Parent{ID: fmt.Sprintf("par_%04d", i), FirstName: "P", Phone: fmt.Sprintf("+4479000%05d", i),
			Language: "en", State: content.ParentInvited, Sessions: []string{}, CreatedAt: now,
			Children: []content.ChildLink{{ChildID: k.ID, SchoolID: "sch_1", FirstName: "C", YearGroup: "Y2", State: content.LinkLinked, LinkedAt: now}}})
	}
	for run := 0; run < 2; run++ {
		start := time.Now()
		if err := s.ApplyImport(ctx, w); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d: %d children and parents in %v", run, len(w.NewChildren), time.Since(start))
	}
	snap, err := s.RosterSnapshot(ctx, "sch_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Children) != 1200 || len(snap.Parents) != 1200 || len(snap.Classes) != 1 {
		t.Fatalf("snapshot: %d children, %d parents, %d classes", len(snap.Children), len(snap.Parents), len(snap.Classes))
	}
	// A follow-up: a leaver, a renamed child, a parent's new email.
	k0 := *w.NewChildren[0]
	k0.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: now}
	k1 := *w.NewChildren[1]
	k1.FirstName = "Renamed"
	up := &content.ImportWrites{Children: []*content.Child{&k0, &k1}, ParentUpdates: []content.ParentUpdate{
		{ID: "par_0000", Children: []content.ChildLink{{ChildID: k0.ID, SchoolID: "sch_1", State: content.LinkRemoved, LinkedAt: now}}},
		{ID: "par_0001", SetContact: true, FirstName: "Q", Email: "q@example.test", Language: "cy",
			Children: []content.ChildLink{{ChildID: k1.ID, SchoolID: "sch_1", FirstName: "Renamed", State: content.LinkLinked, LinkedAt: now}}},
	}}
	for run := 0; run < 2; run++ {
		if err := s.ApplyImport(ctx, up); err != nil {
			t.Fatalf("follow-up run %d: %v", run, err)
		}
	}
	c0, _ := s.Child(ctx, k0.ID)
	c1, _ := s.Child(ctx, k1.ID)
	p0, _ := s.Parent(ctx, "par_0000")
	p1, _ := s.Parent(ctx, "par_0001")
	if c0.SchoolLink.State != content.LinkRemoved || c1.FirstName != "Renamed" || p0.Children[0].State != content.LinkRemoved ||
		p1.Phone != "" || p1.Email != "q@example.test" || p1.Language != "cy" || p1.Children[0].FirstName != "Renamed" {
		t.Errorf("after follow-up: %+v %+v %+v %+v", c0.SchoolLink, c1.FirstName, p0.Children, p1)
	}
}

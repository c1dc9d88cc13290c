package mongostore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// A broadcast naming thousands of parents keeps them apart from its own
// document; AudienceParents gives the whole list back, in order; a create
// that conflicts changes nothing; erasure reaches the kept list.
func TestLargeAudienceIsKeptApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ids := make([]string, 2500)
	for i := range ids {
		ids[i] = fmt.Sprintf("par_%05d", i)
	}
	b := &content.Broadcast{ID: "brd_big", SchoolID: "sch_1", Template: "invite", State: content.BroadcastExpanding,
		Audience: content.Audience{ParentIDs: ids}, CreatedAt: now}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := s.Database().Collection("broadcasts").FindOne(ctx, bson.D{{Key: "_id", Value: b.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if aud, _ := raw["audience"].(bson.M); aud["parentIds"] != nil {
		t.Fatalf("the broadcast document carries the ids: %d bytes of audience", len(fmt.Sprint(aud)))
	}
	got, err := s.Broadcast(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Audience.ParentIDs) != 0 {
		t.Fatalf("Broadcast returned %d ids", len(got.Audience.ParentIDs))
	}
	named, err := s.AudienceParents(ctx, got)
	if err != nil || !slices.Equal(named, ids) {
		t.Fatalf("AudienceParents: %d ids (equal %v), %v", len(named), slices.Equal(named, ids), err)
	}

	// The same id with another list: a conflict, and the list stays.
	other := &content.Broadcast{ID: b.ID, SchoolID: "sch_1", Template: "invite", State: content.BroadcastExpanding,
		Audience: content.Audience{ParentIDs: ids[:1500]}, CreatedAt: now}
	if err := s.CreateBroadcast(ctx, other); !content.IsCode(err, content.CodeConflict) {
		t.Fatalf("second create: %v, want CodeConflict", err)
	}
	if named, err := s.AudienceParents(ctx, got); err != nil || !slices.Equal(named, ids) {
		t.Fatalf("after a conflicting create: %d ids, %v", len(named), err)
	}

	// A small audience stays on the broadcast.
	small := &content.Broadcast{ID: "brd_small", SchoolID: "sch_1", Template: "award", State: content.BroadcastExpanding,
		Audience: content.Audience{ParentIDs: ids[:3]}, CreatedAt: now}
	if err := s.CreateBroadcast(ctx, small); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Broadcast(ctx, small.ID); err != nil || !slices.Equal(got.Audience.ParentIDs, ids[:3]) {
		t.Fatalf("small audience: %+v, %v", got, err)
	}

	// Erasing a parent takes their id out of the kept list.
	for _, e := range s.Erasers(content.SubjectParent) {
		if e.Area() != "mongo:broadcast_audience_chunks" {
			continue
		}
		if n, err := e.Erase(ctx, content.ErasureSubject{Kind: content.SubjectParent, ID: "par_01234"}); err != nil || n != 1 {
			t.Fatalf("erase: %d documents, %v", n, err)
		}
	}
	named, err = s.AudienceParents(ctx, got)
	if err != nil || len(named) != len(ids)-1 || slices.Contains(named, "par_01234") {
		t.Fatalf("after erasure: %d ids, contains the erased %v, %v", len(named), slices.Contains(named, "par_01234"), err)
	}
	// Erasing the school removes the kept lists.
	for _, e := range s.Erasers(content.SubjectSchool) {
		if e.Area() != "mongo:broadcast_audience_chunks" {
			continue
		}
		if n, err := e.Erase(ctx, content.ErasureSubject{Kind: content.SubjectSchool, ID: "sch_1"}); err != nil || n != 3 {
			t.Fatalf("erase school: %d documents, %v", n, err)
		}
	}
	if n, err := s.Database().Collection("broadcast_audience").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Fatalf("%d audience documents left after the school's erasure, %v", n, err)
	}
}

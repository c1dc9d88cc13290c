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

// TestBroadcastsOfSchool: the log is one school's broadcasts newest first,
// ties on time broken by id; a cursor continues exactly after the last row
// even when newer broadcasts arrive in between; a sender filter keeps only
// theirs; parameters are never loaded.
func TestBroadcastsOfSchool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	create := func(id, school, by string, at time.Time) {
		t.Helper()
		b := &content.Broadcast{ID: id, SchoolID: school, CreatedBy: by, Template: "award", Category: "awards",
			Params: map[string]string{"child_first_name": "Sam"}, State: content.BroadcastSending, CreatedAt: at}
		if err := s.CreateBroadcast(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// Seven at sch_1: brd_0..brd_4 a minute apart; brd_5 and brd_6 share
	// brd_4's time (ties). Sent alternately by stf_a and stf_b. One at sch_2.
	for i := 0; i < 7; i++ {
		at := t0.Add(time.Duration(min(i, 4)) * time.Minute)
		create(fmt.Sprintf("brd_%d", i), "sch_1", []string{"stf_a", "stf_b"}[i%2], at)
	}
	create("brd_other", "sch_2", "stf_a", t0.Add(time.Hour))

	ids := func(bs []*content.Broadcast) []string {
		out := []string{}
		for _, b := range bs {
			out = append(out, b.ID)
		}
		return out
	}
	// walk pages through the log with the given page size, inserting a
	// newer broadcast after the first page to show the cursor holds.
	walk := func(t *testing.T, by string, size int, insert func()) []string {
		var got []string
		var after content.BroadcastCursor
		for page := 0; page < 20; page++ {
			bs, err := s.BroadcastsOfSchool(ctx, "sch_1", by, after, size)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if b.SchoolID != "sch_1" || b.Params != nil || (by != "" && b.CreatedBy != by) {
					t.Fatalf("row %+v", b)
				}
			}
			got = append(got, ids(bs)...)
			if len(bs) < size {
				return got
			}
			after = content.CursorAfter(bs[len(bs)-1])
			if page == 0 && insert != nil {
				insert()
			}
		}
		t.Fatal("the log did not end")
		return nil
	}
	cases := []struct {
		name   string
		by     string
		size   int
		insert func()
		want   []string
	}{
		{name: "whole school, one page", size: 50, want: []string{"brd_6", "brd_5", "brd_4", "brd_3", "brd_2", "brd_1", "brd_0"}},
		{name: "whole school, pages of 2 across the tie", size: 2, want: []string{"brd_6", "brd_5", "brd_4", "brd_3", "brd_2", "brd_1", "brd_0"}},
		{name: "pages of 3 with a newer broadcast arriving", size: 3,
			insert: func() { create("brd_new", "sch_1", "stf_a", t0.Add(2*time.Hour)) },
			want:   []string{"brd_6", "brd_5", "brd_4", "brd_3", "brd_2", "brd_1", "brd_0"}},
		{name: "one sender", by: "stf_b", size: 2, want: []string{"brd_5", "brd_3", "brd_1"}},
		{name: "a sender with none", by: "stf_nobody", size: 5, want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := walk(t, tc.by, tc.size, tc.insert); !slices.Equal(got, tc.want) {
				t.Fatalf("log %v, want %v", got, tc.want)
			}
		})
	}
	// The broadcast added mid-walk is at the head of a fresh walk.
	bs, err := s.BroadcastsOfSchool(ctx, "sch_1", "", content.BroadcastCursor{}, 1)
	if err != nil || len(bs) != 1 || bs[0].ID != "brd_new" {
		t.Fatalf("head of the log: %v %v", ids(bs), err)
	}
	// A cursor from before the first broadcast ends the log.
	bs, err = s.BroadcastsOfSchool(ctx, "sch_1", "", content.BroadcastCursor{CreatedAt: t0.Add(-time.Hour), ID: "brd_z"}, 5)
	if err != nil || len(bs) != 0 {
		t.Fatalf("after the oldest: %v %v", ids(bs), err)
	}
}

// TestBroadcastLogIndexes: Init declares the indexes the log's query uses.
func TestBroadcastLogIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	cur, err := s.Database().Collection("broadcasts").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.M
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sp := range specs {
		names = append(names, fmt.Sprint(sp["name"]))
	}
	for _, want := range []string{"schoolId_1_createdAt_-1__id_-1", "schoolId_1_createdBy_1_createdAt_-1__id_-1"} {
		if !slices.Contains(names, want) {
			t.Errorf("index %s missing; have %v", want, names)
		}
	}
}

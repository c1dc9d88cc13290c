package worker

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// TestReleaseWritesFeedsAndOneBroadcast: a release puts the activity in the
// feed of every child of the class and creates one broadcast whose audience
// holds each linked parent once (siblings in the class do not double it).
// Run again, it adds nothing; a task for an old release time, or for a
// withdrawn assignment, does nothing.
func TestReleaseWritesFeedsAndOneBroadcast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rosterWithFamilies(t, s, 0, 30)
	// A parent of two children both in cls_a: par_0000's sibling is in
	// cls_b (every tenth family), so add one more child to cls_a for her.
	sib := &content.Child{ID: "chd_0000_x", SchoolID: "sch_1", FirstName: "S", LastName: "T", YearGroup: "Y2",
		ClassIDs: []string{"cls_a"}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
		Parents: []content.ParentLink{{ParentID: "par_0000", State: content.LinkLinked}}}
	if err := s.CreateChild(ctx, sib); err != nil {
		t.Fatal(err)
	}
	rel := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	a := &content.Assignment{ID: "asg_1", SchoolID: "sch_1", ClassID: "cls_a", SetBy: "stf_1", TeacherName: "Mrs Khan",
		Activities: []content.AssignedActivity{
			{ID: "act_starter_001", Title: "Story bag", Kind: content.ActivityTogether, Subject: content.SubjectReading, Minutes: 15,
				Titles: map[string]string{"cy": "Bag stori", "pl": "Worek z opowieścią"}},
			{ID: "act_starter_002", Title: "Number hunt", Kind: content.ActivityGame, Subject: content.SubjectMaths, Minutes: 10}},
		ReleaseAt: rel, DueAt: rel.Add(72 * time.Hour), State: content.AssignmentScheduled}
	if err := s.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	q := &taskstest.Recorder{}
	h := &Releases{Assignments: s, Roster: s, Feed: s, Ledger: s, Tasks: q, Clock: clocktest.New(rel.Add(time.Second)),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AppURL: "https://hometime.app"}
	run := func(at time.Time) {
		t.Helper()
		task, err := tasks.NewReleaseAssignment(a.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	run(rel)
	run(rel) // a retry changes nothing

	kids, err := s.ChildrenOfClass(ctx, "cls_a")
	if err != nil {
		t.Fatal(err)
	}
	wantParents := []string{}
	for _, k := range kids {
		items, _, err := s.FeedPage(ctx, k.ID, -1, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].Title != "Number hunt" || items[1].Title != "Story bag" || items[0].State() != content.FeedNew {
			t.Fatalf("feed of %s: %d items", k.ID, len(items))
		}
		if !items[0].DueAt.Equal(a.DueAt) || items[0].TeacherName != "Mrs Khan" {
			t.Fatalf("feed item of %s: %+v", k.ID, items[0])
		}
		for _, p := range k.Parents {
			if !slices.Contains(wantParents, p.ParentID) {
				wantParents = append(wantParents, p.ParentID)
			}
		}
	}
	slices.Sort(wantParents)
	b, err := s.Broadcast(ctx, content.ReleaseBroadcastID(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if b.Template != "activity_set" || b.Category != content.CategoryActivities || !slices.Equal(b.Audience.ParentIDs, wantParents) {
		t.Fatalf("broadcast: %s %s %v, want parents %v", b.Template, b.Category, b.Audience.ParentIDs, wantParents)
	}
	if b.Params["activity_title"] != "Story bag" || b.Params["activity_title_cy"] != "Bag stori" ||
		b.Params["activity_title_pl"] != "Worek z opowieścią" || b.Params["teacher_name"] != "Mrs Khan" || b.Params["link"] == "" {
		t.Fatalf("params: %v", b.Params)
	}
	if _, ok := b.Params["child_first_name"]; ok {
		t.Fatalf("a class release names one child for every family: %v", b.Params)
	}
	var kidIDs []string
	for _, k := range kids {
		kidIDs = append(kidIDs, k.ID)
	}
	slices.Sort(kidIDs)
	if b.Params["child_ids"] != strings.Join(kidIDs, ",") {
		t.Fatalf("child_ids %q, want %q", b.Params["child_ids"], strings.Join(kidIDs, ","))
	}
	if n := q.Len(); n != 2 || q.Tasks()[0].Type() != tasks.TypeExpandBroadcast {
		t.Fatalf("queued %d tasks", n)
	}
	// Another class's children got nothing.
	if items, _, _ := s.FeedPage(ctx, "chd_0001_0", -1, 20); len(items) != 0 {
		t.Fatalf("child of cls_b has %d items", len(items))
	}

	// A second assignment, re-timed and then withdrawn: neither its old
	// task nor its new one releases it.
	b2 := *a
	b2.ID, b2.State = "asg_2", content.AssignmentScheduled
	if err := s.CreateAssignment(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	moved := b2
	moved.ReleaseAt = rel.Add(-time.Minute)
	if err := s.UpdateScheduledAssignment(ctx, &moved, rel); err != nil {
		t.Fatal(err)
	}
	h2 := *h
	a = &b2
	h = &h2
	run(rel) // the old time: nothing
	if _, err := s.Broadcast(ctx, content.ReleaseBroadcastID("asg_2")); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("re-timed assignment released by its old task: %v", err)
	}
	withdrawn := moved
	withdrawn.State = content.AssignmentWithdrawn
	if err := s.UpdateScheduledAssignment(ctx, &withdrawn, moved.ReleaseAt); err != nil {
		t.Fatal(err)
	}
	run(moved.ReleaseAt)
	if _, err := s.Broadcast(ctx, content.ReleaseBroadcastID("asg_2")); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("withdrawn assignment released: %v", err)
	}
	if items, _, _ := s.FeedPage(ctx, "chd_0000_x", -1, 20); len(items) != 2 {
		t.Fatalf("withdrawn assignment reached the feed: %d items", len(items))
	}
}

// TestDeadAndStaleTokensArePruned: the OnDeadToken hook removes the token
// from the parent, and the daily sweep drops tokens unseen for 270 days.
func TestDeadAndStaleTokensArePruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	key := []byte("k")
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	if err := s.CreateParent(ctx, &content.Parent{ID: "par_1", FirstName: "P", LastName: "Q", Language: "en",
		State: content.ParentActive, Sessions: []string{}}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		token string
		seen  time.Time
	}{{"tok-dead", now}, {"tok-stale", now.Add(-271 * 24 * time.Hour)}, {"tok-live", now.Add(-269 * 24 * time.Hour)}} {
		if err := s.PutDevice(ctx, "par_1", content.Device{ID: content.DeviceID(key, d.token), Platform: content.PlatformIOS,
			Token: d.token, LastSeen: d.seen, Created: d.seen}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	DeadTokens(s, key, log)("par_1", "tok-dead")
	q := &taskstest.Recorder{}
	h := &StaleDevices{Store: s, Tasks: q, Clock: clocktest.New(now), Log: log}
	if err := h.Tick(ctx, tasks.NewDevicesTick(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 || q.Tasks()[0].Type() != tasks.TypeDropStaleDevices || string(q.Tasks()[0].Payload()) != `{"day":"2026-11-02"}` {
		t.Fatalf("tick queued %d tasks", q.Len())
	}
	for i := 0; i < 2; i++ {
		if err := h.ProcessTask(ctx, q.Tasks()[0]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DeviceTokens(ctx, "par_1")
	if err != nil || !slices.Equal(got, []string{"tok-live"}) {
		t.Fatalf("tokens left: %v %v", got, err)
	}
}

// A release's notification names the activity in the language each parent
// is messaged in, where the broadcast carries that title, else in English.
func TestReleaseTitleInParentsLanguage(t *testing.T) {
	t.Parallel()
	b := &content.Broadcast{ID: "brd_asg_1", Template: "activity_set", Category: content.CategoryActivities,
		Params: map[string]string{"activity_title": "Story bag", "activity_title_cy": "Bag stori", "teacher_name": "Mrs Khan"}}
	pc := &pageContext{broadcast: b, school: &content.School{ID: "sch_1", Name: "Ysgol"}}
	for _, tt := range []struct {
		name   string
		parent content.Parent
		want   string
	}{
		{"Welsh", content.Parent{ID: "par_1", Language: "cy"}, "Bag stori"},
		{"Welsh by region", content.Parent{ID: "par_1", Language: "cy-GB"}, "Bag stori"},
		{"English", content.Parent{ID: "par_2", Language: "en"}, "Story bag"},
		{"a language without the title", content.Parent{ID: "par_3", Language: "pl"}, "Story bag"},
		{"Welsh for activities only", content.Parent{ID: "par_4", Language: "en",
			Preferences: map[string]content.ChannelPreference{content.CategoryActivities: {Language: "cy"}}}, "Bag stori"},
	} {
		p, err := pc.recipientParams(context.Background(), nil, nil, &tt.parent, time.Now())
		if err != nil || p.ActivityTitle != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, p.ActivityTitle, err, tt.want)
		}
	}
}

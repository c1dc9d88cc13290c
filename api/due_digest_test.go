package api

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// TestAssignmentDueDate: a due date is given as due_at or due_date (a day
// at the school, due by its end), never in the past and never both, with
// the field named; a released assignment's due date alone can move (the
// feed refresh is queued), anything else of it is 409; the feed shows the
// day an item is due.
func TestAssignmentDueDate(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	tok := w.tokens[actTeacher]
	base := "/v1/schools/sch_1/classes/cls_1/assignments"
	now := h.clock.Now() // Monday 2 November 2026, 10:00 in London
	at := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	act := []string{"act_starter_001"}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"due date in the past", map[string]any{"activity_ids": act, "due_date": "2026-11-01"}, "due_date"},
		{"due date not a date", map[string]any{"activity_ids": act, "due_date": "9 Nov"}, "due_date"},
		{"due time in the past", map[string]any{"activity_ids": act, "due_at": at(-time.Hour)}, "due_at"},
		{"both", map[string]any{"activity_ids": act, "due_at": at(96 * time.Hour), "due_date": "2026-11-06"}, "due_date"},
		{"neither", map[string]any{"activity_ids": act}, "due_at"},
		{"due date before the release", map[string]any{"activity_ids": act, "release_at": at(72 * time.Hour), "due_date": "2026-11-03"}, "due_date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.do("POST", base, tc.body, tok)
			wantStatus(t, resp, body, 400)
			if e := decode[errorBody](t, body); e.Error.Fields[tc.field] == "" {
				t.Fatalf("no problem named for %s: %s", tc.field, body)
			}
		})
	}
	if list, _ := h.store.AssignmentsOfClass(ctx, "cls_1"); len(list) != 0 {
		t.Fatalf("refused requests stored %d assignments", len(list))
	}

	// Due today is allowed (by the end of the day), and so is Friday.
	resp, body := h.do("POST", base, map[string]any{"activity_ids": act, "due_date": "2026-11-06"}, tok)
	wantStatus(t, resp, body, 201)
	a := decode[assignmentDTO](t, body)
	london, _ := time.LoadLocation("Europe/London")
	if want := time.Date(2026, 11, 6, 23, 59, 59, 0, london); !a.DueAt.Equal(want) || a.DueDate != "2026-11-06" {
		t.Fatalf("due %v / %s, want %v / 2026-11-06", a.DueAt, a.DueDate, want)
	}

	// Released (now): only the due date may move.
	ok, err := h.store.StartRelease(ctx, a.ID, a.ReleaseAt, now)
	if err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
	h.queue.Reset()
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"activity_ids": []string{"act_starter_002"}, "due_date": "2026-11-09"}, tok)
	wantStatus(t, resp, body, 409)
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"due_date": "2026-10-30"}, tok)
	wantStatus(t, resp, body, 400)
	if s, _ := h.store.Assignment(ctx, a.ID); !s.DueAt.Equal(a.DueAt) {
		t.Fatalf("refused moves changed the due date to %v", s.DueAt)
	}
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"due_date": "2026-11-09"}, tok)
	wantStatus(t, resp, body, 200)
	moved := decode[assignmentDTO](t, body)
	stored, err := h.store.Assignment(ctx, a.ID)
	if err != nil || moved.DueDate != "2026-11-09" || !stored.DueAt.Equal(time.Date(2026, 11, 9, 23, 59, 59, 0, london)) ||
		stored.State != content.AssignmentReleased || len(stored.Activities) != 1 {
		t.Fatalf("after the move: %s, stored %+v %v", body, stored, err)
	}
	if n := len(h.queue.OfType(tasks.TypeRefreshAssignmentFeed)); n != 1 {
		t.Fatalf("%d feed refreshes queued, want 1", n)
	}
	// Another teacher's class: not theirs to move.
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"due_date": "2026-11-10"}, w.tokens[actTeacherOther])
	wantStatus(t, resp, body, 403)

	// The feed shows the day at the school.
	if _, err := h.store.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_1", Key: stored.FeedKey("act_starter_001"),
		Kind: content.FeedActivity, At: now, AssignmentID: a.ID, ActivityID: "act_starter_001", Title: "Story bag",
		ActivityKind: content.ActivityTogether, Subject: content.SubjectReading, Minutes: 15, DueAt: stored.DueAt, TeacherName: "Mrs Llewellyn"}); err != nil {
		t.Fatal(err)
	}
	resp, body = h.do("GET", "/v1/children/chd_1/feed", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	page := decode[feedPageDTO](t, body)
	if len(page.Items) != 1 || page.Items[0].DueDate != "2026-11-09" {
		t.Fatalf("feed: %s", body)
	}
}

// TestDigestPreference: the daily digest is for a parent linked to two or
// more children (422 naming digest otherwise, nothing stored); it shows in
// GET, survives a PUT that leaves it out, and turns off.
func TestDigestPreference(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	tok := w.tokens[actParentA]
	prefs := func(digest any) map[string]any {
		p := map[string]any{}
		for _, c := range content.PreferenceCategories {
			p[c] = map[string]any{"channel": "auto", "language": nil}
		}
		if digest != nil {
			p["digest"] = digest
		}
		return p
	}
	stored := func() bool {
		t.Helper()
		p, err := h.store.Parent(ctx, w.ParentA.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest
	}
	resp, body := h.do("PUT", "/v1/me/preferences", prefs(true), tok)
	wantStatus(t, resp, body, 422)
	if e := decode[errorBody](t, body); e.Error.Fields["digest"] == "" || stored() {
		t.Fatalf("one child: %s, stored %v", body, stored())
	}
	resp, body = h.do("PUT", "/v1/me/preferences", prefs("yes"), tok)
	wantStatus(t, resp, body, 400)

	// A second child: now it may.
	if err := h.linkForTest(ctx, w.ParentA, w.K3); err != nil {
		t.Fatal(err)
	}
	resp, body = h.do("PUT", "/v1/me/preferences", prefs(true), tok)
	wantStatus(t, resp, body, 200)
	if got := decode[preferencesDTO](t, body); !got.Digest || !stored() {
		t.Fatalf("two children: %s, stored %v", body, stored())
	}
	resp, body = h.do("GET", "/v1/me/preferences", nil, tok)
	wantStatus(t, resp, body, 200)
	if got := decode[preferencesDTO](t, body); !got.Digest {
		t.Fatalf("GET: %s", body)
	}
	resp, body = h.do("PUT", "/v1/me/preferences", prefs(nil), tok)
	wantStatus(t, resp, body, 200)
	if got := decode[preferencesDTO](t, body); !got.Digest || !stored() {
		t.Fatalf("left out, the digest should stay on: %s", body)
	}
	resp, body = h.do("PUT", "/v1/me/preferences", prefs(false), tok)
	wantStatus(t, resp, body, 200)
	if got := decode[preferencesDTO](t, body); got.Digest || stored() {
		t.Fatalf("turned off: %s, stored %v", body, stored())
	}
}

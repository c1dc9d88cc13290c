package api

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// TestAssignmentLifecycle: the teacher of C1 sets work for chosen children
// of C1, re-times it (a new release task), withdraws another before release;
// others' children and others' activities are refused by field (A2) with
// nothing stored; after the release time nothing can change.
func TestAssignmentLifecycle(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	tok := w.tokens[actTeacher]
	base := "/v1/schools/sch_1/classes/cls_1/assignments"
	now := h.clock.Now()
	at := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	other := w.newSchoolActivity(t, "sch_2")

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"child of another class", map[string]any{"activity_ids": []string{"act_starter_001"}, "child_ids": []string{"chd_1", "chd_3"}, "due_at": at(96 * time.Hour)}, "child_ids[1]"},
		{"child of another school", map[string]any{"activity_ids": []string{"act_starter_001"}, "child_ids": []string{"chd_o"}, "due_at": at(96 * time.Hour)}, "child_ids[0]"},
		{"another school's activity", map[string]any{"activity_ids": []string{other.ID}, "due_at": at(96 * time.Hour)}, "activity_ids[0]"},
		{"no activities", map[string]any{"activity_ids": []string{}, "due_at": at(96 * time.Hour)}, "activity_ids"},
		{"due before release", map[string]any{"activity_ids": []string{"act_starter_001"}, "release_at": at(48 * time.Hour), "due_at": at(24 * time.Hour)}, "due_at"},
		{"release in the past", map[string]any{"activity_ids": []string{"act_starter_001"}, "release_at": at(-48 * time.Hour), "due_at": at(24 * time.Hour)}, "release_at"},
		{"not a time", map[string]any{"activity_ids": []string{"act_starter_001"}, "due_at": "next Tuesday"}, "due_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.do("POST", base, tc.body, tok)
			wantStatus(t, resp, body, 400)
			if e := decode[errorBody](t, body); e.Error.Fields[tc.field] == "" {
				t.Fatalf("no problem named for %s: %s", tc.field, body)
			}
		})
	}
	// A3: a privileged field is refused.
	resp, body := h.do("POST", base, map[string]any{"activity_ids": []string{"act_starter_001"}, "due_at": at(96 * time.Hour), "set_by": "stf_admin"}, tok)
	wantStatus(t, resp, body, 400)
	if list, _ := h.store.AssignmentsOfClass(ctx, "cls_1"); len(list) != 0 {
		t.Fatalf("refused requests stored %d assignments", len(list))
	}
	if n := len(h.queue.OfType(tasks.TypeReleaseAssignment)); n != 0 {
		t.Fatalf("refused requests queued %d releases", n)
	}

	// Set for K1 and K2 tomorrow.
	resp, body = h.do("POST", base, map[string]any{"activity_ids": []string{"act_starter_001", "act_starter_002"},
		"child_ids": []string{"chd_1", "chd_2"}, "release_at": at(24 * time.Hour), "due_at": at(96 * time.Hour)}, tok)
	wantStatus(t, resp, body, 201)
	a := decode[assignmentDTO](t, body)
	if a.State != "scheduled" || a.WholeClass || len(a.Activities) != 2 || a.TeacherName == "" || a.SetBy != w.Teacher.ID {
		t.Fatalf("created: %s", body)
	}
	releases := h.queue.OfType(tasks.TypeReleaseAssignment)
	if len(releases) != 1 {
		t.Fatalf("queued %d releases", len(releases))
	}
	if p, err := tasks.ParseReleaseAssignment(releases[0].Payload()); err != nil || p.AssignmentID != a.ID || p.ReleaseAt != a.ReleaseAt.Unix() {
		t.Fatalf("release task %+v %v", p, err)
	}

	// Re-timed: a second task for the new time; the teacher of C2 may not.
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"release_at": at(30 * time.Hour)}, w.tokens[actTeacherOther])
	wantStatus(t, resp, body, 403)
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"release_at": at(30 * time.Hour)}, tok)
	wantStatus(t, resp, body, 200)
	if n := len(h.queue.OfType(tasks.TypeReleaseAssignment)); n != 2 {
		t.Fatalf("re-timing queued %d releases in all, want 2", n)
	}
	stored, err := h.store.Assignment(ctx, a.ID)
	if err != nil || !stored.ReleaseAt.Equal(now.Add(30*time.Hour).Truncate(time.Second)) || len(stored.ChildIDs) != 2 {
		t.Fatalf("stored after patch: %+v %v", stored, err)
	}
	// A2 on edit too: the target is unchanged.
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"child_ids": []string{"chd_o"}}, tok)
	wantStatus(t, resp, body, 400)
	if s2, _ := h.store.Assignment(ctx, a.ID); len(s2.ChildIDs) != 2 {
		t.Fatalf("refused edit changed the children: %v", s2.ChildIDs)
	}

	// Another, withdrawn before release.
	resp, body = h.do("POST", base, map[string]any{"activity_ids": []string{"act_starter_003"}, "release_at": at(2 * time.Hour), "due_at": at(96 * time.Hour)}, w.tokens[actAdmin])
	wantStatus(t, resp, body, 201)
	b := decode[assignmentDTO](t, body)
	if !b.WholeClass {
		t.Fatalf("no child_ids should mean the whole class: %s", body)
	}
	resp, body = h.do("DELETE", base+"/"+b.ID, nil, tok)
	wantStatus(t, resp, body, 204)
	resp, body = h.do("GET", base, nil, tok)
	wantStatus(t, resp, body, 200)
	list := decode[listDTO[assignmentDTO]](t, body)
	if len(list.Items) != 2 || list.Items[0].ID != a.ID || list.Items[1].State != "withdrawn" {
		t.Fatalf("list: %s", body)
	}

	// Past the release time nothing changes: 409.
	h.clock.Advance(31 * time.Hour)
	tok = h.login(w.Teacher.Email, fixturePassword).AccessToken // the old access token has expired
	resp, body = h.do("PATCH", base+"/"+a.ID, map[string]any{"due_at": at(100 * time.Hour)}, tok)
	wantStatus(t, resp, body, 409)
	resp, body = h.do("DELETE", base+"/"+a.ID, nil, tok)
	wantStatus(t, resp, body, 409)
	resp, body = h.do("DELETE", base+"/"+b.ID, nil, tok)
	wantStatus(t, resp, body, 409)
	// The class of another school is not found for this teacher.
	resp, body = h.do("GET", "/v1/schools/sch_1/classes/cls_o/assignments", nil, tok)
	wantStatus(t, resp, body, 404)
	if s3, _ := h.store.Assignment(ctx, a.ID); s3.State != content.AssignmentScheduled {
		t.Fatalf("refused changes moved the state to %s", s3.State)
	}
}

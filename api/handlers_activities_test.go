package api

import (
	"context"
	"sync"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/activities"
)

var (
	libOnce   sync.Once
	libShared *activities.Library
	libErr    error
)

// starterLibrary loads the built-in library once per test binary.
func starterLibrary(t testing.TB) ActivityLibrary {
	libOnce.Do(func() { libShared, libErr = activities.Load() })
	if libErr != nil {
		t.Fatal(libErr)
	}
	return libShared
}

// TestActivityLibrary: filters, paging, a school's own activities seen only
// by its families and staff, validation with field errors, and built-in
// activities refused to edits.
func TestActivityLibrary(t *testing.T) {
	w := newWorld(t)
	h := w.h
	lib := starterLibrary(t)

	resp, body := h.do("POST", "/v1/schools/sch_1/activities", newActivityBody(), w.tokens[actTeacher])
	wantStatus(t, resp, body, 201)
	own := decode[activityDTO](t, body)
	if own.BuiltIn || own.SchoolID != "sch_1" || own.Subject != "science" {
		t.Fatalf("created: %s", body)
	}

	// Every science activity, five a page, as parent A: the library's and
	// the school's own.
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		url := "/v1/activities?subject=science&limit=5"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		resp, body = h.do("GET", url, nil, w.tokens[actParentA])
		wantStatus(t, resp, body, 200)
		page := decode[activityPageDTO](t, body)
		for _, a := range page.Items {
			if a.Subject != "science" {
				t.Fatalf("filter let through %s", a.Subject)
			}
			got = append(got, a.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := len(lib.Find(content.ActivityFilter{Subject: content.SubjectScience})) + 1
	if len(got) != want || got[len(got)-1] != own.ID {
		t.Fatalf("listed %d science activities, want %d ending with the school's own", len(got), want)
	}
	// The other school's parent sees the library but not sch_1's own.
	resp, body = h.do("GET", "/v1/activities?subject=science&limit=50", nil, w.tokens[actParentOther])
	wantStatus(t, resp, body, 200)
	if page := decode[activityPageDTO](t, body); len(page.Items) != want-1 {
		t.Fatalf("other school's parent sees %d", len(page.Items))
	}
	resp, body = h.do("GET", "/v1/activities/"+own.ID, nil, w.tokens[actParentOther])
	wantStatus(t, resp, body, 404)
	resp, body = h.do("GET", "/v1/activities/"+own.ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)

	// Filters that could never match are 400, naming the field.
	resp, body = h.do("GET", "/v1/activities?year_group=Y9&kind=film", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 400)
	if e := decode[errorBody](t, body); e.Error.Fields["year_group"] == "" || e.Error.Fields["kind"] == "" {
		t.Fatalf("fields: %s", body)
	}

	// Validation names each field; nothing is stored.
	bad := newActivityBody()
	bad["minutes"], bad["steps"], bad["media_url"] = 0, []string{}, "javascript:alert(1)"
	resp, body = h.do("POST", "/v1/schools/sch_1/activities", bad, w.tokens[actTeacher])
	wantStatus(t, resp, body, 400)
	if e := decode[errorBody](t, body); e.Error.Fields["minutes"] == "" || e.Error.Fields["steps"] == "" || e.Error.Fields["media_url"] == "" {
		t.Fatalf("fields: %s", body)
	}
	// A3: a privileged field is refused.
	priv := newActivityBody()
	priv["school_id"] = "sch_2"
	resp, body = h.do("POST", "/v1/schools/sch_1/activities", priv, w.tokens[actTeacher])
	wantStatus(t, resp, body, 400)
	if list, _ := h.store.ActivitiesOfSchool(context.Background(), "sch_1"); len(list) != 1 {
		t.Fatalf("refused requests stored activities: %d", len(list))
	}

	// Edits: the school's own only; another school's admin cannot reach it.
	resp, body = h.do("PATCH", "/v1/schools/sch_1/activities/act_starter_001", map[string]any{"minutes": 5}, w.tokens[actAdmin])
	wantStatus(t, resp, body, 404)
	resp, body = h.do("PATCH", "/v1/schools/sch_2/activities/"+own.ID, map[string]any{"minutes": 5}, w.tokens[actAdminOther])
	wantStatus(t, resp, body, 404)
	resp, body = h.do("PATCH", "/v1/schools/sch_1/activities/"+own.ID, map[string]any{"minutes": 25, "title": "Leaf hunt"}, w.tokens[actTeacherOther])
	wantStatus(t, resp, body, 200)
	if a := decode[activityDTO](t, body); a.Minutes != 25 || a.Title != "Leaf hunt" || a.Subject != "science" {
		t.Fatalf("patched: %s", body)
	}
	resp, body = h.do("DELETE", "/v1/schools/sch_1/activities/"+own.ID, nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 204)
	resp, body = h.do("GET", "/v1/activities/"+own.ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 404)
}

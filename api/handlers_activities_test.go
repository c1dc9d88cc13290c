package api

import (
	"context"
	"sync"
	"testing"
	"time"

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
	libOnce.Do(func() {
		libShared, libErr = activities.Load(activities.Options{MediaBaseURL: "https://media.hometime.test/starter"})
	})
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
	want := len(lib.Find(content.ActivityFilter{Subject: content.SubjectScience}, "en")) + 1
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

// welshLibrary stands in for a library with a Welsh translation of every
// built-in activity, so the test sees which language each reader is given.
type welshLibrary struct{ ActivityLibrary }

func (l welshLibrary) welsh(a content.Activity, lang string) content.Activity {
	if lang == "cy" {
		a.Title, a.Language = "Cymraeg: "+a.Title, "cy"
	}
	return a
}

func (l welshLibrary) Get(id, lang string) (content.Activity, bool) {
	a, ok := l.ActivityLibrary.Get(id, "en")
	return l.welsh(a, lang), ok
}

func (l welshLibrary) Find(f content.ActivityFilter, lang string) []content.Activity {
	out := l.ActivityLibrary.Find(f, "en")
	for i := range out {
		out[i] = l.welsh(out[i], lang)
	}
	return out
}

// TestActivityLanguage: a parent reads built-in activities in their own
// language, in the library and in the feed; staff read them in their
// school's language; a school's own activity is as its author wrote it.
func TestActivityLanguage(t *testing.T) {
	w := newWorld(t)
	h := w.h
	h.deps.Library = welshLibrary{starterLibrary(t)}
	h.app = mustNew(t, h.deps)
	ctx := context.Background()
	pa, err := h.store.Parent(ctx, w.ParentA.ID)
	if err != nil {
		t.Fatal(err)
	}
	pa.Language = "cy"
	if err := h.store.UpdateParent(ctx, pa); err != nil {
		t.Fatal(err)
	}
	english, _ := starterLibrary(t).Get("act_starter_001", "en")
	welsh := "Cymraeg: " + english.Title

	get := func(actor string) activityDTO {
		t.Helper()
		resp, body := h.do("GET", "/v1/activities/act_starter_001", nil, w.tokens[actor])
		wantStatus(t, resp, body, 200)
		return decode[activityDTO](t, body)
	}
	if a := get(actParentA); a.Title != welsh || a.Language != "cy" {
		t.Fatalf("Welsh-speaking parent reads %q in %q", a.Title, a.Language)
	}
	if a := get(actParentB); a.Title != english.Title || a.Language != "en" {
		t.Fatalf("English-speaking parent reads %q in %q", a.Title, a.Language)
	}
	if a := get(actTeacher); a.Title != english.Title {
		t.Fatalf("teacher of an English school reads %q", a.Title)
	}
	resp, body := h.do("GET", "/v1/activities?year_group=N&subject=reading", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	if page := decode[activityPageDTO](t, body); len(page.Items) == 0 || page.Items[0].Title != welsh {
		t.Fatalf("library list for the Welsh-speaking parent: %s", body)
	}

	// The feed item keeps the English title it was released with; each
	// reader sees their own language's.
	if _, err := h.store.AddFeedItem(ctx, &content.FeedItem{ChildID: w.K1.ID, Key: feedKey("asg_lang", english.ID),
		Kind: content.FeedActivity, At: h.clock.Now(), AssignmentID: "asg_lang", ActivityID: english.ID, Title: english.Title,
		ActivityKind: english.Kind, Subject: english.Subject, Minutes: english.Minutes, DueAt: h.clock.Now().Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	feedTitle := func(actor string) (string, string) {
		t.Helper()
		resp, body := h.do("GET", "/v1/children/"+w.K1.ID+"/feed", nil, w.tokens[actor])
		wantStatus(t, resp, body, 200)
		page := decode[feedPageDTO](t, body)
		if len(page.Items) != 1 || page.Items[0].Activity == nil {
			t.Fatalf("feed: %s", body)
		}
		return page.Items[0].Title, page.Items[0].Activity.Title
	}
	if title, act := feedTitle(actParentA); title != welsh || act != welsh {
		t.Fatalf("Welsh-speaking parent's feed: %q / %q", title, act)
	}
	if title, _ := feedTitle(actTeacher); title != english.Title {
		t.Fatalf("teacher's view of the feed: %q", title)
	}

	// An assignment keeps the English title, and the Welsh one for the
	// release's notification to Welsh-speaking parents.
	resp, body = h.do("POST", "/v1/schools/sch_1/classes/cls_1/assignments",
		map[string]any{"activity_ids": []string{english.ID}, "due_at": "2026-11-09T10:00:00Z"}, w.tokens[actTeacher])
	wantStatus(t, resp, body, 201)
	created := decode[assignmentDTO](t, body)
	stored, err := h.store.Assignment(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if act := stored.Activities[0]; act.Title != english.Title || len(act.Titles) != 1 || act.Titles["cy"] != welsh {
		t.Fatalf("assigned activity: %+v", act)
	}

	// A Welsh-medium school's staff read Welsh.
	sc, err := h.store.School(ctx, w.S1.ID)
	if err != nil {
		t.Fatal(err)
	}
	sc.Language = "cy"
	if err := h.store.UpdateSchool(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if a := get(actTeacher); a.Title != welsh {
		t.Fatalf("teacher of a Welsh-medium school reads %q", a.Title)
	}
	if title, _ := feedTitle(actTeacher); title != welsh {
		t.Fatalf("Welsh-medium teacher's view of the feed: %q", title)
	}
	resp, body = h.do("GET", "/v1/schools/sch_1/classes/cls_1/assignments", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	if list := decode[listDTO[assignmentDTO]](t, body); len(list.Items) != 1 || list.Items[0].Activities[0].Title != welsh {
		t.Fatalf("Welsh-medium teacher's assignments: %s", body)
	}
}

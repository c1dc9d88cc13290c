package api

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

const messagesPath = "/v1/schools/sch_1/messages"

// seedMessageLog stores broadcasts a minute apart, oldest first, sent by
// the given staff in turn at school; every third shares its predecessor's
// time, so paging must break ties on id. It returns their ids newest first.
func (w *world) seedMessageLog(t testing.TB, school string, senders []string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	at := w.h.clock.Now().Add(-24 * time.Hour)
	for i := 0; i < n; i++ {
		if i%3 != 2 {
			at = at.Add(time.Minute)
		}
		b := &content.Broadcast{ID: content.NewID("brd"), SchoolID: school, CreatedBy: senders[i%len(senders)], Template: "award",
			Category: "awards", Params: map[string]string{"child_first_name": "Sam", "teacher_name": "Mrs Khan"},
			Audience: content.Audience{ClassIDs: []string{"cls_1"}}, State: content.BroadcastDone, Pages: 1, Recipients: 27,
			Important: i%2 == 0, CreatedAt: at}
		if err := w.h.store.CreateBroadcast(ctx, b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	// Newest first: later time, then larger id among equal times.
	sorted := make([]string, 0, n)
	for i := n - 1; i >= 0; {
		j := i
		for j > 0 && (j-1)%3 != 2 && j%3 == 2 { // i shares its time with i-1
			j--
		}
		group := slices.Clone(ids[j : i+1])
		slices.Sort(group)
		slices.Reverse(group)
		sorted = append(sorted, group...)
		i = j - 1
	}
	return sorted
}

// walkMessageLog follows next_cursor to the end and returns every id, the
// page sizes, and whatever each page repeated of the parameters.
func (w *world) walkMessageLog(t *testing.T, path, actor, limit string, between func(page int)) (ids []string, sizes []int) {
	t.Helper()
	cursor := ""
	for page := 0; page < 50; page++ {
		q := []string{}
		if limit != "" {
			q = append(q, "limit="+limit)
		}
		if cursor != "" {
			q = append(q, "cursor="+cursor)
		}
		url := path
		if len(q) > 0 {
			url += "?" + strings.Join(q, "&")
		}
		resp, body := w.h.do("GET", url, nil, w.tokens[actor])
		wantStatus(t, resp, body, 200)
		for _, leak := range append([]string{"Sam", "Mrs Khan", "cls_1"}, w.pii...) {
			if leak != "" && strings.Contains(string(body), leak) {
				t.Fatalf("the log shows %q: %s", leak, body)
			}
		}
		got := decode[messageLogDTO](t, body)
		sizes = append(sizes, len(got.Items))
		for _, it := range got.Items {
			if it.Template != "award" || it.Category != "awards" || it.State != "done" || it.Recipients != 27 || it.Pages != 1 ||
				it.CreatedBy == "" || it.CreatedAt.IsZero() {
				t.Fatalf("row %+v", it)
			}
			ids = append(ids, it.ID)
		}
		if got.NextCursor == "" {
			return ids, sizes
		}
		cursor = got.NextCursor
		if between != nil {
			between(page)
		}
	}
	t.Fatal("the log did not end")
	return nil, nil
}

// TestSchoolMessageLog: admins page through every broadcast of their
// school, newest first; a teacher sees only the ones they sent; a cursor
// holds its place while new broadcasts arrive; other schools' staff and
// parents are refused.
func TestSchoolMessageLog(t *testing.T) {
	w := newWorld(t)
	// 25 at S1 from the admin and both teachers in turn; 3 at S2.
	all := w.seedMessageLog(t, "sch_1", []string{w.Admin.ID, w.Teacher.ID, w.TeacherOther.ID}, 25)
	other := w.seedMessageLog(t, "sch_2", []string{w.AdminOther.ID}, 3)
	sentBy := func(id string) string {
		b, err := w.h.store.Broadcast(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return b.CreatedBy
	}
	only := func(staffID string) []string {
		var out []string
		for _, id := range all {
			if sentBy(id) == staffID {
				out = append(out, id)
			}
		}
		return out
	}
	cases := []struct {
		name   string
		actor  string
		path   string
		limit  string
		want   []string
		sizes  []int
		status int // when the request is refused
	}{
		{name: "admin, default page size", actor: actAdmin, path: messagesPath, want: all, sizes: []int{20, 5}},
		{name: "admin, pages of 7", actor: actAdmin, path: messagesPath, limit: "7", want: all, sizes: []int{7, 7, 7, 4}},
		{name: "admin, pages of 100", actor: actAdmin, path: messagesPath, limit: "100", want: all, sizes: []int{25}},
		{name: "admin, exactly one page's worth", actor: actAdmin, path: messagesPath, limit: "25", want: all, sizes: []int{25}},
		{name: "teacher sees only their own", actor: actTeacher, path: messagesPath, limit: "3", want: only(w.Teacher.ID), sizes: []int{3, 3, 2}},
		{name: "other teacher sees only theirs", actor: actTeacherOther, path: messagesPath, want: only(w.TeacherOther.ID), sizes: []int{8}},
		{name: "other school's admin, own school", actor: actAdminOther, path: "/v1/schools/sch_2/messages", want: other, sizes: []int{3}},
		{name: "other school's admin (A2)", actor: actAdminOther, path: messagesPath, status: 404},
		{name: "teacher at another school", actor: actTeacher, path: "/v1/schools/sch_2/messages", status: 404},
		{name: "unknown school", actor: actAdmin, path: "/v1/schools/sch_nope/messages", status: 404},
		{name: "parent", actor: actParentA, path: messagesPath, status: 403},
		{name: "anonymous", actor: actAnonymous, path: messagesPath, status: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status != 0 {
				resp, body := w.h.do("GET", tc.path, nil, w.tokens[tc.actor])
				wantStatus(t, resp, body, tc.status)
				if strings.Contains(string(body), "brd_") {
					t.Fatalf("a refusal names a broadcast: %s", body)
				}
				return
			}
			ids, sizes := w.walkMessageLog(t, tc.path, tc.actor, tc.limit, nil)
			if !slices.Equal(ids, tc.want) || !slices.Equal(sizes, tc.sizes) {
				t.Fatalf("log %v in pages %v,\nwant %v in pages %v", ids, sizes, tc.want, tc.sizes)
			}
		})
	}
	if n := len(only(w.Teacher.ID)); n != 8 {
		t.Fatalf("seeded %d broadcasts from the teacher, want 8", n)
	}

	t.Run("new broadcasts while paging", func(t *testing.T) {
		var added []string
		ids, _ := w.walkMessageLog(t, messagesPath, actAdmin, "10", func(int) {
			w.h.clock.Advance(time.Minute)
			added = append(added, w.newBroadcast(t).ID)
		})
		if !slices.Equal(ids, all) {
			t.Fatalf("a cursor moved when broadcasts arrived: %v, want %v", ids, all)
		}
		resp, body := w.h.do("GET", messagesPath+"?limit=2", nil, w.tokens[actAdmin])
		wantStatus(t, resp, body, 200)
		head := decode[messageLogDTO](t, body)
		slices.Reverse(added)
		if len(head.Items) != 2 || head.Items[0].ID != added[0] || head.Items[1].ID != added[1] {
			t.Fatalf("head of the log %+v, want %v", head.Items, added)
		}
	})
}

// TestMessageLogBadRequests: a cursor that is not a next_cursor, or a
// limit out of range, is 400 naming the parameter.
func TestMessageLogBadRequests(t *testing.T) {
	w := newWorld(t)
	w.seedMessageLog(t, "sch_1", []string{w.Admin.ID}, 3)
	resp, body := w.h.do("GET", messagesPath+"?limit=1", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	good := decode[messageLogDTO](t, body).NextCursor
	if good == "" {
		t.Fatal("no next_cursor")
	}
	enc := sealMessageLogCursor // well-sealed, so what is tested is the payload
	cases := []struct {
		name, query, field string
		outsideContract    bool // the document already refuses the value
	}{
		{name: "not base64", query: "cursor=m1.%21%21%21", field: "cursor"},
		{name: "no prefix", query: "cursor=" + strings.TrimPrefix(good, "m1."), field: "cursor"},
		{name: "another endpoint's cursor", query: "cursor=1", field: "cursor"},
		{name: "truncated", query: "cursor=" + good[:len(good)-3], field: "cursor"},
		{name: "no id", query: "cursor=" + enc("1793635200000|"), field: "cursor"},
		{name: "no time", query: "cursor=" + enc("|brd_1"), field: "cursor"},
		{name: "negative time", query: "cursor=" + enc("-5|brd_1"), field: "cursor"},
		{name: "id with a quote", query: "cursor=" + enc(`1793635200000|brd_1"}`), field: "cursor"},
		{name: "wrong checksum", query: "cursor=m1." + base64.RawURLEncoding.EncodeToString([]byte("1793635200000|brd_1|00000000")), field: "cursor"},
		{name: "padded base64", query: "cursor=" + strings.ReplaceAll(base64.URLEncoding.EncodeToString([]byte("1793635200000|brd_1")), "=", "%3D"), field: "cursor"},
		{name: "cursor too long", query: "cursor=m1." + strings.Repeat("A", 300), field: "cursor", outsideContract: true},
		{name: "limit 0", query: "limit=0", field: "limit", outsideContract: true},
		{name: "limit 101", query: "limit=101", field: "limit", outsideContract: true},
		{name: "limit not a number", query: "limit=ten", field: "limit", outsideContract: true},
		{name: "limit with a leading zero", query: "limit=07", field: "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var out []byte
			if tc.outsideContract {
				status, out = w.doOutsideContract(t, "GET", messagesPath+"?"+tc.query, w.tokens[actAdmin])
			} else {
				resp, body := w.h.do("GET", messagesPath+"?"+tc.query, nil, w.tokens[actAdmin])
				status, out = resp.StatusCode, body
			}
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", status, out)
			}
			e := decode[errorBody](t, out)
			if e.Error.Code != "invalid" || e.Error.Fields[tc.field] == "" {
				t.Fatalf("error %+v, want %q named", e.Error, tc.field)
			}
		})
	}
	// A well-formed cursor for a place past the oldest broadcast is the
	// end of the log, not an error.
	resp, body = w.h.do("GET", messagesPath+"?cursor="+enc("1000|brd_zzz"), nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if got := decode[messageLogDTO](t, body); len(got.Items) != 0 || got.NextCursor != "" {
		t.Fatalf("past the end: %+v", got)
	}
}

// doOutsideContract sends a request the OpenAPI document itself refuses
// (a query value outside the documented range), so checkContract, which
// checks query parameters even on a 400, is not asked about it.
func (w *world) doOutsideContract(t *testing.T, method, path, token string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := w.h.app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

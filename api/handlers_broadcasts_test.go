package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const broadcastsPath = "/v1/schools/sch_1/broadcasts"

func awardBody(audience map[string]any) map[string]any {
	return map[string]any{"template": "award", "params": map[string]any{"child_first_name": "Sam", "teacher_name": "Mrs Khan"},
		"audience": audience}
}

// TestCreateBroadcast: who may send what to whom, and what a refused
// request says is wrong.
func TestCreateBroadcast(t *testing.T) {
	w := newWorld(t)
	classes := func(ids ...string) map[string]any { return map[string]any{"class_ids": ids} }
	all := map[string]any{"all_parents": true}
	long := strings.Repeat("x", 121)
	cases := []struct {
		name   string
		actor  string
		body   any
		status int
		field  string // for 400: the field named
	}{
		{name: "admin to every parent", actor: actAdmin, body: awardBody(all), status: 202},
		{name: "admin to two classes", actor: actAdmin, body: awardBody(classes("cls_1", "cls_2")), status: 202},
		{name: "teacher to own class", actor: actTeacher, body: map[string]any{"template": "activity_set",
			"params": map[string]any{"child_first_name": "Sam", "activity_title": "Counting conkers"}, "audience": classes("cls_1")}, status: 202},
		{name: "teacher to another teacher's class", actor: actTeacher, body: awardBody(classes("cls_2")), status: 403},
		{name: "teacher to own and another class", actor: actTeacher, body: awardBody(classes("cls_1", "cls_2")), status: 403},
		{name: "teacher to every parent", actor: actTeacher, body: awardBody(all), status: 403},
		{name: "class of another school (A2)", actor: actAdmin, body: awardBody(classes("cls_o")), status: 400, field: "audience.class_ids"},
		{name: "unknown class", actor: actAdmin, body: awardBody(classes("cls_nope")), status: 400, field: "audience.class_ids"},
		{name: "teacher names another school's class", actor: actTeacher, body: awardBody(classes("cls_o")), status: 400, field: "audience.class_ids"},
		{name: "template not for broadcasts", actor: actAdmin, body: map[string]any{"template": "invite", "audience": all}, status: 400, field: "template"},
		{name: "missing param", actor: actAdmin, body: map[string]any{"template": "award", "params": map[string]any{"child_first_name": "Sam"},
			"audience": all}, status: 400, field: "params.teacher_name"},
		{name: "param the template does not use", actor: actAdmin, body: map[string]any{"template": "award",
			"params": map[string]any{"child_first_name": "Sam", "teacher_name": "Mrs Khan", "activity_title": "Conkers"}, "audience": all},
			status: 400, field: "params.activity_title"},
		{name: "param too long", actor: actAdmin, body: map[string]any{"template": "activity_set",
			"params": map[string]any{"child_first_name": "Sam", "activity_title": long}, "audience": all}, status: 400, field: "params.activity_title"},
		{name: "param with a line break", actor: actAdmin, body: map[string]any{"template": "award",
			"params": map[string]any{"child_first_name": "Sam\nhttp://evil.test", "teacher_name": "Mrs Khan"}, "audience": all},
			status: 400, field: "params.child_first_name"},
		{name: "blank param", actor: actAdmin, body: map[string]any{"template": "award",
			"params": map[string]any{"child_first_name": "  ", "teacher_name": "Mrs Khan"}, "audience": all}, status: 400, field: "params.child_first_name"},
		{name: "no audience", actor: actAdmin, body: awardBody(map[string]any{}), status: 400, field: "audience"},
		{name: "both audiences", actor: actAdmin, body: awardBody(map[string]any{"all_parents": true, "class_ids": []string{"cls_1"}}), status: 400, field: "audience"},
		{name: "repeated class", actor: actAdmin, body: awardBody(classes("cls_1", "cls_1")), status: 400, field: "audience.class_ids"},
		{name: "privileged field (A3)", actor: actAdmin, body: map[string]any{"template": "award", "params": map[string]any{"child_first_name": "Sam",
			"teacher_name": "Mrs Khan"}, "audience": all, "school_id": "sch_2"}, status: 400, field: "school_id"},
		{name: "parameter that is not ours", actor: actAdmin, body: map[string]any{"template": "award", "params": map[string]any{"child_first_name": "Sam",
			"teacher_name": "Mrs Khan", "link": "https://evil.test"}, "audience": all}, status: 400, field: "link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.h.queue.OfType(tasks.TypeExpandBroadcast))
			resp, body := w.h.do("POST", broadcastsPath, tc.body, w.tokens[tc.actor])
			wantStatus(t, resp, body, tc.status)
			queued := w.h.queue.OfType(tasks.TypeExpandBroadcast)
			if tc.status != 202 {
				if len(queued) != before {
					t.Fatalf("a refused request queued a task")
				}
				if tc.field != "" {
					e := decode[errorBody](t, body)
					if _, ok := e.Error.Fields[tc.field]; !ok {
						t.Fatalf("fields %v, want %q named", e.Error.Fields, tc.field)
					}
				}
				return
			}
			got := decode[broadcastDTO](t, body)
			if got.State != "expanding" || got.ID == "" || got.CreatedAt.IsZero() {
				t.Fatalf("answer %+v", got)
			}
			if len(queued) != before+1 {
				t.Fatalf("%d expand tasks queued, want 1", len(queued)-before)
			}
			p, err := tasks.ParseExpandBroadcast(queued[len(queued)-1].Payload())
			if err != nil || p.BroadcastID != got.ID {
				t.Fatalf("queued %+v (%v), want broadcast %s", p, err, got.ID)
			}
			b, err := w.h.store.Broadcast(context.Background(), got.ID)
			if err != nil {
				t.Fatal(err)
			}
			creator := map[string]string{actAdmin: w.Admin.ID, actTeacher: w.Teacher.ID}[tc.actor]
			if b.SchoolID != "sch_1" || b.CreatedBy != creator || b.State != content.BroadcastExpanding || b.Category == "" ||
				b.Params["child_first_name"] != "Sam" {
				t.Fatalf("stored %+v", b)
			}
			if strings.Contains(string(body), "Sam") || strings.Contains(string(body), "Khan") {
				t.Fatalf("the answer repeats the parameters: %s", body)
			}
		})
	}
}

// TestUrgentBroadcastIsAudited: urgent sends bypass quiet hours, so each one
// leaves an audit event naming who and which broadcast (TESTING D6).
func TestUrgentBroadcastIsAudited(t *testing.T) {
	w := newWorld(t)
	body := awardBody(map[string]any{"all_parents": true})
	body["urgent"] = true
	resp, out := w.h.do("POST", broadcastsPath, body, w.tokens[actAdmin])
	wantStatus(t, resp, out, 202)
	id := decode[broadcastDTO](t, out).ID
	resp, out = w.h.do("POST", broadcastsPath, awardBody(map[string]any{"all_parents": true}), w.tokens[actAdmin])
	wantStatus(t, resp, out, 202)

	var events []bson.M
	cur, err := w.h.store.Database().Collection("audit").Find(context.Background(), bson.M{"action": "broadcast.urgent"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(context.Background(), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0]["subject"] != "broadcast:"+id || events[0]["actorId"] != w.Admin.ID || events[0]["schoolId"] != "sch_1" {
		t.Fatalf("urgent audit events %v, want one for %s by %s", events, id, w.Admin.ID)
	}
}

// TestBroadcastStatus: counts by state and per-recipient rows come from the
// ledger pages, page by page, and show IDs and states only.
func TestBroadcastStatus(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := w.h.store
	b := w.newBroadcast(t)
	now := w.h.clock.Now()
	// 130 recipients on two pages, as the expansion writes them.
	var pages []*content.LedgerPage
	for n, size := range []int{100, 30} {
		p := &content.LedgerPage{ID: content.LedgerPageID(b.ID, n), BroadcastID: b.ID, SchoolID: "sch_1", N: n, CreatedAt: now}
		for i := 0; i < size; i++ {
			ch := "sms"
			if i%2 == 1 {
				ch = "email"
			}
			p.Entries = append(p.Entries, content.LedgerEntry{RecipientID: fmt.Sprintf("par_%d_%03d", n, i), Channel: ch})
		}
		pages = append(pages, p)
	}
	if err := s.PutLedgerPages(ctx, pages); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBroadcastExpanded(ctx, b.ID, 2, 130); err != nil {
		t.Fatal(err)
	}
	// Page 0: claim 0–9; 0–3 sent, 4 delivered, 5 failed (with a code),
	// 6 unknown, 7 suppressed, 8 deferred (released), 9 still sending.
	won, err := s.ClaimEntries(ctx, pages[0].ID, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, now)
	if err != nil || len(won) != 10 {
		t.Fatalf("claimed %v: %v", won, err)
	}
	out := []content.EntryOutcome{
		{Index: 0, Claim: won[0], State: content.StateSent}, {Index: 1, Claim: won[1], State: content.StateSent},
		{Index: 2, Claim: won[2], State: content.StateSent}, {Index: 3, Claim: won[3], State: content.StateSent},
		{Index: 4, Claim: won[4], State: content.StateDelivered}, {Index: 5, Claim: won[5], State: content.StateFailed, ErrorCode: "21211"},
		{Index: 6, Claim: won[6], State: content.StateUnknown}, {Index: 7, Claim: won[7], State: content.StateSuppressed},
		{Index: 8, Claim: won[8], State: content.StateDeferred, Release: true, NotBefore: now.Add(10 * 3600e9)},
	}
	if err := s.RecordOutcomes(ctx, pages[0].ID, out, now); err != nil {
		t.Fatal(err)
	}
	// Page 1: one delivered.
	won1, err := s.ClaimEntries(ctx, pages[1].ID, []int{0}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutcomes(ctx, pages[1].ID, []content.EntryOutcome{{Index: 0, Claim: won1[0], State: content.StateDelivered}}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBroadcastDone(ctx, b.ID); err != nil { // state only; counts still come from the pages
		t.Fatal(err)
	}

	for _, actor := range []string{actAdmin, actTeacher} {
		resp, body := w.h.do("GET", broadcastsPath+"/"+b.ID, nil, w.tokens[actor])
		wantStatus(t, resp, body, 200)
		got := decode[broadcastDTO](t, body)
		want := broadcastCountsDTO{Pending: 119, Deferred: 1, Sending: 1, Unknown: 1, Sent: 4, Delivered: 2, Failed: 1, Suppressed: 1}
		if got.Counts == nil || *got.Counts != want || got.Pages != 2 || got.Recipients != 130 {
			t.Fatalf("as %s: %+v counts %+v, want %+v", actor, got, got.Counts, want)
		}
	}

	resp, body := w.h.do("GET", broadcastsPath+"/"+b.ID+"/recipients", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	first := decode[recipientPageDTO](t, body)
	if len(first.Items) != 100 || first.NextCursor != "1" {
		t.Fatalf("first page: %d items, next %q", len(first.Items), first.NextCursor)
	}
	r5 := first.Items[5]
	if r5.ParentID != "par_0_005" || r5.Channel != "email" || r5.State != "failed" || r5.ErrorCode != "21211" || r5.UpdatedAt == nil {
		t.Fatalf("row 5: %+v", r5)
	}
	if first.Items[9].State != "sending" || first.Items[8].State != "deferred" || first.Items[50].State != "pending" {
		t.Fatalf("rows 8, 9, 50: %+v %+v %+v", first.Items[8], first.Items[9], first.Items[50])
	}
	resp, body = w.h.do("GET", broadcastsPath+"/"+b.ID+"/recipients?cursor=1", nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	second := decode[recipientPageDTO](t, body)
	if len(second.Items) != 30 || second.NextCursor != "" || second.Items[0].State != "delivered" {
		t.Fatalf("second page: %d items, next %q, first %+v", len(second.Items), second.NextCursor, second.Items[0])
	}
	resp, body = w.h.do("GET", broadcastsPath+"/"+b.ID+"/recipients?cursor=7", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if got := decode[recipientPageDTO](t, body); len(got.Items) != 0 || got.NextCursor != "" {
		t.Fatalf("past the end: %+v", got)
	}
	for _, bad := range []string{"-1", "x", "01"} {
		resp, body = w.h.do("GET", broadcastsPath+"/"+b.ID+"/recipients?cursor="+bad, nil, w.tokens[actAdmin])
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("cursor %q: status %d: %s", bad, resp.StatusCode, body)
		}
	}

	// Not theirs: the other teacher, the other school's admin, and a
	// broadcast id of another school.
	for _, actor := range []string{actTeacherOther, actAdminOther} {
		resp, body := w.h.do("GET", broadcastsPath+"/"+b.ID+"/recipients", nil, w.tokens[actor])
		if !slices.Contains([]int{403, 404}, resp.StatusCode) {
			t.Fatalf("as %s: status %d: %s", actor, resp.StatusCode, body)
		}
	}
	other := &content.Broadcast{ID: content.NewID("brd"), SchoolID: "sch_2", CreatedBy: w.AdminOther.ID, Template: "award",
		State: content.BroadcastSending, CreatedAt: now}
	if err := s.CreateBroadcast(ctx, other); err != nil {
		t.Fatal(err)
	}
	resp, body = w.h.do("GET", broadcastsPath+"/"+other.ID, nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 404)
}

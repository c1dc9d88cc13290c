package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// newConversation stores a thread parent A started about K1 with C1's
// teacher; its first message (id <conv>_m1) is parent A's.
func (w *world) newConversation(t testing.TB) *content.Conversation {
	t.Helper()
	now := w.h.clock.Now()
	id := content.NewID("cnv")
	c := &content.Conversation{ID: id, SchoolID: "sch_1", ClassID: "cls_1", ChildID: "chd_1", ParentID: w.ParentA.ID,
		StaffIDs: []string{w.Teacher.ID}, State: content.ConversationOpen, CreatedAt: now, LastAt: now, LastParentAt: now,
		AwaitingReply: true, UnreadBy: []string{w.Teacher.ID},
		Messages: []content.ConversationMessage{{ID: id + "_m1", AuthorKind: content.AuthorParent, AuthorID: w.ParentA.ID,
			Body: "Is PE on Tuesday?", Via: content.ViaApp, CreatedAt: now}}}
	if err := w.h.store.CreateConversation(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// conversationCell makes a fresh thread per actor; format takes its id.
func conversationCell(format string, body any) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		return cell{path: fmt.Sprintf(format, w.newConversation(t).ID), body: body}
	}
}

type convView struct {
	ID            string `json:"id"`
	ClassID       string `json:"class_id"`
	ChildID       string `json:"child_id"`
	ParentID      string `json:"parent_id"`
	BySMS         bool   `json:"by_sms"`
	Unread        bool   `json:"unread"`
	AwaitingReply *bool  `json:"awaiting_reply"`
	MessageCount  int    `json:"message_count"`
	Messages      []struct {
		ID      string  `json:"id"`
		Author  string  `json:"author"`
		Mine    bool    `json:"mine"`
		Body    *string `json:"body"`
		Deleted bool    `json:"deleted"`
		Via     string  `json:"via"`
	} `json:"messages"`
}

func (w *world) staffInbox(t *testing.T, actor, query string) []convView {
	t.Helper()
	resp, body := w.h.do("GET", "/v1/schools/sch_1/conversations"+query, nil, w.tokens[actor])
	wantStatus(t, resp, body, 200)
	return decode[listDTO[convView]](t, body).Items
}

func (w *world) unreadCount(t *testing.T, actor string) int {
	t.Helper()
	resp, body := w.h.do("GET", "/v1/me", nil, w.tokens[actor])
	wantStatus(t, resp, body, 200)
	me := decode[struct {
		Unread *int `json:"unread_conversations"`
	}](t, body)
	if me.Unread == nil {
		t.Fatalf("GET /v1/me for %s has no unread_conversations: %s", actor, body)
	}
	return *me.Unread
}

// staffNotices decodes the NotifyStaff tasks queued so far.
func (h *harness) staffNotices(t *testing.T) []tasks.NotifyStaff {
	t.Helper()
	var out []tasks.NotifyStaff
	for _, task := range h.queue.OfType(tasks.TypeNotifyStaff) {
		p, err := tasks.ParseNotifyStaff(task.Payload())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestConversationParentAndTeacher walks a thread over HTTP: parent A
// writes to K1's class teacher; one NotifyStaff task (IDs only) is queued;
// the teacher's inbox lists it unread and GET /v1/me counts it; opening it
// reads it; the teacher's reply is a one-recipient broadcast of the
// conversation template with an inbox item for the parent; the parent
// opens, replies and deletes their own message.
func TestConversationParentAndTeacher(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	const first = "Hello Mrs Llewellyn, is PE on Tuesday this week?"
	resp, body := h.do("POST", "/v1/me/conversations", map[string]any{"child_id": "chd_1", "body": first}, w.tokens[actParentA],
		withHeader("Idempotency-Key", "conv-1"))
	wantStatus(t, resp, body, 201)
	conv := decode[convView](t, body)
	if conv.ClassID != "cls_1" || conv.ChildID != "chd_1" || conv.ParentID != "" || conv.MessageCount != 1 ||
		strings.Contains(string(body), first) {
		t.Fatalf("created %s", body)
	}
	// The same key again: the same thread, one task.
	resp, body = h.do("POST", "/v1/me/conversations", map[string]any{"child_id": "chd_1", "body": first}, w.tokens[actParentA],
		withHeader("Idempotency-Key", "conv-1"))
	wantStatus(t, resp, body, 201)
	if again := decode[convView](t, body); again.ID != conv.ID {
		t.Fatalf("replay made %s, want %s", again.ID, conv.ID)
	}
	notices := h.staffNotices(t)
	if len(notices) != 1 || notices[0].Kind != tasks.StaffNotifyMessage || notices[0].SchoolID != "sch_1" ||
		notices[0].ClassID != "cls_1" || !slices.Equal(notices[0].StaffIDs, []string{w.Teacher.ID}) {
		t.Fatalf("staff notices %+v, want one message notice for the class teacher", notices)
	}
	for _, task := range h.queue.OfType(tasks.TypeNotifyStaff) {
		if strings.Contains(string(task.Payload()), "PE on Tuesday") {
			t.Fatal("the task payload carries the message")
		}
	}

	inbox := w.staffInbox(t, actTeacher, "?unread=true")
	if len(inbox) != 1 || inbox[0].ID != conv.ID || !inbox[0].Unread || inbox[0].ParentID != w.ParentA.ID {
		t.Fatalf("teacher's unread inbox %+v", inbox)
	}
	if n := w.unreadCount(t, actTeacher); n != 1 {
		t.Fatalf("teacher's unread count %d, want 1", n)
	}
	if got := w.staffInbox(t, actTeacherOther, ""); len(got) != 0 {
		t.Fatalf("the other class's teacher sees %+v", got)
	}
	if got := w.staffInbox(t, actAdmin, "?class_id=cls_1"); len(got) != 1 {
		t.Fatalf("admin sees %d threads of C1, want 1", len(got))
	}

	resp, body = h.do("GET", "/v1/schools/sch_1/conversations/"+conv.ID, nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	thread := decode[convView](t, body)
	if len(thread.Messages) != 1 || thread.Messages[0].Body == nil || *thread.Messages[0].Body != first || thread.Messages[0].Author != "parent" {
		t.Fatalf("teacher's view %s", body)
	}
	if n := w.unreadCount(t, actTeacher); n != 0 {
		t.Fatalf("after opening, unread count %d, want 0", n)
	}
	if got := w.staffInbox(t, actTeacher, "?unread=true"); len(got) != 0 {
		t.Fatalf("after opening, unread inbox %+v", got)
	}

	// The teacher replies: a broadcast to parent A alone, and an inbox item.
	const reply = "Yes, PE is on Tuesday; bring kit."
	resp, body = h.do("POST", "/v1/schools/sch_1/conversations/"+conv.ID+"/messages", map[string]any{"body": reply}, w.tokens[actTeacher])
	wantStatus(t, resp, body, 201)
	posted := decode[postedMessageDTO](t, body)
	b, err := h.store.Broadcast(context.Background(), "brd_"+posted.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Template != "conversation_message" || !slices.Equal(b.Audience.ParentIDs, []string{w.ParentA.ID}) ||
		b.Params["message_body"] != reply || b.Params["class_name"] != "Kingfishers" || b.Category != content.CategoryReplies {
		t.Fatalf("reply broadcast %+v", b)
	}
	if n := len(h.queue.OfType(tasks.TypeExpandBroadcast)); n != 1 {
		t.Fatalf("%d expansions queued, want 1", n)
	}
	item, err := h.store.InboxItem(context.Background(), content.InboxItemID(w.ParentA.ID, conv.ID))
	if err != nil || item.Kind != content.InboxConversation || item.SourceID != conv.ID || item.Title != "Message from Tesni Llewellyn (Kingfishers)" ||
		!item.ReadAt.IsZero() {
		t.Fatalf("inbox item %+v (%v)", item, err)
	}

	// The parent's list shows it unread until they open it.
	resp, body = h.do("GET", "/v1/me/conversations", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	if mine := decode[listDTO[convView]](t, body).Items; len(mine) != 1 || !mine[0].Unread {
		t.Fatalf("parent's list %s", body)
	}
	resp, body = h.do("GET", "/v1/me/conversations/"+conv.ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	if v := decode[convView](t, body); len(v.Messages) != 2 || v.Messages[1].Author != "staff" || *v.Messages[1].Body != reply || !v.Messages[0].Mine {
		t.Fatalf("parent's view %s", body)
	}
	resp, body = h.do("GET", "/v1/me/conversations", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	if mine := decode[listDTO[convView]](t, body).Items; mine[0].Unread {
		t.Fatalf("opened, still unread: %s", body)
	}
	if item, err := h.store.InboxItem(context.Background(), content.InboxItemID(w.ParentA.ID, conv.ID)); err != nil ||
		item.ReadAt.IsZero() || item.ReadVia != content.ReadViaApp {
		t.Fatalf("opening the thread did not read its inbox item: %+v (%v)", item, err)
	}

	// The parent replies: a reply notice; the thread is unread again for the teacher.
	resp, body = h.do("POST", "/v1/me/conversations/"+conv.ID+"/messages", map[string]any{"body": "Thanks!"}, w.tokens[actParentA])
	wantStatus(t, resp, body, 201)
	if notices := h.staffNotices(t); len(notices) != 2 || notices[1].Kind != tasks.StaffNotifyReply {
		t.Fatalf("staff notices %+v, want a reply notice", notices)
	}
	if n := w.unreadCount(t, actTeacher); n != 1 {
		t.Fatalf("after the parent's reply, unread count %d, want 1", n)
	}

	// The parent deletes their first message: the body leaves the store.
	resp, body = h.do("DELETE", "/v1/me/conversations/"+conv.ID+"/messages/"+conv.ID+"_m1", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 204)
	resp, body = h.do("DELETE", "/v1/me/conversations/"+conv.ID+"/messages/"+posted.ID, nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 404) // not theirs
	stored, err := h.store.Conversation(context.Background(), conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := stored.Message(conv.ID + "_m1"); m.Body != "" || !m.Deleted() {
		t.Fatalf("deleted message stored as %+v", m)
	}
	n, err := h.store.Database().Collection("conversations").CountDocuments(context.Background(),
		bson.D{{Key: "messages.body", Value: first}})
	if err != nil || n != 0 {
		t.Fatalf("%d documents still hold the deleted body (%v)", n, err)
	}
	resp, body = h.do("GET", "/v1/schools/sch_1/conversations/"+conv.ID, nil, w.tokens[actTeacher])
	wantStatus(t, resp, body, 200)
	if v := decode[convView](t, body); !v.Messages[0].Deleted || v.Messages[0].Body != nil {
		t.Fatalf("teacher's view of the deleted message %s", body)
	}
}

// TestConversationAccess: a parent of another child cannot start or see a
// thread; the teacher of another class and the staff of another school
// cannot see it; bad bodies are refused with field errors and store nothing.
func TestConversationAccess(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	conv := w.newConversation(t)
	cases := []struct {
		name, method, path, actor string
		body                      any
		status                    int
		field                     string
	}{
		{"parent B starts about A's child", "POST", "/v1/me/conversations", actParentB, map[string]any{"child_id": "chd_1", "body": "hi"}, 404, "child_id"},
		{"parent B reads A's thread", "GET", "/v1/me/conversations/" + conv.ID, actParentB, nil, 404, ""},
		{"parent B writes in A's thread", "POST", "/v1/me/conversations/" + conv.ID + "/messages", actParentB, map[string]any{"body": "hi"}, 404, ""},
		{"parent B deletes A's message", "DELETE", "/v1/me/conversations/" + conv.ID + "/messages/" + conv.ID + "_m1", actParentB, nil, 404, ""},
		{"other school's parent", "GET", "/v1/me/conversations/" + conv.ID, actParentOther, nil, 404, ""},
		{"teacher of another class reads", "GET", "/v1/schools/sch_1/conversations/" + conv.ID, actTeacherOther, nil, 404, ""},
		{"teacher of another class replies", "POST", "/v1/schools/sch_1/conversations/" + conv.ID + "/messages", actTeacherOther, map[string]any{"body": "hi"}, 404, ""},
		{"teacher of another class starts one", "POST", "/v1/schools/sch_1/conversations", actTeacherOther, map[string]any{"parent_id": "par_a", "child_id": "chd_1", "body": "hi"}, 403, ""},
		{"other school's admin, own school path", "GET", "/v1/schools/sch_2/conversations/" + conv.ID, actAdminOther, nil, 404, ""},
		{"other school's admin, this school", "GET", "/v1/schools/sch_1/conversations", actAdminOther, nil, 404, ""},
		{"staff names a parent not linked", "POST", "/v1/schools/sch_1/conversations", actAdmin, map[string]any{"parent_id": "par_b", "child_id": "chd_1", "body": "hi"}, 400, "parent_id"},
		{"staff names another school's child", "POST", "/v1/schools/sch_1/conversations", actAdmin, map[string]any{"parent_id": "par_o", "child_id": "chd_o", "body": "hi"}, 400, "child_id"},
		{"empty body", "POST", "/v1/me/conversations", actParentA, map[string]any{"child_id": "chd_1", "body": "  "}, 400, "body"},
		{"too long", "POST", "/v1/me/conversations", actParentA, map[string]any{"child_id": "chd_1", "body": strings.Repeat("a", content.MaxMessageBody+1)}, 400, "body"},
		{"unknown field", "POST", "/v1/me/conversations", actParentA, map[string]any{"child_id": "chd_1", "body": "hi", "staff_ids": []string{"stf_admin"}}, 400, ""},
		{"bad unread filter", "GET", "/v1/schools/sch_1/conversations?unread=maybe", actAdmin, nil, 400, "unread"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.do(tc.method, tc.path, tc.body, w.tokens[tc.actor])
			wantStatus(t, resp, body, tc.status)
			if tc.field != "" && !strings.Contains(string(body), `"`+tc.field+`"`) {
				t.Errorf("no field error for %s: %s", tc.field, body)
			}
			if strings.Contains(string(body), "Is PE on Tuesday") {
				t.Errorf("refusal leaks the message: %s", body)
			}
		})
	}
	n, err := h.store.Database().Collection("conversations").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("%d conversations stored, want only the seeded one (%v)", n, err)
	}
	if got := len(h.staffNotices(t)); got != 0 {
		t.Fatalf("%d staff notices queued by refused requests", got)
	}
}

// TestInboundTextFromAParent: a signed text from a known parent that is not
// a keyword lands in their most recent thread, marked by SMS, and the
// thread's staff are notified; Twilio's retry of the same MessageSid stores
// nothing more; a parent without a thread starts one with the class
// teacher; a text from an unknown number is only counted.
func TestInboundTextFromAParent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	conv := w.newConversation(t)

	form := inboundForm(w.ParentA.Phone, "Running late, be there at 9:15")
	for i := 0; i < 2; i++ { // Twilio retries the same text
		resp, body := h.inbound(form, signInbound(form))
		wantStatus(t, resp, body, 200)
		if string(body) != emptyTwiML {
			t.Fatalf("answer %q", body)
		}
	}
	stored, err := h.store.Conversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.MessageCount != 2 || !stored.BySMS || !stored.AwaitingReply {
		t.Fatalf("thread after the text: %d messages, by SMS %v", stored.MessageCount, stored.BySMS)
	}
	m := stored.Messages[1]
	if m.ID != content.ConversationMessageID(form.Get("MessageSid")) || m.Via != content.ViaSMS || m.AuthorID != w.ParentA.ID ||
		m.Body != "Running late, be there at 9:15" {
		t.Fatalf("filed message %+v", m)
	}
	notices := h.staffNotices(t)
	if len(notices) != 1 || notices[0].Kind != tasks.StaffNotifyReply || notices[0].RefID != m.ID {
		t.Fatalf("staff notices %+v", notices)
	}

	// Parent B has no thread: a new one with K2's class teacher.
	form = inboundForm(w.ParentB.Phone, "Zofia has a dentist appointment")
	resp, body := h.inbound(form, signInbound(form))
	wantStatus(t, resp, body, 200)
	threads, err := h.store.ConversationsOfParent(ctx, w.ParentB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 1 || threads[0].ChildID != "chd_2" || threads[0].ClassID != "cls_1" || !threads[0].BySMS ||
		!slices.Equal(threads[0].StaffIDs, []string{w.Teacher.ID}) {
		t.Fatalf("parent B's threads %+v", threads)
	}
	if notices := h.staffNotices(t); len(notices) != 2 || notices[1].Kind != tasks.StaffNotifyMessage {
		t.Fatalf("staff notices %+v", notices)
	}

	// An unknown number: nothing stored but a count without the number.
	before, _ := h.store.Database().Collection("conversations").CountDocuments(ctx, bson.D{})
	form = inboundForm("+447700900555", "who is this?")
	resp, body = h.inbound(form, signInbound(form))
	wantStatus(t, resp, body, 200)
	after, _ := h.store.Database().Collection("conversations").CountDocuments(ctx, bson.D{})
	if after != before {
		t.Fatalf("a text from an unknown number stored a conversation")
	}
	var count struct {
		Texts int `bson:"texts"`
	}
	if err := h.store.Database().Collection("inbound_unknown").FindOne(ctx, bson.D{{Key: "_id", Value: "2026-11-02"}}).Decode(&count); err != nil || count.Texts != 1 {
		t.Fatalf("unknown-number count %+v (%v)", count, err)
	}
	raw, _ := bson.Marshal(count)
	if strings.Contains(string(raw), "900555") {
		t.Fatal("the count keeps the number")
	}
	if strings.Contains(h.logBuf.String(), "who is this") || strings.Contains(h.logBuf.String(), "Running late") ||
		strings.Contains(h.logBuf.String(), w.ParentA.Phone) {
		t.Fatal("the log holds a text or a number")
	}

	// Unsigned: refused, nothing filed.
	form = inboundForm(w.ParentA.Phone, "unsigned")
	resp, body = h.inbound(form, "")
	wantStatus(t, resp, body, 403)
	_ = url.Values{}
}

package mongostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestConversationsReadStateAndRepeats: a parent's message makes the thread
// unread for each of its staff (their per-school count, one read by _id);
// a staff member opening it or replying clears it for them only; the same
// message id appended twice (a retried text) is stored once; a deleted
// message keeps its place without its body.
func TestConversationsReadStateAndRepeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	c := &content.Conversation{ID: "cnv_1", SchoolID: "sch_1", ClassID: "cls_1", ChildID: "chd_1", ParentID: "par_1",
		StaffIDs: []string{"stf_a", "stf_b"}, State: content.ConversationOpen, CreatedAt: at, LastAt: at, LastParentAt: at,
		AwaitingReply: true, UnreadBy: []string{"stf_a", "stf_b"},
		Messages: []content.ConversationMessage{{ID: "m1", AuthorKind: content.AuthorParent, AuthorID: "par_1", Body: "hello", Via: content.ViaApp, CreatedAt: at}}}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConversation(ctx, c); !content.IsCode(err, content.CodeConflict) {
		t.Fatalf("second create: %v, want conflict", err)
	}
	count := func(staff string) int {
		t.Helper()
		n, err := s.StaffUnreadCount(ctx, staff, []string{"sch_1", "sch_other"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("stf_a") != 1 || count("stf_b") != 1 || count("stf_c") != 0 {
		t.Fatalf("unread counts %d %d %d", count("stf_a"), count("stf_b"), count("stf_c"))
	}
	if err := s.MarkConversationRead(ctx, "cnv_1", "stf_a"); err != nil {
		t.Fatal(err)
	}
	if count("stf_a") != 0 || count("stf_b") != 1 {
		t.Fatalf("after stf_a opened it: %d %d", count("stf_a"), count("stf_b"))
	}
	sms := content.ConversationMessage{ID: content.ConversationMessageID("SM1"), AuthorKind: content.AuthorParent, AuthorID: "par_1",
		Body: "by text", Via: content.ViaSMS, CreatedAt: at.Add(time.Minute)}
	for i := 0; i < 2; i++ {
		if _, err := s.AppendMessage(ctx, "cnv_1", sms); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Conversation(ctx, "cnv_1")
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageCount != 2 || len(got.Messages) != 2 || !got.BySMS || count("stf_a") != 1 {
		t.Fatalf("after the text twice: %d messages, by SMS %v, stf_a unread %d", len(got.Messages), got.BySMS, count("stf_a"))
	}
	reply := content.ConversationMessage{ID: "m3", AuthorKind: content.AuthorStaff, AuthorID: "stf_c", Body: "noted", Via: content.ViaApp, CreatedAt: at.Add(time.Hour)}
	got, err = s.AppendMessage(ctx, "cnv_1", reply)
	if err != nil {
		t.Fatal(err)
	}
	if got.AwaitingReply || !got.ParentUnread || !strings.Contains(strings.Join(got.StaffIDs, ","), "stf_c") || count("stf_b") != 1 {
		t.Fatalf("after a staff reply: %+v", got)
	}
	if err := s.DeleteMessageBody(ctx, "cnv_1", "m1", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Conversation(ctx, "cnv_1")
	if m, _ := got.Message("m1"); m.Body != "" || !m.Deleted() || got.Messages[1].Body != "by text" {
		t.Fatalf("after deleting m1: %+v", got.Messages)
	}
	waiting, err := s.AwaitingReplySince(ctx, at.Add(24*time.Hour))
	if err != nil || len(waiting) != 0 {
		t.Fatalf("answered thread listed as waiting: %v (%v)", waiting, err)
	}
}

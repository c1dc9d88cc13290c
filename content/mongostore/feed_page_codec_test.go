package mongostore

import (
	"reflect"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// TestFeedPageCodecRoundTrip: a kept page decodes to exactly the items it
// was made from, every field (progress, several parents' responses with
// replies, an award) included, and a damaged one is refused, not misread.
func TestFeedPageCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 2, 15, 4, 5, 0, time.UTC)
	ms := at.Add(1234 * time.Millisecond)
	items := []*content.FeedItem{
		feedItemOf("chd_1", 41, feedItemDoc{Kind: "activity", At: at.Unix(), AssignmentID: "asg_1", ActivityID: "act_1",
			Title: "Shadow puppets", ActivityKind: "game", Subject: "science", Minutes: 15, DueAt: at.Add(72 * time.Hour).Unix(),
			SetBy: "stf_1", TeacherName: "Mrs Khan"},
			feedProgressDoc{Seen: true, SeenAt: ms, Done: true, DoneAt: ms.Add(time.Hour)},
			[]content.FeedResponse{
				{ParentID: "par_a", Rating: 4, Comment: "Loved it — ✓", SubmitID: "sub_1.par_a", At: ms,
					ReplyIDs: []string{"rpl_1", "rpl_2"}, LatestReply: "Well done", LatestReplyAt: ms.Add(2 * time.Hour)},
				{ParentID: "par_b", Rating: 5, At: ms.Add(time.Minute)},
			}),
		feedItemOf("chd_1", 40, feedItemDoc{Kind: "award", At: at.Unix(), AwardID: "awd_1", Title: "Star reader",
			Reason: "Reading every night", SetBy: "stf_1", TeacherName: "Mrs Khan"}, feedProgressDoc{}, nil),
		feedItemOf("chd_1", 0, feedItemDoc{Kind: "activity", At: at.Unix(), AssignmentID: "asg_0", ActivityID: "act_0",
			Title: "Mrs Khan", Subject: "maths"}, feedProgressDoc{Seen: true, SeenAt: ms}, nil),
	}
	b, parents := encodeFeedPage(items, -1)
	got, next, err := decodeFeedPage("chd_1", b)
	if err != nil {
		t.Fatal(err)
	}
	if next != -1 || !reflect.DeepEqual(got, items) {
		t.Fatalf("round trip differs (next %d):\n got  %+v\n want %+v", next, got, items)
	}
	if !reflect.DeepEqual(parents, []string{"par_a", "par_b"}) {
		t.Fatalf("parents with responses: %v", parents)
	}
	if empty, n, err := decodeFeedPage("chd_1", func() []byte { b, _ := encodeFeedPage(nil, 7); return b }()); err != nil || len(empty) != 0 || n != 7 {
		t.Fatalf("empty page: %v %d %v", empty, n, err)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, _, err := decodeFeedPage("chd_1", b[:cut]); err == nil {
			t.Fatalf("a page cut to %d of %d bytes decoded", cut, len(b))
		}
	}
	if _, _, err := decodeFeedPage("chd_1", append(append([]byte{}, b...), 0)); err == nil {
		t.Fatal("a page with a trailing byte decoded")
	}
}

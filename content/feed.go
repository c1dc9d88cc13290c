package content

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// The parent feed is kept per child in bucket documents of FeedBucketSize
// item summaries each, oldest first, plus a head counting the child's items.
// An item's position (its sequence number in the child's feed) fixes its
// bucket and its slot, and its ID says all three, so every read or update of
// an item is one lookup by _id and a page of the feed is at most the head
// and two buckets (a page is never longer than a bucket). Buckets of 25
// keep the document a page reads small: on the embedded store a lookup's
// cost grows with the document, and 50-item buckets halved feed throughput.
const (
	FeedBucketSize  = 25
	FeedPageDefault = 20
	FeedPageMax     = FeedBucketSize
	// FeedExcerptMax bounds the reply and comment excerpts an item carries.
	FeedExcerptMax = 140 // characters
)

// FeedItemKind tells what a feed item shows.
type FeedItemKind string

const (
	FeedActivity FeedItemKind = "activity" // an assigned activity
	FeedAward    FeedItemKind = "award"    // an award the child received
)

// FeedItemKinds lists every feed item kind.
var FeedItemKinds = []FeedItemKind{FeedActivity, FeedAward}

// FeedState is an item's progress as the parent sees it.
type FeedState string

const (
	FeedNew  FeedState = "new"
	FeedSeen FeedState = "seen"
	FeedDone FeedState = "done"
)

// FeedStates lists every feed item state, in order.
var FeedStates = []FeedState{FeedNew, FeedSeen, FeedDone}

// FeedItem is one entry in a child's feed: a summary, copied in when the item
// is written, of everything a feed card shows, so drawing a page reads
// nothing else.
type FeedItem struct {
	ID      string // FeedItemID(ChildID, Position)
	ChildID string
	// Key names what the item is for ("asg:<assignmentId>:<activityId>",
	// "awd:<awardId>"); adding the same key twice for a child adds it once.
	// Only writes use it: reads leave it empty. Times are kept to the second.
	Key      string
	Kind     FeedItemKind
	Position int64 // sequence number in the child's feed, from 0
	At       time.Time

	// Activity items.
	AssignmentID    string
	ActivityID      string
	Title           string // activity title, or the award's title
	ActivityKind    ActivityKind
	Subject         Subject
	Minutes         int
	DueAt           time.Time
	SetBy           string // staff ID of the teacher who set it or gave the award
	TeacherName     string // as the family sees it ("Mrs Khan")
	AwardID, Reason string // award items

	// Progress of the child, shared by every parent linked to them; each
	// only moves forward.
	Seen   bool
	SeenAt time.Time
	Done   bool
	DoneAt time.Time

	// Responses are each parent's own part of the item as stored: rating,
	// comment and the teacher's replies to that parent's submission. The
	// feed is the child's, shared by co-parents, so a reader is never shown
	// these directly: ForReader picks what they may see into the fields
	// below (and clears Responses).
	Responses []FeedResponse

	// What the reader sees of the responses (set by ForReader).
	Rating   int    // 1–5 once done, 0 if none given
	Comment  string // excerpt of the parent's comment, at most FeedExcerptMax
	SubmitID string // the submission that marked it done, if any

	// Teacher replies: ReplyIDs makes recording one idempotent.
	ReplyIDs      []string
	LatestReply   string // excerpt, at most FeedExcerptMax
	LatestReplyAt time.Time
}

// FeedResponse is one parent's part of a feed item.
type FeedResponse struct {
	ParentID      string
	Rating        int    // 1–5, 0 if none given
	Comment       string // excerpt, at most FeedExcerptMax
	SubmitID      string
	At            time.Time // when the rating or comment was last written
	ReplyIDs      []string  // teacher replies to this parent's submission
	LatestReply   string    // excerpt, at most FeedExcerptMax
	LatestReplyAt time.Time
}

// ForReader is the item as one reader may see it. A parent (parentID set)
// sees only their own rating, comment and the replies to their own
// submission, unless shareFamily (the school's ShareFamilyThreads) lets
// every linked parent see the family's; staff (parentID "") see them all.
// Where several responses show, the latest comment and reply win and the
// reply counts add up.
func (i *FeedItem) ForReader(parentID string, shareFamily bool) *FeedItem {
	out := *i
	out.Responses = nil
	out.Rating, out.Comment, out.SubmitID = 0, "", ""
	out.ReplyIDs, out.LatestReply, out.LatestReplyAt = nil, "", time.Time{}
	var latest time.Time
	first := true
	for _, r := range i.Responses {
		if parentID != "" && !shareFamily && r.ParentID != parentID {
			continue
		}
		if first || r.At.After(latest) {
			out.Rating, out.Comment, out.SubmitID, latest, first = r.Rating, r.Comment, r.SubmitID, r.At, false
		}
		out.ReplyIDs = append(out.ReplyIDs, r.ReplyIDs...)
		if r.LatestReply != "" && !r.LatestReplyAt.Before(out.LatestReplyAt) {
			out.LatestReply, out.LatestReplyAt = r.LatestReply, r.LatestReplyAt
		}
	}
	return &out
}

// ResponseOf returns parentID's own response to the item, if any.
func (i *FeedItem) ResponseOf(parentID string) (FeedResponse, bool) {
	for _, r := range i.Responses {
		if r.ParentID == parentID {
			return r, true
		}
	}
	return FeedResponse{}, false
}

// SubmissionParent is the parent named by a submission id (SubmissionID),
// or "" if id is not one.
func SubmissionParent(id string) string {
	if !strings.HasPrefix(id, "sub_") {
		return ""
	}
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return ""
	}
	return parts[2]
}

// State is the item's progress: done beats seen beats new.
func (i *FeedItem) State() FeedState {
	switch {
	case i.Done:
		return FeedDone
	case i.Seen:
		return FeedSeen
	default:
		return FeedNew
	}
}

// ReplyCount is how many teacher replies the item has.
func (i *FeedItem) ReplyCount() int { return len(i.ReplyIDs) }

// FeedItemID names the item at position pos of a child's feed.
func FeedItemID(childID string, pos int64) string {
	return childID + "." + strconv.FormatInt(pos, 10)
}

// ParseFeedItemID splits an item ID into the child and the position. IDs of
// children never hold a dot (NewID), so the last dot separates them.
func ParseFeedItemID(id string) (childID string, pos int64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || i == len(id)-1 {
		return "", 0, false
	}
	pos, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || pos < 0 || strconv.FormatInt(pos, 10) != id[i+1:] {
		return "", 0, false
	}
	return id[:i], pos, true
}

// FeedBucket is the bucket number holding position pos.
func FeedBucket(pos int64) int64 { return pos / FeedBucketSize }

// Excerpt cuts s to at most n characters on a rune boundary, marking a cut
// with an ellipsis.
func Excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// FeedWriter is what other parts of the system (assignment release,
// submissions, replies, awards) call to put things in a child's feed. Every
// method is idempotent, so a task or request retried after a crash changes
// nothing the second time.
type FeedWriter interface {
	// AddFeedItem appends item to item.ChildID's feed unless an item with
	// the same Key is already there, and returns the item's ID either way.
	// ID and Position are assigned by the store.
	AddFeedItem(ctx context.Context, item *FeedItem) (string, error)
	// MarkFeedItemDone records the child's completion, and parentID's own
	// rating (0 = none) and comment (cut to FeedExcerptMax) in that
	// parent's response. A later call overwrites rating and comment but
	// never un-does the item. CodeNotFound for no such item.
	MarkFeedItemDone(ctx context.Context, itemID, parentID, submitID string, rating int, comment string, at time.Time) error
	// RecordFeedReply counts a teacher reply to parentID's submission once
	// per replyID and makes excerpt (cut to FeedExcerptMax) the latest one
	// shown in that parent's response.
	RecordFeedReply(ctx context.Context, itemID, parentID, replyID, excerpt string, at time.Time) error
	// FeedItem reads one item. CodeNotFound for no such item.
	FeedItem(ctx context.Context, itemID string) (*FeedItem, error)
}

// Feed is the whole feed store: FeedWriter plus the parent's reads.
type Feed interface {
	FeedWriter
	// FeedPage returns up to limit items of the child's feed newest first,
	// starting below position before (-1 = from the newest), and the
	// position to continue below (-1 when there is nothing further).
	FeedPage(ctx context.Context, childID string, before int64, limit int) (items []*FeedItem, next int64, err error)
	// MarkFeedItemSeen records that the parent opened the item; idempotent.
	// first reports whether this was the item's first opening (what the
	// engagement counters count as a view).
	MarkFeedItemSeen(ctx context.Context, itemID string, at time.Time) (first bool, err error)
	// FeedView reads the child's feed view (FeedView): one read by _id; a
	// child without one has an empty view. now decides what has expired.
	FeedView(ctx context.Context, childID string, now time.Time) (*FeedView, error)
	// SaveFeedView keeps, on the view read as base, the child's newest
	// page (items and next as FeedPage answered them for FeedPageMax; nil
	// items keeps none) and a parent's access (nil keeps none). Both carry
	// base's versions, so anything changed since base was read leaves
	// what is saved stale rather than wrong.
	SaveFeedView(ctx context.Context, base *FeedView, items []*FeedItem, next int64, access *FeedAccess, now time.Time) error
}

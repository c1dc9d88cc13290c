package mongostore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The feed collection holds three kinds of document per child, all found by
// _id (the one lookup the embedded store serves fast):
//
//	h:<childId>            head: n, how many positions have been handed out
//	b:<childId>:<bucket>   up to FeedBucketSize items: "i.<slot>" summaries,
//	                       "p.<slot>" the child's progress (seen, done), and
//	                       "r.<parentId>.<slot>" each parent's own response
//	                       (rating, comment, replies to their submission),
//	                       kept apart so re-writing a summary (a retried
//	                       release) never resets progress, and so one
//	                       parent's words are never mixed into what a
//	                       co-parent reads
//	k:<childId>:<key>      which position an item key was given, so adding
//	                       the same item twice adds it once
//
// A position is handed out by $inc on the head before the key is claimed; a
// writer that loses the race for a key leaves its position empty, and pages
// simply skip empty slots.
const colFeed = "feed"

var _ content.Feed = (*Store)(nil)

// feedHeadDoc counts the child's positions and keeps a copy of the newest
// feedHeadWindow items in the bucket layout, keyed by position instead of
// slot ("i.<pos>", "p.<pos>", "r.<parentId>.<pos>"), so a first page is the
// head alone. The copy holds only positions from W0 on (W0 absent: a head
// written before the copy existed, read through the buckets) and within the
// window (n − feedHeadWindow ≤ pos); older ones are unset as items are added.
// Buckets stay the record: every write goes to the head's copy first, then to
// the bucket, so a retry (which decides from the bucket) repairs both.
// Responses keep the bucket's field names, so the erasures that unset
// "r.<parentId>" and purge by "c" reach the copy too.
type feedHeadDoc struct {
	ID        string                                `bson:"_id"`
	ChildID   string                                `bson:"c"`
	N         int64                                 `bson:"n"`
	W0        *int64                                `bson:"w0,omitempty"`
	Items     map[string]string                     `bson:"i,omitempty"`
	Progress  map[string]feedProgressDoc            `bson:"p,omitempty"`
	Responses map[string]map[string]feedResponseDoc `bson:"r,omitempty"`
}

// feedHeadWindow is how many of the newest positions the head copies: a
// whole page (FeedPageMax), so a first page never needs a bucket.
const feedHeadWindow = content.FeedPageMax

// windowLow is the lowest position the head's copy serves, or n when it
// serves none.
func (h *feedHeadDoc) windowLow() int64 {
	if h.W0 == nil {
		return h.N
	}
	return max(*h.W0, h.N-feedHeadWindow, 0)
}

// asBucket views the copy as a bucket whose slots are positions.
func (h *feedHeadDoc) asBucket() *feedBucketDoc {
	return &feedBucketDoc{ID: h.ID, ChildID: h.ChildID, Items: h.Items, Progress: h.Progress, Responses: h.Responses}
}

// mirrorToHead applies update, written for the item at pos with the
// position as its key, to the head's copy. The filter is the _id alone
// (the one lookup the embedded store serves fast; a condition on the
// window made it scan the collection), so an update of an item the copy
// no longer holds leaves a field there that reads ignore (below
// windowLow) and the next added item unsets. No head is not an error.
func (s *Store) mirrorToHead(ctx context.Context, childID string, update bson.D) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedHeadID(childID)}}, update)
	return mapErr(err, "feed head")
}

type feedKeyDoc struct {
	ID       string `bson:"_id"`
	ChildID  string `bson:"c"`
	Position int64  `bson:"pos"`
}

// feedItemDoc is an item's summary, written once per position. It is
// stored as one compact JSON string per slot, not a sub-document: a bucket
// of summaries is read on every feed page, and the embedded store's cost
// of reading a document grows with its number of fields far more than with
// the length of a string (its SQLite backend keeps a type schema per
// field). Summaries are never updated in part, so nothing is lost.
type feedItemDoc struct {
	Kind         string `json:"t"`
	At           int64  `json:"at"` // Unix seconds
	AssignmentID string `json:"as,omitempty"`
	ActivityID   string `json:"ac,omitempty"`
	Title        string `json:"ti,omitempty"`
	ActivityKind string `json:"ak,omitempty"`
	Subject      string `json:"su,omitempty"`
	Minutes      int    `json:"mi,omitempty"`
	DueAt        int64  `json:"du,omitempty"` // Unix seconds
	SetBy        string `json:"by,omitempty"`
	TeacherName  string `json:"tn,omitempty"`
	AwardID      string `json:"aw,omitempty"`
	Reason       string `json:"re,omitempty"`
}

func (d feedItemDoc) encode() string {
	b, _ := json.Marshal(d) // strings and numbers: cannot fail
	return string(b)
}

func decodeFeedItem(s string) (feedItemDoc, error) {
	var d feedItemDoc
	err := json.Unmarshal([]byte(s), &d)
	return d, err
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// feedProgressDoc is the child's progress on an item. Items written
// before responses were kept per parent also carry the rating, comment and
// replies here; they are read as the response of the parent named by the
// submission (sub), and dropped when no submission names one.
type feedProgressDoc struct {
	Seen          bool      `bson:"seen,omitempty"`
	SeenAt        time.Time `bson:"seenAt,omitempty"`
	Done          bool      `bson:"done,omitempty"`
	DoneAt        time.Time `bson:"doneAt,omitempty"`
	Rating        int       `bson:"rating,omitempty"`
	Comment       string    `bson:"comment,omitempty"`
	SubmitID      string    `bson:"sub,omitempty"`
	ReplyIDs      []string  `bson:"replies,omitempty"`
	LatestReply   string    `bson:"reply,omitempty"`
	LatestReplyAt time.Time `bson:"replyAt,omitempty"`
}

// feedResponseDoc is one parent's own part of an item.
type feedResponseDoc struct {
	Rating        int       `bson:"rating,omitempty"`
	Comment       string    `bson:"comment,omitempty"`
	SubmitID      string    `bson:"sub,omitempty"`
	At            time.Time `bson:"at,omitempty"`
	ReplyIDs      []string  `bson:"replies,omitempty"`
	LatestReply   string    `bson:"reply,omitempty"`
	LatestReplyAt time.Time `bson:"replyAt,omitempty"`
}

type feedBucketDoc struct {
	ID       string                     `bson:"_id"`
	ChildID  string                     `bson:"c"`
	Items    map[string]string          `bson:"i"` // slot → encoded feedItemDoc
	Progress map[string]feedProgressDoc `bson:"p"`
	// Responses: parent id → slot → that parent's response.
	Responses map[string]map[string]feedResponseDoc `bson:"r,omitempty"`
}

// responsesAt lists the bucket's responses to the item in slot, by parent
// id, with a legacy shared rating and comment read as its submitter's.
func (b *feedBucketDoc) responsesAt(slot string) []content.FeedResponse {
	var out []content.FeedResponse
	for pid, bySlot := range b.Responses {
		if r, ok := bySlot[slot]; ok {
			out = append(out, content.FeedResponse{ParentID: pid, Rating: r.Rating, Comment: r.Comment, SubmitID: r.SubmitID,
				At: r.At, ReplyIDs: r.ReplyIDs, LatestReply: r.LatestReply, LatestReplyAt: r.LatestReplyAt})
		}
	}
	if p := b.Progress[slot]; p.Rating > 0 || p.Comment != "" || len(p.ReplyIDs) > 0 {
		if pid := content.SubmissionParent(p.SubmitID); pid != "" && !slices.ContainsFunc(out, func(r content.FeedResponse) bool { return r.ParentID == pid }) {
			out = append(out, content.FeedResponse{ParentID: pid, Rating: p.Rating, Comment: p.Comment, SubmitID: p.SubmitID,
				At: p.DoneAt, ReplyIDs: p.ReplyIDs, LatestReply: p.LatestReply, LatestReplyAt: p.LatestReplyAt})
		}
	}
	slices.SortFunc(out, func(a, b content.FeedResponse) int { return strings.Compare(a.ParentID, b.ParentID) })
	return out
}

func feedHeadID(childID string) string { return "h:" + childID }
func feedKeyID(childID, key string) string {
	return "k:" + childID + ":" + key
}
func feedBucketID(childID string, bucket int64) string {
	return "b:" + childID + ":" + strconv.FormatInt(bucket, 10)
}
func feedSlot(pos int64) string { return strconv.FormatInt(pos%content.FeedBucketSize, 10) }

// toFeedItemDoc keeps times to the second and not the item's key, which
// lives in its key document (k:<childId>:<key>).
func toFeedItemDoc(i *content.FeedItem) feedItemDoc {
	return feedItemDoc{
		Kind: string(i.Kind), At: unixOrZero(i.At),
		AssignmentID: i.AssignmentID, ActivityID: i.ActivityID, Title: i.Title,
		ActivityKind: string(i.ActivityKind), Subject: string(i.Subject), Minutes: i.Minutes,
		DueAt: unixOrZero(i.DueAt), SetBy: i.SetBy, TeacherName: i.TeacherName,
		AwardID: i.AwardID, Reason: i.Reason,
	}
}

func feedItemOf(childID string, pos int64, d feedItemDoc, p feedProgressDoc, responses []content.FeedResponse) *content.FeedItem {
	return &content.FeedItem{
		ID: content.FeedItemID(childID, pos), ChildID: childID,
		Kind: content.FeedItemKind(d.Kind), Position: pos, At: timeOrZero(d.At),
		AssignmentID: d.AssignmentID, ActivityID: d.ActivityID, Title: d.Title,
		ActivityKind: content.ActivityKind(d.ActivityKind), Subject: content.Subject(d.Subject),
		Minutes: d.Minutes, DueAt: timeOrZero(d.DueAt), SetBy: d.SetBy, TeacherName: d.TeacherName,
		AwardID: d.AwardID, Reason: d.Reason,
		Seen: p.Seen || p.Done, SeenAt: p.SeenAt, Done: p.Done, DoneAt: p.DoneAt,
		Responses: responses,
	}
}

// FeedBucketDocument is the stored form of a whole bucket of items, for
// bulk loaders (the feed bench) that write many children's feeds at once
// instead of item by item. items must be in position order within one
// bucket; the head must be written with FeedHeadDocument.
func FeedBucketDocument(childID string, bucket int64, items []*content.FeedItem) any {
	d := feedBucketDoc{ID: feedBucketID(childID, bucket), ChildID: childID,
		Items: map[string]string{}, Progress: map[string]feedProgressDoc{}}
	for _, it := range items {
		d.Items[feedSlot(it.Position)] = toFeedItemDoc(it).encode()
	}
	return d
}

// FeedHeadDocument is the stored head of a child's feed holding n positions,
// with its copy of the newest: items are the feed's last items in position
// order (those older than the window are left out).
func FeedHeadDocument(childID string, n int64, items []*content.FeedItem) any {
	w0 := int64(0)
	d := feedHeadDoc{ID: feedHeadID(childID), ChildID: childID, N: n, W0: &w0,
		Items: map[string]string{}, Progress: map[string]feedProgressDoc{}}
	for _, it := range items {
		if it.Position >= n-feedHeadWindow && it.Position < n {
			d.Items[strconv.FormatInt(it.Position, 10)] = toFeedItemDoc(it).encode()
		}
	}
	return d
}

// FeedCollection names the collection the feed lives in, for bulk loaders.
func FeedCollection() string { return colFeed }

func (s *Store) AddFeedItem(ctx context.Context, item *content.FeedItem) (string, error) {
	if item.ChildID == "" || item.Key == "" {
		return "", fmt.Errorf("add feed item: child and key are required")
	}
	kid := feedKeyID(item.ChildID, item.Key)
	pos, err := s.feedKeyPosition(ctx, kid)
	var head *feedHeadDoc // set when this call handed out pos
	switch {
	case err == nil:
	case content.ErrorCode(err) != content.CodeNotFound:
		return "", err
	default:
		if head, err = s.nextFeedPosition(ctx, item.ChildID); err != nil {
			return "", err
		}
		pos = head.N - 1
		err = s.insert(ctx, colFeed, feedKeyDoc{ID: kid, ChildID: item.ChildID, Position: pos}, "feed item key")
		if content.ErrorCode(err) == content.CodeConflict {
			// Another writer claimed the key first: its position wins and
			// ours stays an empty slot.
			head = nil
			pos, err = s.feedKeyPosition(ctx, kid)
		}
		if err != nil {
			return "", err
		}
	}
	// Written on every call, head copy then bucket, so a writer that
	// crashed after claiming the key is repaired by its retry. Only the
	// summary: progress is apart.
	if err := s.addToHead(ctx, item, pos, head); err != nil {
		return "", err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err = s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedBucketID(item.ChildID, content.FeedBucket(pos))}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "i." + feedSlot(pos), Value: toFeedItemDoc(item).encode()}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "c", Value: item.ChildID}}},
		}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return "", mapErr(err, "feed bucket")
	}
	if err := s.feedChanged(ctx, item.ChildID); err != nil {
		return "", err
	}
	item.Position = pos
	item.ID = content.FeedItemID(item.ChildID, pos)
	return item.ID, nil
}

func (s *Store) feedKeyPosition(ctx context.Context, kid string) (int64, error) {
	d, err := getByID[feedKeyDoc](ctx, s, colFeed, kid, "feed item key")
	if err != nil {
		return 0, err
	}
	return d.Position, nil
}

// nextFeedPosition hands out the child's next position (the returned
// head's N − 1): one atomic $inc.
func (s *Store) nextFeedPosition(ctx context.Context, childID string) (*feedHeadDoc, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var h feedHeadDoc
	err := s.c(colFeed).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: feedHeadID(childID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "c", Value: childID}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&h)
	if err != nil {
		return nil, mapErr(err, "feed head")
	}
	return &h, nil
}

// addToHead copies item's summary at pos into the head. head is the head
// as this call's $inc left it when the call handed out pos: then the copy
// starts at pos at the latest (w0, lowered with $min, so a head that had
// no copy starts one here) and the positions that left the window are
// unset (with anything an update of an older item left there).
func (s *Store) addToHead(ctx context.Context, item *content.FeedItem, pos int64, head *feedHeadDoc) error {
	p := strconv.FormatInt(pos, 10)
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "i." + p, Value: toFeedItemDoc(item).encode()}}}}
	if head == nil {
		return s.mirrorToHead(ctx, item.ChildID, update)
	}
	update = append(update, bson.E{Key: "$min", Value: bson.D{{Key: "w0", Value: pos}}})
	low := head.N - feedHeadWindow
	old := func(k string) bool {
		n, err := strconv.ParseInt(k, 10, 64)
		return err == nil && n < low
	}
	unset := bson.D{}
	for k := range head.Items {
		if old(k) {
			unset = append(unset, bson.E{Key: "i." + k, Value: ""})
		}
	}
	for k := range head.Progress {
		if old(k) {
			unset = append(unset, bson.E{Key: "p." + k, Value: ""})
		}
	}
	for pid, bySlot := range head.Responses {
		for k := range bySlot {
			if old(k) {
				unset = append(unset, bson.E{Key: "r." + pid + "." + k, Value: ""})
			}
		}
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedHeadID(item.ChildID)}}, update)
	return mapErr(err, "feed head")
}

// feedItem loads the bucket holding itemID and returns the item with the
// bucket's _id and the item's slot, or CodeNotFound.
func (s *Store) feedItem(ctx context.Context, itemID string) (*content.FeedItem, string, string, error) {
	childID, pos, ok := content.ParseFeedItemID(itemID)
	if !ok {
		return nil, "", "", content.Errorf(content.CodeNotFound, "feed item not found")
	}
	bid, slot := feedBucketID(childID, content.FeedBucket(pos)), feedSlot(pos)
	b, err := getByID[feedBucketDoc](ctx, s, colFeed, bid, "feed item")
	if err != nil {
		return nil, "", "", err
	}
	raw, ok := b.Items[slot]
	if !ok {
		return nil, "", "", content.Errorf(content.CodeNotFound, "feed item not found")
	}
	d, err := decodeFeedItem(raw)
	if err != nil {
		return nil, "", "", fmt.Errorf("feed item %s: %w", itemID, err)
	}
	return feedItemOf(childID, pos, d, b.Progress[slot], b.responsesAt(slot)), bid, slot, nil
}

func (s *Store) FeedItem(ctx context.Context, itemID string) (*content.FeedItem, error) {
	it, _, _, err := s.feedItem(ctx, itemID)
	return it, err
}

func (s *Store) MarkFeedItemSeen(ctx context.Context, itemID string, at time.Time) (bool, error) {
	it, bid, slot, err := s.feedItem(ctx, itemID)
	if err != nil || it.Seen {
		return false, err
	}
	return true, s.updateItem(ctx, it, bid, slot, func(slot string) bson.D {
		p := "p." + slot + "."
		return bson.D{
			{Key: "$set", Value: bson.D{{Key: p + "seen", Value: true}}},
			{Key: "$min", Value: bson.D{{Key: p + "seenAt", Value: at}}},
		}
	})
}

// updateItem applies the update update(key) builds for the item's fields,
// first to the head's copy (key: the position) when it holds the item, then
// to its bucket (key: the slot), the record a retry decides from.
func (s *Store) updateItem(ctx context.Context, it *content.FeedItem, bid, slot string, update func(key string) bson.D) error {
	if err := s.mirrorToHead(ctx, it.ChildID, update(strconv.FormatInt(it.Position, 10))); err != nil {
		return err
	}
	if err := s.updateByID(ctx, colFeed, bid, update(slot), "feed item"); err != nil {
		return err
	}
	return s.feedChanged(ctx, it.ChildID)
}

// validFeedParent checks a parent id can name a field of a bucket.
func validFeedParent(parentID string) error {
	if parentID == "" || strings.ContainsAny(parentID, ".$") {
		return fmt.Errorf("feed response: parent id %q cannot name a response", parentID)
	}
	return nil
}

func (s *Store) MarkFeedItemDone(ctx context.Context, itemID, parentID, submitID string, rating int, comment string, at time.Time) error {
	if rating < 0 || rating > 5 {
		return content.Errorf(content.CodeInvalid, "rating must be 1 to 5")
	}
	if err := validFeedParent(parentID); err != nil {
		return err
	}
	it, bid, slot, err := s.feedItem(ctx, itemID)
	if err != nil {
		return err
	}
	return s.updateItem(ctx, it, bid, slot, func(slot string) bson.D {
		p := "p." + slot + "."
		r := "r." + parentID + "." + slot + "."
		set := bson.D{{Key: p + "done", Value: true}, {Key: p + "seen", Value: true}, {Key: r + "at", Value: at}}
		if rating > 0 {
			set = append(set, bson.E{Key: r + "rating", Value: rating})
		}
		if comment != "" {
			set = append(set, bson.E{Key: r + "comment", Value: content.Excerpt(comment, content.FeedExcerptMax)})
		}
		if submitID != "" {
			set = append(set, bson.E{Key: r + "sub", Value: submitID})
		}
		return bson.D{
			{Key: "$set", Value: set},
			{Key: "$min", Value: bson.D{{Key: p + "doneAt", Value: at}, {Key: p + "seenAt", Value: at}}},
		}
	})
}

func (s *Store) RecordFeedReply(ctx context.Context, itemID, parentID, replyID, excerpt string, at time.Time) error {
	if replyID == "" {
		return fmt.Errorf("record feed reply: reply id is required")
	}
	if err := validFeedParent(parentID); err != nil {
		return err
	}
	it, bid, slot, err := s.feedItem(ctx, itemID)
	if err != nil {
		return err
	}
	own, _ := it.ResponseOf(parentID)
	if slices.Contains(own.ReplyIDs, replyID) {
		return nil
	}
	return s.updateItem(ctx, it, bid, slot, func(slot string) bson.D {
		p := "r." + parentID + "." + slot + "."
		update := bson.D{{Key: "$addToSet", Value: bson.D{{Key: p + "replies", Value: replyID}}}}
		// A reply older than the latest shown (a late retry) is counted
		// but does not replace the excerpt.
		if !at.Before(own.LatestReplyAt) {
			update = append(update, bson.E{Key: "$set", Value: bson.D{
				{Key: p + "reply", Value: content.Excerpt(excerpt, content.FeedExcerptMax)},
				{Key: p + "replyAt", Value: at}}})
		}
		return update
	})
}

// FeedPage reads the head only for a first page, and serves it from the
// head's copy of the newest items; past the copy (a later page, or a head
// written before the copy) it reads at most two buckets: a page is never
// longer than a bucket, so it spans two at most.
func (s *Store) FeedPage(ctx context.Context, childID string, before int64, limit int) ([]*content.FeedItem, int64, error) {
	switch {
	case limit <= 0:
		limit = content.FeedPageDefault
	case limit > content.FeedPageMax:
		limit = content.FeedPageMax // a shorter page; the cursor goes on from it
	}
	items := make([]*content.FeedItem, 0, limit)
	pos := before - 1
	low := pos - int64(content.FeedBucketSize) // scan no further than one bucket's worth
	if before < 0 {
		h, err := getByID[feedHeadDoc](ctx, s, colFeed, feedHeadID(childID), "feed")
		switch {
		case content.ErrorCode(err) == content.CodeNotFound:
			return []*content.FeedItem{}, -1, nil
		case err != nil:
			return nil, 0, err
		}
		pos = h.N - 1
		low = pos - int64(content.FeedBucketSize)
		b, lo := h.asBucket(), h.windowLow()
		for ; pos >= lo && len(items) < limit; pos-- {
			key := strconv.FormatInt(pos, 10)
			if raw, ok := b.Items[key]; ok {
				d, err := decodeFeedItem(raw)
				if err != nil {
					return nil, 0, fmt.Errorf("feed of %s at %d: %w", childID, pos, err)
				}
				items = append(items, feedItemOf(childID, pos, d, b.Progress[key], b.responsesAt(key)))
			}
		}
	}
	for pos >= 0 && pos > low && len(items) < limit {
		bucket := content.FeedBucket(pos)
		b, err := getByID[feedBucketDoc](ctx, s, colFeed, feedBucketID(childID, bucket), "feed")
		if err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return nil, 0, err
		}
		first := bucket * content.FeedBucketSize
		for ; pos >= first && pos > low && len(items) < limit; pos-- {
			if b == nil {
				continue
			}
			slot := feedSlot(pos)
			if raw, ok := b.Items[slot]; ok {
				d, err := decodeFeedItem(raw)
				if err != nil {
					return nil, 0, fmt.Errorf("feed of %s at %d: %w", childID, pos, err)
				}
				items = append(items, feedItemOf(childID, pos, d, b.Progress[slot], b.responsesAt(slot)))
			}
		}
	}
	next := pos + 1
	if pos < 0 {
		next = -1
	}
	return items, next, nil
}

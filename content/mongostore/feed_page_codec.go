package mongostore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// The kept newest page of a child's feed (the view's "pg") is read on
// almost every feed request, so it is encoded for the reader's cost: a
// table of the page's distinct strings (an activity's kind, subject and
// teacher repeat on every item), then each item as varints, strings as
// indexes into the table. Decoding makes one string of the whole table and
// slices it, so no string is copied. The first byte is the format.
const feedPageFormat = 1

var errFeedPage = errors.New("kept feed page: malformed")

type feedPageWriter struct {
	strs  []string
	index map[string]uint64
	body  []byte
}

func (w *feedPageWriter) str(s string) {
	i, ok := w.index[s]
	if !ok {
		i = uint64(len(w.strs))
		w.index[s] = i
		w.strs = append(w.strs, s)
	}
	w.body = binary.AppendUvarint(w.body, i)
}

func (w *feedPageWriter) num(n int64) { w.body = binary.AppendVarint(w.body, n) }

// encodeFeedPage encodes items (one child's newest page) and next; it
// also names the parents whose responses the page holds.
func encodeFeedPage(items []*content.FeedItem, next int64) ([]byte, []string) {
	w := &feedPageWriter{index: map[string]uint64{"": 0}, strs: []string{""}}
	var parents []string
	seen := map[string]bool{}
	w.num(next)
	w.num(int64(len(items)))
	for _, it := range items {
		d := toFeedItemDoc(it)
		w.num(it.Position)
		for _, s := range []string{d.Kind, d.AssignmentID, d.ActivityID, d.Title, d.ActivityKind, d.Subject,
			d.SetBy, d.TeacherName, d.AwardID, d.Reason} {
			w.str(s)
		}
		w.num(d.At)
		w.num(d.DueAt)
		w.num(int64(d.Minutes))
		flags := int64(0)
		if it.Seen {
			flags |= 1
		}
		if it.Done {
			flags |= 2
		}
		w.num(flags)
		w.num(milliOrZero(it.SeenAt))
		w.num(milliOrZero(it.DoneAt))
		w.num(int64(len(it.Responses)))
		for _, r := range it.Responses {
			if !seen[r.ParentID] {
				seen[r.ParentID] = true
				parents = append(parents, r.ParentID)
			}
			for _, s := range []string{r.ParentID, r.Comment, r.SubmitID, r.LatestReply} {
				w.str(s)
			}
			w.num(int64(r.Rating))
			w.num(milliOrZero(r.At))
			w.num(milliOrZero(r.LatestReplyAt))
			w.num(int64(len(r.ReplyIDs)))
			for _, id := range r.ReplyIDs {
				w.str(id)
			}
		}
	}
	out := []byte{feedPageFormat}
	out = binary.AppendUvarint(out, uint64(len(w.strs)))
	for _, s := range w.strs {
		out = binary.AppendUvarint(out, uint64(len(s)))
	}
	for _, s := range w.strs {
		out = append(out, s...)
	}
	return append(out, w.body...), parents
}

type feedPageReader struct {
	b    []byte
	strs []string
	err  error
}

// num reads a signed varint: binary.AppendVarint's zig-zag form of an
// unsigned one.
func (r *feedPageReader) num() int64 {
	u := r.unum()
	n := int64(u >> 1)
	if u&1 != 0 {
		n = ^n
	}
	return n
}

func (r *feedPageReader) unum() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errFeedPage
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *feedPageReader) str() string {
	i := r.unum()
	if r.err != nil || i >= uint64(len(r.strs)) {
		r.err = errFeedPage
		return ""
	}
	return r.strs[i]
}

// count reads a length no larger than what the rest could hold.
func (r *feedPageReader) count() int {
	n := r.num()
	if n < 0 || n > int64(len(r.b)) {
		r.err = errFeedPage
		return 0
	}
	return int(n)
}

func decodeFeedPage(childID string, b []byte) ([]*content.FeedItem, int64, error) {
	if len(b) == 0 || b[0] != feedPageFormat {
		return nil, 0, errFeedPage
	}
	r := &feedPageReader{b: b[1:]}
	nstr := r.unum()
	if r.err != nil || nstr > uint64(len(r.b)) {
		return nil, 0, errFeedPage
	}
	lens := make([]int, nstr)
	total := 0
	for i := range lens {
		n := r.unum()
		if r.err != nil || n > uint64(len(r.b)) {
			return nil, 0, errFeedPage
		}
		lens[i] = int(n)
		total += int(n)
	}
	if total > len(r.b) {
		return nil, 0, errFeedPage
	}
	table := string(r.b[:total])
	r.b = r.b[total:]
	r.strs = make([]string, nstr)
	for i, n := range lens {
		r.strs[i], table = table[:n], table[n:]
	}
	next := r.num()
	items := make([]*content.FeedItem, r.count())
	for i := range items {
		pos := r.num()
		d := feedItemDoc{Kind: r.str(), AssignmentID: r.str(), ActivityID: r.str(), Title: r.str(), ActivityKind: r.str(),
			Subject: r.str(), SetBy: r.str(), TeacherName: r.str(), AwardID: r.str(), Reason: r.str()}
		d.At, d.DueAt, d.Minutes = r.num(), r.num(), int(r.num())
		flags := r.num()
		p := feedProgressDoc{Seen: flags&1 != 0, Done: flags&2 != 0, SeenAt: milliTime(r.num()), DoneAt: milliTime(r.num())}
		var rs []content.FeedResponse
		if n := r.count(); n > 0 {
			rs = make([]content.FeedResponse, n)
			for j := range rs {
				x := &rs[j]
				x.ParentID, x.Comment, x.SubmitID, x.LatestReply = r.str(), r.str(), r.str(), r.str()
				x.Rating, x.At, x.LatestReplyAt = int(r.num()), milliTime(r.num()), milliTime(r.num())
				if m := r.count(); m > 0 {
					x.ReplyIDs = make([]string, m)
					for k := range x.ReplyIDs {
						x.ReplyIDs[k] = r.str()
					}
				}
			}
		}
		if r.err != nil {
			return nil, 0, r.err
		}
		items[i] = feedItemOf(childID, pos, d, p, rs)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, 0, errFeedPage
	}
	return items, next, nil
}

func milliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func milliTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

package mongostore

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Parents' inboxes. Three collections, every hot read one lookup by _id:
//
//   - inbox_items: one document per item, _id = content.InboxItemID
//     (parent:source), so adding it again is a duplicate key, not a change;
//   - inbox_index: one document per parent (_id = parent id) holding, under
//     items.<sourceId>, what the list shows of each item, and under
//     read.<sourceId> when and how it was read. Listing an inbox reads this
//     one document, never the items collection (which the embedded store
//     could only scan);
//   - inbox_sources: per source (announcement or conversation id), 16
//     bucket documents (_id = source#NN, by a hash of the parent id): the
//     classes each recipient's item was about and who read it, so staff
//     counts read 16 documents, not every item.
//
// Every write is idempotent: an item's document is inserted once, and the
// index and source entries are $set from the stored item, so a retry after
// a crash anywhere writes the same values again.
const (
	colInboxItems   = "inbox_items"
	colInboxIndex   = "inbox_index"
	colInboxSources = "inbox_sources"
)

type inboxItemDoc struct {
	ID        string    `bson:"_id"`
	ParentID  string    `bson:"parentId"`
	SchoolID  string    `bson:"schoolId"`
	Kind      string    `bson:"kind"`
	SourceID  string    `bson:"sourceId"`
	Title     string    `bson:"title"`
	Language  string    `bson:"language,omitempty"`
	ChildIDs  []string  `bson:"childIds,omitempty"`
	ClassIDs  []string  `bson:"classIds,omitempty"`
	Urgent    bool      `bson:"urgent,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	ReadAt    time.Time `bson:"readAt,omitempty"`
	ReadVia   string    `bson:"readVia,omitempty"`
}

func toInboxItemDoc(it *content.InboxItem) inboxItemDoc {
	return inboxItemDoc{ID: it.ID, ParentID: it.ParentID, SchoolID: it.SchoolID, Kind: string(it.Kind), SourceID: it.SourceID,
		Title: it.Title, Language: it.Language, ChildIDs: it.ChildIDs, ClassIDs: it.ClassIDs, Urgent: it.Urgent,
		CreatedAt: it.CreatedAt.UTC().Truncate(time.Millisecond), ReadAt: it.ReadAt.UTC(), ReadVia: it.ReadVia}
}

func (d *inboxItemDoc) toContent() *content.InboxItem {
	return &content.InboxItem{ID: d.ID, ParentID: d.ParentID, SchoolID: d.SchoolID, Kind: content.InboxKind(d.Kind),
		SourceID: d.SourceID, Title: d.Title, Language: d.Language, ChildIDs: d.ChildIDs, ClassIDs: d.ClassIDs,
		Urgent: d.Urgent, CreatedAt: d.CreatedAt, ReadAt: d.ReadAt, ReadVia: d.ReadVia}
}

// inboxRefDoc is what the list shows of one item, kept in the parent's
// index document.
type inboxRefDoc struct {
	Kind      string    `bson:"k"`
	SchoolID  string    `bson:"sc"`
	Title     string    `bson:"t"`
	Urgent    bool      `bson:"u,omitempty"`
	CreatedAt time.Time `bson:"at"`
}

type inboxReadDoc struct {
	At  time.Time `bson:"at"`
	Via string    `bson:"via"`
}

type inboxIndexDoc struct {
	ID    string                  `bson:"_id"`
	Items map[string]inboxRefDoc  `bson:"items"`
	Read  map[string]inboxReadDoc `bson:"read"`
}

type inboxSourceDoc struct {
	ID       string              `bson:"_id"` // source id "#" bucket
	SchoolID string              `bson:"schoolId"`
	SourceID string              `bson:"sourceId"`
	Classes  map[string][]string `bson:"classes"`
	Read     map[string]string   `bson:"read"`
}

var _ content.Inbox = (*Store)(nil)

// inboxKey reports whether s may be a key of an index or source map: ids
// content.NewID makes, never a path separator or an operator.
func inboxKey(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsAny(s, ".$:")
}

// AddToInbox inserts the items (a duplicate id is an item already there,
// left as it is), then writes each item's list entry into its parent's
// index and its recipient entry into its source's document. For items
// already there the entries are written from the stored item, so a
// retried call writes the same values again and keeps the read state.
func (s *Store) AddToInbox(ctx context.Context, items []*content.InboxItem) error {
	if len(items) == 0 {
		return nil
	}
	docs := make([]any, 0, len(items))
	stored := make([]inboxItemDoc, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if seen[it.ID] {
			continue // the first of an id in one call is the one kept
		}
		seen[it.ID] = true
		if !inboxKey(it.ParentID) || !inboxKey(it.SourceID) || it.ID != content.InboxItemID(it.ParentID, it.SourceID) || it.SchoolID == "" {
			return content.Errorf(content.CodeInvalid, "inbox item %q: ids do not match", it.ID)
		}
		d := toInboxItemDoc(it)
		d.ReadAt, d.ReadVia = time.Time{}, ""
		docs = append(docs, d)
		stored = append(stored, d)
	}
	err := func() error {
		ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
		defer cancel()
		_, err := s.c(colInboxItems).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return err
	}()
	if err != nil && !onlyDuplicates(err) {
		return mapErr(err, "inbox items")
	}
	if err != nil {
		var bwe mongo.BulkWriteException
		errors.As(err, &bwe)
		for _, we := range bwe.WriteErrors {
			d, err := getByID[inboxItemDoc](ctx, s, colInboxItems, stored[we.Index].ID, "inbox item")
			if err != nil {
				return err
			}
			stored[we.Index] = *d
		}
	}
	if err := s.indexInboxItems(ctx, stored); err != nil {
		return err
	}
	return s.recordInboxRecipients(ctx, stored)
}

// indexInboxItems writes the list entries: a new parent's index document
// is inserted whole (cheap in bulk); existing ones get one $set each, one
// UpdateOne at a time (an unordered bulk of such updates stalled the
// embedded store).
func (s *Store) indexInboxItems(ctx context.Context, items []inboxItemDoc) error {
	byParent := map[string][]inboxItemDoc{}
	var order []string
	for _, d := range items {
		if _, ok := byParent[d.ParentID]; !ok {
			order = append(order, d.ParentID)
		}
		byParent[d.ParentID] = append(byParent[d.ParentID], d)
	}
	docs := make([]any, 0, len(order))
	for _, pid := range order {
		idx := inboxIndexDoc{ID: pid, Items: map[string]inboxRefDoc{}, Read: map[string]inboxReadDoc{}}
		for _, d := range byParent[pid] {
			idx.Items[d.SourceID] = inboxRef(d)
			if !d.ReadAt.IsZero() {
				idx.Read[d.SourceID] = inboxReadDoc{At: d.ReadAt, Via: d.ReadVia}
			}
		}
		docs = append(docs, idx)
	}
	err := func() error {
		ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
		defer cancel()
		_, err := s.c(colInboxIndex).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return err
	}()
	if err == nil {
		return nil
	}
	if !onlyDuplicates(err) {
		return mapErr(err, "inbox index")
	}
	var bwe mongo.BulkWriteException
	errors.As(err, &bwe)
	for _, we := range bwe.WriteErrors {
		pid := order[we.Index]
		set := bson.D{}
		for _, d := range byParent[pid] {
			set = append(set, bson.E{Key: "items." + d.SourceID, Value: inboxRef(d)})
			if !d.ReadAt.IsZero() {
				set = append(set, bson.E{Key: "read." + d.SourceID, Value: inboxReadDoc{At: d.ReadAt, Via: d.ReadVia}})
			}
		}
		if err := s.updateByID(ctx, colInboxIndex, pid, bson.D{{Key: "$set", Value: set}}, "inbox index"); err != nil {
			return err
		}
	}
	return nil
}

func inboxRef(d inboxItemDoc) inboxRefDoc {
	return inboxRefDoc{Kind: d.Kind, SchoolID: d.SchoolID, Title: d.Title, Urgent: d.Urgent, CreatedAt: d.CreatedAt}
}

// inboxSourceBuckets is how many documents one source's recipients are
// spread over (by a hash of the parent id): an announcement to 20,000
// families keeps ~1,250 per document, so each $set rewrites a few tens of
// kilobytes (one document of 20,000 took 0.4 s a write by 2,000), and a
// staff count reads 16 documents by _id.
const inboxSourceBuckets = 16

// inboxSourceID is the id of the document of source holding parentID.
func inboxSourceID(sourceID, parentID string) string {
	return fmt.Sprintf("%s#%02d", sourceID, crc32.ChecksumIEEE([]byte(parentID))%inboxSourceBuckets)
}

// recordInboxRecipients writes each recipient's classes into their
// source's bucket document: at most inboxSourceBuckets updates per source
// per call. One UpdateOne each: an unordered bulk of $set updates stalled
// the embedded store.
func (s *Store) recordInboxRecipients(ctx context.Context, items []inboxItemDoc) error {
	sets := map[string]bson.D{}
	var order []string
	for _, d := range items {
		id := inboxSourceID(d.SourceID, d.ParentID)
		if _, ok := sets[id]; !ok {
			order = append(order, id)
			sets[id] = bson.D{{Key: "schoolId", Value: d.SchoolID}, {Key: "sourceId", Value: d.SourceID}}
		}
		classes := d.ClassIDs
		if classes == nil {
			classes = []string{}
		}
		sets[id] = append(sets[id], bson.E{Key: "classes." + d.ParentID, Value: classes})
	}
	for _, id := range order {
		if err := s.upsertSet(ctx, colInboxSources, id, sets[id], "inbox source"); err != nil {
			return err
		}
	}
	return nil
}

// upsertSet applies $set to the document with _id, creating it if absent.
func (s *Store) upsertSet(ctx context.Context, coll, id string, set bson.D, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(coll).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, what)
}

// InboxPage reads the parent's index document and pages through it in
// memory: newest first, ties by source id.
func (s *Store) InboxPage(ctx context.Context, parentID string, schools []string, after content.InboxCursor, limit int) (*content.InboxPage, error) {
	out := &content.InboxPage{Items: []*content.InboxItem{}}
	idx, err := getByID[inboxIndexDoc](ctx, s, colInboxIndex, parentID, "inbox")
	if content.IsCode(err, content.CodeNotFound) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	all := make([]*content.InboxItem, 0, len(idx.Items))
	for sid, r := range idx.Items {
		if schools != nil && !slices.Contains(schools, r.SchoolID) {
			continue
		}
		it := &content.InboxItem{ID: content.InboxItemID(parentID, sid), ParentID: parentID, SchoolID: r.SchoolID,
			Kind: content.InboxKind(r.Kind), SourceID: sid, Title: r.Title, Urgent: r.Urgent, CreatedAt: r.CreatedAt}
		if rd, ok := idx.Read[sid]; ok {
			it.ReadAt, it.ReadVia = rd.At, rd.Via
		} else {
			out.Unread++
		}
		all = append(all, it)
	}
	slices.SortFunc(all, func(a, b *content.InboxItem) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.SourceID, a.SourceID)
	})
	for _, it := range all {
		if !after.IsZero() {
			c := it.CreatedAt.Compare(after.CreatedAt)
			if c > 0 || (c == 0 && it.SourceID >= after.SourceID) {
				continue
			}
		}
		if len(out.Items) == limit {
			last := out.Items[len(out.Items)-1]
			out.Next = content.InboxCursor{CreatedAt: last.CreatedAt, SourceID: last.SourceID}
			break
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func (s *Store) InboxItem(ctx context.Context, id string) (*content.InboxItem, error) {
	d, err := getByID[inboxItemDoc](ctx, s, colInboxItems, id, "inbox item")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// MarkInboxRead sets the read time and way on the item, its parent's index
// entry and its source's readers. A read already recorded is kept.
func (s *Store) MarkInboxRead(ctx context.Context, id, via string, at time.Time) (*content.InboxItem, error) {
	it, err := s.InboxItem(ctx, id)
	if err != nil {
		return nil, err
	}
	if !it.ReadAt.IsZero() {
		return it, nil
	}
	at = at.UTC().Truncate(time.Millisecond)
	if err := s.updateByID(ctx, colInboxItems, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "readAt", Value: at}, {Key: "readVia", Value: via}}}}, "inbox item"); err != nil {
		return nil, err
	}
	it.ReadAt, it.ReadVia = at, via
	if err := s.updateByID(ctx, colInboxIndex, it.ParentID, bson.D{{Key: "$set", Value: bson.D{
		{Key: "read." + it.SourceID, Value: inboxReadDoc{At: at, Via: via}}}}}, "inbox"); err != nil &&
		!content.IsCode(err, content.CodeNotFound) {
		return nil, err
	}
	if err := s.upsertSet(ctx, colInboxSources, inboxSourceID(it.SourceID, it.ParentID), bson.D{{Key: "schoolId", Value: it.SchoolID},
		{Key: "sourceId", Value: it.SourceID}, {Key: "read." + it.ParentID, Value: via}}, "inbox source"); err != nil {
		return nil, err
	}
	return it, nil
}

// InboxReads reads the source's bucket documents, each by _id.
func (s *Store) InboxReads(ctx context.Context, sourceID string) (*content.InboxReads, error) {
	out := &content.InboxReads{SourceID: sourceID, Classes: map[string][]string{}, Read: map[string]string{}}
	for b := 0; b < inboxSourceBuckets; b++ {
		d, err := getByID[inboxSourceDoc](ctx, s, colInboxSources, fmt.Sprintf("%s#%02d", sourceID, b), "inbox source")
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		for k, v := range d.Classes {
			out.Classes[k] = v
		}
		for k, v := range d.Read {
			out.Read[k] = v
		}
	}
	return out, nil
}

// inboxOfParent lists the parent's items for an export: titles and read
// state, newest first.
func (s *Store) inboxOfParent(ctx context.Context, parentID string) ([]content.InboxItem, error) {
	out := []content.InboxItem{}
	var after content.InboxCursor
	for {
		page, err := s.InboxPage(ctx, parentID, nil, after, 500)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			out = append(out, *it)
		}
		if page.Next.IsZero() {
			return out, nil
		}
		after = page.Next
	}
}

// eraseInboxOfParent deletes the parent's items and index, and their
// entries in the sources' documents. Items whose index entry a crash never
// wrote are found by a scan of the parent's items (erasure is rare).
func eraseInboxOfParent(ctx context.Context, s *Store, parentID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	sources := map[string]bool{}
	idx, err := getByID[inboxIndexDoc](ctx, s, colInboxIndex, parentID, "inbox")
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return 0, err
	}
	if idx != nil {
		for sid := range idx.Items {
			sources[sid] = true
		}
	}
	ids, err := distinctIDs(ctx, s, colInboxItems, bson.D{{Key: "parentId", Value: parentID}})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, sid, ok := content.SplitInboxItemID(id); ok {
			sources[sid] = true
		}
	}
	for sid := range sources {
		if _, err := s.c(colInboxSources).UpdateOne(ctx, bson.D{{Key: "_id", Value: inboxSourceID(sid, parentID)}}, bson.D{{Key: "$unset", Value: bson.D{
			{Key: "classes." + parentID, Value: ""}, {Key: "read." + parentID, Value: ""}}}}); err != nil {
			return 0, mapErr(err, "inbox sources")
		}
	}
	res, err := s.c(colInboxItems).DeleteMany(ctx, bson.D{{Key: "parentId", Value: parentID}})
	if err != nil {
		return 0, mapErr(err, "inbox items")
	}
	if _, err := s.c(colInboxIndex).DeleteOne(ctx, bson.D{{Key: "_id", Value: parentID}}); err != nil {
		return 0, mapErr(err, "inbox")
	}
	return res.DeletedCount, nil
}

// eraseInboxOfSchool deletes the school's items, their entries in parents'
// indexes (a parent may have children at other schools) and the school's
// source documents.
func eraseInboxOfSchool(ctx context.Context, s *Store, schoolID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	items, err := findAll[inboxItemDoc](ctx, s, colInboxItems, bson.D{{Key: "schoolId", Value: schoolID}}, "inbox items")
	if err != nil {
		return 0, err
	}
	unset := map[string]bson.D{}
	for _, d := range items {
		unset[d.ParentID] = append(unset[d.ParentID], bson.E{Key: "items." + d.SourceID, Value: ""},
			bson.E{Key: "read." + d.SourceID, Value: ""})
	}
	for pid, u := range unset {
		if _, err := s.c(colInboxIndex).UpdateOne(ctx, bson.D{{Key: "_id", Value: pid}}, bson.D{{Key: "$unset", Value: u}}); err != nil {
			return 0, mapErr(err, "inbox index")
		}
	}
	res, err := s.c(colInboxItems).DeleteMany(ctx, bson.D{{Key: "schoolId", Value: schoolID}})
	if err != nil {
		return 0, mapErr(err, "inbox items")
	}
	if _, err := s.c(colInboxSources).DeleteMany(ctx, bson.D{{Key: "schoolId", Value: schoolID}}); err != nil {
		return 0, mapErr(err, "inbox sources")
	}
	return res.DeletedCount, nil
}

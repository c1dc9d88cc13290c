package mongostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

type audienceDoc struct {
	AllParents bool     `bson:"all,omitempty"`
	ClassIDs   []string `bson:"classIds,omitempty"`
	ParentIDs  []string `bson:"parentIds,omitempty"`
	// Chunks and ChunkKey say where a list longer than audienceInline is:
	// in colBroadcastAudience, documents "<broadcast>:<key>:<n>".
	Chunks   int    `bson:"chunks,omitempty"`
	ChunkKey string `bson:"chunkKey,omitempty"`
}

// colBroadcastAudience keeps large audiences in documents of
// audienceInline parent ids. A broadcast naming 50,000 parents (a roster
// import's invites) would otherwise be one document of 50,000 ids: the
// embedded store needed ~30 MB outside the Go heap and ~75 MB of
// allocations to write it, and every page's sender decoded it again.
const colBroadcastAudience = "broadcast_audience"

// audienceInline is the most parent ids a broadcast document carries.
const audienceInline = 1000

type audienceChunkDoc struct {
	ID          string   `bson:"_id"`
	BroadcastID string   `bson:"broadcastId"`
	SchoolID    string   `bson:"schoolId"`
	ParentIDs   []string `bson:"ids"`
}

type broadcastDoc struct {
	ID             string                 `bson:"_id"`
	SchoolID       string                 `bson:"schoolId"`
	CreatedBy      string                 `bson:"createdBy"`
	Template       string                 `bson:"template"`
	Category       string                 `bson:"category"`
	Params         map[string]string      `bson:"params,omitempty"`
	Urgent         bool                   `bson:"urgent,omitempty"`
	Important      bool                   `bson:"important,omitempty"`
	Audience       audienceDoc            `bson:"audience"`
	State          content.BroadcastState `bson:"state"`
	Pages          int                    `bson:"pages"`
	Recipients     int                    `bson:"recipients"`
	IdempotencyKey string                 `bson:"idempotencyKey,omitempty"`
	CreatedAt      time.Time              `bson:"createdAt"`
}

// ledgerEntryDoc uses short field names: a page holds 100 of them and is
// read and written whole on every claim.
type ledgerEntryDoc struct {
	RecipientID string       `bson:"rid"`
	Channel     string       `bson:"ch"`
	Rank        int          `bson:"r"`
	Claims      int          `bson:"c"`
	Released    int          `bson:"rl"`
	ClaimedAt   time.Time    `bson:"at,omitempty"`
	NotBefore   time.Time    `bson:"nb,omitempty"`
	Accepted    *acceptedDoc `bson:"x,omitempty"`
	ErrorCode   string       `bson:"err,omitempty"`
	UpdatedAt   time.Time    `bson:"ts,omitempty"`
}

// snapshotDoc is content.RecipientSnapshot with short names.
type snapshotDoc struct {
	State    content.ParentState `json:"st,omitempty"`
	Phone    string              `json:"ph,omitempty"`
	Email    string              `json:"em,omitempty"`
	Language string              `json:"la,omitempty"`
	Children []snapshotLinkDoc   `json:"ch,omitempty"`
}

type snapshotLinkDoc struct {
	ChildID   string            `json:"id"`
	FirstName string            `json:"fn,omitempty"`
	State     content.LinkState `json:"st"`
}

func encodeSnapshot(s *content.RecipientSnapshot) string {
	if s == nil {
		return ""
	}
	d := snapshotDoc{State: s.State, Phone: s.Phone, Email: s.Email, Language: s.Language}
	for _, c := range s.Children {
		d.Children = append(d.Children, snapshotLinkDoc{ChildID: c.ChildID, FirstName: c.FirstName, State: c.State})
	}
	b, _ := json.Marshal(d) // strings only: cannot fail
	return string(b)
}

// decodeSnapshot reads a stored snapshot; one that cannot be read is none
// (the sender then reads the parent).
func decodeSnapshot(v string) *content.RecipientSnapshot {
	if v == "" {
		return nil
	}
	var d snapshotDoc
	if err := json.Unmarshal([]byte(v), &d); err != nil {
		return nil
	}
	s := &content.RecipientSnapshot{State: d.State, Phone: d.Phone, Email: d.Email, Language: d.Language}
	for _, c := range d.Children {
		s.Children = append(s.Children, content.SnapshotLink{ChildID: c.ChildID, FirstName: c.FirstName, State: c.State})
	}
	return s
}

// acceptedDoc is what a provider's acceptance of a message returned, kept
// as one sub-document: it is written once, all together, and one field path
// per entry instead of three keeps a page's outcome update small (the
// embedded store checks every pair of an update's paths for conflicts).
//
// Until the entry settles, the same sub-document holds the recipient's
// snapshot instead, as one compact JSON string (snapshotDoc: the embedded
// store's cost of a document grows with its number of fields far more
// than with the length of a string, and every claim reads the page
// whole). The outcome that settles the entry sets the sub-document whole,
// so the snapshot's personal data goes with no update path of its own (the
// embedded store checks every pair of an update's paths for conflicts, and
// a page's outcome write has hundreds).
type acceptedDoc struct {
	ProviderID string `bson:"pid,omitempty"`
	Segments   int    `bson:"seg,omitempty"`
	CostPence  int64  `bson:"cost,omitempty"`
	Snapshot   string `bson:"s,omitempty"`
}

// withSnapshot adds an owed entry's snapshot to its sub-document.
func withSnapshot(x *acceptedDoc, snap *content.RecipientSnapshot) *acceptedDoc {
	v := encodeSnapshot(snap)
	if v == "" {
		return x
	}
	if x == nil {
		x = &acceptedDoc{}
	}
	x.Snapshot = v
	return x
}

func acceptedOf(providerID string, segments int, cost int64) *acceptedDoc {
	if providerID == "" && segments == 0 && cost == 0 {
		return nil
	}
	return &acceptedDoc{ProviderID: providerID, Segments: segments, CostPence: cost}
}

type ledgerPageDoc struct {
	ID          string           `bson:"_id"`
	BroadcastID string           `bson:"broadcastId"`
	SchoolID    string           `bson:"schoolId"`
	N           int              `bson:"n"`
	Fallback    bool             `bson:"fb,omitempty"`
	Entries     []ledgerEntryDoc `bson:"e"`
	CreatedAt   time.Time        `bson:"createdAt"`
	SnapshotAt  time.Time        `bson:"sat,omitempty"`
}

func toBroadcastDoc(b *content.Broadcast) broadcastDoc {
	return broadcastDoc{ID: b.ID, SchoolID: b.SchoolID, CreatedBy: b.CreatedBy, Template: b.Template, Category: b.Category,
		Params: b.Params, Urgent: b.Urgent, Important: b.Important,
		Audience: audienceDoc{AllParents: b.Audience.AllParents, ClassIDs: b.Audience.ClassIDs, ParentIDs: b.Audience.ParentIDs},
		State:    b.State, Pages: b.Pages, Recipients: b.Recipients, IdempotencyKey: b.IdempotencyKey, CreatedAt: b.CreatedAt}
}

func (d *broadcastDoc) toContent() *content.Broadcast {
	return &content.Broadcast{ID: d.ID, SchoolID: d.SchoolID, CreatedBy: d.CreatedBy, Template: d.Template, Category: d.Category,
		Params: d.Params, Urgent: d.Urgent, Important: d.Important,
		Audience: content.Audience{AllParents: d.Audience.AllParents, ClassIDs: d.Audience.ClassIDs, ParentIDs: d.Audience.ParentIDs},
		State:    d.State, Pages: d.Pages, Recipients: d.Recipients, IdempotencyKey: d.IdempotencyKey, CreatedAt: d.CreatedAt}
}

func toLedgerPageDoc(p *content.LedgerPage) ledgerPageDoc {
	d := ledgerPageDoc{ID: p.ID, BroadcastID: p.BroadcastID, SchoolID: p.SchoolID, N: p.N, Fallback: p.Fallback,
		CreatedAt: p.CreatedAt, SnapshotAt: p.SnapshotAt, Entries: make([]ledgerEntryDoc, 0, len(p.Entries))}
	for _, e := range p.Entries {
		d.Entries = append(d.Entries, ledgerEntryDoc{RecipientID: e.RecipientID, Channel: e.Channel, Rank: e.Rank,
			Claims: e.Claims, Released: e.Released, ClaimedAt: e.ClaimedAt, NotBefore: e.NotBefore,
			Accepted: withSnapshot(acceptedOf(e.ProviderID, e.Segments, e.CostPence), e.Snapshot), ErrorCode: e.ErrorCode,
			UpdatedAt: e.UpdatedAt})
	}
	return d
}

func (d *ledgerPageDoc) toContent() *content.LedgerPage {
	p := &content.LedgerPage{ID: d.ID, BroadcastID: d.BroadcastID, SchoolID: d.SchoolID, N: d.N, Fallback: d.Fallback,
		CreatedAt: d.CreatedAt, SnapshotAt: d.SnapshotAt, Entries: make([]content.LedgerEntry, 0, len(d.Entries))}
	for _, e := range d.Entries {
		ce := content.LedgerEntry{RecipientID: e.RecipientID, Channel: e.Channel, Rank: e.Rank,
			Claims: e.Claims, Released: e.Released, ClaimedAt: e.ClaimedAt, NotBefore: e.NotBefore,
			ErrorCode: e.ErrorCode, UpdatedAt: e.UpdatedAt}
		if x := e.Accepted; x != nil {
			ce.Snapshot = decodeSnapshot(x.Snapshot)
			ce.ProviderID, ce.Segments, ce.CostPence = x.ProviderID, x.Segments, x.CostPence
		}
		p.Entries = append(p.Entries, ce)
	}
	return p
}

// CreateBroadcast writes a large audience's chunks first, under a key
// derived from the list, and then the broadcast that points at them: a
// create that conflicts with an existing broadcast (or a retry after a
// crash) writes the same chunks again or chunks under another key, never
// changing what an existing broadcast names.
func (s *Store) CreateBroadcast(ctx context.Context, b *content.Broadcast) error {
	d := toBroadcastDoc(b)
	if ids := b.Audience.ParentIDs; len(ids) > audienceInline {
		// A retry of a create that went through writes no chunks: the
		// usual conflict, without chunks no broadcast points at.
		if _, err := getByID[broadcastDoc](ctx, s, colBroadcasts, b.ID, "broadcast"); err == nil {
			return content.Errorf(content.CodeConflict, "broadcast already exists")
		} else if !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		sum := sha256.New()
		for _, id := range ids {
			sum.Write([]byte(id + "\n"))
		}
		d.Audience.ChunkKey = hex.EncodeToString(sum.Sum(nil))[:16]
		d.Audience.ParentIDs = nil
		for start := 0; start < len(ids); start += audienceInline {
			c := audienceChunkDoc{ID: audienceChunkID(b.ID, d.Audience.ChunkKey, d.Audience.Chunks), BroadcastID: b.ID,
				SchoolID: b.SchoolID, ParentIDs: ids[start:min(start+audienceInline, len(ids))]}
			if err := s.putChunk(ctx, c); err != nil {
				return err
			}
			d.Audience.Chunks++
		}
	}
	return s.insert(ctx, colBroadcasts, d, "broadcast")
}

// putChunk writes a chunk, or writes it again (the same ids: its key is
// derived from the list).
func (s *Store) putChunk(ctx context.Context, c audienceChunkDoc) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colBroadcastAudience).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, c, options.Replace().SetUpsert(true))
	return mapErr(err, "broadcast audience")
}

func audienceChunkID(broadcastID, key string, n int) string {
	return fmt.Sprintf("%s:%s:%05d", broadcastID, key, n)
}

func (s *Store) AudienceParents(ctx context.Context, b *content.Broadcast) ([]string, error) {
	if len(b.Audience.ParentIDs) > 0 {
		return b.Audience.ParentIDs, nil
	}
	d, err := getByID[broadcastDoc](ctx, s, colBroadcasts, b.ID, "broadcast")
	if err != nil {
		return nil, err
	}
	if d.Audience.Chunks == 0 {
		return d.Audience.ParentIDs, nil
	}
	var ids []string
	for n := range d.Audience.Chunks {
		c, err := getByID[audienceChunkDoc](ctx, s, colBroadcastAudience, audienceChunkID(b.ID, d.Audience.ChunkKey, n), "broadcast audience")
		if err != nil {
			return nil, err
		}
		ids = append(ids, c.ParentIDs...)
	}
	return ids, nil
}

func (s *Store) Broadcast(ctx context.Context, id string) (*content.Broadcast, error) {
	d, err := getByID[broadcastDoc](ctx, s, colBroadcasts, id, "broadcast")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) SetBroadcastExpanded(ctx context.Context, id string, pages, recipients int) error {
	return s.updateByID(ctx, colBroadcasts, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: content.BroadcastSending}, {Key: "pages", Value: pages}, {Key: "recipients", Value: recipients}}}}, "broadcast")
}

func (s *Store) SetBroadcastDone(ctx context.Context, id string) error {
	return s.updateByID(ctx, colBroadcasts, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: content.BroadcastDone}}}}, "broadcast")
}

func (s *Store) BroadcastsInState(ctx context.Context, state content.BroadcastState) ([]*content.Broadcast, error) {
	docs, err := findAll[broadcastDoc](ctx, s, colBroadcasts, bson.D{{Key: "state", Value: state}}, "broadcasts")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Broadcast, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

// schoolLogFilter selects a school's records (one sender's, when createdBy
// is set) that come after the cursor in newest-first (createdAt, _id)
// order; a zero cursor starts from the newest. The message log and the
// announcement list page this way.
func schoolLogFilter(schoolID, createdBy string, after content.BroadcastCursor) bson.D {
	filter := bson.D{{Key: "schoolId", Value: schoolID}}
	if createdBy != "" {
		filter = append(filter, bson.E{Key: "createdBy", Value: createdBy})
	}
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: after.CreatedAt}}}},
			bson.D{{Key: "createdAt", Value: after.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}})
	}
	return filter
}

// BroadcastsOfSchool filters on the school (and sender), keyset-pages on
// (createdAt, _id) descending and sorts the same way, so the index
// {schoolId, createdAt, _id} serves filter, order and limit on MongoDB.
// The embedded store scans, which the size of one school's log allows.
func (s *Store) BroadcastsOfSchool(ctx context.Context, schoolID, createdBy string, after content.BroadcastCursor, limit int) ([]*content.Broadcast, error) {
	if limit <= 0 {
		return []*content.Broadcast{}, nil
	}
	filter := schoolLogFilter(schoolID, createdBy, after)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	cur, err := s.c(colBroadcasts).Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(limit)).
		// The log shows no parameters: leave them (a child's name may be
		// one) in the store.
		SetProjection(bson.D{{Key: "params", Value: 0}}))
	if err != nil {
		return nil, mapErr(err, "broadcasts")
	}
	var docs []broadcastDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "broadcasts")
	}
	out := make([]*content.Broadcast, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].toContent())
	}
	return out, nil
}

// PutLedgerPages inserts unordered and treats duplicate keys as already
// written: re-running an expansion converges instead of failing.
func (s *Store) PutLedgerPages(ctx context.Context, pages []*content.LedgerPage) error {
	if len(pages) == 0 {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	docs := make([]any, 0, len(pages))
	for _, p := range pages {
		docs = append(docs, toLedgerPageDoc(p))
	}
	_, err := s.c(colLedger).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return mapErr(err, "ledger pages")
	}
	return nil
}

func (s *Store) AppendLedgerPages(ctx context.Context, pages []*content.LedgerPage) error {
	if len(pages) == 0 {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	docs := make([]any, 0, len(pages))
	for _, p := range pages {
		docs = append(docs, toLedgerPageDoc(p))
	}
	_, err := s.c(colLedger).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return mapErr(err, "ledger pages")
}

// onlyDuplicates reports whether every write error of a bulk insert is a
// duplicate key.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

func (s *Store) LedgerPage(ctx context.Context, id string) (*content.LedgerPage, error) {
	d, err := getByID[ledgerPageDoc](ctx, s, colLedger, id, "ledger page")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func entryPath(i int, field string) string { return "e." + strconv.Itoa(i) + "." + field }

// ClaimEntries bumps each listed entry's claim counter in one lone-_id
// findOneAndUpdate and reads the page as it was before: an entry is won
// when, before this bump, it was claimable (not settled, not held, due).
// Bumps on entries this call lost are then undone with $inc -1. Increments
// commute, so once every loser has undone its bump the counter counts only
// winners; a stray bump not yet undone can make a concurrent claim lose
// (it is retried later), never win twice. ClaimedAt is shared by all
// callers, so it can only move later.
func (s *Store) ClaimEntries(ctx context.Context, pageID string, indexes []int, at time.Time) (map[int]int, error) {
	if len(indexes) == 0 {
		return map[int]int{}, nil
	}
	inc, set := bson.D{}, bson.D{}
	for _, i := range indexes {
		if i < 0 || i >= content.LedgerPageSize {
			return nil, fmt.Errorf("claim %s: entry %d out of range", pageID, i)
		}
		inc = append(inc, bson.E{Key: entryPath(i, "c"), Value: 1})
		set = append(set, bson.E{Key: entryPath(i, "at"), Value: at})
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var before ledgerPageDoc
	err := s.c(colLedger).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: pageID}},
		bson.D{{Key: "$inc", Value: inc}, {Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err != nil {
		return nil, mapErr(err, "ledger page")
	}
	won := map[int]int{}
	undo := bson.D{}
	for _, i := range indexes {
		if i >= len(before.Entries) {
			undo = append(undo, bson.E{Key: entryPath(i, "c"), Value: -1})
			continue
		}
		e := before.Entries[i]
		ce := content.LedgerEntry{Rank: e.Rank, Claims: e.Claims, Released: e.Released, NotBefore: e.NotBefore}
		if ce.Claimable(at) {
			won[i] = e.Claims + 1
		} else {
			undo = append(undo, bson.E{Key: entryPath(i, "c"), Value: -1})
		}
	}
	if len(undo) > 0 {
		if _, err := s.c(colLedger).UpdateOne(ctx, bson.D{{Key: "_id", Value: pageID}},
			bson.D{{Key: "$inc", Value: undo}}); err != nil {
			return nil, mapErr(err, "ledger page")
		}
	}
	return won, nil
}

// RecordOutcomes applies results with $max on the rank (states only rise)
// and $max on the release mark (a deferral hands the claim back).
func (s *Store) RecordOutcomes(ctx context.Context, pageID string, outcomes []content.EntryOutcome, at time.Time) error {
	if len(outcomes) == 0 {
		return nil
	}
	maxes, set, unset := bson.D{}, bson.D{}, bson.D{}
	for _, o := range outcomes {
		rank, ok := o.State.Rank()
		if !ok {
			return fmt.Errorf("record %s: state %q cannot be stored", pageID, o.State)
		}
		i := o.Index
		maxes = append(maxes, bson.E{Key: entryPath(i, "r"), Value: rank})

		set = append(set, bson.E{Key: entryPath(i, "ts"), Value: at})
		if o.Release {
			maxes = append(maxes, bson.E{Key: entryPath(i, "rl"), Value: o.Claim})
			set = append(set, bson.E{Key: entryPath(i, "nb"), Value: o.NotBefore})
		}
		switch x := acceptedOf(o.ProviderID, o.Segments, o.CostPence); {
		case x != nil:
			set = append(set, bson.E{Key: entryPath(i, "x"), Value: x})
		case rank >= content.RankUnknown:
			// Settled: never sent again, so the snapshot's personal data goes.
			unset = append(unset, bson.E{Key: entryPath(i, "x"), Value: ""})
		}
		if o.ErrorCode != "" {
			set = append(set, bson.E{Key: entryPath(i, "err"), Value: o.ErrorCode})
		}
	}
	update := bson.D{{Key: "$max", Value: maxes}, {Key: "$set", Value: set}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	return s.updateByID(ctx, colLedger, pageID, update, "ledger page")
}

func (s *Store) RaiseEntryState(ctx context.Context, pageID string, index int, state content.MessageState, errorCode string, at time.Time) error {
	rank, ok := state.Rank()
	if !ok {
		return fmt.Errorf("raise %s: state %q cannot be stored", pageID, state)
	}
	set := bson.D{{Key: entryPath(index, "ts"), Value: at}}
	if errorCode != "" {
		set = append(set, bson.E{Key: entryPath(index, "err"), Value: errorCode})
	}
	update := bson.D{{Key: "$max", Value: bson.D{{Key: entryPath(index, "r"), Value: rank}}}, {Key: "$set", Value: set}}
	if rank >= content.RankUnknown {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: entryPath(index, "x") + ".s", Value: ""}}})
	}
	return s.updateByID(ctx, colLedger, pageID, update, "ledger page")
}

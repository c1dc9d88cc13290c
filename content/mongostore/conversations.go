package mongostore

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Conversations = (*Store)(nil)

// Conversations: one document per thread (_id = conversation id) holding
// its messages, capped at content.MaxConversationMessages, so a thread is
// read, appended to and marked read by _id. Each staff member's unread
// threads at a school are one document (_id = staffId:schoolId) holding
// their ids, kept with $addToSet/$pull (idempotent), so the unread count
// in GET /v1/me is a read by _id per school, never a scan. Lists (a
// parent's threads, a school's inbox, the digest's sweep) scan by field:
// they are read by people or once a day, not on a hot path.
const (
	colConversations     = "conversations"
	colConversationStaff = "conversation_staff"
	// colInboundUnknown counts texts from numbers no parent has, per day:
	// a count only, never the number.
	colInboundUnknown = "inbound_unknown"
)

type conversationMessageDoc struct {
	ID         string    `bson:"id"`
	AuthorKind string    `bson:"authorKind"`
	AuthorID   string    `bson:"authorId"`
	Body       string    `bson:"body"`
	Via        string    `bson:"via"`
	CreatedAt  time.Time `bson:"createdAt"`
	DeletedAt  time.Time `bson:"deletedAt,omitempty"`
}

type conversationDoc struct {
	ID            string                   `bson:"_id"`
	SchoolID      string                   `bson:"schoolId"`
	ClassID       string                   `bson:"classId"`
	ChildID       string                   `bson:"childId"`
	ParentID      string                   `bson:"parentId"`
	StaffIDs      []string                 `bson:"staffIds"`
	State         string                   `bson:"state"`
	BySMS         bool                     `bson:"bySms"`
	CreatedAt     time.Time                `bson:"createdAt"`
	LastAt        time.Time                `bson:"lastAt"`
	LastParentAt  time.Time                `bson:"lastParentAt,omitempty"`
	AwaitingReply bool                     `bson:"awaitingReply"`
	ParentUnread  bool                     `bson:"parentUnread"`
	UnreadBy      []string                 `bson:"unreadBy"`
	MessageCount  int                      `bson:"messageCount"`
	Messages      []conversationMessageDoc `bson:"messages,omitempty"`
}

func toMessageDoc(m content.ConversationMessage) conversationMessageDoc {
	return conversationMessageDoc{ID: m.ID, AuthorKind: m.AuthorKind, AuthorID: m.AuthorID, Body: m.Body, Via: m.Via,
		CreatedAt: m.CreatedAt.UTC(), DeletedAt: m.DeletedAt}
}

func (d *conversationDoc) toContent() *content.Conversation {
	c := &content.Conversation{ID: d.ID, SchoolID: d.SchoolID, ClassID: d.ClassID, ChildID: d.ChildID, ParentID: d.ParentID,
		StaffIDs: d.StaffIDs, State: content.ConversationState(d.State), BySMS: d.BySMS, CreatedAt: d.CreatedAt,
		LastAt: d.LastAt, LastParentAt: d.LastParentAt, AwaitingReply: d.AwaitingReply, ParentUnread: d.ParentUnread,
		UnreadBy: d.UnreadBy, MessageCount: d.MessageCount}
	for _, m := range d.Messages {
		c.Messages = append(c.Messages, content.ConversationMessage{ID: m.ID, AuthorKind: m.AuthorKind, AuthorID: m.AuthorID,
			Body: m.Body, Via: m.Via, CreatedAt: m.CreatedAt, DeletedAt: m.DeletedAt})
	}
	return c
}

func conversationStaffID(staffID, schoolID string) string { return staffID + ":" + schoolID }

// CreateConversation inserts the thread, then records it unread for its
// staff when the parent wrote first.
func (s *Store) CreateConversation(ctx context.Context, c *content.Conversation) error {
	d := conversationDoc{ID: c.ID, SchoolID: c.SchoolID, ClassID: c.ClassID, ChildID: c.ChildID, ParentID: c.ParentID,
		StaffIDs: nonNil(c.StaffIDs), State: string(c.State), BySMS: c.BySMS, CreatedAt: c.CreatedAt.UTC(),
		LastAt: c.LastAt.UTC(), LastParentAt: c.LastParentAt.UTC(), AwaitingReply: c.AwaitingReply,
		ParentUnread: c.ParentUnread, UnreadBy: nonNil(c.UnreadBy), MessageCount: len(c.Messages)}
	for _, m := range c.Messages {
		d.Messages = append(d.Messages, toMessageDoc(m))
	}
	if d.State == "" {
		d.State = string(content.ConversationOpen)
	}
	if err := s.insert(ctx, colConversations, d, "conversation"); err != nil {
		return err
	}
	return s.markStaffUnread(ctx, c.SchoolID, c.ID, c.UnreadBy)
}

// markStaffUnread adds the thread to each staff member's unread set.
func (s *Store) markStaffUnread(ctx context.Context, schoolID, convID string, staffIDs []string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	for _, id := range staffIDs {
		_, err := s.c(colConversationStaff).UpdateOne(ctx, bson.D{{Key: "_id", Value: conversationStaffID(id, schoolID)}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "unread", Value: convID}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "staffId", Value: id}, {Key: "schoolId", Value: schoolID}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			return mapErr(err, "staff conversations")
		}
	}
	return nil
}

// markStaffRead takes the thread out of a staff member's unread set.
func (s *Store) markStaffRead(ctx context.Context, schoolID, convID, staffID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colConversationStaff).UpdateOne(ctx, bson.D{{Key: "_id", Value: conversationStaffID(staffID, schoolID)}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "unread", Value: convID}}}})
	return mapErr(err, "staff conversations")
}

func (s *Store) Conversation(ctx context.Context, id string) (*content.Conversation, error) {
	d, err := getByID[conversationDoc](ctx, s, colConversations, id, "conversation")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// AppendMessage reads the thread (a message already there is a repeat),
// then applies the message and the read state in one update by _id.
func (s *Store) AppendMessage(ctx context.Context, convID string, m content.ConversationMessage) (*content.Conversation, error) {
	cur, err := s.Conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if _, ok := cur.Message(m.ID); ok {
		return cur, nil
	}
	if cur.State == content.ConversationClosed {
		return nil, content.Errorf(content.CodeConflict, "this conversation is closed")
	}
	if cur.MessageCount >= content.MaxConversationMessages {
		return nil, content.Errorf(content.CodeConflict, "this conversation is full; start a new one")
	}
	at := m.CreatedAt.UTC()
	set := bson.D{{Key: "lastAt", Value: at}}
	update := bson.D{{Key: "$push", Value: bson.D{{Key: "messages", Value: toMessageDoc(m)}}},
		{Key: "$inc", Value: bson.D{{Key: "messageCount", Value: 1}}}}
	if m.Via == content.ViaSMS {
		set = append(set, bson.E{Key: "bySms", Value: true})
	}
	if m.AuthorKind == content.AuthorParent {
		set = append(set, bson.E{Key: "lastParentAt", Value: at}, bson.E{Key: "awaitingReply", Value: true},
			bson.E{Key: "unreadBy", Value: nonNil(cur.StaffIDs)})
	} else {
		set = append(set, bson.E{Key: "awaitingReply", Value: false}, bson.E{Key: "parentUnread", Value: true})
		update = append(update, bson.E{Key: "$addToSet", Value: bson.D{{Key: "staffIds", Value: m.AuthorID}}},
			bson.E{Key: "$pull", Value: bson.D{{Key: "unreadBy", Value: m.AuthorID}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var d conversationDoc
	if err := s.c(colConversations).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: convID}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d); err != nil {
		return nil, mapErr(err, "conversation")
	}
	if m.AuthorKind == content.AuthorParent {
		err = s.markStaffUnread(ctx, d.SchoolID, d.ID, d.StaffIDs)
	} else {
		err = s.markStaffRead(ctx, d.SchoolID, d.ID, m.AuthorID)
	}
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// DeleteMessageBody blanks the message in place: messages are only ever
// appended, so its index is stable.
func (s *Store) DeleteMessageBody(ctx context.Context, convID, messageID string, at time.Time) error {
	cur, err := s.Conversation(ctx, convID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cur.Messages, func(m content.ConversationMessage) bool { return m.ID == messageID })
	if i < 0 {
		return content.Errorf(content.CodeNotFound, "no such message")
	}
	if cur.Messages[i].Deleted() {
		return nil
	}
	p := "messages." + strconv.Itoa(i) + "."
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err = s.c(colConversations).UpdateOne(ctx, bson.D{{Key: "_id", Value: convID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: p + "body", Value: ""}, {Key: p + "deletedAt", Value: at.UTC()}}}})
	return mapErr(err, "conversation")
}

func (s *Store) MarkConversationRead(ctx context.Context, convID, staffID string) error {
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var update bson.D
	if staffID == "" {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "parentUnread", Value: false}}}}
	} else {
		update = bson.D{{Key: "$pull", Value: bson.D{{Key: "unreadBy", Value: staffID}}}}
	}
	var d conversationDoc
	err := s.c(colConversations).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: convID}}, update).Decode(&d)
	if err != nil {
		return mapErr(err, "conversation")
	}
	if staffID == "" {
		return nil
	}
	return s.markStaffRead(ctx, d.SchoolID, convID, staffID)
}

// summaries lists threads matching filter, newest first, without messages.
func (s *Store) summaries(ctx context.Context, filter bson.D) ([]*content.Conversation, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	cur, err := s.r(colConversations).Find(ctx, filter, options.Find().
		SetProjection(bson.D{{Key: "messages", Value: 0}}).SetSort(bson.D{{Key: "lastAt", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, mapErr(err, "conversations")
	}
	var docs []conversationDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "conversations")
	}
	out := make([]*content.Conversation, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].toContent())
	}
	return out, nil
}

func (s *Store) ConversationsOfParent(ctx context.Context, parentID string) ([]*content.Conversation, error) {
	return s.summaries(ctx, bson.D{{Key: "parentId", Value: parentID}})
}

func (s *Store) ConversationsOfSchool(ctx context.Context, schoolID string, f content.ConversationFilter) ([]*content.Conversation, error) {
	filter := bson.D{{Key: "schoolId", Value: schoolID}}
	if f.ClassID != "" {
		filter = append(filter, bson.E{Key: "classId", Value: f.ClassID})
	}
	all, err := s.summaries(ctx, filter)
	if err != nil || f.StaffID == "" {
		return all, err
	}
	out := all[:0]
	for _, c := range all {
		if slices.Contains(c.StaffIDs, f.StaffID) || slices.Contains(f.ClassIDs, c.ClassID) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Store) AwaitingReplySince(ctx context.Context, before time.Time) ([]*content.Conversation, error) {
	all, err := s.summaries(ctx, bson.D{{Key: "awaitingReply", Value: true}})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if c.LastParentAt.Before(before) {
			out = append(out, c)
		}
	}
	return out, nil
}

type conversationStaffDoc struct {
	ID     string   `bson:"_id"`
	Unread []string `bson:"unread"`
}

func (s *Store) StaffUnreadCount(ctx context.Context, staffID string, schoolIDs []string) (int, error) {
	n := 0
	for _, sc := range schoolIDs {
		d, err := getByID[conversationStaffDoc](ctx, s, colConversationStaff, conversationStaffID(staffID, sc), "staff conversations")
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return 0, err
		}
		n += len(d.Unread)
	}
	return n, nil
}

// ParentsByPhone scans parents by mobile (indexed on MongoDB): texts from
// parents are rare next to everything else the store serves.
func (s *Store) ParentsByPhone(ctx context.Context, e164 string) ([]string, error) {
	if e164 == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	return distinctIDs(ctx, s, colParents, bson.D{{Key: "phone", Value: e164}})
}

func (s *Store) CountUnknownInbound(ctx context.Context, day string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colInboundUnknown).UpdateOne(ctx, bson.D{{Key: "_id", Value: day}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "texts", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	return mapErr(err, "inbound counts")
}

// Erasure of conversations. A parent's threads go whole (every message in
// them is about their family), with the thread ids in staff unread sets
// and the staff messages' bodies carried as parameters of the broadcasts
// that told the parent of them.
func eraseConversations(ctx context.Context, s *Store, filter bson.D) (int64, error) {
	threads, err := s.summaries(ctx, filter)
	if err != nil {
		return 0, err
	}
	if len(threads) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(threads))
	for _, c := range threads {
		ids = append(ids, c.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	// The embedded store takes $pull of plain values only: one id at a time.
	for _, id := range ids {
		if _, err := s.c(colConversationStaff).UpdateMany(ctx, bson.D{{Key: "unread", Value: id}},
			bson.D{{Key: "$pull", Value: bson.D{{Key: "unread", Value: id}}}}); err != nil {
			return 0, mapErr(err, "staff conversations")
		}
	}
	if _, err := s.c(colBroadcasts).UpdateMany(ctx, bson.D{{Key: "params.conversation_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "params.message_body", Value: ""}}}}); err != nil {
		return 0, mapErr(err, "broadcasts")
	}
	res, err := s.c(colConversations).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, mapErr(err, "conversations")
	}
	return res.DeletedCount, nil
}

func eraseConversationsOfParent(ctx context.Context, s *Store, id string) (int64, error) {
	return eraseConversations(ctx, s, bson.D{{Key: "parentId", Value: id}})
}

func eraseConversationsOfChild(ctx context.Context, s *Store, id string) (int64, error) {
	return eraseConversations(ctx, s, bson.D{{Key: "childId", Value: id}})
}

func eraseConversationsOfSchool(ctx context.Context, s *Store, id string) (int64, error) {
	n, err := eraseConversations(ctx, s, bson.D{{Key: "schoolId", Value: id}})
	if err != nil {
		return n, err
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	res, err := s.c(colConversationStaff).DeleteMany(ctx, bson.D{{Key: "schoolId", Value: id}})
	if err != nil {
		return n, mapErr(err, "staff conversations")
	}
	return n + res.DeletedCount, nil
}

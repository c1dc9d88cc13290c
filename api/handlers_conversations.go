package api

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Conversations: a thread between one parent and the staff of a class
// about one child. A parent writes to their child's class teachers; staff
// may start a thread with a family. A parent's message queues a push to
// the thread's staff (TypeNotifyStaff, IDs only); a staff message reaches
// the parent as a one-recipient broadcast (template conversation_message)
// through the ledger, so exactly-once, suppression, quiet hours and the
// SMS budget apply as to every other message, and as an item in the
// parent's inbox.
//
// Answers to POSTs carry no message bodies: the caller has what they sent,
// and an Idempotency-Key answer is stored.

type conversationDTO struct {
	ID            string                   `json:"id"`
	SchoolID      string                   `json:"school_id"`
	ClassID       string                   `json:"class_id"`
	ChildID       string                   `json:"child_id"`
	ParentID      string                   `json:"parent_id,omitempty"` // staff views only
	State         string                   `json:"state"`
	BySMS         bool                     `json:"by_sms"`
	Unread        bool                     `json:"unread"`
	AwaitingReply *bool                    `json:"awaiting_reply,omitempty"` // staff views only
	MessageCount  int                      `json:"message_count"`
	CreatedAt     time.Time                `json:"created_at"`
	LastMessageAt time.Time                `json:"last_message_at"`
	Messages      []conversationMessageDTO `json:"messages,omitempty"`
}

type conversationMessageDTO struct {
	ID        string     `json:"id"`
	Author    string     `json:"author"` // parent | staff
	AuthorID  string     `json:"author_id,omitempty"`
	Mine      bool       `json:"mine"`
	Body      *string    `json:"body"` // null once deleted
	Deleted   bool       `json:"deleted"`
	Via       string     `json:"via"`
	CreatedAt time.Time  `json:"created_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// postedMessageDTO answers a POST: the message without its body.
type postedMessageDTO struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Author         string    `json:"author"`
	Via            string    `json:"via"`
	CreatedAt      time.Time `json:"created_at"`
}

type newParentConversationRequest struct {
	ChildID string `json:"child_id"`
	Body    string `json:"body"`
}

type newStaffConversationRequest struct {
	ParentID string `json:"parent_id"`
	ChildID  string `json:"child_id"`
	Body     string `json:"body"`
}

type newMessageRequest struct {
	Body string `json:"body"`
}

// toConversationDTO shapes a thread for the caller: staff see the parent
// id and whether it awaits a reply; a parent sees authors as parent or
// staff, and which messages are their own.
func toConversationDTO(c *content.Conversation, p *content.Principal, withMessages bool) conversationDTO {
	out := conversationDTO{ID: c.ID, SchoolID: c.SchoolID, ClassID: c.ClassID, ChildID: c.ChildID, State: string(c.State),
		BySMS: c.BySMS, MessageCount: c.MessageCount, CreatedAt: c.CreatedAt, LastMessageAt: c.LastAt}
	if p.Kind == content.KindStaff {
		out.ParentID = c.ParentID
		aw := c.AwaitingReply
		out.AwaitingReply = &aw
		out.Unread = c.UnreadFor(p.ID())
	} else {
		out.Unread = c.ParentUnread
	}
	if withMessages {
		out.Messages = []conversationMessageDTO{}
		for _, m := range c.Messages {
			d := conversationMessageDTO{ID: m.ID, Author: m.AuthorKind, Mine: m.AuthorID == p.ID(), Via: m.Via,
				CreatedAt: m.CreatedAt, Deleted: m.Deleted(), DeletedAt: timePtr(m.DeletedAt)}
			if p.Kind == content.KindStaff && m.AuthorKind == content.AuthorStaff {
				d.AuthorID = m.AuthorID
			}
			if !m.Deleted() {
				body := m.Body
				d.Body = &body
			}
			out.Messages = append(out.Messages, d)
		}
	}
	return out
}

func messageBodyField(body string, fe content.FieldErrors) string {
	clean, ok := content.CleanMessageBody(body)
	if !ok {
		fe.Add("body", "must be 1 to "+strconv.Itoa(content.MaxMessageBody)+" characters of plain text")
	}
	return clean
}

// classTeachers picks the class a child's thread is with: the first of the
// child's classes (in id order) that has teachers, else the first class.
func (s *server) classTeachers(ctx context.Context, child *content.Child) (*content.Class, error) {
	ids := slices.Clone(child.ClassIDs)
	slices.Sort(ids)
	var first *content.Class
	for _, id := range ids {
		cl, err := s.Roster.Class(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if cl.SchoolID != child.SchoolID {
			continue
		}
		if len(cl.TeacherIDs) > 0 {
			return cl, nil
		}
		if first == nil {
			first = cl
		}
	}
	if first == nil {
		return nil, content.Errorf(content.CodeConflict, "the child is in no class to message")
	}
	return first, nil
}

// notifyStaff queues the push to the thread's staff about a parent's message.
func (s *server) notifyStaff(ctx context.Context, conv *content.Conversation, kind, messageID string) error {
	t, err := tasks.NewNotifyStaff(tasks.NotifyStaff{Kind: kind, SchoolID: conv.SchoolID, ClassID: conv.ClassID,
		RefID: messageID, StaffIDs: slices.Clone(conv.StaffIDs)})
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, s.Tasks, t); err != nil {
		return content.Wrap(content.CodeUnavailable, err, "the message is saved but staff could not be notified; retry with the same Idempotency-Key")
	}
	return nil
}

// conversationTitles is an inbox item's title per language: the staff
// member's name and the class.
var conversationTitles = map[string]string{
	"en": "Message from %s (%s)", "cy": "Neges gan %s (%s)", "pl": "Wiadomość od: %s (%s)",
	"ur": "%s (%s) کی طرف سے پیغام", "es": "Mensaje de %s (%s)", "ro": "Mesaj de la %s (%s)", "ar": "رسالة من %s (%s)",
}

// staffDisplayName is how a staff member signs to families: "Mrs Khan".
func staffDisplayName(st *content.Staff) string {
	if st.Title != "" && st.LastName != "" {
		return st.Title + " " + st.LastName
	}
	return strings.TrimSpace(st.FirstName + " " + st.LastName)
}

// deliverToParent tells the parent of a staff message: an inbox item for
// the thread, then a one-recipient broadcast whose id is fixed by the
// message (a retry publishes the same broadcast, once).
func (s *server) deliverToParent(ctx context.Context, conv *content.Conversation, cl *content.Class, author *content.Staff,
	school *content.School, m content.ConversationMessage) error {
	parent, err := s.Roster.Parent(ctx, conv.ParentID)
	if err != nil {
		return err
	}
	lang := parent.MessageLanguage(content.CategoryReplies)
	format, ok := conversationTitles[lang]
	if !ok {
		lang, format = "en", conversationTitles["en"]
	}
	item := &content.InboxItem{ID: content.InboxItemID(parent.ID, conv.ID), ParentID: parent.ID, SchoolID: conv.SchoolID,
		Kind: content.InboxConversation, SourceID: conv.ID, Title: fmt.Sprintf(format, staffDisplayName(author), cl.Name),
		Language: lang, ChildIDs: []string{conv.ChildID}, ClassIDs: []string{conv.ClassID}, CreatedAt: m.CreatedAt}
	if err := s.Inbox.AddToInbox(ctx, []*content.InboxItem{item}); err != nil {
		return err
	}
	b := &content.Broadcast{ID: "brd_" + m.ID, SchoolID: school.ID, CreatedBy: author.ID,
		Template: string(notify.TemplateConversationMessage), Category: content.CategoryReplies,
		Params: map[string]string{"class_name": cl.Name, "message_body": m.Body, "conversation_id": conv.ID,
			"child_ids": conv.ChildID, "link": strings.TrimRight(s.AppURL, "/") + "/conversations/" + conv.ID},
		Audience: content.Audience{ParentIDs: []string{parent.ID}}, State: content.BroadcastExpanding, CreatedAt: m.CreatedAt}
	_, _, err = s.publish(ctx, b, func(prev *content.Broadcast) bool { return prev.SchoolID == school.ID },
		"the message is saved but could not be sent; retry with the same Idempotency-Key")
	return err
}

// myConversation loads :conversationId for the parent it belongs to, while
// they may still read the child; anyone else is told it does not exist.
func (s *server) myConversation(c *fiber.Ctx) (*content.Conversation, error) {
	p := principal(c)
	conv, err := s.Conversations.Conversation(c.UserContext(), c.Params("conversationId"))
	if err != nil || conv.ParentID != p.ID() || !p.CanReadChild(conv.ChildID) {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, err
		}
		return nil, content.Errorf(content.CodeNotFound, "no such conversation")
	}
	return conv, nil
}

// staffConversation loads :conversationId for staff of its school: admins,
// the thread's staff and the teachers of its class.
func (s *server) staffConversation(c *fiber.Ctx) (*content.School, *content.Conversation, *content.Class, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := c.UserContext()
	p := principal(c)
	notFound := content.Errorf(content.CodeNotFound, "no such conversation")
	conv, err := s.Conversations.Conversation(ctx, c.Params("conversationId"))
	if content.IsCode(err, content.CodeNotFound) || (err == nil && conv.SchoolID != sc.ID) {
		return nil, nil, nil, notFound
	} else if err != nil {
		return nil, nil, nil, err
	}
	cl, err := s.Roster.Class(ctx, conv.ClassID)
	if content.IsCode(err, content.CodeNotFound) {
		cl = &content.Class{ID: conv.ClassID, SchoolID: sc.ID}
	} else if err != nil {
		return nil, nil, nil, err
	}
	if !p.IsSchoolAdmin(sc) && !slices.Contains(conv.StaffIDs, p.ID()) && !(cl.SchoolID == sc.ID && p.TeachesClass(cl)) {
		return nil, nil, nil, notFound
	}
	return sc, conv, cl, nil
}

// POST /v1/me/conversations
func (s *server) startParentConversation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		return s.idempotent(c, "", func() string { return content.NewID("cnv") }, func(convID string) error {
			ctx := c.UserContext()
			var req newParentConversationRequest
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
			fe := content.FieldErrors{}
			body := messageBodyField(req.Body, fe)
			if req.ChildID == "" {
				fe.Add("child_id", "required")
			}
			if err := fe.Err(); err != nil {
				return err
			}
			// Only a child the parent is linked to (parents are linked only
			// with parental responsibility); any other id is not found.
			if !p.ParentOf(req.ChildID) {
				return &content.Error{Code: content.CodeNotFound, Message: "no such child",
					Fields: map[string]string{"child_id": "must be one of your children"}}
			}
			child, err := s.Roster.Child(ctx, req.ChildID)
			if err != nil {
				return err
			}
			if child.SchoolLink.State != content.LinkLinked {
				return content.Errorf(content.CodeConflict, "the child has left the school")
			}
			cl, err := s.classTeachers(ctx, child)
			if err != nil {
				return err
			}
			now := s.Clock.Now()
			m := content.ConversationMessage{ID: convID + "_m1", AuthorKind: content.AuthorParent, AuthorID: p.ID(),
				Body: body, Via: content.ViaApp, CreatedAt: now}
			conv := &content.Conversation{ID: convID, SchoolID: child.SchoolID, ClassID: cl.ID, ChildID: child.ID,
				ParentID: p.ID(), StaffIDs: slices.Clone(cl.TeacherIDs), State: content.ConversationOpen, CreatedAt: now,
				LastAt: now, LastParentAt: now, AwaitingReply: true, UnreadBy: slices.Clone(cl.TeacherIDs),
				Messages: []content.ConversationMessage{m}}
			if err := s.Conversations.CreateConversation(ctx, conv); content.IsCode(err, content.CodeConflict) {
				// A retry of a request that failed after creating it.
				if conv, err = s.Conversations.Conversation(ctx, convID); err != nil {
					return err
				}
				if conv.ParentID != p.ID() {
					return content.Errorf(content.CodeConflict, "this conversation already exists")
				}
			} else if err != nil {
				return err
			}
			if err := s.notifyStaff(ctx, conv, tasks.StaffNotifyMessage, m.ID); err != nil {
				return err
			}
			s.Log.Info("conversation started", "request_id", requestID(c), "conversation_id", conv.ID, "school_id", conv.SchoolID)
			return conversationCreated(c, conv, p)
		})
	}
}

// conversationCreated answers 201 with a new thread, without its messages.
func conversationCreated(c *fiber.Ctx, conv *content.Conversation, p *content.Principal) error {
	if conv.MessageCount == 0 { // a new thread: the store counts on read
		conv.MessageCount = len(conv.Messages)
	}
	conv.Messages = nil
	return c.Status(fiber.StatusCreated).JSON(toConversationDTO(conv, p, false))
}

// GET /v1/me/conversations
func (s *server) myConversations() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		all, err := s.Conversations.ConversationsOfParent(c.UserContext(), p.ID())
		if err != nil {
			return err
		}
		out := []conversationDTO{}
		for _, conv := range all {
			if p.CanReadChild(conv.ChildID) {
				out = append(out, toConversationDTO(conv, p, false))
			}
		}
		return c.JSON(listDTO[conversationDTO]{Items: out})
	}
}

// GET /v1/me/conversations/{id}: the thread with its messages; opening it
// marks it read for the parent.
func (s *server) getMyConversation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		conv, err := s.myConversation(c)
		if err != nil {
			return err
		}
		if conv.ParentUnread {
			ctx := c.UserContext()
			if err := s.Conversations.MarkConversationRead(ctx, conv.ID, ""); err != nil {
				return err
			}
			conv.ParentUnread = false
			// The thread's inbox item is read too (staff read counts).
			_, err := s.Inbox.MarkInboxRead(ctx, content.InboxItemID(conv.ParentID, conv.ID), content.ReadViaApp, s.Clock.Now())
			if err != nil && !content.IsCode(err, content.CodeNotFound) {
				return err
			}
		}
		return c.JSON(toConversationDTO(conv, principal(c), true))
	}
}

// POST /v1/me/conversations/{id}/messages
func (s *server) postMyMessage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		conv, err := s.myConversation(c)
		if err != nil {
			return err
		}
		p := principal(c)
		return s.postConversationMessage(c, conv, content.AuthorParent,
			func(context.Context) error {
				if !p.ParentOf(conv.ChildID) {
					return content.Errorf(content.CodeConflict, "the child has left the school; the conversation is read-only")
				}
				return nil
			},
			func(ctx context.Context, updated *content.Conversation, m content.ConversationMessage) error {
				return s.notifyStaff(ctx, updated, tasks.StaffNotifyReply, m.ID)
			})
	}
}

// postConversationMessage is either side's message in a thread, as one
// idempotent request: decode and check the body, let ready refuse, append
// the message by the caller, and hand the stored message (on a retry, the
// one stored first) to deliver.
func (s *server) postConversationMessage(c *fiber.Ctx, conv *content.Conversation, authorKind string,
	ready func(context.Context) error, deliver func(context.Context, *content.Conversation, content.ConversationMessage) error) error {
	p := principal(c)
	return s.idempotent(c, conv.SchoolID, func() string { return content.NewID("msg") }, func(msgID string) error {
		ctx := c.UserContext()
		var req newMessageRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		body := messageBodyField(req.Body, fe)
		if err := fe.Err(); err != nil {
			return err
		}
		if err := ready(ctx); err != nil {
			return err
		}
		m := content.ConversationMessage{ID: msgID, AuthorKind: authorKind, AuthorID: p.ID(), Body: body,
			Via: content.ViaApp, CreatedAt: s.Clock.Now()}
		updated, err := s.Conversations.AppendMessage(ctx, conv.ID, m)
		if err != nil {
			return err
		}
		if stored, ok := updated.Message(m.ID); ok {
			m = stored
		}
		if err := deliver(ctx, updated, m); err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(postedMessageDTO{ID: m.ID, ConversationID: conv.ID,
			Author: m.AuthorKind, Via: m.Via, CreatedAt: m.CreatedAt})
	})
}

// DELETE /v1/me/conversations/{id}/messages/{messageId}: a parent deletes
// their own message; its body leaves the store (and so every export).
func (s *server) deleteMyMessage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		conv, err := s.myConversation(c)
		if err != nil {
			return err
		}
		p := principal(c)
		m, ok := conv.Message(c.Params("messageId"))
		if !ok || m.AuthorKind != content.AuthorParent || m.AuthorID != p.ID() {
			return content.Errorf(content.CodeNotFound, "no such message")
		}
		if err := s.Conversations.DeleteMessageBody(c.UserContext(), conv.ID, m.ID, s.Clock.Now()); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "conversation.message.delete", conv.SchoolID, "conversation:"+conv.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// GET /v1/schools/{schoolId}/conversations: the staff inbox. Admins see the
// school's threads; teachers their classes' threads and threads they are in.
func (s *server) schoolConversations() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		f := content.ConversationFilter{ClassID: c.Query("class_id")}
		unreadOnly := false
		switch c.Query("unread") {
		case "", "false":
		case "true":
			unreadOnly = true
		default:
			return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"unread": "must be true or false"}}
		}
		if len(f.ClassID) > 64 {
			return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"class_id": "not a class id"}}
		}
		if !p.IsSchoolAdmin(sc) {
			classes, err := s.Roster.ClassesOfSchool(ctx, sc.ID)
			if err != nil {
				return err
			}
			f.StaffID = p.ID()
			for _, cl := range classes {
				if p.TeachesClass(cl) {
					f.ClassIDs = append(f.ClassIDs, cl.ID)
				}
			}
		}
		all, err := s.Conversations.ConversationsOfSchool(ctx, sc.ID, f)
		if err != nil {
			return err
		}
		out := []conversationDTO{}
		for _, conv := range all {
			if unreadOnly && !conv.UnreadFor(p.ID()) {
				continue
			}
			out = append(out, toConversationDTO(conv, p, false))
		}
		return c.JSON(listDTO[conversationDTO]{Items: out})
	}
}

// POST /v1/schools/{schoolId}/conversations: staff start a thread with a
// parent about a child they may see.
func (s *server) startStaffConversation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		p := principal(c)
		return s.idempotent(c, sc.ID, func() string { return content.NewID("cnv") }, func(convID string) error {
			ctx := c.UserContext()
			var req newStaffConversationRequest
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
			fe := content.FieldErrors{}
			body := messageBodyField(req.Body, fe)
			if req.ChildID == "" {
				fe.Add("child_id", "required")
			}
			if req.ParentID == "" {
				fe.Add("parent_id", "required")
			}
			if err := fe.Err(); err != nil {
				return err
			}
			child, err := s.Roster.Child(ctx, req.ChildID)
			if content.IsCode(err, content.CodeNotFound) || (err == nil && (child.SchoolID != sc.ID || child.SchoolLink.State != content.LinkLinked)) {
				return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
					Fields: map[string]string{"child_id": "must be a child on this school's roll"}}
			} else if err != nil {
				return err
			}
			var classes []*content.Class
			var taught *content.Class
			for _, id := range child.ClassIDs {
				cl, err := s.Roster.Class(ctx, id)
				if content.IsCode(err, content.CodeNotFound) {
					continue
				} else if err != nil {
					return err
				}
				classes = append(classes, cl)
				if taught == nil && p.TeachesClass(cl) {
					taught = cl
				}
			}
			if !p.CanSeeChildAsStaff(sc, child, classes) {
				return content.Errorf(content.CodeForbidden, "teachers may message the families of their own classes only")
			}
			if !slices.ContainsFunc(child.Parents, func(l content.ParentLink) bool {
				return l.ParentID == req.ParentID && l.State == content.LinkLinked
			}) {
				return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
					Fields: map[string]string{"parent_id": "must be a parent linked to the child"}}
			}
			cl := taught
			if cl == nil {
				if cl, err = s.classTeachers(ctx, child); err != nil {
					return err
				}
			}
			author, err := s.Roster.Staff(ctx, p.ID())
			if err != nil {
				return err
			}
			now := s.Clock.Now()
			staffIDs := slices.Clone(cl.TeacherIDs)
			if !slices.Contains(staffIDs, p.ID()) {
				staffIDs = append(staffIDs, p.ID())
			}
			m := content.ConversationMessage{ID: convID + "_m1", AuthorKind: content.AuthorStaff, AuthorID: p.ID(),
				Body: body, Via: content.ViaApp, CreatedAt: now}
			conv := &content.Conversation{ID: convID, SchoolID: sc.ID, ClassID: cl.ID, ChildID: child.ID, ParentID: req.ParentID,
				StaffIDs: staffIDs, State: content.ConversationOpen, CreatedAt: now, LastAt: now, ParentUnread: true,
				Messages: []content.ConversationMessage{m}}
			if err := s.Conversations.CreateConversation(ctx, conv); content.IsCode(err, content.CodeConflict) {
				if conv, err = s.Conversations.Conversation(ctx, convID); err != nil {
					return err
				}
				if conv.SchoolID != sc.ID {
					return content.Errorf(content.CodeConflict, "this conversation already exists")
				}
				if fm, ok := conv.Message(convID + "_m1"); ok {
					m = fm
				}
			} else if err != nil {
				return err
			}
			if err := s.deliverToParent(ctx, conv, cl, author, sc, m); err != nil {
				return err
			}
			s.audit(c, p.Kind, p.ID(), "conversation.start", sc.ID, "conversation:"+conv.ID)
			return conversationCreated(c, conv, p)
		})
	}
}

// GET /v1/schools/{schoolId}/conversations/{id}: opening it marks it read
// for the staff member.
func (s *server) getSchoolConversation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, conv, _, err := s.staffConversation(c)
		if err != nil {
			return err
		}
		p := principal(c)
		if slices.Contains(conv.UnreadBy, p.ID()) {
			if err := s.Conversations.MarkConversationRead(c.UserContext(), conv.ID, p.ID()); err != nil {
				return err
			}
			conv.UnreadBy = slices.DeleteFunc(conv.UnreadBy, func(id string) bool { return id == p.ID() })
		}
		return c.JSON(toConversationDTO(conv, p, true))
	}
}

// POST /v1/schools/{schoolId}/conversations/{id}/messages: a staff reply.
func (s *server) postStaffMessage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, conv, cl, err := s.staffConversation(c)
		if err != nil {
			return err
		}
		var author *content.Staff
		return s.postConversationMessage(c, conv, content.AuthorStaff,
			func(ctx context.Context) error {
				author, err = s.Roster.Staff(ctx, principal(c).ID())
				return err
			},
			func(ctx context.Context, updated *content.Conversation, m content.ConversationMessage) error {
				return s.deliverToParent(ctx, updated, cl, author, sc, m)
			})
	}
}

// staffUnreadConversations counts the caller's unread threads across the
// schools they hold a role at: one read by _id per school.
func (s *server) staffUnreadConversations(ctx context.Context, st *content.Staff) (int, error) {
	ids := make([]string, 0, len(st.Schools))
	for _, sr := range st.Schools {
		ids = append(ids, sr.SchoolID)
	}
	return s.Conversations.StaffUnreadCount(ctx, st.ID, ids)
}

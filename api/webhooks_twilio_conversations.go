package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// inboundToConversation files a text that is not a keyword. From a number
// no parent has, nothing is kept but a count for the day. From a parent it
// becomes a message (via sms) in their most recent open conversation, or in
// a new one with the class teachers of their first linked child; the
// thread's staff get a push. The message id is derived from the
// MessageSid, and the text is recorded as delivered first, so Twilio's
// retries store it once; if filing it fails the record is forgotten and
// Twilio's retry files it.
func (s *server) inboundToConversation(ctx context.Context, log *slog.Logger, form url.Values) error {
	sid := form.Get("MessageSid")
	if sid == "" {
		return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
			Fields: map[string]string{"MessageSid": "required"}}
	}
	event := "twilio:inbound:" + sid
	first, err := s.WebhookEvents.FirstDelivery(ctx, event, s.Clock.Now())
	if err != nil {
		return fmt.Errorf("twilio inbound: %w", err)
	}
	if !first {
		log.Info("twilio inbound: repeated text; already filed")
		return nil
	}
	filed, err := s.fileInboundText(ctx, log, sid, form.Get("From"), form.Get("Body"))
	if err != nil {
		if ferr := s.WebhookEvents.ForgetDelivery(context.WithoutCancel(ctx), event); ferr != nil {
			log.Error("twilio inbound: could not forget a failed text; a retry will skip it", "err", ferr)
		}
		return fmt.Errorf("twilio inbound text: %w", err)
	}
	if !filed {
		if err := s.Conversations.CountUnknownInbound(ctx, s.Clock.Now().UTC().Format("2006-01-02")); err != nil {
			log.Error("twilio inbound: could not count a text from an unknown number", "err", err)
		}
		log.Info("twilio inbound: text from a number no parent has; counted, not kept")
	}
	return nil
}

// fileInboundText stores the text; filed is false when no parent who may
// still be messaged has the number (or the text is empty).
func (s *server) fileInboundText(ctx context.Context, log *slog.Logger, sid, from, body string) (filed bool, err error) {
	e164 := normalizePhone(from, "GB")
	body = strings.TrimSpace(body)
	if e164 == "" || body == "" {
		return false, nil
	}
	if r := []rune(body); len(r) > content.MaxMessageBody {
		body = string(r[:content.MaxMessageBody])
	}
	if clean, ok := content.CleanMessageBody(body); ok {
		body = clean
	} else {
		body = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\n' && r != '\t' {
				return ' '
			}
			return r
		}, body)
	}
	ids, err := s.Conversations.ParentsByPhone(ctx, e164)
	if err != nil {
		return false, err
	}
	slices.Sort(ids)
	var parents []*content.Parent
	for _, id := range ids {
		p, err := s.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return false, err
		}
		if p.State == content.ParentClosed || p.State == content.ParentErased {
			continue
		}
		parents = append(parents, p)
	}
	if len(parents) == 0 {
		return false, nil
	}
	// The most recent open thread of any parent with the number (a shared
	// family phone), about a child they are still linked to.
	var target *content.Conversation
	var author *content.Parent
	for _, p := range parents {
		threads, err := s.Conversations.ConversationsOfParent(ctx, p.ID)
		if err != nil {
			return false, err
		}
		for _, t := range threads {
			if t.State != content.ConversationOpen || t.MessageCount >= content.MaxConversationMessages {
				continue
			}
			if _, ok := p.LinkedChild(t.ChildID); !ok {
				continue
			}
			if target == nil || t.LastAt.After(target.LastAt) {
				target, author = t, p
			}
		}
	}
	now := s.Clock.Now()
	m := content.ConversationMessage{ID: content.ConversationMessageID(sid), AuthorKind: content.AuthorParent,
		Body: body, Via: content.ViaSMS, CreatedAt: now}
	if target != nil {
		m.AuthorID = author.ID
		conv, err := s.Conversations.AppendMessage(ctx, target.ID, m)
		if err != nil {
			return false, err
		}
		log.Info("twilio inbound: text filed", "conversation_id", conv.ID)
		return true, s.notifyStaff(ctx, conv, tasks.StaffNotifyReply, m.ID)
	}
	// No thread yet: a new one with the class teachers of the first child
	// (in id order) of the first parent with a linked child.
	for _, p := range parents {
		links := slices.Clone(p.Children)
		slices.SortFunc(links, func(a, b content.ChildLink) int { return strings.Compare(a.ChildID, b.ChildID) })
		for _, l := range links {
			if l.State != content.LinkLinked {
				continue
			}
			child, err := s.Roster.Child(ctx, l.ChildID)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return false, err
			}
			cl, err := s.classTeachers(ctx, child)
			if content.IsCode(err, content.CodeConflict) {
				continue
			} else if err != nil {
				return false, err
			}
			m.AuthorID = p.ID
			conv := &content.Conversation{ID: "cnv_sms_" + sid, SchoolID: child.SchoolID, ClassID: cl.ID, ChildID: child.ID,
				ParentID: p.ID, StaffIDs: slices.Clone(cl.TeacherIDs), State: content.ConversationOpen, BySMS: true,
				CreatedAt: now, LastAt: now, LastParentAt: now, AwaitingReply: true, UnreadBy: slices.Clone(cl.TeacherIDs),
				Messages: []content.ConversationMessage{m}}
			if err := s.Conversations.CreateConversation(ctx, conv); err != nil && !content.IsCode(err, content.CodeConflict) {
				return false, err
			}
			log.Info("twilio inbound: text started a conversation", "conversation_id", conv.ID)
			return true, s.notifyStaff(ctx, conv, tasks.StaffNotifyMessage, m.ID)
		}
	}
	return false, nil
}

package api

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Data rights: a parent's retention timeline, closing their own account and
// erasing it; a school admin ending or resuming the subscription and
// reading erasure certificates. Everything is audited.

type retentionDTO struct {
	State    string     `json:"state"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	NoticeOn *time.Time `json:"notice_on,omitempty"`
	ClosesOn *time.Time `json:"closes_on,omitempty"`
	WarnedAt *time.Time `json:"warned_at,omitempty"`
	ErasesOn *time.Time `json:"erases_on,omitempty"`
}

func toRetentionDTO(t content.ParentTimeline) retentionDTO {
	return retentionDTO{State: string(t.State), LastSeen: timePtr(t.LastSeen), NoticeOn: timePtr(t.NoticeOn),
		ClosesOn: timePtr(t.ClosesOn), WarnedAt: timePtr(t.WarnedAt), ErasesOn: timePtr(t.ErasedOn)}
}

func parentClockOf(p *content.Parent) content.ParentClock {
	return content.ParentClock{ID: p.ID, State: p.State, LastActiveAt: p.LastActiveAt, WarnedAt: p.WarnedAt,
		ClosedAt: p.ClosedAt, CreatedAt: p.CreatedAt}
}

// myRetention is "your account closes on …": the parent's clocks as the
// sweeps read them. Signing in moves them on, so the app shows them fresh.
func (s *server) myRetention() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(toRetentionDTO(content.TimelineOf(parentClockOf(principal(c).Parent))))
	}
}

type closeAccountDTO struct {
	State    string     `json:"state"`
	ClosedAt *time.Time `json:"closed_at"`
	ErasesOn *time.Time `json:"erases_on"`
}

// closeMyAccount closes the caller's account at once, confirmed with the
// password (confirmPassword): every session ends
// (this request's token stops working after it), nothing more is sent,
// devices are dropped; the data is erased 90 days on.
func (s *server) closeMyAccount() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		var req passwordBody
		if err := decodeOptionalJSON(c, &req); err != nil {
			return err
		}
		if err := s.confirmPassword(c, req.Password, "account.close", "", content.SubjectParent+":"+p.ID()); err != nil {
			return err
		}
		now := s.Clock.Now()
		if err := s.Retention.CloseParent(c.UserContext(), p.ID(), now); err != nil {
			return err
		}
		s.audit(c, content.KindParent, p.ID(), "account.closed", "", content.SubjectParent+":"+p.ID())
		return c.JSON(closeAccountDTO{State: string(content.ParentClosed), ClosedAt: timePtr(now.UTC()),
			ErasesOn: timePtr(now.Add(content.EraseAfterClosure).UTC())})
	}
}

type erasureDTO struct {
	ID          string           `json:"id"`
	Subject     string           `json:"subject"`
	Reason      string           `json:"reason"`
	RequestedAt time.Time        `json:"requested_at"`
	CompletedAt *time.Time       `json:"completed_at,omitempty"`
	Stages      []string         `json:"stages"`
	Counts      map[string]int64 `json:"counts"`
}

func toErasureDTO(r *content.ErasureRecord) erasureDTO {
	d := erasureDTO{ID: r.ID, Subject: r.Subject.Kind, Reason: r.Reason, RequestedAt: r.RequestedAt.UTC(),
		CompletedAt: timePtr(r.CompletedAt), Stages: r.StagesDone, Counts: r.Counts}
	if d.Stages == nil {
		d.Stages = []string{}
	}
	if d.Counts == nil {
		d.Counts = map[string]int64{}
	}
	return d
}

// eraseMe is the right to be forgotten: confirmed with the password, the
// account closes now and the erasure chain starts now (same day). The
// answer is the erasure record as it stands; the caller's sessions end.
func (s *server) eraseMe() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p := principal(c)
		var req passwordBody
		if err := decodeOptionalJSON(c, &req); err != nil {
			return err
		}
		if err := s.confirmPassword(c, req.Password, "account.erase", "", content.SubjectParent+":"+p.ID()); err != nil {
			return err
		}
		now := s.Clock.Now()
		var schools []string
		for _, l := range p.Parent.Children {
			schools = append(schools, l.SchoolID)
		}
		subject := content.ErasureSubject{Kind: content.SubjectParent, ID: p.ID()}
		rec, _, err := s.Erasures.StartErasure(ctx, &content.ErasureRecord{Subject: subject, Reason: content.ErasureRequested,
			RequestedBy: p.ID(), SchoolIDs: schools, RequestedAt: now})
		if err != nil {
			return err
		}
		t, err := tasks.NewEraseStage(subject.Kind, subject.ID, rec.Stage)
		if err != nil {
			return err
		}
		if err := tasks.Enqueue(ctx, s.Tasks, t); err != nil {
			// The account is still open: asking again finds the record and
			// queues its chain.
			return content.Wrap(content.CodeUnavailable, err, "the erasure could not be queued; ask again")
		}
		// Closed in this request: the chain's first stage closes too, but
		// the caller must be shut out now, not when a worker gets to it.
		if err := s.Retention.CloseParent(ctx, p.ID(), now); err != nil {
			return err
		}
		s.audit(c, content.KindParent, p.ID(), "account.erase_requested", "", subject.Key())
		return c.Status(fiber.StatusAccepted).JSON(toErasureDTO(rec))
	}
}

type subscriptionStateDTO struct {
	State    string     `json:"state"`
	EndedAt  *time.Time `json:"ended_at,omitempty"`
	PurgesOn *time.Time `json:"purges_on,omitempty"`
}

func toSubscriptionDTO(sc *content.School) subscriptionStateDTO {
	d := subscriptionStateDTO{State: sc.Subscription.State, EndedAt: timePtr(sc.Subscription.EndedAt)}
	if d.State == "" {
		d.State = content.SubscriptionActive
	}
	if at, ok := content.SchoolPurgeDue(sc); ok {
		d.PurgesOn = timePtr(at)
	}
	return d
}

type endSubscriptionRequest struct {
	ConfirmSchoolName string `json:"confirm_school_name"`
	Password          string `json:"password"`
}

// endSubscription ends a school's subscription: the school keeps working
// for six weeks (time to export), then the whole school is purged. Only
// the school's admins (trust admins included) may, typing the school's
// name and their password: a slip of the wrong school or a borrowed
// session cannot start a purge. Ending again keeps the first end time.
func (s *server) endSubscription() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req endSubscriptionRequest
		if err := decodeOptionalJSON(c, &req); err != nil {
			return err
		}
		if !sameSchoolName(req.ConfirmSchoolName, sc.Name) {
			return &content.Error{Code: content.CodeUnprocessable, Message: "type the school's name to confirm",
				Fields: map[string]string{"confirm_school_name": "must be the school's name"}}
		}
		subject := content.SubjectSchool + ":" + sc.ID
		if err := s.confirmPassword(c, req.Password, "school.subscription_end", sc.ID, subject); err != nil {
			return err
		}
		if sc.Subscription.State != content.SubscriptionEnded {
			sc.Subscription = content.Subscription{State: content.SubscriptionEnded, EndedAt: s.Clock.Now()}
			if err := s.Roster.UpdateSchool(c.UserContext(), sc); err != nil {
				return err
			}
			p := principal(c)
			s.audit(c, p.Kind, p.ID(), "school.subscription_ended", sc.ID, subject)
		}
		return c.JSON(toSubscriptionDTO(sc))
	}
}

// reactivateSubscription restores an ended subscription before the purge;
// nothing was deleted, so everything is as it was. After the purge has
// started it is a conflict.
func (s *server) reactivateSubscription() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		_, err = s.Erasures.Erasure(c.UserContext(), content.ErasureSubject{Kind: content.SubjectSchool, ID: sc.ID}.Key())
		if err == nil {
			return content.Errorf(content.CodeConflict, "the school's data is being or has been purged")
		} else if !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		if sc.Subscription.State == content.SubscriptionEnded {
			sc.Subscription = content.Subscription{State: content.SubscriptionActive}
			if err := s.Roster.UpdateSchool(c.UserContext(), sc); err != nil {
				return err
			}
			p := principal(c)
			s.audit(c, p.Kind, p.ID(), "school.subscription_reactivated", sc.ID, content.SubjectSchool+":"+sc.ID)
		}
		return c.JSON(toSubscriptionDTO(sc))
	}
}

// sameSchoolName compares a typed confirmation with the school's name,
// ignoring case and runs of spaces, nothing else.
func sameSchoolName(typed, name string) bool {
	typed = strings.Join(strings.Fields(typed), " ")
	return typed != "" && strings.EqualFold(typed, strings.Join(strings.Fields(name), " "))
}

package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// ErasureAreas lists what each store area erases for a subject kind, in
// the order the areas must run (mongostore.Store.Erasers).
type ErasureAreas interface {
	Erasers(kind string) []content.AreaEraser
}

// StartErasure records an erasure for subject (once: a subject already
// being erased keeps its record) and queues the stage its record says is
// next, so asking again also restarts a chain Redis lost.
func StartErasure(ctx context.Context, store content.Erasures, q tasks.Enqueuer, subject content.ErasureSubject,
	reason, requestedBy string, schoolIDs []string, now time.Time) error {
	rec, _, err := store.StartErasure(ctx, &content.ErasureRecord{Subject: subject, Reason: reason,
		RequestedBy: requestedBy, SchoolIDs: schoolIDs, RequestedAt: now})
	if err != nil {
		return fmt.Errorf("start erasure of %s: %w", subject.Key(), err)
	}
	if rec.Complete() {
		return nil
	}
	return queueStage(ctx, q, subject, rec.Stage)
}

func queueStage(ctx context.Context, q tasks.Enqueuer, subject content.ErasureSubject, stage int) error {
	t, err := tasks.NewEraseStage(subject.Kind, subject.ID, stage)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, q, t); err != nil {
		return fmt.Errorf("queue erasure stage %d of %s: %w", stage, subject.Key(), err)
	}
	return nil
}

// Erasures runs erasure chains: one task per stage, each stage idempotent,
// the next queued when one finishes. The erasure record (by _id) says
// which stage is next, so a chain killed at any point resumes where it
// was and no stage's effect is doubled; the record's counts become the
// certificate given to the school.
type Erasures struct {
	Records      content.Erasures
	Areas        ErasureAreas
	Retention    content.Retention
	Roster       content.Roster
	Identity     content.Identity
	Suppressions content.Suppressions
	Audit        content.Audit
	Tasks        tasks.Enqueuer
	HashKey      []byte
	Clock        content.Clock
	Log          *slog.Logger
	// Outbox, when set, is the local record of sent messages (the outbox
	// adapter), which a parent's erasure also reaches.
	Outbox SentCopies
	// AfterStage, when set, runs after a stage is recorded and before the
	// next is queued (tests use it to crash a chain part-way).
	AfterStage func(subject content.ErasureSubject, stage int) error
}

// erasureStage is one step of a chain; it reports counts per store area.
type erasureStage struct {
	name string
	run  func(ctx context.Context, s content.ErasureSubject) (map[string]int64, error)
}

// stages lists a subject kind's chain. Deactivation and the suppression of
// the contacts come first (they need the account as it was); the store
// areas follow in their registered order, the subject's own document last.
func (h *Erasures) stages(kind string) []erasureStage {
	var out []erasureStage
	switch kind {
	case content.SubjectParent:
		if h.Outbox != nil {
			// First: deactivation drops the device tokens it matches.
			out = append(out, erasureStage{"outbox", h.forgetSentCopies})
		}
		out = append(out, erasureStage{"deactivate", h.deactivateParent}, erasureStage{"suppress_contacts", h.suppressContacts})
	case content.SubjectStaff:
		out = append(out, erasureStage{"deactivate", h.deactivateStaff})
	case content.SubjectSchool:
		out = append(out, erasureStage{"parents", h.schoolParents})
	}
	for _, a := range h.Areas.Erasers(kind) {
		a := a
		out = append(out, erasureStage{a.Area(), func(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
			n, err := a.Erase(ctx, s)
			return map[string]int64{a.Area(): n}, err
		}})
	}
	return out
}

// ProcessTask runs the stage the record says is next (whatever stage the
// payload names: a duplicate or stale task just helps the chain along).
func (h *Erasures) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseEraseStage(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	subject := content.ErasureSubject{Kind: p.Kind, ID: p.ID}
	stages := h.stages(p.Kind)
	{
		rec, err := h.Records.Erasure(ctx, subject.Key())
		if content.IsCode(err, content.CodeNotFound) {
			return fmt.Errorf("%w: no erasure record for %s", asynq.SkipRetry, subject.Kind)
		} else if err != nil {
			return err
		}
		if rec.Complete() {
			return nil
		}
		if rec.Stage >= len(stages) {
			now := h.Clock.Now()
			// The completion audit is written first, under an id fixed by
			// the erasure, so a crash between the two writes cannot lose it
			// (the retry writes it again and the duplicate is refused), and
			// whoever sees the record complete also finds its audit.
			if err := h.Audit.RecordAudit(ctx, &content.AuditEvent{ID: erasedAuditID(rec), At: now, ActorID: RetentionCreatedBy,
				Action: "retention.erased", SchoolID: firstOf(rec.SchoolIDs), Subject: subject.Key()}); err != nil &&
				!content.IsCode(err, content.CodeConflict) {
				return err
			}
			if err := h.Records.CompleteErasure(ctx, rec.ID, now); err != nil {
				return err
			}
			h.Log.Info("erasure complete", "subject_kind", subject.Kind, "subject_id", subject.ID, "reason", rec.Reason)
			return nil
		}
		st := stages[rec.Stage]
		counts, err := st.run(ctx, subject)
		if err != nil {
			return fmt.Errorf("erasure stage %s of %s: %w", st.name, subject.Key(), err)
		}
		if err := h.Records.FinishErasureStage(ctx, rec.ID, rec.Stage, st.name, counts, h.Clock.Now()); err != nil {
			return err
		}
		if h.AfterStage != nil {
			if err := h.AfterStage(subject, rec.Stage); err != nil {
				return err
			}
		}
		// The next stage is its own task (a crash costs one stage at most);
		// this task ends once it is queued.
		return queueStage(ctx, h.Tasks, subject, rec.Stage+1)
	}
}

func (h *Erasures) deactivateParent(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
	err := h.Retention.CloseParent(ctx, s.ID, h.Clock.Now())
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	}
	return nil, err
}

func (h *Erasures) deactivateStaff(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
	err := h.Identity.ClearAccountSessions(ctx, content.KindStaff, s.ID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	}
	return nil, err
}

// suppressContacts adds the erased parent's phone and email to the
// suppression list (keyed hashes only), so a re-import cannot message them
// again: suppression survives erasure.
func (h *Erasures) suppressContacts(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
	p, err := h.Roster.Parent(ctx, s.ID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var n int64
	for _, c := range []struct{ channel, contact string }{{content.SuppressionSMS, p.Phone}, {content.SuppressionEmail, p.Email}} {
		if c.contact == "" {
			continue
		}
		key, err := content.SuppressionKeyOf(h.HashKey, c.channel, c.contact)
		if err != nil {
			continue // not a contact that could be messaged
		}
		if err := h.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: c.channel,
			Reason: content.SuppressErasure, At: h.Clock.Now()}); err != nil {
			return nil, err
		}
		n++
	}
	return map[string]int64{"mongo:suppressions_added": n}, nil
}

// SentCopies is a local record of sent messages that an erasure must
// reach (the outbox adapter's files).
type SentCopies interface {
	// Forget removes every message to or naming one of recipients.
	Forget(ctx context.Context, recipients []string) (int64, error)
}

// forgetSentCopies removes the parent's messages from the outbox: those to
// their phone, email and device tokens, and any naming them in full.
func (h *Erasures) forgetSentCopies(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
	p, err := h.Roster.Parent(ctx, s.ID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	who := []string{p.Phone, p.Email}
	if p.FirstName != "" && p.LastName != "" {
		who = append(who, p.FirstName+" "+p.LastName)
	}
	for _, d := range p.Devices {
		who = append(who, d.Token)
	}
	n, err := h.Outbox.Forget(ctx, who)
	if err != nil {
		return nil, fmt.Errorf("forget outbox messages: %w", err)
	}
	return map[string]int64{"outbox:messages": n}, nil
}

// schoolParents handles a purged school's families: a parent whose every
// child is at this school is erased as a subject of their own; a parent
// with children elsewhere only loses this school's links; every child is
// erased as a subject of its own.
func (h *Erasures) schoolParents(ctx context.Context, s content.ErasureSubject) (map[string]int64, error) {
	var ids []string
	if err := h.Roster.EachParentOfSchool(ctx, s.ID, func(pc content.ParentContact) error {
		ids = append(ids, pc.ID)
		return nil
	}); err != nil {
		return nil, err
	}
	var erased, unlinked int64
	for _, id := range ids {
		p, err := h.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		var keep []content.ChildLink
		for _, l := range p.Children {
			if l.SchoolID != s.ID {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			if err := StartErasure(ctx, h.Records, h.Tasks, content.ErasureSubject{Kind: content.SubjectParent, ID: id},
				content.ErasureSchoolEnded, "", []string{s.ID}, h.Clock.Now()); err != nil {
				return nil, err
			}
			erased++
			continue
		}
		if err := h.Roster.SetParentChildLinks(ctx, id, keep); err != nil {
			return nil, err
		}
		unlinked++
	}
	// Children too, each as a subject of its own: their feeds, photos and
	// links go the way a purged child's do.
	kids, err := h.Roster.ChildrenOfSchool(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		if err := StartErasure(ctx, h.Records, h.Tasks, content.ErasureSubject{Kind: content.SubjectChild, ID: k.ID},
			content.ErasureSchoolEnded, "", []string{s.ID}, h.Clock.Now()); err != nil {
			return nil, err
		}
	}
	return map[string]int64{"parents_erased": erased, "parents_unlinked": unlinked, "children_erased": int64(len(kids))}, nil
}

// erasedAuditID names an erasure's completion audit: one per erasure
// request (the subject and when it was asked for), hashed so the id
// does not spell out the subject.
func erasedAuditID(rec *content.ErasureRecord) string {
	sum := sha256.Sum256([]byte(rec.ID + "|" + strconv.FormatInt(rec.RequestedAt.UnixNano(), 10)))
	return "aud_erased_" + hex.EncodeToString(sum[:12])
}

func firstOf(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

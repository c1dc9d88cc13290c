package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// InvitedSweepResult counts what one invited sweep did.
type InvitedSweepResult struct {
	Scanned, Noticed, Cancelled, Erasing int
}

// Audit actions of the invited clock. The notice is what the school sees:
// its funnel lists the family with the date it will be removed.
const (
	AuditInviteNotice       = "retention.invite_notice"
	AuditInviteNoticeCancel = "retention.invite_notice_cancelled"
)

// SweepInvited takes every parent who was invited and never joined one
// step along the invited clock (content.NextInvitedStep): the school told
// 30 days ahead, a notice withdrawn by a new invite, the parent erased 12
// months after the last invite through the staged erasure chain. Every
// step is read from stored state, so a second run the same day finds
// nothing to do, and a run after missed days catches up (a parent never
// noticed is noticed first, and erased 30 days on).
func (h *RetentionSweeps) SweepInvited(ctx context.Context) (InvitedSweepResult, error) {
	var res InvitedSweepResult
	now := h.Clock.Now()
	type step struct {
		c    content.InvitedClock
		step content.InvitedStep
	}
	var due []step
	err := h.Invited.EachInvitedClock(ctx, func(c content.InvitedClock) error {
		res.Scanned++
		if s := content.NextInvitedStep(c, now); s != content.InvitedStepNone {
			due = append(due, step{c, s})
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("stream invited parents: %w", err)
	}
	for _, d := range due {
		subject := content.SubjectParent + ":" + d.c.ID
		switch d.step {
		case content.InvitedStepNotice:
			if err := h.Invited.NoteInviteNotice(ctx, d.c.ID, now, d.c.LastInviteAt); err != nil {
				return res, fmt.Errorf("note invite notice %s: %w", d.c.ID, err)
			}
			for _, school := range d.c.SchoolIDs {
				h.auditSchool(ctx, AuditInviteNotice, school, subject, now)
			}
			res.Noticed++
		case content.InvitedStepCancelNotice:
			if err := h.Invited.CancelInviteNotice(ctx, d.c.ID); err != nil {
				return res, fmt.Errorf("cancel invite notice %s: %w", d.c.ID, err)
			}
			for _, school := range d.c.SchoolIDs {
				h.auditSchool(ctx, AuditInviteNoticeCancel, school, subject, now)
			}
			res.Cancelled++
		case content.InvitedStepErase:
			if err := StartErasure(ctx, h.Erasures, h.Tasks, content.ErasureSubject{Kind: content.SubjectParent, ID: d.c.ID},
				content.ErasureInviteExpired, "", d.c.SchoolIDs, now); err != nil {
				return res, err
			}
			res.Erasing++
		}
	}
	h.Log.Info("invited retention sweep", "scanned", res.Scanned, "noticed", res.Noticed, "cancelled", res.Cancelled,
		"erasing", res.Erasing)
	return res, nil
}

// ExpiredExports is what the export sweep needs of the store.
type ExpiredExports interface {
	// DeleteExpiredExports deletes the archive of every export whose link
	// expired by now and reports how many it deleted.
	DeleteExpiredExports(ctx context.Context, now time.Time) (int64, error)
}

// SweepExports deletes every export archive (a parent's, a co-parent's or
// a school's) whose 24-hour link has expired. The record stays, reading
// as expired.
func (h *RetentionSweeps) SweepExports(ctx context.Context) (int64, error) {
	n, err := h.Exports.DeleteExpiredExports(ctx, h.Clock.Now())
	if err != nil {
		return n, fmt.Errorf("delete expired exports: %w", err)
	}
	h.Log.Info("export retention sweep", "archives_deleted", n)
	return n, nil
}

func (h *RetentionSweeps) auditSchool(ctx context.Context, action, school, subject string, at time.Time) {
	if err := h.Audit.RecordAudit(ctx, &content.AuditEvent{ID: content.NewID("aud"), At: at, ActorID: RetentionCreatedBy,
		Action: action, SchoolID: school, Subject: subject}); err != nil {
		h.Log.Warn("audit failed", "action", action, "err", err)
	}
}

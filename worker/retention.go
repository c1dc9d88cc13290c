package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// RetentionSweeps runs the retention clocks of DESIGN.md. Each sweep does
// everything due as of the time it runs, from stored state alone
// (content.NextParentStep and friends), so a sweep that runs twice changes
// nothing the second time and a sweep after missed days catches up in one
// run. The daily TaskID (tasks.NewRetentionSweep) keeps a day's sweep from
// being queued twice.
type RetentionSweeps struct {
	Store    content.Retention
	Roster   content.Roster
	Ledger   content.Ledger
	Erasures content.Erasures
	Audit    content.Audit
	Tasks    Enqueuer
	Clock    content.Clock
	Log      *slog.Logger
	AppURL   string
}

// noticeChunk bounds the parents named in one inactivity-notice broadcast.
const noticeChunk = 1000

// RetentionCreatedBy marks broadcasts and audit events the sweeps make.
const RetentionCreatedBy = "system:retention"

// Tick queues today's sweeps; a sweep already queued or run today is a
// TaskID conflict, which is the point.
func (h *RetentionSweeps) Tick(ctx context.Context, _ *asynq.Task) error {
	day := content.DayKey(h.Clock.Now())
	for _, kind := range tasks.SweepKinds {
		t, err := tasks.NewRetentionSweep(kind, day)
		if err != nil {
			return err
		}
		if _, err := h.Tasks.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("queue %s sweep: %w", kind, err)
		}
	}
	return nil
}

// ProcessTask runs one day's sweep of one kind.
func (h *RetentionSweeps) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseRetentionSweep(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	switch p.Kind {
	case tasks.SweepParents:
		_, err = h.SweepParents(ctx)
	case tasks.SweepChildren:
		err = h.SweepChildren(ctx)
	case tasks.SweepSchools:
		err = h.SweepSchools(ctx)
	case tasks.SweepStaff:
		err = h.SweepStaff(ctx)
	case tasks.SweepAudit:
		err = h.SweepAudit(ctx)
	default:
		return fmt.Errorf("%w: unknown sweep %q", asynq.SkipRetry, p.Kind)
	}
	return err
}

// ParentSweepResult counts what one parent sweep did.
type ParentSweepResult struct {
	// Scanned counts the parents the store streamed (those the sweep
	// filter admits), not every parent.
	Scanned, Warned, Cancelled, Closed, Erasing int
	NoticeBroadcasts                            []string
	// Time spent streaming, then in each kind of write.
	ScanTime, CancelTime, WarnTime, CloseTime, EraseTime time.Duration
}

// noticeGroup is one inactivity notice: parents of one school whose
// accounts close on the same day, so the notice can name that day.
type noticeGroup struct {
	schoolID string
	closeDay string
}

// SweepParents takes every parent one step along their clock: one streamed
// pass over a projection of the parents that may have a step due, then
// batched writes by _id.
func (h *RetentionSweeps) SweepParents(ctx context.Context) (ParentSweepResult, error) {
	now, start := h.Clock.Now(), time.Now()
	var res ParentSweepResult
	warn := map[noticeGroup][]string{}
	var cancel, closeIDs, erase []string
	unreachable := 0
	// The store leaves out parents with nothing due (most of them); the
	// clocks below still decide for each one streamed.
	err := h.Store.EachSweepParentClock(ctx, content.ParentSweepFilterAt(now), func(pc content.ParentClock) error {
		res.Scanned++
		switch content.NextParentStep(pc, now) {
		case content.StepWarn:
			if pc.SchoolID == "" {
				// No linked child, so no school to send under: the clock
				// still runs (warned now, closed 30 days on).
				unreachable++
			}
			pc.WarnedAt = now
			g := noticeGroup{schoolID: pc.SchoolID, closeDay: content.DayKey(pc.CloseDue())}
			warn[g] = append(warn[g], pc.ID)
		case content.StepCancelWarning:
			cancel = append(cancel, pc.ID)
		case content.StepClose:
			closeIDs = append(closeIDs, pc.ID)
		case content.StepErase:
			erase = append(erase, pc.ID)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("stream parents: %w", err)
	}
	mark := time.Now()
	res.ScanTime = mark.Sub(start)
	if err := h.Store.CancelWarnings(ctx, cancel); err != nil {
		return res, fmt.Errorf("cancel warnings: %w", err)
	}
	res.Cancelled = len(cancel)
	res.CancelTime, mark = time.Since(mark), time.Now()
	groups := make([]noticeGroup, 0, len(warn))
	for g := range warn {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b noticeGroup) int {
		return strings.Compare(a.schoolID+"|"+a.closeDay, b.schoolID+"|"+b.closeDay)
	})
	for _, g := range groups {
		ids := warn[g]
		slices.Sort(ids)
		for len(ids) > 0 {
			n := min(len(ids), noticeChunk)
			id, err := h.notice(ctx, g, ids[:n], now)
			if err != nil {
				return res, err
			}
			if id != "" {
				res.NoticeBroadcasts = append(res.NoticeBroadcasts, id)
			}
			res.Warned += n
			ids = ids[n:]
		}
	}
	res.WarnTime, mark = time.Since(mark), time.Now()
	for _, id := range closeIDs {
		if err := h.Store.CloseParent(ctx, id, now); err != nil {
			return res, fmt.Errorf("close parent %s: %w", id, err)
		}
		h.audit(ctx, "retention.closed", content.SubjectParent+":"+id, now)
		res.Closed++
	}
	res.CloseTime, mark = time.Since(mark), time.Now()
	for _, id := range erase {
		if err := StartErasure(ctx, h.Erasures, h.Tasks, content.ErasureSubject{Kind: content.SubjectParent, ID: id},
			content.ErasureAfterClosure, "", nil, now); err != nil {
			return res, err
		}
		res.Erasing++
	}
	res.EraseTime = time.Since(mark)
	h.Log.Info("parent retention sweep", "scanned", res.Scanned, "warned", res.Warned, "cancelled", res.Cancelled,
		"closed", res.Closed, "erasing", res.Erasing, "warned_without_school", unreachable)
	return res, nil
}

// notice writes one inactivity-notice broadcast for ids, then marks them
// warned, then queues its expansion. The broadcast id is derived from the
// day and the parents, so a sweep re-run after a crash between the steps
// finds the same broadcast (a conflict) and finishes the job without a
// second notice. The broadcast names parents only (IDs); the pipeline
// picks each one's language and channel and skips closed accounts.
func (h *RetentionSweeps) notice(ctx context.Context, g noticeGroup, ids []string, now time.Time) (string, error) {
	if g.schoolID == "" {
		return "", h.Store.WarnParents(ctx, ids, now)
	}
	sum := sha256.New()
	sum.Write([]byte(content.DayKey(now) + "|" + g.schoolID + "|" + g.closeDay))
	for _, id := range ids {
		sum.Write([]byte("|" + id))
	}
	id := "brd_inactivity_" + content.DayKey(now) + "_" + hex.EncodeToString(sum.Sum(nil))[:20]
	b := &content.Broadcast{ID: id, SchoolID: g.schoolID, CreatedBy: RetentionCreatedBy,
		Template: string(notify.TemplateInactivityNotice), Category: "account",
		Params:   map[string]string{"close_date": g.closeDay, "link": strings.TrimRight(h.AppURL, "/") + "/signin"},
		Audience: content.Audience{ParentIDs: slices.Clone(ids)}, State: content.BroadcastExpanding, CreatedAt: now}
	if err := h.Ledger.CreateBroadcast(ctx, b); err != nil && !content.IsCode(err, content.CodeConflict) {
		return "", fmt.Errorf("create notice broadcast: %w", err)
	}
	if err := h.Store.WarnParents(ctx, ids, now); err != nil {
		return "", fmt.Errorf("warn parents: %w", err)
	}
	t, err := tasks.NewExpandBroadcast(id)
	if err != nil {
		return "", err
	}
	if _, err := h.Tasks.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return "", fmt.Errorf("queue notice expansion: %w", err)
	}
	return id, nil
}

// SweepChildren starts the purge of every child removed by the school and
// by every parent at least 90 days ago.
func (h *RetentionSweeps) SweepChildren(ctx context.Context) error {
	now := h.Clock.Now()
	var due []*content.Child
	err := h.Store.EachChildPurgeClock(ctx, func(c *content.Child) error {
		if at, ok := content.ChildPurgeDue(c); ok && !now.Before(at) {
			due = append(due, &content.Child{ID: c.ID, SchoolID: c.SchoolID})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stream children: %w", err)
	}
	for _, c := range due {
		if err := StartErasure(ctx, h.Erasures, h.Tasks, content.ErasureSubject{Kind: content.SubjectChild, ID: c.ID},
			content.ErasureChildRemoved, "", []string{c.SchoolID}, now); err != nil {
			return err
		}
	}
	h.Log.Info("child retention sweep", "purging", len(due))
	return nil
}

// SweepSchools starts the purge of every school six weeks past the end of
// its subscription. A school reactivated before then is no longer ended
// and is not touched.
func (h *RetentionSweeps) SweepSchools(ctx context.Context) error {
	now := h.Clock.Now()
	schools, err := h.Store.EndedSchools(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, s := range schools {
		if at, ok := content.SchoolPurgeDue(s); ok && !now.Before(at) {
			if err := StartErasure(ctx, h.Erasures, h.Tasks, content.ErasureSubject{Kind: content.SubjectSchool, ID: s.ID},
				content.ErasureSchoolEnded, "", []string{s.ID}, now); err != nil {
				return err
			}
			n++
		}
	}
	h.Log.Info("school retention sweep", "purging", n)
	return nil
}

// SweepStaff starts the deletion of staff idle for two years.
func (h *RetentionSweeps) SweepStaff(ctx context.Context) error {
	now := h.Clock.Now()
	var due []string
	err := h.Store.EachStaffClock(ctx, func(id string, last, created time.Time) error {
		if !now.Before(content.StaffDeleteDue(last, created)) {
			due = append(due, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stream staff: %w", err)
	}
	for _, id := range due {
		if err := StartErasure(ctx, h.Erasures, h.Tasks, content.ErasureSubject{Kind: content.SubjectStaff, ID: id},
			content.ErasureStaffInactive, "", nil, now); err != nil {
			return err
		}
	}
	h.Log.Info("staff retention sweep", "deleting", len(due))
	return nil
}

// SweepAudit deletes audit events older than 12 months.
func (h *RetentionSweeps) SweepAudit(ctx context.Context) error {
	n, err := h.Store.DeleteAuditBefore(ctx, content.AuditCutoff(h.Clock.Now()))
	if err != nil {
		return err
	}
	h.Log.Info("audit retention sweep", "deleted", n)
	return nil
}

func (h *RetentionSweeps) audit(ctx context.Context, action, subject string, at time.Time) {
	if h.Audit == nil {
		return
	}
	if err := h.Audit.RecordAudit(ctx, &content.AuditEvent{ID: content.NewID("aud"), At: at, ActorID: RetentionCreatedBy,
		Action: action, Subject: subject}); err != nil {
		h.Log.Warn("audit failed", "action", action, "err", err)
	}
}

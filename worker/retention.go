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

// RetentionSweeps runs the retention clocks (content/retention.go) once a
// day, one sweep per kind (tasks.SweepKinds: parents, children, schools,
// staff, audit events, invited parents, export archives). Each sweep does
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
	// Invited runs the invited clock, Exports deletes expired export
	// archives.
	Invited content.InvitedRetention
	Exports ExpiredExports
	Tasks   tasks.Enqueuer
	Clock   content.Clock
	Log     *slog.Logger
	AppURL  string
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
		if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
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
	case tasks.SweepInvited:
		_, err = h.SweepInvited(ctx)
	case tasks.SweepExports:
		_, err = h.SweepExports(ctx)
	default:
		return fmt.Errorf("%w: unknown sweep %q", asynq.SkipRetry, p.Kind)
	}
	return err
}

// ParentSweepResult counts what one parent sweep did.
type ParentSweepResult struct {
	// Scanned counts the parents the store streamed (those the sweep
	// filter does not skip), not every parent.
	Scanned, Warned, Cancelled, Closed, Erasing int
	NoticeBroadcasts                            []string
	// Time spent streaming, then in each kind of write. Cancelling,
	// closing and erasing run during the stream, so their times overlap
	// ScanTime; warning follows it.
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
// writes by _id.
//
// Cancellations, closures and erasures are written while the stream runs
// (parentSteps): on the embedded store the stream is a read, served beside
// the writes, so the two use both cores instead of one after the other.
// Notices wait for the end of the stream: a notice's parents are the
// sorted members of a (school, closing day) group, chunked, so a re-run
// after a crash forms the same chunks and finds the same broadcasts.
func (h *RetentionSweeps) SweepParents(ctx context.Context) (ParentSweepResult, error) {
	now, start := h.Clock.Now(), time.Now()
	var res ParentSweepResult
	warn := map[noticeGroup][]string{}
	unreachable := 0

	ctx, cancelSteps := context.WithCancel(ctx)
	defer cancelSteps()
	steps := &parentSteps{h: h, now: now, in: make(chan parentStep, parentStepQueue), done: make(chan struct{})}
	go steps.run(ctx)
	err := h.Store.EachSweepParentClock(ctx, content.ParentSweepFilterAt(now), func(pc content.ParentClock) error {
		res.Scanned++
		switch step := content.NextParentStep(pc, now); step {
		case content.StepWarn:
			if pc.SchoolID == "" {
				// No linked child, so no school to send under: the clock
				// still runs (warned now, closed 30 days on).
				unreachable++
			}
			pc.WarnedAt = now
			g := noticeGroup{schoolID: pc.SchoolID, closeDay: content.DayKey(pc.CloseDue())}
			warn[g] = append(warn[g], pc.ID)
		case content.StepCancelWarning, content.StepClose, content.StepErase:
			select {
			case steps.in <- parentStep{step: step, id: pc.ID}:
			case <-steps.done: // failed: its error is returned below
				return context.Canceled
			}
		}
		return nil
	})
	res.ScanTime = time.Since(start)
	if err != nil {
		cancelSteps() // the sweep fails anyway: write no more
	}
	close(steps.in)
	<-steps.done
	res.Cancelled, res.Closed, res.Erasing = steps.cancelled, steps.closed, steps.erasing
	res.CancelTime, res.CloseTime, res.EraseTime = steps.cancelTime, steps.closeTime, steps.eraseTime
	if steps.err != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return res, steps.err
	}
	if err != nil {
		return res, fmt.Errorf("stream parents: %w", err)
	}

	mark := time.Now()
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
	res.WarnTime = time.Since(mark)
	h.Log.Info("parent retention sweep", "scanned", res.Scanned, "warned", res.Warned, "cancelled", res.Cancelled,
		"closed", res.Closed, "erasing", res.Erasing, "warned_without_school", unreachable)
	return res, nil
}

// parentStepQueue bounds the steps streamed ahead of their writes.
const parentStepQueue = 4096

// cancelBatch is how many cancelled warnings go to the store at once.
const cancelBatch = 256

type parentStep struct {
	step content.ParentStep
	id   string
}

// parentSteps writes the cancellations, closures and erasures of a sweep
// as the stream finds them. After done is closed, err is the first error
// (and nothing more was written) and the counts and times are final.
type parentSteps struct {
	h    *RetentionSweeps
	now  time.Time
	in   chan parentStep
	done chan struct{}

	err                              error
	cancelled, closed, erasing       int
	cancelTime, closeTime, eraseTime time.Duration
}

func (w *parentSteps) run(ctx context.Context) {
	defer close(w.done)
	var cancel []string
	flush := func() error {
		if len(cancel) == 0 {
			return nil
		}
		t := time.Now()
		if err := w.h.Store.CancelWarnings(ctx, cancel); err != nil {
			return fmt.Errorf("cancel warnings: %w", err)
		}
		w.cancelled += len(cancel)
		w.cancelTime += time.Since(t)
		cancel = cancel[:0]
		return nil
	}
	for s := range w.in {
		t := time.Now()
		switch s.step {
		case content.StepCancelWarning:
			if cancel = append(cancel, s.id); len(cancel) >= cancelBatch {
				w.err = flush()
			}
		case content.StepClose:
			if err := w.h.Store.CloseParent(ctx, s.id, w.now); err != nil {
				w.err = fmt.Errorf("close parent %s: %w", s.id, err)
				break
			}
			w.h.audit(ctx, "retention.closed", content.SubjectParent+":"+s.id, w.now)
			w.closed++
			w.closeTime += time.Since(t)
		case content.StepErase:
			if err := StartErasure(ctx, w.h.Erasures, w.h.Tasks, content.ErasureSubject{Kind: content.SubjectParent, ID: s.id},
				content.ErasureAfterClosure, "", nil, w.now); err != nil {
				w.err = err
				break
			}
			w.erasing++
			w.eraseTime += time.Since(t)
		}
		if w.err != nil {
			return
		}
	}
	w.err = flush()
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
	warnThenQueue := func(ctx context.Context, id string) error {
		if err := h.Store.WarnParents(ctx, ids, now); err != nil {
			return fmt.Errorf("warn parents: %w", err)
		}
		return tasks.QueueExpansion(ctx, h.Tasks, id)
	}
	if _, _, err := content.Publish(ctx, h.Ledger, warnThenQueue, b, nil); err != nil {
		return "", fmt.Errorf("publish notice: %w", err)
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
	if err := h.Audit.RecordAudit(ctx, &content.AuditEvent{ID: content.NewID("aud"), At: at, ActorID: RetentionCreatedBy,
		Action: action, Subject: subject}); err != nil {
		h.Log.Warn("audit failed", "action", action, "err", err)
	}
}

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// StaffNoticeStore is what staff notifications need beyond the roster:
// the sent-push records, pruning dead staff tokens, and the submission a
// submission push names.
type StaffNoticeStore interface {
	ClaimStaffPush(ctx context.Context, p content.StaffPush) (bool, error)
	ReleaseStaffPush(ctx context.Context, id string) error
	RemoveStaffDeviceToken(ctx context.Context, staffID, deviceID string) error
	Submission(ctx context.Context, id string) (*content.Submission, error)
}

// StaffNotifications pushes a parent's new message, reply or submission to
// the staff it concerns (the task's staff, else the class's teachers), each
// on their own devices, and only inside each one's working hours: outside
// them, that staff member's push is queued again for the next start of
// their working hours. A staff member gets one push per event however often
// the task runs: the push is recorded before it is sent (StaffPushID), and
// the record is let go only when no device's push was accepted and none may
// have been, so a retry may try again.
//
// The push says what happened and in which class, never who: no parent's
// or child's name and no message text reach a lock screen.
type StaffNotifications struct {
	Roster      content.Roster
	Store       StaffNoticeStore
	Assignments content.Assignments
	Push        notify.PushSender
	Tasks       tasks.Enqueuer
	HashKey     []byte
	Clock       content.Clock
	Log         *slog.Logger
}

func (h *StaffNotifications) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseNotifyStaff(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	sc, err := h.Roster.School(ctx, p.SchoolID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil || sc.TimeZone == "" {
		loc = time.UTC
	}
	var class *content.Class
	if p.ClassID != "" {
		cl, err := h.Roster.Class(ctx, p.ClassID)
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		if cl != nil && cl.SchoolID == sc.ID {
			class = cl
		}
	}
	staffIDs := p.StaffIDs
	if len(staffIDs) == 0 && class != nil {
		staffIDs = class.TeacherIDs
	}
	if len(staffIDs) == 0 {
		h.Log.Info("staff notification: nobody to notify", "kind", p.Kind, "school_id", p.SchoolID, "class_id", p.ClassID)
		return nil
	}
	title, body, err := h.text(ctx, p, class)
	if err != nil {
		return err
	}
	now := h.Clock.Now()
	var errs []error
	seen := map[string]bool{}
	for _, id := range staffIDs {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if err := h.notify(ctx, p, sc, loc, id, title, body, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// text is the push's title and body: the kind of event and the class, or
// the activity's title for a submission (activities are the school's own
// words, never a family's).
func (h *StaffNotifications) text(ctx context.Context, p tasks.NotifyStaff, class *content.Class) (string, string, error) {
	in := ""
	if class != nil {
		in = " in " + classLabel(class.Name)
	}
	switch p.Kind {
	case tasks.StaffNotifyMessage:
		return "New message", "New message" + in, nil
	case tasks.StaffNotifyReply:
		return "New reply", "New reply" + in, nil
	case tasks.StaffNotifySubmission:
		body := "New submission" + in
		sub, err := h.Store.Submission(ctx, p.RefID)
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return "", "", err
		}
		if sub != nil {
			a, err := h.Assignments.Assignment(ctx, sub.AssignmentID)
			if err != nil && !content.IsCode(err, content.CodeNotFound) {
				return "", "", err
			}
			if a != nil && len(a.Activities) > 0 && a.Activities[0].Title != "" {
				body = "New submission: " + a.Activities[0].Title
			}
		}
		return "New submission", body, nil
	}
	return "", "", fmt.Errorf("%w: unknown staff notification kind %q", asynq.SkipRetry, p.Kind)
}

// classLabel is "Robins class", or the name alone when it says class already.
func classLabel(name string) string {
	if strings.HasSuffix(strings.ToLower(name), "class") {
		return name
	}
	return name + " class"
}

// notify pushes one staff member, defers them, or does nothing when they
// no longer work at the school, have no device or were pushed already.
func (h *StaffNotifications) notify(ctx context.Context, p tasks.NotifyStaff, sc *content.School, loc *time.Location,
	staffID, title, body string, now time.Time) error {
	st, err := h.Roster.Staff(ctx, staffID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !st.WorksAt(sc.ID) || len(st.Devices) == 0 {
		return nil
	}
	hours := content.WorkingHoursOf(st)
	if !hours.Within(now, loc) {
		next := hours.NextStart(now, loc)
		if next.IsZero() {
			return nil // no working day: never pushed
		}
		return h.deferTo(ctx, p, staffID, next)
	}
	pushID := content.StaffPushID(p.Kind, p.RefID, staffID)
	won, err := h.Store.ClaimStaffPush(ctx, content.StaffPush{ID: pushID, SchoolID: sc.ID, At: now})
	if err != nil || !won {
		return err
	}
	data := map[string]string{"kind": p.Kind, "school_id": p.SchoolID, "ref_id": p.RefID} // IDs only
	if p.ClassID != "" {
		data["class_id"] = p.ClassID
	}
	var pushes []notify.Push
	for _, d := range st.Devices {
		pushes = append(pushes, notify.Push{Ref: pushID, Token: d.Token, Title: title, Body: body, Data: data})
	}
	results, _ := h.Push.SendPushes(ctx, pushes)
	accepted, maybe := false, false
	var notYet error
	dead := 0
	for i, r := range results {
		switch {
		case r.Err == nil:
			accepted = true
		case notify.KindOf(r.Err) == notify.KindRecipientInvalid:
			dead++
			id := content.DeviceID(h.HashKey, pushes[i].Token)
			if err := h.Store.RemoveStaffDeviceToken(ctx, staffID, id); err != nil {
				h.Log.Warn("prune dead staff push token failed", "staff_id", staffID, "device_id", id, "err", err)
			}
		case notify.KindOf(r.Err) == notify.KindAmbiguous:
			maybe = true
		case notify.KindOf(r.Err) == notify.KindRateLimited || notify.KindOf(r.Err) == notify.KindTransient:
			notYet = r.Err
		}
	}
	if len(results) != len(pushes) {
		maybe = true
	}
	if !accepted && !maybe && notYet != nil {
		if err := h.Store.ReleaseStaffPush(ctx, pushID); err != nil {
			return err
		}
		return fmt.Errorf("staff push to %s not accepted yet: %w", staffID, notYet)
	}
	h.Log.Info("staff pushed", "kind", p.Kind, "staff_id", staffID, "devices", len(pushes), "accepted", accepted,
		"dead_tokens", dead)
	return nil
}

// deferTo queues the event again for one staff member at the start of
// their working hours. The TaskID names the staff member and the time, so
// a task that runs twice queues it once.
func (h *StaffNotifications) deferTo(ctx context.Context, p tasks.NotifyStaff, staffID string, at time.Time) error {
	one := p
	one.StaffIDs = []string{staffID}
	t, err := tasks.NewNotifyStaff(one)
	if err != nil {
		return err
	}
	id := tasks.TypeNotifyStaff + ":" + p.Kind + ":" + p.RefID + ":" + staffID + ":" + strconv.FormatInt(at.Unix(), 10)
	if err := tasks.Enqueue(ctx, h.Tasks, t, asynq.TaskID(id), asynq.ProcessAt(at)); err != nil {
		return fmt.Errorf("defer staff push to %s: %w", staffID, err)
	}
	h.Log.Info("staff push deferred to working hours", "kind", p.Kind, "staff_id", staffID, "at", at.UTC())
	return nil
}

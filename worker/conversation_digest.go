package worker

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Defaults of the conversation digest.
const (
	// DigestAge is how long a parent's message waits unanswered before the
	// digest lists it.
	DigestAge = 24 * time.Hour
	// DigestHour (UTC) is when the day's digest is queued: before the
	// school day in the UK.
	DigestHour = 6
)

// ConversationDigests emails each member of staff, once a day, the threads
// they are in whose newest message is a parent's and older than Age: how
// many, and per thread the class and the child's first name. That is
// personal data, so it goes only in the email body, to the school's own
// staff; the log, the task and the email's category and ref carry IDs and
// counts only. Staff who opted out (DigestOff) or have no email get none.
//
// Once per day per staff member: the day's task is keyed by the date, and
// each email is recorded (Marks, keyed by staff and day) before it is
// sent — a rerun skips those recorded; a send the provider did not take
// forgets its record and the task is retried.
type ConversationDigests struct {
	Conversations content.Conversations
	Roster        content.Roster
	Email         notify.EmailSender
	Marks         content.WebhookEvents
	Tasks         tasks.Enqueuer
	Clock         content.Clock
	Log           *slog.Logger
	AppURL        string
	Age           time.Duration // default DigestAge
	Hour          int           // default DigestHour
}

// Tick queues the day's digest once the digest hour has come.
func (h *ConversationDigests) Tick(ctx context.Context, _ *asynq.Task) error {
	now := h.Clock.Now().UTC()
	hour := h.Hour
	if hour == 0 {
		hour = DigestHour
	}
	if now.Hour() < hour {
		return nil
	}
	t, err := tasks.NewConversationDigest(content.DayKey(now))
	if err != nil {
		return err
	}
	return tasks.Enqueue(ctx, h.Tasks, t)
}

// digestLine is one unanswered thread as a staff member's email lists it.
type digestLine struct {
	school, class, child string
	since                time.Time
}

func (h *ConversationDigests) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseConversationDigest(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	age := h.Age
	if age <= 0 {
		age = DigestAge
	}
	now := h.Clock.Now()
	threads, err := h.Conversations.AwaitingReplySince(ctx, now.Add(-age))
	if err != nil {
		return err
	}
	byStaff := map[string][]*content.Conversation{}
	for _, c := range threads {
		for _, id := range c.StaffIDs {
			byStaff[id] = append(byStaff[id], c)
		}
	}
	ids := make([]string, 0, len(byStaff))
	for id := range byStaff {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	names := &digestNames{roster: h.Roster, schools: map[string]string{}, classes: map[string]string{}, children: map[string]string{}}
	sent := 0
	for _, id := range ids {
		st, err := h.Roster.Staff(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if st.DigestOff || st.Email == "" {
			continue
		}
		var lines []digestLine
		for _, c := range byStaff[id] {
			if !slices.ContainsFunc(st.Schools, func(sr content.SchoolRoles) bool { return sr.SchoolID == c.SchoolID }) {
				continue // no longer at the school
			}
			l, err := names.line(ctx, c)
			if err != nil {
				return err
			}
			lines = append(lines, l)
		}
		if len(lines) == 0 {
			continue
		}
		ok, err := h.send(ctx, st, p.Day, lines)
		if err != nil {
			return err
		}
		if ok {
			sent++
		}
	}
	h.Log.Info("conversation digest", "day", p.Day, "threads", len(threads), "staff", len(ids), "emails", sent)
	return nil
}

// send emails one staff member's digest unless the day's is recorded sent.
func (h *ConversationDigests) send(ctx context.Context, st *content.Staff, day string, lines []digestLine) (bool, error) {
	key := "digest:" + st.ID + ":" + day
	first, err := h.Marks.FirstDelivery(ctx, key, h.Clock.Now())
	if err != nil || !first {
		return false, err
	}
	email := digestEmail(st, day, lines, h.AppURL)
	results, err := h.Email.SendEmails(ctx, []notify.Email{email})
	if err == nil && len(results) == 1 {
		err = results[0].Err
	}
	if err != nil {
		if notify.KindOf(err) == notify.KindAmbiguous {
			// It may have gone: never resend blindly.
			h.Log.Warn("conversation digest: outcome unknown", "staff_id", st.ID, "day", day)
			return false, nil
		}
		if ferr := h.Marks.ForgetDelivery(context.WithoutCancel(ctx), key); ferr != nil {
			h.Log.Error("conversation digest: could not forget a failed send; it will not be retried", "staff_id", st.ID, "err", ferr)
		}
		return false, fmt.Errorf("digest for %s: %w", st.ID, err)
	}
	return true, nil
}

// digestEmail writes the email: counts, then a line per thread, oldest first.
func digestEmail(st *content.Staff, day string, lines []digestLine, appURL string) notify.Email {
	sort.Slice(lines, func(i, j int) bool { return lines[i].since.Before(lines[j].since) })
	subject := "1 family message is waiting for a reply"
	if len(lines) != 1 {
		subject = strconv.Itoa(len(lines)) + " family messages are waiting for a reply"
	}
	var text, htm strings.Builder
	greet := strings.TrimSpace(st.FirstName)
	if greet == "" {
		greet = "there"
	}
	fmt.Fprintf(&text, "Hello %s,\n\n%s on Hometime:\n\n", greet, subject)
	fmt.Fprintf(&htm, "<p>Hello %s,</p><p>%s on Hometime:</p><ul>", html.EscapeString(greet), html.EscapeString(subject))
	for _, l := range lines {
		item := fmt.Sprintf("%s, %s class: %s's family, since %s", l.school, l.class, l.child, l.since.UTC().Format("Mon 2 Jan 15:04 MST"))
		fmt.Fprintf(&text, "- %s\n", item)
		fmt.Fprintf(&htm, "<li>%s</li>", html.EscapeString(item))
	}
	link := strings.TrimRight(appURL, "/") + "/"
	fmt.Fprintf(&text, "\nOpen Hometime to reply: %s\n\nYou can turn this daily email off in your settings.\n", link)
	fmt.Fprintf(&htm, "</ul><p><a href=\"%s\">Open Hometime to reply</a></p><p>You can turn this daily email off in your settings.</p>",
		html.EscapeString(link))
	return notify.Email{Ref: "digest:" + st.ID + ":" + day, To: st.Email, Subject: subject, Text: text.String(),
		HTML: htm.String(), Category: "conversation_digest"}
}

// digestNames reads school, class and child names once per digest run.
type digestNames struct {
	roster                     content.Roster
	schools, classes, children map[string]string
}

func (n *digestNames) line(ctx context.Context, c *content.Conversation) (digestLine, error) {
	get := func(cache map[string]string, id string, read func() (string, error)) (string, error) {
		if v, ok := cache[id]; ok {
			return v, nil
		}
		v, err := read()
		if content.IsCode(err, content.CodeNotFound) {
			v, err = "", nil
		}
		if err != nil {
			return "", err
		}
		cache[id] = v
		return v, nil
	}
	school, err := get(n.schools, c.SchoolID, func() (string, error) {
		s, err := n.roster.School(ctx, c.SchoolID)
		if err != nil {
			return "", err
		}
		return s.Name, nil
	})
	if err != nil {
		return digestLine{}, err
	}
	class, err := get(n.classes, c.ClassID, func() (string, error) {
		cl, err := n.roster.Class(ctx, c.ClassID)
		if err != nil {
			return "", err
		}
		return cl.Name, nil
	})
	if err != nil {
		return digestLine{}, err
	}
	child, err := get(n.children, c.ChildID, func() (string, error) {
		k, err := n.roster.Child(ctx, c.ChildID)
		if err != nil {
			return "", err
		}
		return k.FirstName, nil
	})
	if err != nil {
		return digestLine{}, err
	}
	if child == "" {
		child = "a child"
	}
	return digestLine{school: school, class: class, child: child, since: c.LastParentAt}, nil
}

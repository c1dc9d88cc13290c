package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// The announcement of the announcement phase: an English original with
// Welsh and Polish versions, its body too long for two SMS segments, so
// texts carry the title and the language's link.
var benchAnnouncement = content.Announcement{ID: "ann_bench", SchoolID: benchSchoolID, CreatedBy: "stf_bench",
	Title: "Sports day moves to Friday", Language: "en",
	Body: strings.Repeat("Sports day is now on Friday afternoon on the school field. Bring a water bottle and a sun hat. ", 4),
	Versions: []content.AnnouncementVersion{
		{Language: "cy", Title: "Diwrnod mabolgampau ddydd Gwener",
			Body: strings.Repeat("Mae diwrnod mabolgampau nawr ar brynhawn dydd Gwener ar gae'r ysgol. Dewch â photel ddŵr a het haul. ", 4)},
		{Language: "pl", Title: "Dzień sportu w piątek",
			Body: strings.Repeat("Dzień sportu odbędzie się w piątek po południu na boisku szkolnym. Przynieś butelkę wody i czapkę. ", 4)},
	},
	Audience: content.AnnouncementAudience{WholeSchool: true}, State: content.AnnouncementScheduled,
	Links: map[string]string{"en": "https://api.hometime.test/a/ann_bench.en.tpex40.AAAAAAAAAAAAAAAA",
		"cy": "https://api.hometime.test/a/ann_bench.cy.tpex40.BBBBBBBBBBBBBBBB", "pl": "https://api.hometime.test/a/ann_bench.pl.tpex40.CCCCCCCCCCCCCCCC"}}

// announcementPhase: n families, a third each by SMS, email and push and
// a third each reading English, Welsh and Polish, get one whole-school
// announcement end to end: the send task the API queues, the worker
// publishing its news broadcast, the expansion, and the page sends to the
// Twilio, SendGrid and FCM fakes, timed from enqueueing the send to every
// ledger entry settled. Each family must get exactly one message, on its
// channel, in its language.
func (b *bench) announcementPhase(ctx context.Context) error {
	n := b.o.announce
	host := &fakeHost{}
	defer host.close()
	tw := providerfake.NewTwilio(host)
	sg := providerfake.NewSendGrid(host)
	fc := providerfake.NewFCM(host)
	env := twilioEnv(tw, b.o.smsRate)
	env["SENDGRID_API_KEY"], env["HOMETIME_SENDGRID_BASE_URL"] = sg.APIKey, sg.URL
	st, err := b.be.freshPhase(ctx, b.be.env("bench_announce", env), b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The stack's FCM sender needs service-account credentials; the fake
	// takes the same SendEach calls without them.
	push, err := fcm.New(ctx, fcm.Config{ProjectID: fc.ProjectID, Endpoint: fc.Endpoint(), WithoutAuth: true})
	if err != nil {
		return err
	}
	counter := &countingPush{next: push}
	st.Push = counter
	began := time.Now()
	if err := seedFamilies(ctx, st, n, mixed); err != nil {
		return err
	}
	a := benchAnnouncement
	a.SendAt, a.CreatedAt = time.Now().UTC(), time.Now().UTC()
	if err := st.Store.CreateAnnouncement(ctx, &a); err != nil {
		return err
	}
	want := map[string]int{}
	for i := range n {
		want[[]string{"sms", "email", "push"}[i%3]]++
	}
	b.progress("announcement: seeded %d families (sms %d, email %d, push %d; en, cy, pl in thirds) in %s",
		n, want["sms"], want["email"], want["push"], time.Since(began).Round(time.Millisecond))
	srv, mux, err := st.WorkerServer(b.log)
	if err != nil {
		return err
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer srv.Shutdown()
	task, err := tasks.NewSendAnnouncement(a.ID, a.SendAt)
	if err != nil {
		return err
	}
	var start, done time.Time
	err = b.profile("announcement", func() error {
		start = time.Now()
		if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
			return fmt.Errorf("enqueue send: %w", err)
		}
		var tally ledgerTally
		var err error
		done, tally, err = waitSettled(ctx, st.Store, content.AnnouncementBroadcastID(a.ID), n, b.o.announceWait, func() bool {
			return tw.Requests() >= want["sms"] && personalizations(sg) >= want["email"] && len(fc.Accepted()) >= want["push"]
		})
		if err != nil {
			return fmt.Errorf("%w (the fakes took %d texts, %d emails, %d pushes)", err, tw.Requests(), personalizations(sg), len(fc.Accepted()))
		}
		return tally.onlySent(n)
	})
	if err != nil {
		return err
	}
	// Exactly once, on the family's channel, in the family's language.
	titles := map[string]string{a.Language: a.Title}
	for _, v := range a.Versions {
		titles[v.Language] = v.Title
	}
	texts := map[string]string{}
	for _, m := range tw.Accepted() {
		if _, dup := texts[m.To]; dup {
			return fmt.Errorf("not exactly once: %s got two texts", m.To)
		}
		texts[m.To] = m.Body
	}
	mails := map[string]string{}
	for _, r := range sg.Accepted() {
		for _, p := range r.Personalizations {
			subject := p.Subject
			if subject == "" {
				subject = r.Subject
			}
			for _, to := range p.To {
				if _, dup := mails[to]; dup {
					return fmt.Errorf("not exactly once: %s got two emails", to)
				}
				mails[to] = subject
			}
		}
	}
	pushes := map[string]string{}
	for _, m := range fc.Accepted() {
		if _, dup := pushes[m.Token]; dup {
			return fmt.Errorf("not exactly once: %s got two pushes", m.Token)
		}
		pushes[m.Token] = m.Title
	}
	for i := range n {
		lang := mixedLanguages[(i/3)%3]
		var got string
		var ok bool
		switch i % 3 {
		case 0:
			got, ok = texts[phoneOf(i)]
			ok = ok && strings.Contains(got, titles[lang]) && strings.Contains(got, a.Links[lang])
		case 1:
			got, ok = mails[emailOf(i)]
			ok = ok && got == titles[lang]
		default:
			got, ok = pushes[tokenOf(i)]
			ok = ok && got == titles[lang]
		}
		if !ok {
			return fmt.Errorf("family %d (%s, channel %d) got %q", i, lang, i%3, got)
		}
	}
	if len(texts) != want["sms"] || len(mails) != want["email"] || len(pushes) != want["push"] {
		return fmt.Errorf("sent %d texts, %d emails, %d pushes; want %v", len(texts), len(mails), len(pushes), want)
	}
	elapsed := done.Sub(start)
	r := &b.results
	r.annPerSec = float64(n) / elapsed.Seconds()
	r.annEmailRequests, r.annPushBatches, r.annSMS = sg.Requests(), int(counter.calls.Load()), tw.Requests()
	b.progress("announcement: %d families reached in %s, each once on its channel in its language: %d texts (title and link), "+
		"%d emails in %d SendGrid requests, %d pushes in %d SendEach calls",
		n, elapsed.Round(time.Millisecond), len(texts), len(mails), r.annEmailRequests, len(pushes), r.annPushBatches)
	return nil
}

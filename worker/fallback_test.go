package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestImportantPushFallsBackToSMS: an important broadcast's pushes go out;
// after the delay, the parent who opened theirs gets nothing more, the one
// who did not gets one SMS, and the one without a mobile gets none. The
// fallback is written once however often the check runs, and its SMS wait
// for the end of quiet hours even for an urgent broadcast.
func TestImportantPushFallsBackToSMS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := emailParents(3, "en")
	ps[0].Phone, ps[1].Phone = "+447911123101", "+447911123102" // ps[2]: email only
	devices := &memDevices{tokens: map[string][]string{"par_000": {"tok-0"}, "par_001": {"tok-1"}, "par_002": {"tok-2"}}}
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelPush))
	if _, err := f.store.Database().Collection("broadcasts").UpdateOne(ctx, bson.D{{Key: "_id", Value: "brd_1"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "important", Value: true}, {Key: "urgent", Value: true}}}}); err != nil {
		t.Fatal(err)
	}
	push, _, _ := newPushPages(t, f, devices, 5*time.Second)
	push.FallbackAfter = 30 * time.Minute
	// 19:45 in London: pushes go (urgent), the fallback would fall at 20:15.
	f.clock.Set(time.Date(2026, 11, 2, 19, 45, 0, 0, time.UTC))
	f.sendAll(t, push)

	var check *tasks.ImportantFallback
	for _, task := range f.queue.Tasks() {
		if task.Type() == tasks.TypeImportantFallback {
			p, err := tasks.ParseImportantFallback(task.Payload())
			if err != nil {
				t.Fatal(err)
			}
			check = &p
		}
	}
	if check == nil || check.PageID != f.pages[0] {
		t.Fatalf("no fallback check queued for %s: %+v", f.pages[0], check)
	}
	// The app reports par_000 opened its push.
	if err := f.store.RaiseEntryState(ctx, f.pages[0], 0, content.StateRead, "", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	fb := &Fallbacks{Ledger: f.store, Roster: f.store, Tasks: f.queue, Clock: f.clock, Log: f.log, Delay: 30 * time.Minute}
	task, err := tasks.NewImportantFallback(check.PageID, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Too early: nothing is written, the check is queued again.
	f.clock.Set(time.Date(2026, 11, 2, 20, 0, 0, 0, time.UTC))
	if err := fb.ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	fbID := content.FallbackPageID("brd_1", 0)
	if _, err := f.store.LedgerPage(ctx, fbID); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("fallback page before the delay: %v", err)
	}
	f.clock.Set(time.Date(2026, 11, 2, 20, 16, 0, 0, time.UTC))
	for range 2 { // twice: the second run changes nothing
		if err := fb.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.store.LedgerPage(ctx, fbID)
	if err != nil {
		t.Fatal(err)
	}
	if !page.Fallback || len(page.Entries) != 1 || page.Entries[0].RecipientID != "par_001" || page.Entries[0].Channel != "sms" {
		t.Fatalf("fallback page %+v, want one SMS for par_001", page)
	}

	twilioFake := providerfake.NewTwilio(t)
	sender, err := twilio.New(twilio.Config{AccountSID: twilioFake.AccountSID, AuthToken: twilioFake.AuthToken,
		From: "+447700900001", StatusCallback: "https://api.hometime.test/webhooks/twilio/status",
		BaseURL: twilioFake.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rdb, _ := redistest.New(t)
	sms := &SMSPages{Ledger: f.store, Roster: f.store, Suppressions: f.store, Budgets: f.store, SMS: sender,
		Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: f.queue, HashKey: []byte("test-key"),
		Clock: f.clock, Log: f.log, SenderKey: ratelimit.SenderKey("twilio", "test"),
		Rate: ratelimit.Rate{PerSecond: 1000, Burst: 1}, Price: 4, RetryAfter: time.Minute, ClaimSize: 10}
	// 20:16 is inside quiet hours: the urgent broadcast's fallback waits.
	f.send(t, sms, fbID)
	if n := len(twilioFake.Received()); n != 0 {
		t.Fatalf("%d fallback SMS inside quiet hours", n)
	}
	f.clock.Set(time.Date(2026, 11, 3, 7, 30, 0, 0, time.UTC))
	f.send(t, sms, fbID)
	acc := twilioFake.Accepted()
	if len(acc) != 1 || acc[0].To != "+447911123102" {
		t.Fatalf("fallback SMS %+v, want one to par_001", acc)
	}
}

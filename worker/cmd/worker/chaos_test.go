package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// childEnv marks a re-executed test binary that runs the real worker.
const childEnv = "HOMETIME_CHAOS_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := run(ctx, nil, os.Getenv, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "chaos worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(mongotest.Main(m))
}

// TestWorkerKilledMidBroadcast is TESTING.md D1: a worker process is
// SIGKILLed part-way through a 2,000-SMS broadcast and restarted. From the
// provider's own record: no recipient is sent twice; every recipient not
// in flight at the kill is sent; those in flight end unknown, never resent.
func TestWorkerKilledMidBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ctx := context.Background()
	db := mongotest.NewDatabase(t)
	store := mongostore.New(db, 0)
	_, redisURL := redistest.New(t)
	fake := providerfake.NewTwilio(t)

	const families = 2000
	seedBroadcast(t, store, families)
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	queue := asynq.NewClient(opt)
	defer queue.Close()
	task, _ := tasks.NewExpandBroadcast("brd_chaos")
	if _, err := queue.EnqueueContext(ctx, task); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(), childEnv+"=1",
		"MONGODB_URI="+mongotest.URI(), "HOMETIME_DB="+db.Name(), "REDIS_URL="+redisURL,
		"HOMETIME_JWT_SECRET=chaos-test-secret-that-is-long-enough-0123456789",
		"HOMETIME_DATA_DIR="+t.TempDir(), "HOMETIME_LOG_LEVEL=error",
		"HOMETIME_TWILIO_ACCOUNT_SID="+fake.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN="+fake.AuthToken,
		"HOMETIME_TWILIO_FROM=+447700900001", "HOMETIME_TWILIO_BASE_URL="+fake.URL,
		"HOMETIME_PUBLIC_URL=https://api.hometime.test",
		"HOMETIME_SMS_RATE=250", "HOMETIME_RELAY_LEASE=3s", "HOMETIME_RELAY_GRACE=3s")
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = env
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (provider accepted %d)", what, len(fake.Accepted()))
			}
			<-tick.C
		}
	}

	first := start()
	waitFor("the first 600 sends", 60*time.Second, func() bool { return len(fake.Accepted()) >= 600 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := len(fake.Accepted())

	second := start()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	// The relay runs every minute in production; here it is queued every
	// second so the lease and grace (3 s) are what the test waits for.
	relayTick := time.NewTicker(time.Second)
	defer relayTick.Stop()
	settled := func() bool {
		select {
		case <-relayTick.C:
			if _, err := queue.EnqueueContext(ctx, tasks.NewRelay(time.Second)); err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
				t.Fatalf("queue the relay: %v", err)
			}
		default:
		}
		b, err := store.Broadcast(ctx, "brd_chaos")
		return err == nil && b.State == content.BroadcastDone
	}
	deadline := time.Now().Add(90 * time.Second)
	for !settled() {
		if time.Now().After(deadline) {
			open := map[string]int{}
			for n := 0; ; n++ {
				page, err := store.LedgerPage(ctx, content.LedgerPageID("brd_chaos", n))
				if err != nil {
					break
				}
				for _, e := range page.Entries {
					open[fmt.Sprintf("%s held=%v", e.State(), e.Held())]++
				}
			}
			b, _ := store.Broadcast(ctx, "brd_chaos")
			t.Fatalf("not settled after 90 s: broadcast %+v; %v (provider accepted %d)", b, open, len(fake.Accepted()))
		}
		time.Sleep(20 * time.Millisecond)
	}

	states := map[content.MessageState]int{}
	for n := 0; ; n++ {
		page, err := store.LedgerPage(ctx, content.LedgerPageID("brd_chaos", n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			st := e.State()
			states[st]++
			got := fake.SentTo(phoneOf(e.RecipientID))
			switch {
			case got > 1:
				t.Errorf("%s was sent %d messages", e.RecipientID, got)
			case st == content.StateSent && got != 1:
				t.Errorf("%s is recorded sent but the provider has %d", e.RecipientID, got)
			case st != content.StateSent && st != content.StateUnknown:
				t.Errorf("%s ended %s", e.RecipientID, st)
			}
		}
	}
	accepted := len(fake.Accepted())
	t.Logf("killed after %d provider sends; finished with %d accepted, %d sent, %d unknown, %d requests",
		atKill, accepted, states[content.StateSent], states[content.StateUnknown], len(fake.Received()))
	if states[content.StateSent]+states[content.StateUnknown] != families {
		t.Fatalf("states %v do not cover %d families", states, families)
	}
	// In flight at the kill: at most the claimed sub-batches of the busy
	// page tasks (25 each, 20 concurrent tasks).
	if u := states[content.StateUnknown]; u > 25*20 {
		t.Errorf("%d entries unknown: more than could have been in flight", u)
	}
	if accepted > families {
		t.Errorf("provider accepted %d messages for %d families", accepted, families)
	}
}

func phoneOf(parentID string) string {
	var i int
	fmt.Sscanf(parentID, "par_%05d", &i)
	return fmt.Sprintf("+4479111%05d", 50000+i%50000)
}

func seedBroadcast(t *testing.T, s *mongostore.Store, families int) {
	t.Helper()
	ctx := context.Background()
	school := &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "00:00", QuietEnd: "00:00", SMSBudgetPence: 1_000_000}
	if err := s.CreateSchool(ctx, school); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < families; i++ {
		id := fmt.Sprintf("par_%05d", i)
		p := &content.Parent{ID: id, FirstName: "P", LastName: "Q", Language: "en", Phone: phoneOf(id),
			State: content.ParentActive, Sessions: []string{}}
		k := &content.Child{ID: fmt.Sprintf("chd_%05d", i), SchoolID: "sch_1", FirstName: "C", LastName: "D", YearGroup: "Y1",
			ClassIDs: []string{"cls_1"}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
			Parents: []content.ParentLink{{ParentID: id, State: content.LinkLinked}}}
		p.Children = []content.ChildLink{{ChildID: k.ID, SchoolID: "sch_1", State: content.LinkLinked}}
		if err := s.CreateChild(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b := &content.Broadcast{ID: "brd_chaos", SchoolID: "sch_1", Template: "award", Category: "awards",
		Params:   map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"},
		Audience: content.Audience{AllParents: true}, State: content.BroadcastExpanding, CreatedAt: time.Now()}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
}

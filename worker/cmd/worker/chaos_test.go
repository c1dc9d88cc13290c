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
	"github.com/redis/go-redis/v9"
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

const chaosFamilies = 2000

// chaos is one broadcast of 2,000 SMS, queued in Redis, with worker
// processes (this test binary re-executed as the real worker) sending to a
// Twilio fake that records every call.
type chaos struct {
	t        *testing.T
	ctx      context.Context
	store    *mongostore.Store
	fake     *providerfake.Twilio
	redisURL string
	queue    *asynq.Client
	env      []string
}

func newChaos(t *testing.T) *chaos {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	t.Parallel() // each has its own database, Redis database, fake and workers
	db := mongotest.NewDatabase(t)
	_, redisURL := redistest.NewTimed(t)
	c := &chaos{t: t, ctx: context.Background(), store: mongostore.New(db, 0), fake: providerfake.NewTwilio(t), redisURL: redisURL}
	seedBroadcast(t, c.store, chaosFamilies)
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c.queue = asynq.NewClient(opt)
	t.Cleanup(func() { c.queue.Close() })
	task, _ := tasks.NewExpandBroadcast("brd_chaos")
	if _, err := c.queue.EnqueueContext(c.ctx, task); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(), childEnv+"=1")
	for k, v := range chaosEnv(t, c.fake, db.Name(), redisURL) {
		c.env = append(c.env, k+"="+v)
	}
	return c
}

// chaosEnv configures a worker (process or in-process stack) of the chaos
// tests: the shared store's database, the Redis at redisURL, Twilio at
// the fake, 250 SMS/s, and a relay lease and grace of 3 s.
func chaosEnv(t *testing.T, fake *providerfake.Twilio, dbName, redisURL string) map[string]string {
	return map[string]string{
		"MONGODB_URI": mongotest.URI(), "HOMETIME_DB": dbName, "REDIS_URL": redisURL,
		"HOMETIME_JWT_SECRET": "chaos-test-secret-that-is-long-enough-0123456789",
		"HOMETIME_DATA_DIR":   t.TempDir(), "HOMETIME_LOG_LEVEL": "error",
		"HOMETIME_TWILIO_ACCOUNT_SID": fake.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": fake.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": fake.URL,
		"HOMETIME_PUBLIC_URL": "https://api.hometime.test",
		"HOMETIME_SMS_RATE":   "250", "HOMETIME_RELAY_LEASE": "3s", "HOMETIME_RELAY_GRACE": "3s",
	}
}

// startWorker runs a worker process; it is stopped when the test ends.
func (c *chaos) startWorker() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = c.env
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return cmd
}

// waitForSends returns once the provider has accepted n messages.
func (c *chaos) waitForSends(n int) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(c.fake.Accepted()) < n {
		if time.Now().After(deadline) {
			c.t.Fatalf("after 60 s the provider has %d of %d messages", len(c.fake.Accepted()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSettled queues the relay every second (production: every minute)
// until the broadcast is done, then checks the ledger against the
// provider's record and returns the count of entries per state.
func (c *chaos) waitSettled() map[content.MessageState]int {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		b, err := c.store.Broadcast(c.ctx, "brd_chaos")
		if err == nil && b.State == content.BroadcastDone {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("not settled after 90 s: %v (provider accepted %d)", c.states(false), len(c.fake.Accepted()))
		}
		<-tick.C
		if _, err := c.queue.EnqueueContext(c.ctx, tasks.NewRelay(time.Second)); err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
			c.t.Fatalf("queue the relay: %v", err)
		}
	}
	return c.states(true)
}

// states counts entries per state; with check, it also holds every entry
// to the provider's record: never two messages, "sent" means exactly one.
func (c *chaos) states(check bool) map[content.MessageState]int {
	out := map[content.MessageState]int{}
	for n := 0; ; n++ {
		page, err := c.store.LedgerPage(c.ctx, content.LedgerPageID("brd_chaos", n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			c.t.Fatal(err)
		}
		for _, e := range page.Entries {
			st := e.State()
			out[st]++
			if !check {
				continue
			}
			got := c.fake.SentTo(phoneOf(e.RecipientID))
			switch {
			case got > 1:
				c.t.Errorf("%s was sent %d messages", e.RecipientID, got)
			case st == content.StateSent && got != 1:
				c.t.Errorf("%s is recorded sent but the provider has %d", e.RecipientID, got)
			case st != content.StateSent && st != content.StateUnknown:
				c.t.Errorf("%s ended %s", e.RecipientID, st)
			}
		}
	}
	return out
}

// TestWorkerKilledMidBroadcast: a worker process is
// SIGKILLed part-way through the broadcast and another started. From the
// provider's record: no recipient is sent twice; every recipient not in
// flight at the kill is sent; those in flight end unknown, never resent.
func TestWorkerKilledMidBroadcast(t *testing.T) {
	c := newChaos(t)
	first := c.startWorker()
	c.waitForSends(600)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := len(c.fake.Accepted())
	c.startWorker()
	states := c.waitSettled()
	t.Logf("killed after %d provider sends; finished with %d accepted, %d sent, %d unknown, %d requests",
		atKill, len(c.fake.Accepted()), states[content.StateSent], states[content.StateUnknown], len(c.fake.Received()))
	if states[content.StateSent]+states[content.StateUnknown] != chaosFamilies {
		t.Fatalf("states %v do not cover %d families", states, chaosFamilies)
	}
	// In flight at the kill: at most the claimed sub-batches of the busy
	// page tasks (25 each, 20 concurrent tasks).
	if u := states[content.StateUnknown]; u > 25*20 {
		t.Errorf("%d entries unknown: more than could have been in flight", u)
	}
}

// TestRedisFlushedMidBroadcast: Redis loses every queued
// task part-way through. The relay re-drives what the ledger says is owed:
// every recipient is sent, exactly once. (It flushes the test's own
// database, which on miniredis is the whole server.)
func TestRedisFlushedMidBroadcast(t *testing.T) {
	c := newChaos(t)
	c.startWorker()
	c.waitForSends(600)
	opt, err := redis.ParseURL(c.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.FlushDB(c.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	atFlush := len(c.fake.Accepted())
	states := c.waitSettled()
	t.Logf("flushed after %d provider sends; finished with %d accepted, %d sent, %d unknown, %d requests",
		atFlush, len(c.fake.Accepted()), states[content.StateSent], states[content.StateUnknown], len(c.fake.Received()))
	if states[content.StateSent] != chaosFamilies || len(c.fake.Accepted()) != chaosFamilies {
		t.Fatalf("%d sent and %d accepted, want every one of %d exactly once", states[content.StateSent], len(c.fake.Accepted()), chaosFamilies)
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

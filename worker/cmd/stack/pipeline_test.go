package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// TestBroadcastThroughTheQueue runs the real pipeline: a broadcast queued
// in Redis is expanded into ledger pages by the worker, each page's SMS go
// through the real Twilio client to a fake (rate-limited in Redis), the
// email-only family's message goes to the outbox, and every entry ends sent.
func TestBroadcastThroughTheQueue(t *testing.T) {
	_, redisURL := redistest.New(t)
	fake := providerfake.NewTwilio(t)
	env := map[string]string{
		"HOMETIME_DATA_DIR": t.TempDir(), "REDIS_URL": redisURL,
		"HOMETIME_TWILIO_ACCOUNT_SID": fake.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": fake.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": fake.URL,
		"HOMETIME_PUBLIC_URL": "https://api.hometime.test", "HOMETIME_SMS_RATE": "500",
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := NewLogger(io.Discard, "error")
	ctx := context.Background()
	st, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// A school open for sending all day, 150 families; family 7 has email only.
	s := st.Store
	school := &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "00:00", QuietEnd: "00:00", SMSBudgetPence: 1_000_000}
	if err := s.CreateSchool(ctx, school); err != nil {
		t.Fatal(err)
	}
	const families = 150
	for i := 0; i < families; i++ {
		p := &content.Parent{ID: fmt.Sprintf("par_%03d", i), FirstName: "P", LastName: "Q", Language: "en",
			Phone: fmt.Sprintf("+4479111%05d", 40000+i), State: content.ParentActive, Sessions: []string{}}
		if i == 7 {
			p.Phone, p.Email = "", "family7@example.test"
		}
		k := &content.Child{ID: fmt.Sprintf("chd_%03d", i), SchoolID: "sch_1", FirstName: "C", LastName: "D", YearGroup: "Y1",
			ClassIDs: []string{"cls_1"}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
			Parents: []content.ParentLink{{ParentID: p.ID, State: content.LinkLinked}}}
		p.Children = []content.ChildLink{{ChildID: k.ID, SchoolID: "sch_1", State: content.LinkLinked}}
		if err := s.CreateChild(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b := &content.Broadcast{ID: "brd_1", SchoolID: "sch_1", Template: "award", Category: "awards",
		Params:   map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"},
		Audience: content.Audience{AllParents: true}, State: content.BroadcastExpanding, CreatedAt: time.Now()}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewExpandBroadcast(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
		t.Fatal(err)
	}

	srv, mux, err := st.WorkerServer(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(fake.Accepted()) < families-1 {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s the provider has %d of %d messages", len(fake.Accepted()), families-1)
		}
		<-tick.C
	}
	// Settled in the ledger: every entry sent, exactly once.
	var sent, pages int
	waitSettled := func() bool {
		sent, pages = 0, 0
		for n := 0; ; n++ {
			p, err := s.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
			if content.IsCode(err, content.CodeNotFound) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range p.Entries {
				if e.State() == content.StateSent {
					sent++
				}
			}
		}
		return sent == families
	}
	for !waitSettled() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d entries sent on %d pages", sent, families, pages)
		}
		<-tick.C
	}
	// A page holds one channel: 149 texts on two, family 7's email on one.
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	for i := 0; i < families; i++ {
		if i == 7 {
			continue
		}
		if n := fake.SentTo(fmt.Sprintf("+4479111%05d", 40000+i)); n != 1 {
			t.Errorf("family %d received %d texts", i, n)
		}
	}
	if got := len(fake.Received()); got != families-1 {
		t.Errorf("Twilio saw %d requests, want %d", got, families-1)
	}
	// The email-only family was written to, once, through the outbox.
	emails, err := os.ReadFile(filepath.Join(env["HOMETIME_DATA_DIR"], "outbox", "email.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(emails), `"to":"family7@example.test"`); n != 1 {
		t.Errorf("family 7 got %d emails, want 1", n)
	}
}

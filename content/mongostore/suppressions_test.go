package mongostore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var suppressionHashKey = []byte("suppression-test-key")

const stopPhone = "+447700900123"

func smsKey(t *testing.T, contact string) string {
	t.Helper()
	k, err := content.SuppressionKeyOf(suppressionHashKey, content.SuppressionSMS, contact)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func suppressionDocs(t *testing.T, s *mongostore.Store) []bson.M {
	t.Helper()
	ctx := context.Background()
	cur, err := s.Database().Collection("suppressions").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// suppressionStep is one call in a suppression scenario, checked after it runs.
type suppressionStep struct {
	do         string // "suppress" | "unsuppress"
	reason     content.SuppressionReason
	at         time.Duration // after t0
	wantLifted bool          // unsuppress: a stop was there
	// After the step:
	suppressed bool
	reason0    content.SuppressionReason // the reported (earliest) reason, when suppressed
	at0        time.Duration
}

func TestSuppressions(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		steps []suppressionStep
	}{
		{"STOP suppresses", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, suppressed: true, reason0: content.SuppressStop},
		}},
		{"STOP twice keeps the first time", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, at: time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
			{do: "suppress", reason: content.SuppressStop, at: 2 * time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
		}},
		{"a repeat stamped earlier (out of order) wins", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, at: 2 * time.Hour, suppressed: true, reason0: content.SuppressStop, at0: 2 * time.Hour},
			{do: "suppress", reason: content.SuppressStop, at: time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
		}},
		{"START lifts a STOP", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, suppressed: true, reason0: content.SuppressStop},
			{do: "unsuppress", wantLifted: true, suppressed: false},
			{do: "unsuppress", wantLifted: false, suppressed: false},
		}},
		{"STOP after START starts afresh", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, at: time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
			{do: "unsuppress", wantLifted: true, suppressed: false},
			{do: "suppress", reason: content.SuppressStop, at: 5 * time.Hour, suppressed: true, reason0: content.SuppressStop, at0: 5 * time.Hour},
		}},
		{"START never lifts an erasure", []suppressionStep{
			{do: "suppress", reason: content.SuppressStop, at: time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
			{do: "suppress", reason: content.SuppressErasure, at: 2 * time.Hour, suppressed: true, reason0: content.SuppressStop, at0: time.Hour},
			{do: "unsuppress", wantLifted: true, suppressed: true, reason0: content.SuppressErasure, at0: 2 * time.Hour},
		}},
		{"START never lifts a bounce", []suppressionStep{
			{do: "suppress", reason: content.SuppressBounce, suppressed: true, reason0: content.SuppressBounce},
			{do: "unsuppress", wantLifted: false, suppressed: true, reason0: content.SuppressBounce},
		}},
		{"START never lifts a manual suppression", []suppressionStep{
			{do: "suppress", reason: content.SuppressManual, suppressed: true, reason0: content.SuppressManual},
			{do: "unsuppress", wantLifted: false, suppressed: true, reason0: content.SuppressManual},
		}},
		{"START for a contact never suppressed", []suppressionStep{
			{do: "unsuppress", wantLifted: false, suppressed: false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := mongotest.NewStore(t)
			key := smsKey(t, stopPhone)
			for i, st := range tc.steps {
				switch st.do {
				case "suppress":
					if err := s.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: st.reason, At: t0.Add(st.at)}); err != nil {
						t.Fatalf("suppressionStep %d: suppress: %v", i, err)
					}
				case "unsuppress":
					lifted, err := s.Unsuppress(ctx, key)
					if err != nil || lifted != st.wantLifted {
						t.Fatalf("suppressionStep %d: unsuppress = %v, %v; want %v", i, lifted, err, st.wantLifted)
					}
				}
				got, err := s.IsSuppressed(ctx, key)
				if err != nil || got != st.suppressed {
					t.Fatalf("suppressionStep %d: IsSuppressed = %v, %v; want %v", i, got, err, st.suppressed)
				}
				sup, err := s.Suppression(ctx, key)
				if !st.suppressed {
					if !content.IsCode(err, content.CodeNotFound) {
						t.Fatalf("suppressionStep %d: Suppression = %+v, %v; want CodeNotFound", i, sup, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("suppressionStep %d: Suppression: %v", i, err)
				}
				want := content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: st.reason0, At: t0.Add(st.at0)}
				if *sup != want {
					t.Fatalf("suppressionStep %d: Suppression = %+v, want %+v", i, *sup, want)
				}
			}
			if docs := suppressionDocs(t, s); len(docs) > 1 {
				t.Fatalf("%d documents for one contact: %v", len(docs), docs)
			}
			if ok, err := s.IsSuppressed(ctx, smsKey(t, "+447700900999")); ok || err != nil {
				t.Fatalf("another contact: IsSuppressed = %v, %v", ok, err)
			}
		})
	}
}

// TestSuppressionStoresOnlyTheHash: the document is keyed by the keyed hash
// and holds nothing of the contact.
func TestSuppressionStoresOnlyTheHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	email, err := content.SuppressionKeyOf(suppressionHashKey, content.SuppressionEmail, "Sam.Parent@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, sup := range []*content.Suppression{
		{Key: smsKey(t, stopPhone), Channel: content.SuppressionSMS, Reason: content.SuppressStop, At: time.Now()},
		{Key: email, Channel: content.SuppressionEmail, Reason: content.SuppressUnsubscribe, At: time.Now()},
	} {
		if err := s.Suppress(ctx, sup); err != nil {
			t.Fatal(err)
		}
	}
	docs := suppressionDocs(t, s)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	for _, d := range docs {
		if id, _ := d["_id"].(string); id != smsKey(t, stopPhone) && id != email {
			t.Errorf("document _id %v is not a suppression key", d["_id"])
		}
		raw, err := bson.MarshalExtJSON(d, false, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, canary := range []string{"7700900123", "sam.parent", "Sam.Parent", "example.com"} {
			if strings.Contains(string(raw), canary) {
				t.Errorf("suppression document holds %q: %s", canary, raw)
			}
		}
	}
}

func TestSuppressedAmong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	stopped, bounced, lifted, clear := smsKey(t, "+447700900001"), smsKey(t, "+447700900002"), smsKey(t, "+447700900003"), smsKey(t, "+447700900004")
	now := time.Now()
	for _, sup := range []*content.Suppression{
		{Key: stopped, Channel: content.SuppressionSMS, Reason: content.SuppressStop, At: now},
		{Key: bounced, Channel: content.SuppressionSMS, Reason: content.SuppressBounce, At: now},
		{Key: lifted, Channel: content.SuppressionSMS, Reason: content.SuppressStop, At: now},
	} {
		if err := s.Suppress(ctx, sup); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Unsuppress(ctx, lifted); err != nil {
		t.Fatal(err)
	}
	got, err := s.SuppressedAmong(ctx, []string{clear, stopped, lifted, bounced, stopped})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[stopped] || !got[bounced] {
		t.Fatalf("SuppressedAmong = %v, want the stopped and bounced keys only", got)
	}
	if got, err := s.SuppressedAmong(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("SuppressedAmong(nil) = %v, %v", got, err)
	}
}

// TestSuppressConcurrently: the same STOP delivered many times at once
// (webhook retries) leaves one document and no error.
func TestSuppressConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	key := smsKey(t, stopPhone)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: content.SuppressStop,
				At: t0.Add(time.Duration(i) * time.Second)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if docs := suppressionDocs(t, s); len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	sup, err := s.Suppression(ctx, key)
	if err != nil || !sup.At.Equal(t0) {
		t.Fatalf("Suppression = %+v, %v; want the first time %v", sup, err, t0)
	}
}

func TestSuppressRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	now := time.Now()
	key := smsKey(t, stopPhone)
	cases := []struct {
		name string
		sup  content.Suppression
	}{
		{"no key", content.Suppression{Channel: content.SuppressionSMS, Reason: content.SuppressStop, At: now}},
		{"unknown channel", content.Suppression{Key: key, Channel: "push", Reason: content.SuppressStop, At: now}},
		{"unknown reason", content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: "start", At: now}},
		{"reason with a dot", content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: "stop.x", At: now}},
		{"no time", content.Suppression{Key: key, Channel: content.SuppressionSMS, Reason: content.SuppressStop}},
	}
	for _, c := range cases {
		if err := s.Suppress(ctx, &c.sup); !content.IsCode(err, content.CodeInvalid) {
			t.Errorf("%s: %v, want CodeInvalid", c.name, err)
		}
	}
	if docs := suppressionDocs(t, s); len(docs) != 0 {
		t.Fatalf("refused suppressions wrote %d documents", len(docs))
	}
}

package mongostore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestWebhookEventsFirstDeliveryOnce: of 46 deliveries of one event, 16 of
// them racing, exactly one is first; forgetting the key lets the next
// delivery be first again, and keys do not interfere.
func TestWebhookEventsFirstDeliveryOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const key = "sendgrid:ZGVsaXZlcmVkLTAtMTIzNDU2"

	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.FirstDelivery(ctx, key, at)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	for range 30 {
		first, err := s.FirstDelivery(ctx, key, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if first {
			firsts.Add(1)
		}
	}
	if n := firsts.Load(); n != 1 {
		t.Fatalf("46 deliveries of one event: %d were first, want 1", n)
	}

	if first, err := s.FirstDelivery(ctx, "sendgrid:another", at); err != nil || !first {
		t.Fatalf("another key: first = %v, %v; want true", first, err)
	}
	if err := s.ForgetDelivery(ctx, key); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstDelivery(ctx, key, at); err != nil || !first {
		t.Fatalf("after ForgetDelivery: first = %v, %v; want true", first, err)
	}
	if err := s.ForgetDelivery(ctx, "sendgrid:never-seen"); err != nil {
		t.Fatalf("forgetting an unknown key: %v", err)
	}
	if _, err := s.FirstDelivery(ctx, "", at); !content.IsCode(err, content.CodeInvalid) {
		t.Fatalf("empty key: %v, want invalid", err)
	}
}

package fcm

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
)

// countingClient records each SendEach call the Sender makes on the real
// SDK client.
type countingClient struct {
	next  batchSender
	mu    sync.Mutex
	sizes []int
}

func (c *countingClient) SendEach(ctx context.Context, msgs []*messaging.Message) (*messaging.BatchResponse, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(msgs))
	c.mu.Unlock()
	return c.next.SendEach(ctx, msgs)
}

func TestSendPushes1200TakesThreeSendEachCalls(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	s, err := New(context.Background(), Config{
		ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(), WithoutAuth: true, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	counter := &countingClient{next: s.client}
	s.client = counter
	in := make([]notify.Push, 1200)
	for i := range in {
		in[i] = notify.Push{Ref: fmt.Sprint("r", i), Token: fmt.Sprint("tok", i), Title: "t", Body: "b"}
	}

	results, err := s.SendPushes(context.Background(), in)

	if err != nil {
		t.Fatalf("SendPushes: %v", err)
	}
	if !slices.Equal(counter.sizes, []int{500, 500, 200}) {
		t.Fatalf("SendEach calls = %v, want [500 500 200]", counter.sizes)
	}
	names := map[string]bool{}
	for i, r := range results {
		if r.Err != nil || r.Ref != in[i].Ref || r.ProviderID == "" || names[r.ProviderID] {
			t.Fatalf("result %d = %+v", i, r)
		}
		names[r.ProviderID] = true
	}
	if fake.Requests() != 1200 || len(fake.Accepted()) != 1200 {
		t.Fatalf("fake requests %d accepted %d, want 1200", fake.Requests(), len(fake.Accepted()))
	}
	perToken := map[string]int{}
	for _, m := range fake.Accepted() {
		perToken[m.Token]++
	}
	for _, p := range in {
		if perToken[p.Token] != 1 {
			t.Fatalf("token %s got %d pushes", p.Token, perToken[p.Token])
		}
	}
}

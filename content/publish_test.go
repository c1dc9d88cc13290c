package content

import (
	"context"
	"errors"
	"testing"
)

// memLedger holds broadcasts by id, as the store does: a second create of
// an id is a conflict.
type memLedger map[string]*Broadcast

func (l memLedger) CreateBroadcast(_ context.Context, b *Broadcast) error {
	if _, ok := l[b.ID]; ok {
		return Errorf(CodeConflict, "broadcast already exists")
	}
	l[b.ID] = b
	return nil
}

func (l memLedger) Broadcast(_ context.Context, id string) (*Broadcast, error) {
	if b, ok := l[id]; ok {
		return b, nil
	}
	return nil, Errorf(CodeNotFound, "no broadcast")
}

// TestPublish: a first publish creates and queues; a retry carries on with
// the stored broadcast and queues again; an id that same refuses is a
// conflict and queues nothing; a queue that fails fails the publish.
func TestPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := memLedger{}
	var queued []string
	expand := func(_ context.Context, id string) error { queued = append(queued, id); return nil }
	first := &Broadcast{ID: "brd_1", SchoolID: "sch_1", CreatedBy: "stf_1"}
	pub, created, err := Publish(ctx, l, expand, first, nil)
	if err != nil || !created || pub != first || len(queued) != 1 {
		t.Fatalf("first publish: %v created=%v queued=%v", err, created, queued)
	}
	// The API's rule: a retry is the same staff member at the same school.
	by := func(school, staff string) func(*Broadcast) bool {
		return func(prev *Broadcast) bool { return prev.SchoolID == school && prev.CreatedBy == staff }
	}
	retry := &Broadcast{ID: "brd_1", SchoolID: "sch_1", CreatedBy: "stf_1"}
	pub, created, err = Publish(ctx, l, expand, retry, by("sch_1", "stf_1"))
	if err != nil || created || pub != first || len(queued) != 2 {
		t.Fatalf("retry: %v created=%v stored=%v queued=%v", err, created, pub == first, queued)
	}
	other := &Broadcast{ID: "brd_1", SchoolID: "sch_2", CreatedBy: "stf_9"}
	if _, _, err := Publish(ctx, l, expand, other, by("sch_2", "stf_9")); !IsCode(err, CodeConflict) || len(queued) != 2 {
		t.Fatalf("another's id: %v queued=%v, want a conflict and nothing queued", err, queued)
	}
	down := errors.New("queue down")
	fail := func(context.Context, string) error { return down }
	if _, _, err := Publish(ctx, l, fail, &Broadcast{ID: "brd_2", SchoolID: "sch_1"}, nil); !errors.Is(err, down) {
		t.Fatalf("queue down: %v, want its error", err)
	}
	if _, ok := l["brd_2"]; !ok {
		t.Fatal("the broadcast whose queueing failed is not stored for the retry")
	}
}

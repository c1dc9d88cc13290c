package mongostore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

func TestIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rec := &content.IdempotencyRecord{ID: "idk_1", Fingerprint: "fp", ResourceID: "brd_1", Holder: "h1", HeldAt: t0, CreatedAt: t0}

	t.Run("eight racing reservations: one wins", func(t *testing.T) {
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := *rec
				r.Holder = fmt.Sprintf("h%d", i)
				err := s.ReserveIdempotencyKey(ctx, &r)
				switch {
				case err == nil:
					wins.Add(1)
				case content.IsCode(err, content.CodeConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 7 {
			t.Fatalf("wins %d conflicts %d, want 1 and 7", wins.Load(), conflicts.Load())
		}
	})

	got, err := s.IdempotencyRecord(ctx, "idk_1")
	if err != nil {
		t.Fatal(err)
	}
	holder := got.Holder
	if got.Completed() || got.Fingerprint != "fp" || got.ResourceID != "brd_1" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("stored %+v", got)
	}

	t.Run("take over only from the current holder", func(t *testing.T) {
		if ok, err := s.TakeOverIdempotencyKey(ctx, "idk_1", "someone-else", "h9", t0); err != nil || ok {
			t.Fatalf("took over from a wrong holder: %v %v", ok, err)
		}
		if err := s.ReleaseIdempotencyKey(ctx, "idk_1", holder); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ok, err := s.TakeOverIdempotencyKey(ctx, "idk_1", "", fmt.Sprintf("t%d", i), t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}(i)
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d take-overs won, want 1", wins.Load())
		}
	})

	t.Run("complete stores the answer; no take-over after", func(t *testing.T) {
		if err := s.CompleteIdempotencyKey(ctx, "idk_1", 202, []byte(`{"id":"brd_1"}`)); err != nil {
			t.Fatal(err)
		}
		got, err := s.IdempotencyRecord(ctx, "idk_1")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Completed() || got.Status != 202 || string(got.Body) != `{"id":"brd_1"}` || got.Holder != "" {
			t.Fatalf("completed record %+v", got)
		}
		if ok, err := s.TakeOverIdempotencyKey(ctx, "idk_1", "", "late", t0); err != nil || ok {
			t.Fatalf("took over an answered key: %v %v", ok, err)
		}
	})

	t.Run("delete only the named generation", func(t *testing.T) {
		if err := s.DeleteIdempotencyKey(ctx, "idk_1", "brd_other"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IdempotencyRecord(ctx, "idk_1"); err != nil {
			t.Fatalf("deleted a record of another generation: %v", err)
		}
		if err := s.DeleteIdempotencyKey(ctx, "idk_1", "brd_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IdempotencyRecord(ctx, "idk_1"); !content.IsCode(err, content.CodeNotFound) {
			t.Fatalf("after delete: %v, want not found", err)
		}
	})
}

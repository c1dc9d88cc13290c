package mongostore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestSMSBudgetMonth: spend and refusals share the school's month
// document; counts add up under concurrent callers, the last refusal time
// only moves later, and a month with nothing in it reads as zeros.
func TestSMSBudgetMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)

	got, err := s.SMSBudgetMonth(ctx, "sch_1", "2026-11")
	if err != nil || got != (content.BudgetMonth{SchoolID: "sch_1", Month: "2026-11"}) {
		t.Fatalf("empty month: %+v %v", got, err)
	}
	// Refusals first (upsert), then spend on the same document.
	late, early := t0.Add(2*time.Hour), t0.Add(time.Hour)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := early
			if i == 3 {
				at = late
			}
			if err := s.RecordSMSRefused(ctx, "sch_1", "2026-11", 25, at); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.RecordSMSRefused(ctx, "sch_1", "2026-11", 2, early.Add(-time.Hour)); err != nil { // late call, older time
		t.Fatal(err)
	}
	if err := s.RecordSMSRefused(ctx, "sch_1", "2026-11", 0, late.Add(time.Hour)); err != nil { // nothing refused: no change
		t.Fatal(err)
	}
	for _, p := range []int64{160, 32, -32} {
		if _, err := s.AddSMSSpend(ctx, "sch_1", "2026-11", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddSMSSpend(ctx, "sch_1", "2026-10", 999); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSMSRefused(ctx, "sch_2", "2026-11", 1, late); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		school, month string
		want          content.BudgetMonth
	}{
		{"sch_1", "2026-11", content.BudgetMonth{SchoolID: "sch_1", Month: "2026-11", SpentPence: 160, RefusedMessages: 202, LastRefusedAt: late}},
		{"sch_1", "2026-10", content.BudgetMonth{SchoolID: "sch_1", Month: "2026-10", SpentPence: 999}},
		{"sch_2", "2026-11", content.BudgetMonth{SchoolID: "sch_2", Month: "2026-11", RefusedMessages: 1, LastRefusedAt: late}},
		{"sch_2", "2026-12", content.BudgetMonth{SchoolID: "sch_2", Month: "2026-12"}},
	}
	for _, tc := range cases {
		t.Run(tc.school+" "+tc.month, func(t *testing.T) {
			got, err := s.SMSBudgetMonth(ctx, tc.school, tc.month)
			if err != nil {
				t.Fatal(err)
			}
			if !got.LastRefusedAt.Equal(tc.want.LastRefusedAt) {
				t.Fatalf("last refused %v, want %v", got.LastRefusedAt, tc.want.LastRefusedAt)
			}
			got.LastRefusedAt = tc.want.LastRefusedAt
			if got != tc.want {
				t.Fatalf("%+v, want %+v", got, tc.want)
			}
		})
	}
	// Spend after refusals returns the right total (the refusal upsert
	// started pence at 0).
	if total, err := s.AddSMSSpend(ctx, "sch_2", "2026-11", 7); err != nil || total != 7 {
		t.Fatalf("spend after a refusal: %d %v", total, err)
	}
}

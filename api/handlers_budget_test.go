package api

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSchoolSMSBudget: admins see this school-local month's budget, spend
// and refusals as the worker records them; everyone else is refused.
func TestSchoolSMSBudget(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := w.h.store
	const path = "/v1/schools/sch_1/sms-budget"
	refusedAt := func(d time.Duration) time.Time { return w.h.clock.Now().Add(d).UTC().Truncate(time.Millisecond) }
	first, last := refusedAt(-3*time.Hour), refusedAt(-time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	setZone := func(zone string, budget int64) {
		sc, err := s.School(ctx, "sch_1")
		must(err)
		sc.TimeZone, sc.SMSBudgetPence = zone, budget
		must(s.UpdateSchool(ctx, sc))
	}
	steps := []struct {
		name  string
		setup func()
		want  smsBudgetDTO
	}{
		{name: "nothing sent yet", setup: func() {},
			want: smsBudgetDTO{Month: "2026-11", BudgetPence: 5000, RemainingPence: 5000}},
		{name: "spend", setup: func() {
			_, err := s.AddSMSSpend(ctx, "sch_1", "2026-11", 4960)
			must(err)
		}, want: smsBudgetDTO{Month: "2026-11", BudgetPence: 5000, SpentPence: 4960, RemainingPence: 40}},
		{name: "a sub-batch refused, then reserved and refunded", setup: func() {
			must(s.RecordSMSRefused(ctx, "sch_1", "2026-11", 25, last))
			_, err := s.AddSMSSpend(ctx, "sch_1", "2026-11", 32)
			must(err)
			_, err = s.AddSMSSpend(ctx, "sch_1", "2026-11", -32)
			must(err)
			must(s.RecordSMSRefused(ctx, "sch_1", "2026-11", 3, first)) // a slower worker's earlier refusal
		}, want: smsBudgetDTO{Month: "2026-11", BudgetPence: 5000, SpentPence: 4960, RemainingPence: 40, RefusedMessages: 28, LastRefusedAt: &last}},
		{name: "other schools and months are not counted", setup: func() {
			must(s.RecordSMSRefused(ctx, "sch_2", "2026-11", 9, last))
			_, err := s.AddSMSSpend(ctx, "sch_1", "2026-10", 4000)
			must(err)
		}, want: smsBudgetDTO{Month: "2026-11", BudgetPence: 5000, SpentPence: 4960, RemainingPence: 40, RefusedMessages: 28, LastRefusedAt: &last}},
		{name: "budget lowered below the spend", setup: func() { setZone("Europe/London", 4000) },
			want: smsBudgetDTO{Month: "2026-11", BudgetPence: 4000, SpentPence: 4960, RemainingPence: 0, RefusedMessages: 28, LastRefusedAt: &last}},
		// 23:30 UTC on 30 November is already December in Auckland: the
		// month is the school's, as the worker counts it.
		{name: "school-local month", setup: func() {
			w.h.clock.Advance(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC).Sub(w.h.clock.Now()))
			w.tokens[actAdmin] = w.h.login(w.Admin.Email, fixturePassword).AccessToken // the old one expired
			setZone("Pacific/Auckland", 5000)
			_, err := s.AddSMSSpend(ctx, "sch_1", "2026-12", 12)
			must(err)
		}, want: smsBudgetDTO{Month: "2026-12", BudgetPence: 5000, SpentPence: 12, RemainingPence: 4988}},
		{name: "same instant, London", setup: func() { setZone("Europe/London", 5000) },
			want: smsBudgetDTO{Month: "2026-11", BudgetPence: 5000, SpentPence: 4960, RemainingPence: 40, RefusedMessages: 28, LastRefusedAt: &last}},
	}
	refusals := []struct {
		name   string
		actor  string
		path   string
		status int
	}{
		{name: "teacher", actor: actTeacher, path: path, status: 403},
		{name: "other teacher", actor: actTeacherOther, path: path, status: 403},
		{name: "other school's admin (A2)", actor: actAdminOther, path: path, status: 404},
		{name: "parent", actor: actParentA, path: path, status: 403},
		{name: "anonymous", actor: actAnonymous, path: path, status: 401},
		{name: "unknown school", actor: actAdmin, path: "/v1/schools/sch_nope/sms-budget", status: 404},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.h.do("GET", tc.path, nil, w.tokens[tc.actor])
			wantStatus(t, resp, body, tc.status)
			if strings.Contains(string(body), "4960") || strings.Contains(string(body), "refused") {
				t.Fatalf("a refusal shows the budget: %s", body)
			}
		})
	}

	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.setup()
			resp, body := w.h.do("GET", path, nil, w.tokens[actAdmin])
			wantStatus(t, resp, body, 200)
			got := decode[smsBudgetDTO](t, body)
			if (got.LastRefusedAt == nil) != (st.want.LastRefusedAt == nil) ||
				(got.LastRefusedAt != nil && !got.LastRefusedAt.Equal(*st.want.LastRefusedAt)) {
				t.Fatalf("last_refused_at %v, want %v", got.LastRefusedAt, st.want.LastRefusedAt)
			}
			got.LastRefusedAt = st.want.LastRefusedAt
			if got != st.want {
				t.Fatalf("%+v,\nwant %+v", got, st.want)
			}
		})
	}
}

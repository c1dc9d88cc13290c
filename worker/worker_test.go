package worker

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestNewMuxRefusesMissingDependencies: the mux is not built on incomplete
// wiring; the error names what is missing, and with everything given every
// task type has its handler.
func TestNewMuxRefusesMissingDependencies(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	rdb, _ := redistest.New(t)
	log := slog.New(slog.DiscardHandler)
	ob, err := outbox.New(filepath.Join(t.TempDir(), "outbox"), log)
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Identity: s, Roster: s, Ledger: s, Suppressions: s, Budgets: s, Email: ob, SMS: ob, Push: ob,
		Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: &taskstest.Recorder{}, HashKey: []byte("k"), Log: log,
		Imports: s, Messages: NewMessageMetrics(prometheus.NewRegistry()), Assignments: s, Feed: s, Submissions: s, Digests: s,
		Devices: s, StaffNotices: s,
		Retention: s, ErasureRecords: s, ErasureAreas: s, Audit: s, Exports: s, Invited: s, ExpiredExports: s,
		Announcements: s}
	mux, err := NewMux(d)
	if err != nil {
		t.Fatalf("every dependency given, the outbox left out: %v", err)
	}
	for _, typ := range []string{tasks.TypeSendAccountEmail, tasks.TypeExpandBroadcast, tasks.TypeSendPage, tasks.TypeSendPages,
		tasks.TypeReleaseAssignment, tasks.TypeDevicesTick, tasks.TypeDropStaleDevices, tasks.TypeRetentionTick,
		tasks.TypeRetentionSweep, tasks.TypeEraseStage, tasks.TypeBuildExport, tasks.TypeImportantFallback,
		tasks.TypeInviteReminder, tasks.TypeRelay, tasks.TypeNotifyStaff, tasks.TypeDueRemindersTick, tasks.TypeDueReminder,
		tasks.TypeRefreshAssignmentFeed, tasks.TypeSendDigest, tasks.TypeSendAnnouncement, tasks.TypeAnnouncementsSweep} {
		if _, pattern := mux.Handler(asynq.NewTask(typ, nil)); pattern != typ {
			t.Errorf("no handler for %s", typ)
		}
	}
	d.Devices, d.SMS, d.HashKey = nil, nil, nil
	if _, err := NewMux(d); err == nil || err.Error() != "worker: missing dependencies: SMS, HashKey, Devices" {
		t.Fatalf("NewMux = %v, want the three missing dependencies named", err)
	}
}

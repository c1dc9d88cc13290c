package worker

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// TestErasureChainSurvivesACrashMidway runs a parent's erasure chain on a
// real asynq server and Redis. The first worker dies after recording stage
// 3 (before queueing stage 4) and again, on the retry, half-way through a
// later stage by panicking; asynq retries; the chain finishes once: every
// stage recorded exactly once, counts not doubled, one completion audit.
func TestErasureChainSurvivesACrashMidway(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.family("par_001", "chd_001")
	ctx := w.ctx
	rdb, _ := redistest.New(t)
	client := asynq.NewClientFromRedisClient(rdb)
	w.erasure.Tasks = client

	var crashes atomic.Int32
	w.erasure.AfterStage = func(_ content.ErasureSubject, stage int) error {
		switch {
		case stage == 3 && crashes.CompareAndSwap(0, 1):
			return errors.New("worker killed after stage 3 was recorded")
		case stage == 6 && crashes.CompareAndSwap(1, 2):
			panic("worker crashed in stage 6")
		}
		return nil
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 2, Queues: tasks.Queues, LogLevel: asynq.FatalLevel,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeEraseStage, w.erasure)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	subject := content.ErasureSubject{Kind: content.SubjectParent, ID: "par_001"}
	if err := StartErasure(ctx, w.store, client, subject, content.ErasureRequested, "par_001", []string{"sch_r"}, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Asking again while it runs changes nothing.
	if err := StartErasure(ctx, w.store, client, subject, content.ErasureRequested, "par_001", []string{"sch_r"}, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var rec *content.ErasureRecord
	deadline := time.Now().Add(120 * time.Second)
	for {
		var err error
		rec, err = w.store.Erasure(ctx, subject.Key())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Complete() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("erasure not complete: %+v", rec)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if crashes.Load() != 2 {
		t.Fatalf("%d crashes happened, want 2", crashes.Load())
	}
	stages := w.erasure.stages(content.SubjectParent)
	if len(rec.StagesDone) != len(stages) || rec.Stage != len(stages) {
		t.Fatalf("stages done %v (stage %d), want each of %d once", rec.StagesDone, rec.Stage, len(stages))
	}
	for i, st := range stages {
		if rec.StagesDone[i] != st.name {
			t.Fatalf("stage %d recorded as %q, want %q", i, rec.StagesDone[i], st.name)
		}
	}
	if rec.Counts["mongo:parents"] != 1 || rec.Counts["mongo:logins"] != 1 || rec.Counts["mongo:sessions+refresh_tokens"] != 2 {
		t.Fatalf("counts %v: an area counted twice or not at all", rec.Counts)
	}
	p := w.parent("par_001")
	if p.State != content.ParentErased || p.Phone != "" || p.FirstName != "" {
		t.Fatalf("parent after the chain %+v", p)
	}
	audits, err := w.store.CountAudit(ctx, "retention.erased", subject.Key())
	if err != nil {
		t.Fatal(err)
	}
	if audits != 1 {
		t.Fatalf("%d completion audits, want 1", audits)
	}
}

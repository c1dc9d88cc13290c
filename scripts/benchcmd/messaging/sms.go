package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// twilioEnv points a stack's SMS at the Twilio fake.
func twilioEnv(f *providerfake.Twilio, rate float64) map[string]string {
	return map[string]string{
		"HOMETIME_TWILIO_ACCOUNT_SID": f.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": f.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": f.URL,
		"HOMETIME_PUBLIC_URL": "https://api.hometime.test",
		"HOMETIME_SMS_RATE":   strconv.FormatFloat(rate, 'f', -1, 64),
	}
}

// smsPhase: n SMS families end to end through the queue and one in-process
// worker server against an uncapped Twilio fake, timed from enqueueing the
// expansion to every ledger entry settled.
func (b *bench) smsPhase(ctx context.Context) error {
	n := b.o.sms
	host := &fakeHost{}
	defer host.close()
	fake := providerfake.NewTwilio(host)
	st, err := b.be.freshPhase(ctx, b.be.env("bench_sms", twilioEnv(fake, b.o.smsRate)), b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := seedFamilies(ctx, st, n, bySMS); err != nil {
		return err
	}
	b.progress("sms: seeded %d SMS families in %s (InsertMany through the store's driver client: the store has no bulk insert)",
		n, time.Since(began).Round(time.Millisecond))
	bc, err := newBroadcast(ctx, st, "brd_bench_sms", content.BroadcastExpanding)
	if err != nil {
		return err
	}
	srv, mux, err := st.WorkerServer(b.log)
	if err != nil {
		return err
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer srv.Shutdown()
	b.progress("sms: Twilio fake uncapped, HOMETIME_SMS_RATE=%g (the config refuses more than 10000), worker concurrency %d, one in-process worker server",
		b.o.smsRate, st.Config.Concurrency)

	task, err := tasks.NewExpandBroadcast(bc.ID)
	if err != nil {
		return err
	}
	var done time.Time
	var tally ledgerTally
	var start time.Time
	var before, after benchkit.Usage
	var storeBefore, storeAfter storeSnapshot
	var redisBefore, redisAfter int64
	err = b.profile("sms", func() error {
		var err error
		if before, err = benchkit.SelfUsage(); err != nil {
			return err
		}
		storeBefore, redisBefore = b.be.counts.storeSnapshot(), b.be.counts.redis.Load()
		start = time.Now()
		if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
			return fmt.Errorf("enqueue expansion: %w", err)
		}
		done, tally, err = waitSettled(benchOwn(ctx), st.Store, bc.ID, n, 10*time.Minute, func() bool { return fake.Requests() >= n })
		if err != nil {
			return err
		}
		// The broadcast is marked done just after its last page settles;
		// wait for it, so the count holds the whole pipeline's commands.
		if err := waitDone(benchOwn(ctx), st.Store, bc.ID, time.Minute); err != nil {
			return err
		}
		storeAfter, redisAfter = b.be.counts.storeSnapshot(), b.be.counts.redis.Load()
		after, err = benchkit.SelfUsage()
		return err
	})
	if err != nil {
		return err
	}
	elapsed := done.Sub(start)
	cpu := after.CPU() - before.CPU()
	if err := tally.onlySent(n); err != nil {
		return err
	}
	if err := exactlyOnce(fake, n); err != nil {
		return err
	}
	b.results.smsPerSec = float64(n) / elapsed.Seconds()
	b.results.smsCPUPer1k = cpu.Seconds() / (float64(n) / 1000)
	b.progress("sms: %d sent in %s on %d pages = %.0f SMS/s; this process (worker, embedded store and fake together) used %.2f s CPU = %.3f s per 1,000 (user %.2f s, system %.2f s)",
		n, elapsed.Round(time.Millisecond), tally.pages, b.results.smsPerSec, cpu.Seconds(), b.results.smsCPUPer1k,
		(after.User - before.User).Seconds(), (after.System - before.System).Seconds())
	b.results.smsStoreCmds = float64(storeAfter.total-storeBefore.total) / float64(n)
	b.results.smsRedisCmds = float64(redisAfter-redisBefore) / float64(n)
	var by []string
	for i, name := range storeCommandNames {
		if d := storeAfter.by[i] - storeBefore.by[i]; d > 0 {
			by = append(by, fmt.Sprintf("%s %d", name, d))
		}
	}
	b.progress("sms: the pipeline sent %d store commands (%s) = %.4f per SMS, %.2f per page of %d; %d Redis commands = %.2f per SMS",
		storeAfter.total-storeBefore.total, strings.Join(by, ", "), b.results.smsStoreCmds,
		float64(storeAfter.total-storeBefore.total)/float64(tally.pages), content.LedgerPageSize,
		redisAfter-redisBefore, b.results.smsRedisCmds)
	b.progress("sms: Twilio fake accepted %d of %d requests; every recipient exactly once", len(fake.Accepted()), fake.Requests())
	srv.Shutdown()
	one, err := storeWriteRate(ctx, st, 1, 500)
	if err != nil {
		return err
	}
	eight, err := storeWriteRate(ctx, st, 8, 2000)
	if err != nil {
		return err
	}
	b.progress("sms: store reference after the phase: %.0f single-document writes/s from 1 writer, %.0f/s from 8 (AddSMSSpend; each SMS sub-batch makes 3 writes: claim, budget, outcomes)",
		one, eight)
	return nil
}

// exactlyOnce checks the fake accepted one message for each of the n
// families and nothing else.
func exactlyOnce(fake *providerfake.Twilio, n int) error {
	per := map[string]int{}
	acc := fake.Accepted()
	for _, m := range acc {
		per[m.To]++
	}
	missing, dup := 0, 0
	for i := range n {
		switch c := per[phoneOf(i)]; {
		case c == 0:
			missing++
		case c > 1:
			dup++
		}
	}
	if len(acc) != n || missing > 0 || dup > 0 || fake.Requests() != n {
		return fmt.Errorf("not exactly once: the fake accepted %d of %d requests for %d families; %d families got nothing, %d more than one",
			len(acc), fake.Requests(), n, missing, dup)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Child processes get the phase's environment plus these.
const (
	broadcastEnv  = "HOMETIME_BENCH_BROADCAST"
	cpuProfileEnv = "HOMETIME_BENCH_CPUPROFILE"
	memProfileEnv = "HOMETIME_BENCH_MEMPROFILE"
)

// runWorker is one worker process of the rate-limit phase: the stack's
// worker server until SIGTERM, as cmd/worker runs it.
func runWorker(ctx context.Context, getenv func(string) string) error {
	log := stack.NewLogger(os.Stderr, "error")
	st, err := openStack(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, mux, err := st.WorkerServer(log)
	if err != nil {
		return err
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

// runExpand expands one broadcast with the worker's own handler and exits:
// the process whose memory the fan-out phase measures. The page sends it
// queues are left in Redis; nothing serves them.
func runExpand(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	log := stack.NewLogger(os.Stderr, "error")
	st, err := openStack(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer st.Close()
	task, err := tasks.NewExpandBroadcast(getenv(broadcastEnv))
	if err != nil {
		return err
	}
	h := &worker.Expansions{Ledger: st.Store, Roster: st.Store, Tasks: st.Queue, Clock: content.SystemClock{}, Log: log}
	if path := getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := h.ProcessTask(ctx, task); err != nil {
		return fmt.Errorf("expand: %w", err)
	}
	if path := getenv(memProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "# fanout child: own VmHWM %.1f MiB; Go heap: HeapSys %.1f MiB, TotalAlloc %.1f MiB, NumGC %d\n",
		float64(u.PeakRSS)/(1<<20), float64(ms.HeapSys)/(1<<20), float64(ms.TotalAlloc)/(1<<20), ms.NumGC)
	return err
}

// child starts this program again in a role, with the phase's environment.
func child(ctx context.Context, role string, env map[string]string, stdout io.Writer) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s child: %w", role, err)
	}
	return cmd, nil
}

// stopChild asks a child to stop (SIGTERM) and waits for it.
func stopChild(cmd *exec.Cmd) error {
	if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return cmd.Wait()
}

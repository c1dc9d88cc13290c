package benchkit_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
)

const helperEnv = "BENCHKIT_HELPER_CHILD"

// TestHelperChild is not a test: it is the child process the usage test
// starts (this binary again), holding 64 MiB and burning CPU for a moment.
func TestHelperChild(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("only runs as the child of TestUsage")
	}
	mem := make([]byte, 64<<20)
	for i := range mem {
		mem[i] = byte(i) // touch every page so it is resident
	}
	// CPU time, not wall time: on a busy machine wall time buys less CPU,
	// and the parent asserts ≥ 100 ms.
	burnCPU(t, 150*time.Millisecond, mem)
}

// burnCPU spins until this process has used at least d of CPU in all.
func burnCPU(t *testing.T, d time.Duration, mem []byte) {
	for i := 0; ; i++ {
		mem[(i*4099)%len(mem)]++
		if i%100_000 == 0 {
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				t.Fatal(err)
			}
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
				return
			}
		}
	}
}

func TestUsage(t *testing.T) {
	t.Run("self", func(t *testing.T) {
		// /proc counts CPU in 10 ms ticks: use some first, so that run on
		// its own the test does not read zero.
		burnCPU(t, 50*time.Millisecond, make([]byte, 1<<20))
		for name, read := range map[string]func() (benchkit.Usage, error){
			"SelfUsage":    benchkit.SelfUsage,
			"ProcessUsage": func() (benchkit.Usage, error) { return benchkit.ProcessUsage(os.Getpid()) },
		} {
			u, err := read()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if u.PeakRSS < 1<<20 || u.RSS <= 0 || u.RSS > u.PeakRSS || u.CPU() <= 0 {
				t.Errorf("%s: implausible %+v", name, u)
			}
		}
	})

	t.Run("child sampled, then read after exit", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChild$")
		cmd.Env = append(os.Environ(), helperEnv+"=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := benchkit.StartSampler(cmd.Process.Pid, 10*time.Millisecond)
		err := cmd.Wait()
		seen, serr := s.Stop()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		if serr != nil {
			t.Fatal(serr)
		}
		if seen.Samples < 3 || seen.MaxRSS < 64<<20 || seen.Last.PeakRSS < 64<<20 {
			t.Errorf("sampled %+v, want ≥ 3 samples seeing the 64 MiB", seen)
		}
		if _, err := benchkit.ProcessUsage(cmd.Process.Pid); err == nil {
			t.Error("ProcessUsage of a reaped child should fail")
		}
		u := benchkit.ExitedUsage(cmd.ProcessState)
		if u.PeakRSS < 64<<20 || u.CPU() < 100*time.Millisecond {
			t.Errorf("exited usage %+v, want ≥ 64 MiB and ≥ 100ms CPU", u)
		}
	})
}

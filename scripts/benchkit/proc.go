package benchkit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux ABI Go supports, and reading it properly would need
// sysconf (cgo).
const clockTicks = 100

// Usage is a process's resource use. Readings come from Linux /proc and
// getrusage; elsewhere they fail.
type Usage struct {
	PeakRSS int64 // bytes: high-water mark of the resident set over the process's life
	RSS     int64 // bytes: resident set when read (0 when unknown, e.g. after exit)
	User    time.Duration
	System  time.Duration
}

// CPU is user plus system time. Subtract two readings to get a window's cost.
func (u Usage) CPU() time.Duration { return u.User + u.System }

// SelfUsage reads this process: peak and current RSS from /proc/self/status,
// CPU from getrusage.
func SelfUsage() (Usage, error) {
	u, err := readStatus("/proc/self/status")
	if err != nil {
		return Usage{}, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}, fmt.Errorf("getrusage: %w", err)
	}
	u.User = time.Duration(ru.Utime.Nano())
	u.System = time.Duration(ru.Stime.Nano())
	return u, nil
}

// ProcessUsage reads a running process (a child, say) from /proc/PID. It
// fails once the process has exited; use a Sampler to keep the last reading,
// or ExitedUsage once it has been waited for.
func ProcessUsage(pid int) (Usage, error) {
	u, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("process %d cpu: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself, so count fields from the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return Usage{}, fmt.Errorf("process %d cpu: malformed stat", pid)
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 {
		return Usage{}, fmt.Errorf("process %d cpu: short stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return Usage{}, fmt.Errorf("process %d cpu: %w", pid, err)
	}
	u.User = time.Duration(utime) * time.Second / clockTicks
	u.System = time.Duration(stime) * time.Second / clockTicks
	return u, nil
}

// ExitedUsage is the exact usage of a child that has been waited for (from
// wait4's rusage), which /proc can no longer give.
func ExitedUsage(ps *os.ProcessState) Usage {
	u := Usage{User: ps.UserTime(), System: ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.PeakRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return u
}

// readStatus takes VmHWM and VmRSS from a /proc/PID/status file.
func readStatus(path string) (Usage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Usage{}, fmt.Errorf("memory usage: %w", err)
	}
	defer f.Close()
	var u Usage
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("memory usage: %s in %s: %w", key, path, err)
		}
		if key == "VmHWM" {
			u.PeakRSS, found = kb*1024, true
		} else {
			u.RSS = kb * 1024
		}
	}
	if err := sc.Err(); err != nil {
		return Usage{}, fmt.Errorf("memory usage: %s: %w", path, err)
	}
	if !found {
		// A zombie keeps its status file but loses its memory lines.
		return Usage{}, fmt.Errorf("memory usage: no VmHWM in %s (process exited?)", path)
	}
	return u, nil
}

// Sampler polls a process in the background, so its figures survive the
// process's exit and the peak of a window can be told from the lifetime peak.
type Sampler struct {
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	last    Usage
	maxRSS  int64
	samples int
	err     error
}

// Sampled is what a Sampler saw.
type Sampled struct {
	Last    Usage // the last reading: lifetime PeakRSS and cumulative CPU
	MaxRSS  int64 // bytes: largest RSS seen while sampling (the window's peak, to the sampling interval)
	Samples int
}

// StartSampler reads pid every interval (and once at once) until Stop.
func StartSampler(pid int, every time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample(pid)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) sample(pid int) {
	u, err := ProcessUsage(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err // expected once the process exits; kept in case nothing was ever read
		return
	}
	s.last = u
	s.maxRSS = max(s.maxRSS, u.RSS)
	s.samples++
}

// Stop ends sampling and returns what was seen; it fails only if no reading
// ever succeeded. Call it once.
func (s *Sampler) Stop() (Sampled, error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples == 0 {
		return Sampled{}, fmt.Errorf("sampler: no reading: %w", s.err)
	}
	return Sampled{Last: s.last, MaxRSS: s.maxRSS, Samples: s.samples}, nil
}

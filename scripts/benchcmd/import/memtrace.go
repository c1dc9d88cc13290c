package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memTrace samples where this process's memory is, so a peak can be put
// down to a phase and to Go's heap or to memory Go does not manage
// (SQLite's allocator in modernc's libc mmaps its own arenas, which
// GOMEMLIMIT does not govern). Go's share is what the runtime has mapped
// less what it has released to the OS (runtime/metrics); the rest of the
// anonymous resident memory in /proc/self/smaps is not Go's.
type memTrace struct {
	out      io.Writer
	every    time.Duration
	profDir  string // write a heap profile at each new heap peak, when set
	began    time.Time
	mu       sync.Mutex
	phase    string
	peaks    map[string]memSample
	order    []string
	lastProf uint64
	stop     chan struct{}
	done     chan struct{}
}

type memSample struct {
	at                                 time.Duration
	rss                                int64 // resident, all mappings
	hwm                                int64 // peak resident set so far (VmHWM)
	goArena                            int64 // mapped by the Go runtime and not released
	anon                               int64 // other anonymous resident memory (libc/SQLite allocator)
	file                               int64 // file-backed resident (binary, SQLite files if mapped)
	heapObj                            uint64
	heapGoal                           uint64
	heapFree, heapUnused, stacks, meta uint64
	goTotal                            uint64 // all memory the Go runtime mapped
}

func startMemTrace(out io.Writer, every time.Duration, profDir string) *memTrace {
	t := &memTrace{out: out, every: every, profDir: profDir, began: time.Now(), phase: "start",
		peaks: map[string]memSample{}, stop: make(chan struct{}), done: make(chan struct{})}
	t.order = append(t.order, t.phase)
	go t.loop()
	return t
}

// Phase labels the samples that follow.
func (t *memTrace) Phase(name string) {
	t.sample()
	t.mu.Lock()
	t.phase = name
	t.order = append(t.order, name)
	t.mu.Unlock()
}

func (t *memTrace) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.sample()
		}
	}
}

func (t *memTrace) sample() {
	s, err := readMem()
	if err != nil {
		return
	}
	s.at = time.Since(t.began)
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peaks[t.phase]; !ok || s.rss > p.rss {
		t.peaks[t.phase] = s
	}
	fmt.Fprintf(t.out, "# mem %6.1fs %-10s hwm %4d rss %4d  go %4d  other %4d  file %3d  heap-live %4d  heap-goal %4d  go-mapped %4d  (heap free %d unused %d, stacks %d, meta %d) MB\n",
		s.at.Seconds(), t.phase, mb(s.hwm), mb(s.rss), mb(s.goArena), mb(s.anon), mb(s.file), mb(s.heapObj), mb(s.heapGoal), mb(s.goTotal),
		mb(s.heapFree), mb(s.heapUnused), mb(s.stacks), mb(s.meta))
	if t.profDir != "" && s.heapObj > t.lastProf+t.lastProf/10 {
		t.lastProf = s.heapObj
		if f, err := os.Create(filepath.Join(t.profDir, fmt.Sprintf("heap-%s-%03.0f.pprof", t.phase, s.at.Seconds()))); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
	}
}

// Stop ends sampling and prints each phase's peak.
func (t *memTrace) Stop() {
	t.sample()
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ph := range t.order {
		s, ok := t.peaks[ph]
		if !ok {
			continue
		}
		fmt.Fprintf(t.out, "# mem peak %-10s at %5.1fs: rss %d MB = go %d + other %d + file %d (heap-live %d MB)\n",
			ph, s.at.Seconds(), mb(s.rss), mb(s.goArena), mb(s.anon), mb(s.file), mb(s.heapObj))
	}
}

// mb is bytes in MB of 10^6 bytes, the unit of import_peak_rss_mb.
func mb[T int64 | uint64](n T) int64 { return int64(n) / 1e6 }

var memMetrics = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/goal:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
	{Name: "/memory/classes/metadata/other:bytes"},
	{Name: "/memory/classes/metadata/mspan/inuse:bytes"},
}

func readMem() (memSample, error) {
	var s memSample
	metrics.Read(memMetrics)
	s.heapObj, s.heapGoal, s.goTotal = memMetrics[0].Value.Uint64(), memMetrics[1].Value.Uint64(), memMetrics[2].Value.Uint64()
	s.heapFree, s.heapUnused, s.stacks = memMetrics[4].Value.Uint64(), memMetrics[5].Value.Uint64(), memMetrics[6].Value.Uint64()
	s.meta = memMetrics[7].Value.Uint64() + memMetrics[8].Value.Uint64()
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		if _, v, ok := strings.Cut(string(st), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			s.hwm = kb << 10
		}
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var path string
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			path = ""
			if len(f) >= 6 {
				path = f[5]
			}
			continue
		}
		if !strings.HasPrefix(line, "Rss:") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
		n := kb << 10
		s.rss += n
		switch {
		case path != "" && !strings.HasPrefix(path, "["):
			s.file += n
		default:
			s.anon += n
		}
	}
	s.goArena = int64(s.goTotal - memMetrics[3].Value.Uint64())
	s.anon -= s.goArena
	return s, sc.Err()
}

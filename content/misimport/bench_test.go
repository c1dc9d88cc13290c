package misimport_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// bench50kFamilies makes a file of just over 50,000 rows.
const bench50kFamilies = 33_000

// BenchmarkParse50k is the pure part of a dry run on a 50,000-row export:
// read from disk, validate, deduplicate, and plan against the roster the
// same file would leave (the re-upload case: every row matched). It
// reports rows, the sampled peak of live heap and the process's peak RSS.
func BenchmarkParse50k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "roster.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	exp, err := mistest.Generate(f, mistest.Config{Families: bench50kFamilies, Layout: mistest.LayoutSIMS, Seed: 1, BOM: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if exp.Rows < 50_000 {
		b.Fatalf("generated %d rows, want 50,000+", exp.Rows)
	}
	st, _ := os.Stat(path)
	opts := misimport.Options{Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}}
	var roster misimport.Roster
	{
		r, _ := os.Open(path)
		imp, err := misimport.Parse(r, opts)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		roster = mistest.RosterAfter(imp)
	}
	runtime.GC()
	sampler := startHeapSampler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		imp, err := misimport.Parse(r, opts)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		pl := misimport.NewPlan(imp, roster, func(string, string) bool { return false })
		if pl.Summary.Rows != exp.Rows || pl.Summary.UnchangedChildren != exp.Pupils {
			b.Fatalf("summary %+v, want %d rows", pl.Summary, exp.Rows)
		}
	}
	b.StopTimer()
	// What a dry run holds once parsed: the Import and its Plan, measured
	// as live heap after a GC with and without them.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, _ := os.Open(path)
	imp, _ := misimport.Parse(r, opts)
	r.Close()
	pl := misimport.NewPlan(imp, roster, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(imp)
	runtime.KeepAlive(pl)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "import+plan-live-MB")
	b.ReportMetric(float64(exp.Rows), "rows")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	b.ReportMetric(float64(sampler.stop())/(1<<20), "peak-heap-MB")
	if kb := peakRSSKiB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-rss-MB")
	}
}

// heapSampler records the largest live heap seen while a benchmark runs.
type heapSampler struct {
	peak atomic.Uint64
	done chan struct{}
	quit chan struct{}
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{}), quit: make(chan struct{})}
	go func() {
		defer close(s.done)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.quit)
	<-s.done
	return s.peak.Load()
}

// peakRSSKiB is VmHWM from /proc/self/status, or 0 off Linux.
func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestMemoryFollowsTheRosterNotTheFile streams a file through an io.Pipe
// (it never exists whole) whose rows are mostly exact repeats: the file
// grows, the roster does not, and neither may the heap.
func TestMemoryFollowsTheRosterNotTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("streams tens of megabytes")
	}
	var small bytes.Buffer
	if _, err := mistest.Generate(&small, mistest.Config{Families: 200, Layout: mistest.LayoutArbor, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	header, body, _ := bytes.Cut(small.Bytes(), []byte("\n"))
	const repeats = 330 // ~100,000 rows, ~18 MB, streamed in bounded memory
	pr, pw := io.Pipe()
	go func() {
		pw.Write(append(header, '\n'))
		for i := 0; i < repeats; i++ {
			if _, err := pw.Write(body); err != nil {
				return
			}
		}
		pw.Close()
	}()
	runtime.GC()
	sampler := startHeapSampler()
	imp, err := misimport.Parse(pr, misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, MaxProblems: 1000})
	peak := sampler.stop()
	if err != nil {
		t.Fatal(err)
	}
	fileBytes := int64(len(body)) * repeats
	if imp.Rows < 100_000 || imp.DuplicateRows < imp.Rows*9/10 {
		t.Fatalf("rows %d duplicates %d", imp.Rows, imp.DuplicateRows)
	}
	t.Logf("streamed %.1f MB, %d rows, %d pupils: peak live heap %.1f MB", float64(fileBytes)/(1<<20), imp.Rows, len(imp.Pupils), float64(peak)/(1<<20))
	if peak > 16<<20 {
		t.Errorf("peak live heap %.1f MB for a 300-pupil roster", float64(peak)/(1<<20))
	}
}

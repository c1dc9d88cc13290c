package media

import (
	"bytes"
	"image/jpeg"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/media/mediatest"
)

// BenchmarkProcess12MP processes a 4000×3000, ~5 MB photo-like JPEG, read
// through Process as an upload would be, and reports, besides the usual
// figures, ms/op and the peak heap seen while it ran (sampled every
// millisecond, garbage not yet collected included).
func BenchmarkProcess12MP(b *testing.B) {
	in, err := mediatest.Photo12MP()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkProcess(b, in, 4000)
}

// BenchmarkProcess12MPOrientation6 is the same photo marked as taken with
// the phone upright, so every pixel is also turned a quarter.
func BenchmarkProcess12MPOrientation6(b *testing.B) {
	in, err := mediatest.Photo12MP()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkProcess(b, mediatest.WithOrientation(in, 6), 3000)
}

func benchmarkProcess(b *testing.B, in []byte, wantWidth int) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	runtime.GC()
	peak := sampleHeap(time.Millisecond)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		p, err := Process(bytes.NewReader(in), DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		if p.Photo.Width != wantWidth || max(p.Thumb.Width, p.Thumb.Height) != 512 {
			b.Fatalf("photo %dx%d, thumb %dx%d", p.Photo.Width, p.Photo.Height, p.Thumb.Width, p.Thumb.Height)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
}

// sampleHeap polls the heap's object bytes until the returned function is
// called, which stops it and gives the largest value seen.
func sampleHeap(every time.Duration) func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex
		peak uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			peak = max(peak, s[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// The generated benchmark input is what the report says it is.
func TestPhoto12MPInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 12 MP photo")
	}
	in, err := mediatest.Photo12MP()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(in))
	if err != nil || cfg.Width != 4000 || cfg.Height != 3000 {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if mb := float64(len(in)) / 1e6; mb < 4.5 || mb > 5.5 {
		t.Fatalf("input is %.2f MB, want about 5", mb)
	}
	if o := jpegOrientation(mediatest.WithOrientation(in[:1000], 6)); o != 6 {
		t.Fatalf("WithOrientation: read back %d", o)
	}
}

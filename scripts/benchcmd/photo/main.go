// Command photo is the program behind scripts/bench/photo: it generates a
// 12-megapixel (4000×3000) photo-like JPEG of about 5 MB, runs it through
// the parent-photo pipeline (content/media) as an upload, and reports the
// time per photo and the process's peak RSS while processing. The headline
// figures are printed last, one per line, as "name value unit".
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/hometime-edu/hometime/content/media"
	"github.com/hometime-edu/hometime/content/media/mediatest"
	"github.com/hometime-edu/hometime/scripts/benchkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench photo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, _ func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench photo", flag.ContinueOnError)
	runs := fs.Int("runs", 3, "photos processed; the time reported is the median")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return errors.New("-runs must be at least 1")
	}

	in, err := mediatest.Photo12MP()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "input: 4000x3000 JPEG, %d bytes (%.2f MB), no EXIF\n", len(in), float64(len(in))/1e6)

	// Start from a settled process, and forget the peak that generating the
	// input reached, so VmHWM is the processing's own peak.
	runtime.GC()
	debug.FreeOSMemory()
	resetErr := resetPeakRSS()
	base, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "before: rss %.1f MB (input held in memory)\n", mb(base.RSS))

	upright, err := processRuns(ctx, stdout, "upright", in, *runs, 4000)
	if err != nil {
		return err
	}
	peak, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	if resetErr != nil {
		fmt.Fprintf(stdout, "note: could not reset the peak RSS (%v); it includes generating the input\n", resetErr)
	}

	// For the record: the same photo marked as taken upright on a phone,
	// which also turns every pixel. Not a headline figure.
	turned, err := processRuns(ctx, stdout, "orientation 6", mediatest.WithOrientation(in, 6), *runs, 3000)
	if err != nil {
		return err
	}
	after, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "orientation 6: median %.1f ms, peak rss over both sets %.1f MB\n", ms(turned), mb(after.PeakRSS))

	var r benchkit.Report
	r.Millis("photo_process_ms", upright)
	r.Value("photo_peak_rss_mb", mb(peak.PeakRSS), 1, "MB")
	return r.Print(stdout)
}

// processRuns processes in n times, a GC apart, and returns the median time.
func processRuns(ctx context.Context, stdout io.Writer, label string, in []byte, n, wantWidth int) (time.Duration, error) {
	times := make([]time.Duration, 0, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if i > 0 {
			runtime.GC()
		}
		before, err := benchkit.SelfUsage()
		if err != nil {
			return 0, err
		}
		start := time.Now()
		p, err := media.Process(bytes.NewReader(in), media.DefaultLimits())
		elapsed := time.Since(start)
		after, uerr := benchkit.SelfUsage()
		if err := errors.Join(err, uerr); err != nil {
			return 0, fmt.Errorf("%s run %d: %w", label, i+1, err)
		}
		if p.Photo.Width != wantWidth || max(p.Thumb.Width, p.Thumb.Height) != 512 {
			return 0, fmt.Errorf("%s run %d: photo %dx%d, thumbnail %dx%d", label, i+1, p.Photo.Width, p.Photo.Height, p.Thumb.Width, p.Thumb.Height)
		}
		// CPU time as well: on a shared machine the wall time also counts
		// waiting for a core.
		fmt.Fprintf(stdout, "%s run %d: %.1f ms (cpu %.1f ms); photo %dx%d %d bytes, thumbnail %dx%d %d bytes\n",
			label, i+1, ms(elapsed), ms(after.CPU()-before.CPU()), p.Photo.Width, p.Photo.Height, len(p.Photo.Data), p.Thumb.Width, p.Thumb.Height, len(p.Thumb.Data))
		times = append(times, elapsed)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// resetPeakRSS sets this process's VmHWM back to its current RSS (Linux:
// writing 5 to clear_refs).
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func mb(bytes int64) float64     { return float64(bytes) / 1e6 }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

package benchkit

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report collects a benchmark's headline figures so they can be printed
// last, one per line as "name value unit", where whatever reads the output
// finds them. Formatting is fixed per kind of figure so runs compare line by
// line: rates and counts as integers, milliseconds with 2 decimals. The zero
// value is ready to use.
type Report struct {
	lines []string
}

// Value adds a figure with the given number of decimals.
func (r *Report) Value(name string, v float64, decimals int, unit string) {
	r.add(name, strconv.FormatFloat(v, 'f', decimals, 64), unit)
}

// Rate adds a per-second figure, rounded to an integer (e.g. "req/s").
func (r *Report) Rate(name string, perSecond float64, unit string) {
	r.Value(name, perSecond, 0, unit)
}

// Count adds an integer figure.
func (r *Report) Count(name string, n int64, unit string) {
	r.add(name, strconv.FormatInt(n, 10), unit)
}

// Millis adds a duration in milliseconds with 2 decimals.
func (r *Report) Millis(name string, d time.Duration) {
	r.add(name, fmtMillis(d), "ms")
}

// Seconds adds a duration in seconds with 2 decimals (CPU time, say).
func (r *Report) Seconds(name string, d time.Duration) {
	r.Value(name, d.Seconds(), 2, "s")
}

// MiB adds a size in mebibytes with 1 decimal.
func (r *Report) MiB(name string, bytes int64) {
	r.Value(name, float64(bytes)/(1<<20), 1, "MiB")
}

// Latency adds prefix_p50, _p90, _p99 and _max in milliseconds.
func (r *Report) Latency(prefix string, l Latency) {
	r.Millis(prefix+"_p50", l.P50)
	r.Millis(prefix+"_p90", l.P90)
	r.Millis(prefix+"_p99", l.P99)
	r.Millis(prefix+"_max", l.Max)
}

// Load adds a load result: prefix_rps (successes per second, in unit such as
// "req/s" or "ops/s"), its latencies and prefix_failed, which is always
// printed so a reader sees a failing run for what it is.
func (r *Report) Load(prefix string, res Result, unit string) {
	r.Rate(prefix+"_rps", res.Rate, unit)
	r.Latency(prefix, res.Latency)
	r.Count(prefix+"_failed", res.Failed(), "count")
}

// Usage adds prefix_peak_rss (MiB) and prefix_cpu (seconds).
func (r *Report) Usage(prefix string, u Usage) {
	r.MiB(prefix+"_peak_rss", u.PeakRSS)
	r.Seconds(prefix+"_cpu", u.CPU())
}

// Print writes the figures in the order they were added.
func (r *Report) Print(w io.Writer) error {
	if _, err := io.WriteString(w, strings.Join(r.lines, "")); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	return nil
}

// add keeps each line to exactly three fields, whatever the caller passed.
func (r *Report) add(name, value, unit string) {
	r.lines = append(r.lines, oneField(name)+" "+value+" "+oneField(unit)+"\n")
}

func oneField(s string) string {
	s = strings.Join(strings.Fields(s), "_")
	if s == "" {
		return "-"
	}
	return s
}

func fmtMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

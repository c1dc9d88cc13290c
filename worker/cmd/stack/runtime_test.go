package stack

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: unset, GOGC and GOMEMLIMIT get Hometime's defaults; an
// operator's own values are left alone. (Not parallel: it sets process-wide
// runtime state, and puts it back.)
func TestTuneGC(t *testing.T) {
	prevPct := debug.SetGCPercent(100)
	prevLim := debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(prevPct); debug.SetMemoryLimit(prevLim) }()

	TuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != defaultMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, defaultMemoryLimit)
	}
	env := map[string]string{"GOGC": "100", "GOMEMLIMIT": "2GiB"}
	TuneGC(func(k string) string { return env[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC set, want it left at 100", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("memory limit %d with GOMEMLIMIT set, want it left alone", got)
	}
}

package stack

import (
	"runtime/debug"
)

// GC settings a Hometime process runs with unless the operator sets GOGC
// or GOMEMLIMIT. The dev store runs in-process and allocates heavily on
// every call (FerretDB decodes every document it touches), so with Go's
// default target a third of the pipeline's CPU went to the collector. A
// heap target three times the live heap (GOGC=300) cut SMS CPU per 1,000
// messages by about a fifth (2.96 → 2.29 s, back to back on this machine);
// the soft memory limit keeps the larger target from growing the heap
// without bound: near the limit the collector runs as often as it must.
//
// The limit is what a process's memory budget leaves for the Go heap: a
// roster import must stay within 250 MB of RSS, of which the binary's own
// pages and the embedded store's SQLite take about 60 MB. With 768 MiB the
// import of a 50,000-row file peaked at 405 MB; with 160 MiB at 248 MB,
// and SMS CPU per 1,000 messages did not rise (1.36 → 1.19 s, one run
// each on a busy machine). An operator with more memory raises GOMEMLIMIT.
const (
	defaultGCPercent   = 300
	defaultMemoryLimit = 160 << 20
)

// TuneGC applies those settings where the environment leaves them unset.
// The binaries call it first thing, and so do benchmarks that measure the
// pipeline as the binaries run it.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

package main

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// fakeHost lets the provider fakes, written for tests, run in a program:
// they only call Helper, Fatalf, Fatal, Cleanup and TempDir. The embedded
// testing.TB is nil and any other method panics, which would be a bug here.
type fakeHost struct {
	testing.TB
	dir      string
	mu       sync.Mutex
	cleanups []func()
}

func (h *fakeHost) Helper() {}

func (h *fakeHost) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("provider fake: "+format, args...))
}

func (h *fakeHost) Fatal(args ...any) {
	panic(fmt.Sprint(append([]any{"provider fake: "}, args...)...))
}

func (h *fakeHost) TempDir() string {
	d, err := os.MkdirTemp(h.dir, "fake-")
	if err != nil {
		h.Fatal(err)
	}
	return d
}

func (h *fakeHost) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

// close stops every fake started on this host, last first.
func (h *fakeHost) close() {
	h.mu.Lock()
	fs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

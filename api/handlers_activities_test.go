package api

import (
	"sync"
	"testing"

	"github.com/hometime-edu/hometime/content/activities"
)

var (
	libOnce   sync.Once
	libShared *activities.Library
	libErr    error
)

// starterLibrary loads the built-in library once per test binary.
func starterLibrary(t testing.TB) ActivityLibrary {
	libOnce.Do(func() { libShared, libErr = activities.Load() })
	if libErr != nil {
		t.Fatal(libErr)
	}
	return libShared
}

package providerfake

import (
	"errors"
	"testing"

	"github.com/hometime-edu/hometime/notify"
)

// SendError returns err as the *notify.SendError an adapter's failure must
// be, and fails the test when it is not one.
func SendError(t testing.TB, err error) *notify.SendError {
	t.Helper()
	var se *notify.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *notify.SendError", err, err)
	}
	return se
}

package content_test

import (
	"testing"

	"github.com/hometime-edu/hometime/content"
)

func TestRequireDeps(t *testing.T) {
	t.Parallel()
	type group struct {
		Clock content.Clock
		Note  string
	}
	type deps struct {
		Roster   error // any interface
		Key      []byte
		Ready    func() error
		Optional content.Audit `deps:"optional"`
		Limit    int
		Group    group `deps:"group"`
		private  *int
	}
	err := content.RequireDeps("api", deps{})
	if err == nil || err.Error() != "api: missing dependencies: Roster, Key, Ready, Group.Clock" {
		t.Fatalf("err = %v", err)
	}
	full := deps{Key: []byte("k"), Ready: func() error { return nil }, Group: group{Clock: content.SystemClock{}}}
	if err := content.RequireDeps("api", full); err == nil || err.Error() != "api: missing dependencies: Roster" {
		t.Fatalf("err = %v", err)
	}
	full.Roster = content.Errorf(content.CodeInvalid, "any value")
	if err := content.RequireDeps("api", full); err != nil {
		t.Fatalf("every required field set: %v", err)
	}
}

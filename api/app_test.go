package api

import (
	"testing"
)

// TestNewRefusesMissingDependencies: the app is not built on incomplete
// wiring; the error names what is missing, and optional fields (the
// webhook verifiers, which need provider keys) may be left out.
func TestNewRefusesMissingDependencies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.deps
	d.Budgets, d.Ready, d.MediaKey = nil, nil, nil
	if _, err := New(d); err == nil || err.Error() != "api: missing dependencies: Ready, Budgets, MediaKey" {
		t.Fatalf("New = %v, want the three missing dependencies named", err)
	}
	d = h.deps
	d.Twilio, d.SendGridEvents, d.TrustedProxies, d.Clock, d.Web = nil, nil, nil, nil, nil
	if _, err := New(d); err != nil {
		t.Fatalf("optional dependencies left out: %v", err)
	}
}

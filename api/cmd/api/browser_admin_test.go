package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
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
	b.waitText("main", "SMS budget left this month")
	b.checkA11y("school-home")

	// Roster import: the dry run lists problems by row and column, the
	// SMS cost against the budget, and 5 of 20 pupils leaving (a quarter
	// of the roster), which must be confirmed before the commit.
	csv := writeRoster(t)
	b.do("open the import", chromedp.Click(chromedp.CSS(`nav a[href$="/admin/import"]`)))
	b.waitText("h1", "Roster import")
	b.checkA11y("import")
	b.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{csv}))
	b.do("check it", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText(".result", "What this import would do")
	b.waitText("section[aria-labelledby=problems-h] table", "Contact 1 Mobile") // the school's own header
	rows := evalJS[[]string](b, `[...document.querySelectorAll('section[aria-labelledby=problems-h] tbody tr')].map(r => r.textContent)`)
	var sawPhone, sawYear bool
	for _, r := range rows {
		sawPhone = sawPhone || (strings.Contains(r, "Contact 1 Mobile") && strings.Contains(r, "18"))
		sawYear = sawYear || (strings.Contains(r, "Year") && strings.Contains(r, "19"))
	}
	if !sawPhone || !sawYear {
		t.Errorf("problems table lacks row 18's mobile or row 19's year group: %q", rows)
	}
	// The demo's own pupils' UPNs pass the check letter.
	if evalJS[bool](b, `document.querySelector('.result').textContent.includes('UPN check letter does not match')`) {
		t.Error("the dry run warns about the demo pupils' UPN check letters")
	}
	b.waitText(".result", "This month’s SMS budget has £50.00 left")
	b.waitText(".result", "5 children on Hometime are not in this file (25% of the roster)")
	if !evalJS[bool](b, `[...document.querySelectorAll('.result .actions button')].every(x => x.disabled)`) {
		t.Error("the commit is allowed before the leavers are confirmed")
	}
	b.checkA11y("import-dry-run")
	b.do("confirm the leavers", chromedp.Click(chromedp.CSS(`#confirm-leavers`)))
	b.do("commit", chromedp.Click(chromedp.CSS(`.result .actions button.primary`)))
	b.waitText("main", "Import finished")
	b.waitText(".progress-block", "All done")
	b.checkA11y("import-committed")

	// The funnel: per class, and each family's delivery state.
	b.do("open the funnel", chromedp.Click(chromedp.CSS(`main a.button.primary`)))
	b.waitText("h1", "Invites")
	b.waitText("main table", "Robins")
	b.waitText("#families-h + .filters + p", "families")
	states := evalJS[[]string](b, `[...document.querySelectorAll('section[aria-labelledby=families-h] tbody tr td:nth-child(5) .tag')].map(x => x.textContent)`)
	if len(states) == 0 {
		t.Fatal("no family rows")
	}
	t.Logf("delivery states: %v", countStrings(states))
	b.checkA11y("funnel")
	b.do("filter by class", chromedp.SetValue(chromedp.CSS(`.filters select`), "cls_demo_owls"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.filters select').dispatchEvent(new Event('change', {bubbles: true}))`))
	b.waitText("section[aria-labelledby=families-h]", "Showing")

	// Resend, confirmed in a dialog, by keyboard.
	b.do("open the resend dialog", chromedp.Click(chromedp.CSS(`section[aria-labelledby=resend-h] > button`)))
	b.waitText("dialog[open]", "Resend invites?")
	b.checkA11y("funnel-resend-dialog")
	b.do("confirm the resend", chromedp.Click(chromedp.CSS(`dialog[open] button.primary`)))
	b.waitText("section[aria-labelledby=resend-h]", "Invites are on their way to")
	b.waitText("section[aria-labelledby=resend-h] .progress-block", "All done")
	b.shot("funnel-resent")

	// The same funnel on a phone.
	b.do("phone width", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.shot("funnel-360px")
	overflow := evalJS[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`)
	if overflow {
		t.Error("the funnel scrolls sideways at 360px (only its tables may)")
	}
	b.do("desktop width", chromedp.EmulateReset())
	t.Logf("admin journey: %.1fs", time.Since(start).Seconds())
}

// writeRoster writes a SIMS-style export of the demo school: 15 of its 20
// pupils as they are (their families by email), four new pupils, one with
// a number that is not a mobile (row 18), one in a year the app does not
// serve (row 19), and a grandmother without parental responsibility.
func writeRoster(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("UPN,Legal Surname,Legal Forename,Year,Reg Group,Contact 1 Forename,Contact 1 Surname,Contact 1 Relationship," +
		"Contact 1 Mobile,Contact 1 Email,Contact 1 Parental Responsibility,Contact 1 Language\r\n")
	for i := 0; i < 15; i++ {
		year, class := "Year 1", "Robins"
		if i >= 10 {
			year, class = "Year 3", "Owls"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,Parent,%s,Mother,,family%02d@demo.hometime.test,Y,\r\n",
			demoUPN(i), demoLastNames[i%10], demoFirstNames[i], year, class, demoLastNames[i%10], i%10+1)
	}
	upn := func(n int) string { return mistest.UPNFor(900000 + n) }
	fmt.Fprintf(&b, "%s,Rees,Cerys,Year 1,Robins,Angharad,Rees,Mother,07123 456789,angharad.rees@example.test,Y,Welsh\r\n", upn(1))
	fmt.Fprintf(&b, "%s,Bevan,Ifan,Year 1,Robins,Gareth,Bevan,Father,07700 900999,gareth.bevan@example.test,Y,English\r\n", upn(2))
	fmt.Fprintf(&b, "%s,Okafor,Chidi,Year 8,Owls,Ngozi,Okafor,Mother,07123 456790,ngozi.okafor@example.test,Y,English\r\n", upn(3))
	fmt.Fprintf(&b, "%s,Lewis,Osian,Year 3,Owls,Siân,Lewis,Grandmother,07123 456791,sian.lewis@example.test,N,Welsh\r\n", upn(4))
	p := filepath.Join(t.TempDir(), "Hometime Demo Primary - SIMS export.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func countStrings(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hometime-edu/hometime/api/web"
)

// TestBrowserStaffScreens visits every other admin screen, the reset and
// the teacher's view in headless Chromium, with axe-core on each, and
// measures what the first load costs: the JavaScript and CSS sent (raw and
// gzip) and the time to the first render of the school home.
func TestBrowserStaffScreens(t *testing.T) {
	needBrowser(t)
	start := time.Now()
	base, dir := demoStack(t)
	b := newBrowser(t, base)
	defer b.axeSummary()

	// First load: every file the sign-in page fetched.
	b.do("open the app", chromedp.Navigate(base+"/"))
	b.waitText("h1", "Sign in")
	logFirstLoad(t, b, "sign-in page")
	b.do("phone width", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	b.shot("signin-360px")
	b.do("desktop width", chromedp.EmulateReset())

	// Password reset: the request screen, the same answer for any address.
	b.do("forgotten password", chromedp.Click(chromedp.CSS(`main a[href="#/reset"]`)))
	b.waitText("h1", "Reset your password")
	b.checkA11y("reset")
	b.do("ask for a link", chromedp.SendKeys(chromedp.CSS(`input[type=email]`), "nobody@demo.hometime.test"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("main", "a link is on its way")

	// A real reset, from the emailed link: the page takes the token out of
	// the address bar, and the new password signs in (at the end).
	const teacher2, newPassword = "teacher2@demo.hometime.test", "Owls fly at night 2026"
	b.do("reset again", chromedp.Click(chromedp.CSS(`main a[href="#/signin"]`)))
	b.waitText("h1", "Sign in")
	b.do("forgotten password again", chromedp.Click(chromedp.CSS(`main a[href="#/reset"]`)))
	b.waitText("h1", "Reset your password")
	b.do("ask for a link for a teacher", chromedp.SendKeys(chromedp.CSS(`input[type=email]`), teacher2),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("main", "a link is on its way")
	link, token := resetLink(t, dir, teacher2)
	// In development the emailed link opens this program's own web app.
	if want := base + "/reset-password?token=" + token; link != want {
		t.Errorf("the reset email links to %q, want %q", link, want)
	}
	b.do("open the emailed link", chromedp.Navigate(link))
	b.waitText("h1", "Choose a new password")
	if href := evalJS[string](b, `location.href`); strings.Contains(href, token) {
		t.Errorf("the reset token stayed in the address bar: %s", href)
	}
	b.checkA11y("reset-confirm")
	b.do("choose a password", chromedp.SendKeys(chromedp.CSS(`form .field:nth-of-type(1) input`), newPassword),
		chromedp.SendKeys(chromedp.CSS(`form .field:nth-of-type(2) input`), newPassword+"\r"))
	b.waitText("main", "Your password has been changed")
	b.do("back to sign in", chromedp.Click(chromedp.CSS(`main a[href="#/signin"]`)))

	signIn(b, demoAdmin)
	b.waitText("main", "SMS budget left this month")
	logFirstLoad(t, b, "sign-in and school home")

	// A reload restores the session from the HttpOnly cookie (Secure, on
	// http://127.0.0.1: Chromium counts loopback as a secure context), and
	// the page holds no token anywhere script can read.
	b.do("reload", chromedp.Reload())
	b.waitText("main", "SMS budget left this month")
	b.waitJS(`performance.getEntriesByName('hometime:school-home').length > 0`)
	ms := evalJS[float64](b, `performance.getEntriesByName('hometime:school-home')[0].startTime`)
	t.Logf("time to first render of the school home (reload, session restored from the cookie, 4 API calls): %.0f ms", ms)
	if got := evalJS[string](b, `document.cookie`); strings.Contains(got, "hometime_refresh") {
		t.Errorf("the refresh cookie is readable by script: %q", got)
	}
	if got := evalJS[string](b, `JSON.stringify(Object.keys(localStorage)) + JSON.stringify(Object.keys(sessionStorage))`); got != "[][]" {
		t.Errorf("web storage holds %s; want nothing (the language only when chosen)", got)
	}

	// Each screen is opened from the navigation by keyboard (focus the
	// link, Enter); the new screen takes the focus, as a page load would.
	visit := func(nav, h1, ready, screen string) {
		t.Helper()
		b.do("open "+screen, chromedp.Focus(chromedp.CSS(`nav a[href$="`+nav+`"]`)), chromedp.KeyEvent("\r"))
		b.waitText("h1", h1)
		b.waitJS(`document.activeElement && document.activeElement.id === 'main'`)
		b.waitText("main", ready)
		b.checkA11y(screen)
	}
	visit("/admin/staff", "Staff and roles", "Invite a member of staff", "staff")
	visit("/admin/classes", "Manage classes", "Robins", "classes")
	visit("/admin/children", "Children and families", "20 children", "children")

	// A child's family: unlinking asks for a reason, in a dialog.
	b.do("open a child", chromedp.Click(chromedp.CSS(`main tbody a`)))
	b.waitText("h2", "Parents and carers")
	b.waitText("main .card", "Unlink")
	b.checkA11y("child")
	b.do("unlink", chromedp.Click(chromedp.CSS(`main .card button.danger`)))
	b.waitText("dialog[open]", "Reason")
	if !evalJS[bool](b, `document.querySelector('dialog[open] button[type=submit]').disabled`) {
		t.Error("unlink can be confirmed without a reason")
	}
	b.checkA11y("child-unlink-dialog")
	b.do("give a reason", chromedp.SendKeys(chromedp.CSS(`dialog[open] textarea`), "Court order received; contact through the school only."),
		chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitText("main", "has been unlinked")

	visit("/admin/messages", "SMS budget and messages", "Messages sent", "messages")
	b.waitText("section[aria-labelledby=log-h] tbody", " sent") // the demo's broadcasts, through the outbox
	b.shot("messages")

	visit("/admin/export", "School export", "Prepare the export", "export")
	b.do("prepare the export", chromedp.Click(chromedp.CSS(`main button.primary`)))
	b.waitText("main", "The export is ready")
	b.checkA11y("export-ready")

	visit("/admin/subscription", "Subscription", "End the subscription", "subscription")

	// Welsh: the whole interface, with the page's language set.
	b.do("Cymraeg", chromedp.Click(chromedp.CSS(`button.lang`)))
	b.waitText("h1", "Tanysgrifiad")
	if got := evalJS[string](b, `document.documentElement.lang`); got != "cy" {
		t.Errorf("html lang %q in Welsh", got)
	}
	b.do("funnel in Welsh", chromedp.Click(chromedp.CSS(`nav a[href$="/admin/funnel"]`)))
	b.waitText("h1", "Gwahoddiadau")
	b.waitText("main", "Yn dangos")
	b.checkA11y("funnel-cy")

	// Dates in Welsh spell the month out (Debian's Chromium has no Welsh
	// locale data: the app does it): the message log's, sent this month.
	b.do("messages in Welsh", chromedp.Click(chromedp.CSS(`nav a[href$="/admin/messages"]`)))
	b.waitText("section[aria-labelledby=log-h] tbody", ":")
	london, _ := time.LoadLocation("Europe/London")
	month := welshMonths[time.Now().In(london).Month()-1]
	dates := evalJS[[]string](b, `[...document.querySelectorAll('section[aria-labelledby=log-h] tbody td')].map(td => td.textContent).filter(s => /\d{4}, \d{2}:\d{2}$/.test(s))`)
	if len(dates) == 0 {
		t.Error("no dates in the Welsh message log")
	}
	englishMonth := regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)`)
	for _, d := range dates {
		if !strings.Contains(d, " "+month+" ") || englishMonth.MatchString(d) {
			t.Errorf("Welsh message log date %q, want the month spelt %q", d, month)
			break
		}
	}
	b.checkA11y("messages-cy")
	// An API field error is shown in Welsh: the invite form sent empty.
	b.do("staff in Welsh", chromedp.Click(chromedp.CSS(`nav a[href$="/admin/staff"]`)))
	b.waitText("#invite-staff-h", "")
	b.expectFailedLoad("/v1/schools/sch_demo/staff")
	b.do("invite nobody", chromedp.Click(chromedp.CSS(`section[aria-labelledby=invite-staff-h] form button[type=submit]`)))
	b.waitText("section[aria-labelledby=invite-staff-h] form", "Mae angen hwn")
	if errs := evalJS[[]string](b, `[...document.querySelectorAll('.field-error')].map(e => e.textContent)`); slices.Contains(errs, "required") {
		t.Errorf("field errors in Welsh: %q", errs)
	}
	b.checkA11y("staff-field-errors-cy")
	// The one date formatter, in the school's time zone whatever the
	// browser's: 23:30 UTC is 00:30 the next day in London in summer (and
	// 11:30 in Auckland), 23:30 the same day in winter.
	got := evalJS[[]string](b, `import(document.querySelector('script[src$="/app.js"]').src.replace(/app\.js$/, 'lib/i18n.js')).then(m => [
		m.fmt.dateTime('2026-07-01T23:30:00Z'), m.fmt.date('2026-12-06T23:30:00Z'), m.timeZone(),
		m.formatDate('2026-10-12T09:00:00Z', { weekday: true, year: false })])`)
	if want := []string{"2 Gorffennaf 2026, 00:30", "6 Rhagfyr 2026", "Europe/London", "Dydd Llun 12 Hydref"}; !slices.Equal(got, want) {
		t.Errorf("Welsh dates in the school's zone (browser in %s): %q, want %q", browserTimeZone, got, want)
	}
	b.do("home in Welsh", chromedp.Click(chromedp.CSS(`nav a[href$="/s/sch_demo"]`)))
	b.waitText("main", "Cyllideb SMS ar ôl y mis hwn")
	b.checkA11y("school-home-cy")
	b.do("English", chromedp.Click(chromedp.CSS(`button.lang`)))
	b.waitText("main", "SMS budget left this month")

	// Signing out ends the session: a reload shows the sign-in. It is
	// done from a screen the next person could open too (engagement), who
	// must land on their home, never on this one's last screen.
	b.do("engagement", chromedp.Click(chromedp.CSS(`nav a[href$="/engagement"]`)))
	b.waitText("#split-title", "Pupil premium")
	b.do("sign out", chromedp.Click(chromedp.CSS(`header button.link-button:not(.lang)`)))
	b.waitText("h1", "Sign in")
	b.do("reload after signing out", chromedp.Reload())
	b.waitText("h1", "Sign in")

	// A teacher sees no admin screens, and is told so at an admin address.
	signIn(b, demoTeacher)
	b.waitText("h1", "Hometime Demo Primary")
	if h := evalJS[string](b, `location.hash`); h != "#/s/sch_demo" {
		t.Errorf("after the admin signed out, the teacher's sign-in opened %q, want their home #/s/sch_demo", h)
	}
	links := evalJS[[]string](b, `[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))`)
	for _, l := range links {
		if strings.Contains(l, "/admin/") {
			t.Errorf("the teacher's navigation links to %s", l)
		}
	}
	b.checkA11y("teacher-home")
	b.do("an admin address", chromedp.Navigate(base+"/#/s/sch_demo/admin/import"))
	b.waitText("h1", "Not available to you")
	b.checkA11y("teacher-forbidden")

	// The teacher who reset their password signs in with the new one.
	b.do("sign out the teacher", chromedp.Click(chromedp.CSS(`header button.link-button:not(.lang)`)))
	signInWith(b, teacher2, newPassword)
	b.waitText("h1", "Hometime Demo Primary")
	t.Logf("staff screens: %.1fs", time.Since(start).Seconds())
}

func signIn(b *browser, email string) { b.t.Helper(); signInWith(b, email, demoPassword) }

func signInWith(b *browser, email, password string) {
	b.t.Helper()
	b.waitText("h1", "Sign in")
	b.do("sign in as "+email,
		chromedp.SendKeys(chromedp.CSS(`input[type=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[type=password]`), password+"\r"))
}

// resetLink waits for the reset email to reach the outbox and returns its
// link and the link's token.
func resetLink(t *testing.T, dir, to string) (link, token string) {
	t.Helper()
	re := regexp.MustCompile(`(\S*)/reset-password\?token=([A-Z2-7]+)`)
	waitFor(t, "the reset email in the outbox", func() bool {
		raw, err := os.ReadFile(filepath.Join(dir, "outbox", "email.jsonl"))
		if err != nil {
			return false
		}
		for _, line := range strings.Split(string(raw), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["to"] == to {
				if m := re.FindStringSubmatch(fmt.Sprint(rec["body"])); m != nil {
					link, token = m[0], m[2]
				}
			}
		}
		return token != ""
	})
	return link, token
}

// logFirstLoad logs the app's files the browser has fetched so far, with
// their sizes raw and gzipped as the server sends them.
func logFirstLoad(t *testing.T, b *browser, when string) {
	t.Helper()
	names := evalJS[[]string](b, `[location.pathname === '/' ? '/index.html' : location.pathname,
		...performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)]`)
	files := web.Default().Files()
	prefix := web.AssetsPrefix + web.Default().Version() + "/"
	var js, css, jsGz, cssGz, html, htmlGz, n int
	seen := map[string]bool{}
	for _, p := range names {
		name := strings.TrimPrefix(strings.TrimPrefix(p, prefix), "/")
		sz, ok := files[name]
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		n++
		switch {
		case strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".mjs"):
			js, jsGz = js+sz[0], jsGz+sz[1]
		case strings.HasSuffix(name, ".css"):
			css, cssGz = css+sz[0], cssGz+sz[1]
		case strings.HasSuffix(name, ".html"):
			html, htmlGz = html+sz[0], htmlGz+sz[1]
		}
	}
	t.Logf("first load (%s): %d files; JS %d B (gzip %d B), CSS %d B (gzip %d B), JS+CSS %d B (gzip %d B), HTML %d B (gzip %d B)",
		when, n, js, jsGz, css, cssGz, js+css, jsGz+cssGz, html, htmlGz)
}

var welshMonths = []string{"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"}

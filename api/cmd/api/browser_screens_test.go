package main

import (
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
	base, _ := demoStack(t)
	b := newBrowser(t, base)
	defer b.axeSummary()

	// First load: every file the sign-in page fetched.
	b.do("open the app", chromedp.Navigate(base+"/"))
	b.waitText("h1", "Sign in")
	logFirstLoad(t, b, "sign-in page")

	// Password reset: the request screen, the same answer for any address.
	b.do("forgotten password", chromedp.Click(chromedp.CSS(`main a[href="#/reset"]`)))
	b.waitText("h1", "Reset your password")
	b.checkA11y("reset")
	b.do("ask for a link", chromedp.SendKeys(chromedp.CSS(`input[type=email]`), "nobody@demo.hometime.test"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("main", "a link is on its way")
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

	visit := func(nav, h1, ready, screen string) {
		t.Helper()
		b.do("open "+screen, chromedp.Click(chromedp.CSS(`nav a[href$="`+nav+`"]`)))
		b.waitText("h1", h1)
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
	b.do("home in Welsh", chromedp.Click(chromedp.CSS(`nav a[href$="/s/sch_demo"]`)))
	b.waitText("main", "Cyllideb SMS ar ôl y mis hwn")
	b.checkA11y("school-home-cy")
	b.do("English", chromedp.Click(chromedp.CSS(`button.lang`)))
	b.waitText("main", "SMS budget left this month")

	// Signing out ends the session: a reload shows the sign-in.
	b.do("sign out", chromedp.Click(chromedp.CSS(`header button.link-button:not(.lang)`)))
	b.waitText("h1", "Sign in")
	b.do("reload after signing out", chromedp.Reload())
	b.waitText("h1", "Sign in")

	// A teacher sees no admin screens, and is told so at an admin address.
	signIn(b, demoTeacher)
	b.waitText("h1", "Hometime Demo Primary")
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
	t.Logf("staff screens: %.1fs", time.Since(start).Seconds())
}

func signIn(b *browser, email string) {
	b.t.Helper()
	b.waitText("h1", "Sign in")
	b.do("sign in as "+email,
		chromedp.SendKeys(chromedp.CSS(`input[type=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[type=password]`), demoPassword+"\r"))
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

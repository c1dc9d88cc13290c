package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// demoTeacherChild is the demo parent's child in the demo teacher's class
// (Robins); demoTeacherClass is that class.
const (
	demoTeacherChild = "chd_demo_01"
	demoTeacherClass = "cls_demo_robins"
)

// TestBrowserTeacherJourney walks a teacher through the staff web app in
// headless Chromium on the dev stack, by keyboard: sign in, their classes,
// set an activity from the library; a parent then sends it back done, rated,
// with a comment and a photo through the JSON API, as the mobile app does;
// the teacher sees the submission with the photo, replies and gives an
// award (both checked from the parent's side of the API), and reads the
// class's engagement charts, in English and Welsh, on a desktop and at
// 360 px wide. The school admin's engagement with the pupil-premium split
// ends it. Every screen passes axe-core with no serious or critical
// violation; screenshots are written for people to look at.
func TestBrowserTeacherJourney(t *testing.T) {
	needBrowser(t)
	start := time.Now()
	base, _ := demoStack(t)
	b := newBrowser(t, base)
	defer b.axeSummary()
	holdHashchange(b)

	// Sign in by keyboard; the demo teacher has one school, so the app
	// opens its home.
	b.do("open the app", chromedp.Navigate(base+"/"))
	b.waitText("h1", "Sign in")
	b.do("sign in as the teacher",
		chromedp.Focus(chromedp.CSS(`input[type=email]`)),
		chromedp.KeyEvent(demoTeacher),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(demoPassword),
		chromedp.KeyEvent("\r"),
	)
	b.waitText("h1", "Hometime Demo Primary")
	b.checkA11y("teacher-home")

	// Their classes: only Robins (the other class is another teacher's).
	b.do("open the classes", chromedp.Focus(chromedp.CSS(`nav a[href$="/classes"]`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Your classes")
	// The demo's teacher has already set two things for Robins.
	b.waitText(".assignments", "Three good things")
	if got := evalJS[[]string](b, `[...document.querySelectorAll('.class-card h2')].map(e => e.textContent)`); len(got) != 1 || got[0] != "Robins" {
		t.Fatalf("teacher's classes %q, want [Robins]", got)
	}
	b.checkA11y("teacher-classes")

	// Set a Year 1 activity of the library the demo has not set, released
	// now, due in a week.
	b.do("open set-an-activity", chromedp.Focus(chromedp.CSS(`.class-card a.button.primary`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Set an activity for Robins")
	b.waitText(".library", "Year 1")
	if got := evalJS[string](b, `document.querySelector('select').value`); got != "Y1" {
		t.Errorf("the library starts filtered by %q, want the class's year group Y1", got)
	}
	b.checkA11y("teacher-assign")
	const title = "Shadow puppets"
	evalJS[bool](b, `([...document.querySelectorAll('.library label')].find(l => l.textContent.trim() === '`+title+`').querySelector('input').focus(), true)`)
	b.do("choose it by keyboard", chromedp.KeyEvent(" "))
	b.waitText(".chosen-count", title)
	b.do("set it", chromedp.Focus(chromedp.CSS(`form button[type=submit].primary`)), chromedp.KeyEvent("\r"))
	b.waitText(".banner.ok", "Set: "+title)
	link := evalJS[string](b, `document.querySelector('.banner.ok a').getAttribute('href')`)
	u, err := url.Parse(strings.TrimPrefix(link, "#"))
	if err != nil || !strings.Contains(u.Path, "/assignments/asg_") {
		t.Fatalf("link to the submissions %q", link)
	}
	assignmentID := u.Path[strings.LastIndex(u.Path, "/")+1:]

	// The parent, through the JSON API as the app does: once the release
	// has run, mark it done with a rating and a comment, and send a photo.
	c := client{t: t, base: base}
	parent, _ := c.login(demoParent, demoPassword)
	subPath := fmt.Sprintf("/v1/children/%s/assignments/%s/submission", demoTeacherChild, assignmentID)
	waitFor(t, "the assignment's release to the parent", func() bool {
		status, _ := c.call("POST", subPath, parent, map[string]any{"done": true, "rating": 4, "comment": "We built it twice!"})
		return status == 200
	})
	if status, body := apiUpload(t, base, subPath+"/photos", parent, testPhoto(t)); status != 201 {
		t.Fatalf("photo upload: %d %s", status, body)
	}

	// The teacher opens the submissions and sees the photo.
	b.do("open the submissions", chromedp.Focus(chromedp.CSS(`.banner.ok a`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "What families sent back: "+title)
	b.waitText(".submission h2", "Amelia Smith")
	b.waitText(".submission", "Rated 4 out of 5")
	b.waitText(".submission blockquote", "We built it twice!")
	waitJS(b, "the photo's thumbnail", `(() => { const i = document.querySelector('.photo-button img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	b.checkA11y("teacher-submissions")

	// The full-size photo in a dialog; Escape closes it and focus returns.
	b.do("open the photo", chromedp.Focus(chromedp.CSS(`.photo-button`)), chromedp.KeyEvent("\r"))
	waitJS(b, "the full-size photo", `(() => { const i = document.querySelector('dialog[open] img'); return !!i && i.complete && i.naturalWidth >= 600; })()`)
	b.checkA11y("teacher-photo")
	b.do("close the photo", chromedp.KeyEvent("\u001b"))
	waitJS(b, "focus back on the photo", `!document.querySelector('dialog[open]') && document.querySelector('#photo-dialog-title').textContent === ''
		&& document.activeElement.classList.contains('photo-button')`)

	// Reply, then an award, each by keyboard.
	b.do("reply",
		chromedp.Focus(chromedp.CSS(`.respond form:first-child textarea`)),
		chromedp.KeyEvent("What a great tower, Amelia!"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("\r"),
	)
	b.waitText(".thread", "What a great tower, Amelia!")
	b.do("give an award",
		chromedp.Focus(chromedp.CSS(`.respond form:last-child input`)),
		chromedp.KeyEvent("Building with patience"),
		chromedp.KeyEvent("\r"),
	)
	b.waitText(".respond", "Award given to Amelia: Building with patience")
	b.checkA11y("teacher-replied")

	// The parent's side of the API has both.
	_, sub := c.call("GET", subPath, parent, nil)
	if body, _ := json.Marshal(sub); !strings.Contains(string(body), "What a great tower, Amelia!") {
		t.Errorf("the parent's submission has no reply: %s", body)
	}
	_, feed := c.call("GET", "/v1/children/"+demoTeacherChild+"/feed", parent, nil)
	if body, _ := json.Marshal(feed); !strings.Contains(string(body), "Building with patience") {
		t.Errorf("the child's feed has no award: %s", body)
	}

	// The teacher's own activity, set to go out later: it is added to the
	// school's library, chosen, and the class shows it as scheduled.
	b.do("classes again", chromedp.Focus(chromedp.CSS(`nav a[href$="/classes"]`)), chromedp.KeyEvent("\r"))
	b.waitText(".assignments", title)
	b.do("open set-an-activity", chromedp.Focus(chromedp.CSS(`.class-card a.button.primary`)), chromedp.KeyEvent("\r"))
	b.waitText(".library", "Year 1")
	b.do("write our own",
		chromedp.Focus(chromedp.CSS(`details.own summary`)),
		chromedp.KeyEvent("\r"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("Leaf hunt"),
	)
	b.do("describe it",
		chromedp.Focus(chromedp.CSS(`details.own textarea`)),
		chromedp.KeyEvent("Collect five different leaves on a walk and sort them by size."),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("Go for a walk.\nCollect five leaves.\nSort them from smallest to largest."),
		chromedp.Focus(chromedp.CSS(`details.own button[type=submit]`)),
		chromedp.KeyEvent("\r"),
	)
	b.waitText("details.own", "“Leaf hunt” is saved and chosen.")
	b.waitText(".chosen-count", "Leaf hunt")
	b.do("send it later", chromedp.Focus(chromedp.CSS(`#when-later`)), chromedp.KeyEvent(" "))
	b.waitText("form", "Families see it on")
	b.do("set it", chromedp.Focus(chromedp.CSS(`form button[type=submit].primary`)), chromedp.KeyEvent("\r"))
	b.waitText(".banner.ok", "Set: Leaf hunt. Families will see it")
	b.do("back to the classes", chromedp.Focus(chromedp.CSS(`.banner.ok a[href$="/classes"]`)), chromedp.KeyEvent("\r"))
	b.waitText(".assignments", "Leaf hunt")
	if got := evalJS[string](b, `[...document.querySelectorAll('.assignments li')].find(li => li.textContent.includes('Leaf hunt')).querySelector('.tag').textContent`); got != "Scheduled" {
		t.Errorf("the later assignment shows %q, want Scheduled", got)
	}
	// Withdrawn before its release, after one question (focus goes to it;
	// "Keep it" brings focus back to "Withdraw").
	b.do("ask to withdraw", chromedp.Focus(chromedp.CSS(`button[aria-label="Withdraw Leaf hunt"]`)), chromedp.KeyEvent("\r"))
	waitJS(b, "focus on the confirmation", `document.activeElement.textContent === 'Yes, withdraw it'`)
	b.do("keep it", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"))
	waitJS(b, "focus back on Withdraw", `!document.querySelector('.confirm') && document.activeElement.getAttribute('aria-label') === 'Withdraw Leaf hunt'`)
	b.do("withdraw it", chromedp.Focus(chromedp.CSS(`button[aria-label="Withdraw Leaf hunt"]`)), chromedp.KeyEvent("\r"))
	b.waitText(".confirm", "Withdraw “Leaf hunt”? Families will not get it.")
	waitJS(b, "focus on the confirmation", `document.activeElement.textContent === 'Yes, withdraw it'`)
	b.checkA11y("teacher-classes-withdraw")
	b.do("confirm", chromedp.KeyEvent("\r"))
	b.waitText(".class-card", "“Leaf hunt” is withdrawn.")
	waitJS(b, "the withdrawn state", `[...document.querySelectorAll('.assignments li')].find(li => li.textContent.includes('Leaf hunt')).querySelector('.tag').textContent === 'Withdrawn'`)

	// Engagement: the class's rates per family, as charts with text values.
	b.do("open engagement", chromedp.Focus(chromedp.CSS(`nav a[href$="/engagement"]`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Engagement")
	b.waitText("main", "10 children in the class.")
	b.waitText(".chart", "Activities done")
	// The chart's rate is the class's completions (the API's counts)
	// over its ten children.
	teacher, _ := c.login(demoTeacher, demoPassword)
	_, eng := c.call("GET", "/v1/schools/"+demoSchoolID+"/classes/"+demoTeacherClass+"/engagement?weeks=8", teacher, nil)
	var done float64
	for _, w := range eng["weeks"].([]any) {
		done += w.(map[string]any)["completions"].(float64)
	}
	if done < 1 {
		t.Fatalf("the class has %v completions after the parent's submission", done)
	}
	want := fmt.Sprintf("%.1f", done/10)
	if got := evalJS[string](b, `[...document.querySelectorAll('.chart-table tbody tr')].find(r => r.cells[0].textContent === 'Activities done').cells[1].textContent`); got != want {
		t.Errorf("activities done per family = %q, want %s (%v completions / 10 children)", got, want, done)
	}
	if n := evalJS[int](b, `document.querySelectorAll('svg.chart-svg[role=img] title').length`); n != 2 {
		t.Errorf("%d labelled charts, want 2", n)
	}
	b.checkA11y("teacher-engagement")
	// The charts' tables, opened, pass too.
	evalJS[bool](b, `(document.querySelectorAll('details.chart-table').forEach(d => { d.open = true; }), true)`)
	b.checkA11y("teacher-engagement-tables")
	evalJS[bool](b, `(document.querySelectorAll('details.chart-table').forEach(d => { d.open = false; }), true)`)

	// At 360 px wide nothing scrolls sideways.
	b.do("narrow the window", chromedp.EmulateViewport(360, 800))
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("engagement at 360 px is %d px wide", w)
	}
	b.checkA11y("teacher-engagement-360")
	b.do("back to the submissions", chromedp.Navigate(base+"/#"+u.String()))
	b.waitText(".thread", "What a great tower, Amelia!")
	waitJS(b, "the photo's thumbnail", `(() => { const i = document.querySelector('.photo-button img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("submissions at 360 px are %d px wide", w)
	}
	b.checkA11y("teacher-submissions-360")
	b.do("set an activity at 360 px", chromedp.Navigate(base+"/#/s/"+demoSchoolID+"/classes/"+demoTeacherClass+"/assign"))
	b.waitText(".library", "Year 1")
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("set-an-activity at 360 px is %d px wide", w)
	}
	b.checkA11y("teacher-assign-360")
	b.do("back to the submissions", chromedp.Navigate(base+"/#"+u.String()))
	b.waitText(".thread", "What a great tower, Amelia!")

	// In Welsh.
	b.do("desktop again", chromedp.EmulateViewport(1280, 900))
	b.do("switch to Welsh", chromedp.Focus(chromedp.CSS(`button.lang`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Beth anfonodd teuluoedd yn ôl")
	b.checkA11y("teacher-submissions-cy")
	b.do("Welsh engagement", chromedp.Focus(chromedp.CSS(`nav a[href$="/engagement"]`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Ymgysylltu")
	b.waitText(".chart", "Gweithgareddau a wnaed")
	b.checkA11y("teacher-engagement-cy")
	evalJS[bool](b, `(location.hash = '#/s/`+demoSchoolID+`/classes/`+demoTeacherClass+`/assign', true)`)
	b.waitText("h1", "Gosod gweithgaredd i Robins")
	b.waitText(".library", "Blwyddyn 1")
	b.checkA11y("teacher-assign-cy")
	b.do("back to English", chromedp.Focus(chromedp.CSS(`button.lang`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Set an activity for Robins")
	t.Logf("teacher journey: %.1fs", time.Since(start).Seconds())

	// The admin's engagement: the pupil-premium split, per family. The
	// sign-out's move to the sign-in is held back (its hashchange reaches
	// the app half a second late, as on a busy machine; holdHashchange) so
	// the session ends while the app still shows the teacher's screen: the
	// next person to sign in must still land on their own home.
	evalJS[bool](b, `(window.__holdHashchange = 500, true)`)
	b.do("sign out", chromedp.Focus(chromedp.CSS(`.top-actions button.link-button:not(.lang)`)), chromedp.KeyEvent("\r"))
	b.waitText("h1", "Sign in")
	evalJS[bool](b, `(window.__holdHashchange = 0, true)`)
	b.do("sign in as the admin",
		chromedp.Focus(chromedp.CSS(`input[type=email]`)),
		chromedp.KeyEvent(demoAdmin),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(demoPassword),
		chromedp.KeyEvent("\r"),
	)
	b.waitText(".who", "Helen Head")
	// The admin lands on their school's home, not on the teacher's last
	// screen (the sign-out's address must not carry it over).
	waitJS(b, "the admin's home", `location.hash === '#/s/`+demoSchoolID+`' && document.querySelector('h1').textContent === 'Hometime Demo Primary'`)
	evalJS[bool](b, `(location.hash = '#/s/`+demoSchoolID+`/engagement', true)`)
	b.waitText("#split-title", "Pupil premium and other families")
	b.waitText("main", "Children on roll: 5 pupil premium, 15 others.")
	b.waitText(".chart", "Other families")
	// The demo's pupil-premium family has done something too: the split
	// shows both groups.
	evalJS[bool](b, `(document.querySelectorAll('details.chart-table').forEach(d => { d.open = true; }), true)`)
	split := evalJS[[]string](b, `(() => { const r = [...document.querySelectorAll('section[aria-labelledby=split-title] .chart-table tbody tr')]
		.find(r => r.cells[0].textContent === 'Activities done'); return r ? Array.from(r.querySelectorAll('td'), c => c.textContent) : []; })()`)
	if len(split) != 2 || split[0] == "0.0" || split[1] == "0.0" {
		t.Errorf("activities done per family, pupil premium and others: %q, want both above 0.0", split)
	}
	evalJS[bool](b, `(document.querySelectorAll('details.chart-table').forEach(d => { d.open = false; }), true)`)
	b.checkA11y("admin-engagement")
	// The CSV button hands the browser the API's CSV as a file: the page's
	// object URLs are recorded to read what it was given.
	csv := evalJS[string](b, `(() => {
		const blobs = [], make = URL.createObjectURL.bind(URL);
		URL.createObjectURL = (blob) => (blobs.push(blob), make(blob));
		[...document.querySelectorAll('section[aria-labelledby=split-title] button')].find(e => e.textContent.includes('(CSV)')).click();
		const t0 = Date.now();
		return new Promise((done, fail) => (function wait() {
			if (blobs.length) return blobs[0].text().then(done);
			if (Date.now() - t0 > 10000) return fail(new Error('no download'));
			setTimeout(wait, 50);
		})());
	})()`)
	if first, _, _ := strings.Cut(csv, "\n"); first != "group,name,week,sign_ins,views,completions,ratings,photos,comments" {
		t.Errorf("engagement CSV download starts %q", first)
	}

	// In Welsh on a phone every chart label (long Welsh ones wrap) stays
	// inside the chart.
	b.do("narrow the window", chromedp.EmulateViewport(360, 800))
	b.do("switch to Welsh", chromedp.Focus(chromedp.CSS(`button.lang`)), chromedp.KeyEvent("\r"))
	b.waitText("#split-title", "Grant datblygu disgyblion a theuluoedd eraill")
	if out := evalJS[[]string](b, `[...document.querySelectorAll('.chart-label, .chart-value')].filter(e => {
		const b = e.getBBox(), w = e.ownerSVGElement.getBoundingClientRect().width; return b.x < 0 || b.x + b.width > w + 1; }).map(e => e.textContent)`); len(out) > 0 {
		t.Errorf("chart text outside the chart at 360 px: %q", out)
	}
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("Welsh engagement at 360 px is %d px wide", w)
	}
	b.checkA11y("admin-engagement-cy-360")
	t.Logf("teacher journey and admin engagement: %.1fs", time.Since(start).Seconds())
}

// holdHashchange makes every page of the tab deliver hashchange events to
// the app window.__holdHashchange ms late while that is set, so a test can
// put a route change behind a request that ends first.
func holdHashchange(b *browser) {
	b.t.Helper()
	const script = `(() => {
		const add = window.addEventListener.bind(window);
		window.addEventListener = (type, fn, opts) => add(type, type !== 'hashchange' ? fn : (e) => {
			const hold = window.__holdHashchange || 0;
			if (hold) setTimeout(() => fn(e), hold); else fn(e);
		}, opts);
	})()`
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		b.t.Fatalf("hold hashchange: %v", err)
	}
}

// waitJS waits until a JavaScript expression is true.
func waitJS(b *browser, what, js string) {
	b.t.Helper()
	if !evalJS[bool](b, `new Promise((resolve) => { const end = Date.now() + 20000; const tick = () => {
		let ok = false; try { ok = !!(`+js+`); } catch (e) {}
		if (ok || Date.now() > end) resolve(ok); else setTimeout(tick, 50); }; tick(); })`) {
		b.fail("wait for "+what, fmt.Errorf("not true within 20s: %s", firstLine(js)))
	}
}

// apiUpload sends a photo as the mobile app does (multipart, field "photo").
func apiUpload(t *testing.T, base, path, token string, photo []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("photo", "tower.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(photo)
	mw.Close()
	req, err := http.NewRequest("POST", base+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// testPhoto is an 800×600 PNG of a stacked-block "tower", so the
// screenshots show a picture rather than a blank square.
func testPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	sky := color.RGBA{0xcf, 0xe8, 0xfa, 0xff}
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			img.Set(x, y, sky)
		}
	}
	blocks := []color.RGBA{{0xd6, 0x3b, 0x2f, 0xff}, {0xf2, 0xb1, 0x34, 0xff}, {0x2f, 0x8f, 0x4e, 0xff}, {0x2b, 0x5c, 0xb8, 0xff}}
	for i := 0; i < 8; i++ {
		c := blocks[i%len(blocks)]
		x0, y0 := 300+(i%2)*20, 540-i*65
		for y := y0; y < y0+60; y++ {
			for x := x0; x < x0+180; x++ {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

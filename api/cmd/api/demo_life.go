package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// The demo school's life: what its teachers and the demo parent have done,
// done through the API itself (the same requests the apps send) and the
// worker (releases, notifications through the outbox), so the demo shows
// what the product does rather than documents written to look like it.
// Every step first reads the store to see whether it was done on an
// earlier start, so a restart signs nobody in and adds nothing.

const demoParentID = "par_demo_01"

// demoAssignment is one set of activities the demo's teachers set. A
// class's assignments are told apart by their activities.
type demoAssignment struct {
	classID, teacher string   // teacher: sign-in email of the class's teacher
	activities       []string // built-in, none of them a video (those need a media base URL)
	childID          string   // the demo parent's child in the class
}

var demoAssignments = []demoAssignment{
	{"cls_demo_robins", demoTeacher, []string{"act_starter_003", "act_starter_018"}, "chd_demo_01"}, // Sticky-note word hunt, Penny shop
	{"cls_demo_robins", demoTeacher, []string{"act_starter_043"}, "chd_demo_01"},                    // Three good things
	{"cls_demo_owls", demoTeacher2, []string{"act_starter_021", "act_starter_045"}, "chd_demo_11"},  // Guess it, then measure it; Kindness bingo
}

// demoSubmission is what the demo parent sent back for an assignment, and
// the teacher's reply if there is one.
type demoSubmission struct {
	assignment int // index in demoAssignments
	rating     int
	comment    string
	photo      bool
	reply      string // "" = not replied to yet
}

var demoSubmissions = []demoSubmission{
	{0, 5, "We ran a penny shop on the kitchen table and Amelia found 14 sticky-note words. She wants to play again tomorrow!", true,
		"Fourteen words, brilliant! Amelia, bring your favourite sticky note in on Monday to show the class."},
	{2, 4, "Lily guessed the sofa was 2 metres long and it was 1 metre 90. Kindness bingo is on the fridge now.", false, ""},
}

// demoFamily is another family that joins (an admin prints their invite
// code, they redeem it, as the app does) and sends an activity back, so
// the school's engagement has families on both sides of the pupil-premium
// split: the demo parent's children are not pupil premium.
type demoFamily struct {
	parentID, email string
	childID         string // their child in the assignment's class
	assignment      int    // index in demoAssignments
	rating          int
	comment         string
}

var demoFamilies = []demoFamily{
	// chd_demo_04 (George Taylor, Robins) is pupil premium.
	{"par_demo_04", "family04@demo.hometime.test", "chd_demo_04", 0, 5,
		"George did the word hunt before tea and wants a penny shop at the weekend."},
}

const demoAwardReason = "For reading every sticky note in the house, even the tricky ones"

// demoLifeWait bounds the wait for the worker to release the demo's
// assignments into the feed (it takes well under a second).
const demoLifeWait = 30 * time.Second

// demoSummary is what the demo holds after demoLife, for the banner.
type demoSummary struct {
	assignments, feedItems, submissions, photos, replies, awards int
	released                                                     bool
}

type demoLife struct {
	app    *fiber.App
	st     *stack.Stack
	tokens map[string]string
}

// liveDemo brings the demo school to life. Without the worker in this
// process it only sets the activities: they are released when a worker
// runs, and the next start with --demo does the rest.
func liveDemo(ctx context.Context, app *fiber.App, st *stack.Stack, worker bool) (demoSummary, error) {
	d := &demoLife{app: app, st: st, tokens: map[string]string{}}
	var sum demoSummary
	ids := make([]string, len(demoAssignments))
	for i, da := range demoAssignments {
		id, err := d.assignment(ctx, da)
		if err != nil {
			return sum, fmt.Errorf("set activities for %s: %w", da.classID, err)
		}
		ids[i] = id
	}
	sum.assignments = len(ids)
	if !worker {
		return sum, nil
	}
	items, err := d.waitReleased(ctx, ids)
	if err != nil {
		return sum, err
	}
	sum.released = true
	// The parent opens the items they send something back about; the
	// others stay new.
	for _, it := range items {
		if !slices.ContainsFunc(demoSubmissions, func(ds demoSubmission) bool { return ds.assignment == it.assignment }) {
			continue
		}
		if err := d.seen(ctx, it.childID, it.itemID); err != nil {
			return sum, fmt.Errorf("open a feed item: %w", err)
		}
	}
	for _, ds := range demoSubmissions {
		if err := d.submission(ctx, ids[ds.assignment], demoAssignments[ds.assignment], ds); err != nil {
			return sum, fmt.Errorf("submission: %w", err)
		}
	}
	if err := d.award(ctx, "chd_demo_01"); err != nil {
		return sum, fmt.Errorf("award: %w", err)
	}
	for _, f := range demoFamilies {
		if err := d.family(ctx, ids[f.assignment], f); err != nil {
			return sum, fmt.Errorf("family %s: %w", f.parentID, err)
		}
	}
	if err := d.announcement(ctx); err != nil {
		return sum, fmt.Errorf("announcement: %w", err)
	}
	return d.summary(ctx, ids)
}

// assignment finds the class's assignment of da's activities, or has the
// teacher set it: released now, due in a week.
func (d *demoLife) assignment(ctx context.Context, da demoAssignment) (string, error) {
	have, err := d.st.Store.AssignmentsOfClass(ctx, da.classID)
	if err != nil {
		return "", err
	}
	for _, a := range have {
		var acts []string
		for _, x := range a.Activities {
			acts = append(acts, x.ID)
		}
		if a.State != content.AssignmentWithdrawn && slices.Equal(acts, da.activities) {
			return a.ID, nil
		}
	}
	due := time.Now().UTC().AddDate(0, 0, 7).Truncate(time.Hour).Format(time.RFC3339)
	var out struct {
		ID string `json:"id"`
	}
	err = d.call(ctx, da.teacher, "POST", "/v1/schools/"+demoSchoolID+"/classes/"+da.classID+"/assignments", "",
		map[string]any{"activity_ids": da.activities, "due_at": due}, &out)
	return out.ID, err
}

type demoItem struct {
	assignment      int // index in demoAssignments
	childID, itemID string
}

// waitReleased waits until the worker has put every assignment's
// activities in the demo parent's child's feed, and returns those items in
// assignment order.
func (d *demoLife) waitReleased(parent context.Context, ids []string) ([]demoItem, error) {
	ctx, cancel := context.WithTimeout(parent, demoLifeWait)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		var items []demoItem
		for i, da := range demoAssignments {
			for _, act := range da.activities {
				// The release reserves the item's place in the feed
				// before it writes the item, so an id found by key
				// counts only once the item itself can be read.
				id, err := d.st.Store.FeedItemIDByKey(ctx, da.childID, "asg:"+ids[i]+":"+act)
				if err == nil {
					_, err = d.st.Store.FeedItem(ctx, id)
				}
				if err == nil {
					items = append(items, demoItem{i, da.childID, id})
				} else if !content.IsCode(err, content.CodeNotFound) {
					return nil, err
				}
			}
		}
		want := 0
		for _, da := range demoAssignments {
			want += len(da.activities)
		}
		if len(items) == want {
			return items, nil
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("the worker did not release the demo's activities within %s", demoLifeWait)
		case <-tick.C:
		}
	}
}

func (d *demoLife) seen(ctx context.Context, childID, itemID string) error {
	it, err := d.st.Store.FeedItem(ctx, itemID)
	if err != nil || it.Seen {
		return err
	}
	return d.call(ctx, demoParent, "POST", "/v1/children/"+childID+"/feed/"+itemID+"/seen", "", nil, nil)
}

// submission has the demo parent send ds back (with a photo through the
// photo pipeline) and the teacher reply, each step only if not yet done.
func (d *demoLife) submission(ctx context.Context, asgID string, da demoAssignment, ds demoSubmission) error {
	base := "/v1/children/" + da.childID + "/assignments/" + asgID + "/submission"
	subID := content.SubmissionID(asgID, da.childID, demoParentID)
	sub, err := d.st.Store.Submission(ctx, subID)
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	if sub == nil || !sub.Done {
		if err := d.call(ctx, demoParent, "POST", base, "", map[string]any{"done": true, "rating": ds.rating, "comment": ds.comment}, nil); err != nil {
			return err
		}
	}
	if ds.photo && (sub == nil || len(sub.PhotoIDs) == 0) {
		if err := d.upload(ctx, base+"/photos", "demo-photo-"+subID, demoPhoto()); err != nil {
			return err
		}
	}
	if ds.reply == "" {
		return nil
	}
	if sub != nil && slices.ContainsFunc(sub.Replies, func(r content.Reply) bool { return r.AuthorKind == content.KindStaff }) {
		return nil
	}
	return d.call(ctx, da.teacher, "POST", "/v1/schools/"+demoSchoolID+"/assignments/"+asgID+"/submissions/"+subID+"/replies",
		"demo-reply-"+subID, map[string]any{"body": ds.reply}, nil)
}

// family has f join, open the assignment's first activity and send it back
// done, each step only if the store shows it not done yet.
func (d *demoLife) family(ctx context.Context, asgID string, f demoFamily) error {
	p, err := d.st.Store.Parent(ctx, f.parentID)
	if err != nil {
		return err
	}
	if p.State == content.ParentInvited {
		var code struct {
			Code string `json:"code"`
		}
		if err := d.call(ctx, demoAdmin, "POST", "/v1/schools/"+demoSchoolID+"/parents/"+f.parentID+"/invite-code", "", nil, &code); err != nil {
			return fmt.Errorf("invite code: %w", err)
		}
		if err := d.do(ctx, "", "POST", "/v1/invites/redeem", "", map[string]any{"code": code.Code, "email": f.email,
			"password": demoPassword, "language": "en",
			"consent": map[string]any{"privacy_notice_version": "2026-09", "accepted": true}}, nil); err != nil {
			return fmt.Errorf("redeem: %w", err)
		}
	}
	subID := content.SubmissionID(asgID, f.childID, f.parentID)
	sub, err := d.st.Store.Submission(ctx, subID)
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	if sub != nil && sub.Done {
		return nil
	}
	itemID, err := d.waitItem(ctx, f.childID, "asg:"+asgID+":"+demoAssignments[f.assignment].activities[0])
	if err != nil {
		return err
	}
	if it, err := d.st.Store.FeedItem(ctx, itemID); err != nil {
		return err
	} else if !it.Seen {
		if err := d.call(ctx, f.email, "POST", "/v1/children/"+f.childID+"/feed/"+itemID+"/seen", "", nil, nil); err != nil {
			return err
		}
	}
	return d.call(ctx, f.email, "POST", "/v1/children/"+f.childID+"/assignments/"+asgID+"/submission", "",
		map[string]any{"done": true, "rating": f.rating, "comment": f.comment}, nil)
}

// waitItem waits for the worker to put the item with key in the child's
// feed and returns its ID.
func (d *demoLife) waitItem(parent context.Context, childID, key string) (string, error) {
	ctx, cancel := context.WithTimeout(parent, demoLifeWait)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		id, err := d.st.Store.FeedItemIDByKey(ctx, childID, key)
		if err == nil || !content.IsCode(err, content.CodeNotFound) {
			return id, err
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return "", err
			}
			return "", fmt.Errorf("the worker did not release %s to %s within %s", key, childID, demoLifeWait)
		case <-tick.C:
		}
	}
}

// award has the Robins' teacher give the child an award, unless the
// child's feed already shows one.
func (d *demoLife) award(ctx context.Context, childID string) error {
	items, _, err := d.st.Store.FeedPage(ctx, childID, -1, content.FeedPageMax)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Kind == content.FeedAward {
			return nil
		}
	}
	return d.call(ctx, demoTeacher, "POST", "/v1/schools/"+demoSchoolID+"/children/"+childID+"/awards",
		"demo-award-"+childID, map[string]any{"reason": demoAwardReason}, nil)
}

// demoAnnouncement is what the head sends the Robins' families, with a
// Welsh version for the Welsh-speaking families.
var demoAnnouncement = map[string]any{
	"title": "Robins' trip to the museum on Friday",
	"body": "The Robins visit the town museum on Friday. Please send a packed lunch and a coat, " +
		"and sign the consent form by Wednesday. Thank you!",
	"language": "en",
	"versions": []map[string]any{{"language": "cy", "title": "Taith y Robins i'r amgueddfa ddydd Gwener",
		"body": "Mae'r Robins yn ymweld ag amgueddfa'r dref ddydd Gwener. Anfonwch becyn bwyd a chot, " +
			"a llofnodwch y ffurflen ganiatâd erbyn dydd Mercher. Diolch!"}},
	"audience": map[string]any{"class_ids": []string{"cls_demo_robins"}},
}

// announcement has the head send demoAnnouncement once, and waits until
// the worker has published its broadcast (so the message log is whole).
func (d *demoLife) announcement(parent context.Context) error {
	find := func(ctx context.Context) (*content.Announcement, error) {
		as, err := d.st.Store.AnnouncementsOfSchool(ctx, demoSchoolID, "", content.AnnouncementCursor{}, 20)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a.Title == demoAnnouncement["title"] {
				return a, nil
			}
		}
		return nil, nil
	}
	a, err := find(parent)
	if err != nil {
		return err
	}
	if a == nil {
		if err := d.call(parent, demoAdmin, "POST", "/v1/schools/"+demoSchoolID+"/announcements", "demo-announcement-1",
			demoAnnouncement, nil); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(parent, demoLifeWait)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if a, err := find(ctx); err != nil {
			return err
		} else if a != nil && a.State == content.AnnouncementSent {
			return nil
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return err
			}
			return fmt.Errorf("the worker did not send the demo's announcement within %s", demoLifeWait)
		case <-tick.C:
		}
	}
}

// summary counts what the demo parent's children have, for the banner.
func (d *demoLife) summary(ctx context.Context, ids []string) (demoSummary, error) {
	sum := demoSummary{assignments: len(ids), released: true}
	for _, childID := range []string{"chd_demo_01", "chd_demo_11"} {
		items, _, err := d.st.Store.FeedPage(ctx, childID, -1, content.FeedPageMax)
		if err != nil {
			return sum, err
		}
		sum.feedItems += len(items)
		for _, it := range items {
			if it.Kind == content.FeedAward {
				sum.awards++
			}
		}
	}
	for _, ds := range demoSubmissions {
		da := demoAssignments[ds.assignment]
		sub, err := d.st.Store.Submission(ctx, content.SubmissionID(ids[ds.assignment], da.childID, demoParentID))
		if err != nil {
			return sum, err
		}
		sum.submissions++
		sum.photos += len(sub.PhotoIDs)
		sum.replies += len(sub.Replies)
	}
	return sum, nil
}

// token signs the account in once (through the API, as the apps do).
func (d *demoLife) token(ctx context.Context, email string) (string, error) {
	if t, ok := d.tokens[email]; ok {
		return t, nil
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := d.do(ctx, "", "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": demoPassword}, &out); err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	d.tokens[email] = out.AccessToken
	return out.AccessToken, nil
}

// call sends a JSON request as the account signed in with email.
func (d *demoLife) call(ctx context.Context, email, method, path, idemKey string, body, out any) error {
	tok, err := d.token(ctx, email)
	if err != nil {
		return err
	}
	return d.do(ctx, tok, method, path, idemKey, body, out)
}

func (d *demoLife) do(ctx context.Context, token, method, path, idemKey string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return d.send(req, token, idemKey, out)
}

// upload sends a photo as the demo parent, as the app does: one
// multipart file in the "photo" field.
func (d *demoLife) upload(ctx context.Context, path, idemKey string, photo []byte) error {
	tok, err := d.token(ctx, demoParent)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("photo", "penny-shop.jpg")
	if err != nil {
		return err
	}
	if _, err := fw.Write(photo); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", path, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return d.send(req, tok, idemKey, nil)
}

func (d *demoLife) send(req *http.Request, token, idemKey string, out any) error {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := d.app.Test(req, -1)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// demoPhoto draws the photo the demo parent sends: a handful of coins on a
// wooden table, the penny shop. A real JPEG, made here so the repository
// holds no picture of anyone.
func demoPhoto() []byte {
	const w, h = 640, 480
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			grain := uint8((x/3 + y*7 + (y/9)*13) % 23)
			img.Set(x, y, color.RGBA{R: 150 + grain, G: 100 + grain/2, B: 60, A: 255})
		}
	}
	coins := []struct {
		x, y, r int
		c       color.RGBA
	}{
		{160, 180, 46, color.RGBA{184, 115, 51, 255}}, {300, 150, 40, color.RGBA{192, 192, 200, 255}},
		{440, 220, 52, color.RGBA{212, 175, 55, 255}}, {230, 330, 38, color.RGBA{184, 115, 51, 255}},
		{380, 350, 44, color.RGBA{192, 192, 200, 255}}, {520, 380, 34, color.RGBA{184, 115, 51, 255}},
	}
	for _, c := range coins {
		for y := c.y - c.r; y <= c.y+c.r; y++ {
			for x := c.x - c.r; x <= c.x+c.r; x++ {
				dx, dy := x-c.x, y-c.y
				if d := dx*dx + dy*dy; d <= c.r*c.r {
					shade := c.c
					if d >= (c.r-4)*(c.r-4) { // the rim
						shade.R, shade.G, shade.B = shade.R*4/5, shade.G*4/5, shade.B*4/5
					}
					img.Set(x, y, shade)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return buf.Bytes()
}

// demoBanner is printed once the demo is ready: the sign-ins, what the
// demo holds, and whether the school's quiet hours hold messages now.
func demoBanner(sc *content.School, sum demoSummary, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nHometime demo data is ready (school %q, 2 classes, 20 children, 10 families).\n", sc.Name)
	fmt.Fprintf(&b, "Sign in with password %q as:\n", demoPassword)
	fmt.Fprintf(&b, "  admin    %s\n", demoAdmin)
	fmt.Fprintf(&b, "  teacher  %s (Robins, Y1)\n", demoTeacher)
	fmt.Fprintf(&b, "  teacher  %s (Owls, Y3)\n", demoTeacher2)
	fmt.Fprintf(&b, "  parent   %s (one child in each class)\n", demoParent)
	if sum.released {
		fmt.Fprintf(&b, "Activities set: %s. The demo parent's feed: %s, %s (%s), %s, %s.\n",
			count(sum.assignments, "assignment"), count(sum.feedItems, "item"), count(sum.submissions, "submission"),
			count(sum.photos, "photo"), count(sum.replies, "reply", "replies"), count(sum.awards, "award"))
	} else {
		fmt.Fprintf(&b, "Activities set: %s, released when a worker runs (start again with --demo then for the rest).\n",
			count(sum.assignments, "assignment"))
	}
	b.WriteString(quietHoursLine(sc, now))
	return b.String()
}

// count is "1 item", "2 items"; plural, when given, is the plural's spelling.
func count(n int, one string, plural ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// quietHoursLine says whether the school's quiet hours hold texts and push
// notifications back at now, and until when (email is never held).
func quietHoursLine(sc *content.School, now time.Time) string {
	q, err := notify.NewQuietHours(sc.TimeZone, sc.QuietStart, sc.QuietEnd)
	if err != nil || !q.Enabled() {
		return "The school has no quiet hours: messages go at any hour.\n"
	}
	window := fmt.Sprintf("%s–%s %s", sc.QuietStart, sc.QuietEnd, sc.TimeZone)
	if !q.InQuietHours(now) {
		return fmt.Sprintf("Quiet hours (%s) are not holding messages now.\n", window)
	}
	next := q.NextSendTime(now)
	wait := next.Sub(now).Round(time.Minute)
	return fmt.Sprintf("Quiet hours (%s) are holding texts and push notifications now: they go at %s (in %dh%02dm). Email goes at any hour.\n",
		window, next.In(q.Location()).Format("15:04 Mon 2 Jan"), int(wait.Hours()), int(wait.Minutes())%60)
}

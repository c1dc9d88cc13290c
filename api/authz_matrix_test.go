package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// cell is one request a matrix entry makes for an actor. setup runs before
// each actor's request, so destructive routes act on a fresh target.
type cell struct {
	path  string
	body  any
	token string   // overrides the actor's token when set
	opts  []reqOpt // extra request headers (e.g. a form Content-Type)
}

type entry struct {
	public  bool     // every actor gets the same answer (sign-in, health)
	allowed []string // actors whose request must succeed (2xx)
	setup   func(t *testing.T, w *world, actor string) cell
}

func fixed(path string, body any) func(*testing.T, *world, string) cell {
	return func(*testing.T, *world, string) cell { return cell{path: path, body: body} }
}

var staffActors = []string{actTeacher, actTeacherOther, actAdmin, actAdminOther}
var signedIn = []string{actParentA, actParentB, actParentOther, actTeacher, actTeacherOther, actAdmin, actAdminOther}

// matrix lists every route of routes.go. A route missing here fails the test.
func matrix() map[string]entry {
	return map[string]entry{
		"GET /healthz": {public: true, setup: fixed("/healthz", nil)},
		"GET /readyz":  {public: true, setup: fixed("/readyz", nil)},
		"GET /metrics": {public: true, setup: fixed("/metrics", nil)},
		// Provider webhooks answer to a signature, not to who is signed in:
		// an unsigned form is 403 for every actor.
		"POST /webhooks/twilio/inbound": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/webhooks/twilio/inbound", body: inboundForm("+447700900123", "STOP").Encode(),
				opts: []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}}
		}},
		"POST /webhooks/twilio/status": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: TwilioStatusPath + "?ref=" + url.QueryEscape(content.EntryRef(content.LedgerPageID("brd_1", 0), 0)),
				body: statusForm("delivered", 0).Encode(), opts: []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}}
		}},
		"POST /webhooks/sendgrid/events": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: SendGridEventsPath, body: `[{"event":"unsubscribe","sg_event_id":"matrix-1","email":"parent.a@example.test"}]`}
		}},
		"POST /v1/auth/login": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			// A distinct unknown account per actor: the per-account throttle
			// would otherwise answer 429 from the sixth cell on.
			return cell{path: "/v1/auth/login", body: map[string]string{"email": content.NewID("nobody") + "@example.test", "password": "wrong-password-1"}}
		}},
		"POST /v1/auth/refresh": {public: true, setup: fixed("/v1/auth/refresh", map[string]string{"refresh_token": "not-a-token"})},
		// The staff web app's sign-in: each actor signs in with their own
		// email; staff succeed, parents are sent to the mobile app (403),
		// a closed account and a stranger get 401. Refresh and logout act
		// on the cookie alone (handlers_webauth_test.go): without one,
		// every actor gets the same 401 and 204.
		"POST /v1/auth/web/login": {allowed: staffActors, setup: func(t *testing.T, w *world, actor string) cell {
			email := w.emailOf(actor)
			if email == "" {
				email = content.NewID("nobody") + "@example.test"
			}
			if actor == actClosed {
				email = w.ParentX.Email
			}
			return cell{path: "/v1/auth/web/login", body: map[string]string{"email": email, "password": fixturePassword}, opts: []reqOpt{webRequest}}
		}},
		"POST /v1/auth/web/refresh": {public: true, setup: func(*testing.T, *world, string) cell {
			return cell{path: "/v1/auth/web/refresh", opts: []reqOpt{webRequest}}
		}},
		"POST /v1/auth/web/logout": {public: true, setup: func(*testing.T, *world, string) cell {
			return cell{path: "/v1/auth/web/logout", opts: []reqOpt{webRequest}}
		}},
		"POST /v1/auth/password-reset":         {public: true, setup: fixed("/v1/auth/password-reset", map[string]string{"email": "nobody@example.test"})},
		"POST /v1/auth/password-reset/confirm": {public: true, setup: fixed("/v1/auth/password-reset/confirm", map[string]string{"token": "nope", "password": "a-long-enough-pass-9"})},
		"POST /v1/invites/redeem": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/invites/redeem", body: redeemBody(content.NewInviteCode(), "new.parent@example.test")}
		}},
		"POST /v1/auth/logout": {allowed: signedIn, setup: func(t *testing.T, w *world, actor string) cell {
			// Sign in afresh so logging out does not end the session the
			// other cells use.
			if actor == actClosed || actor == actAnonymous {
				return cell{path: "/v1/auth/logout"}
			}
			return cell{path: "/v1/auth/logout", token: w.h.login(w.emailOf(actor), fixturePassword).AccessToken}
		}},
		"GET /v1/me":                       {allowed: signedIn, setup: fixed("/v1/me", nil)},
		"GET /v1/children/:childId":        {allowed: []string{actParentA}, setup: fixed("/v1/children/chd_1", nil)},
		"GET /v1/schools":                  {allowed: staffActors, setup: fixed("/v1/schools", nil)},
		"GET /v1/trusts/:trustId/schools":  {allowed: []string{actAdmin}, setup: fixed("/v1/trusts/trs_1/schools", nil)},
		"POST /v1/trusts/:trustId/schools": {allowed: []string{actAdmin}, setup: fixed("/v1/trusts/trs_1/schools", map[string]any{"name": "Meadow Infants"})},
		"GET /v1/schools/:schoolId":        {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: fixed("/v1/schools/sch_1", nil)},
		"PATCH /v1/schools/:schoolId":      {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1", map[string]any{"sms_budget_pence": 6000})},
		"GET /v1/schools/:schoolId/staff":  {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/staff", nil)},
		"POST /v1/schools/:schoolId/staff": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/staff", body: map[string]any{"email": content.NewID("new") + "@riverside.test",
				"first_name": "Nia", "last_name": "Newydd", "roles": []string{"teacher"}}}
		}},
		// Staff invitations: each staff actor sees and accepts their own
		// (to a school made for the cell); parents are refused.
		"GET /v1/me/staff-invitations":                       {allowed: staffActors, setup: fixed("/v1/me/staff-invitations", nil)},
		"POST /v1/me/staff-invitations/:invitationId/accept": {allowed: staffActors, setup: acceptInvitationCell},
		"PUT /v1/schools/:schoolId/staff/:staffId/roles": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/staff/stf_teacher2/roles", body: map[string]any{"roles": []string{"teacher"}}}
		}},
		"GET /v1/schools/:schoolId/classes":            {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: fixed("/v1/schools/sch_1/classes", nil)},
		"POST /v1/schools/:schoolId/classes":           {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/classes", map[string]any{"name": "Wrens", "year_group": "R"})},
		"GET /v1/schools/:schoolId/classes/:classId":   {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/classes/cls_1", nil)},
		"PATCH /v1/schools/:schoolId/classes/:classId": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/classes/cls_1", map[string]any{"name": "Kingfishers"})},
		"DELETE /v1/schools/:schoolId/classes/:classId": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			c := &content.Class{ID: content.NewID("cls"), SchoolID: "sch_1", Name: "Empty", YearGroup: "Y1"}
			if err := w.h.store.CreateClass(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			return cell{path: "/v1/schools/sch_1/classes/" + c.ID}
		}},
		"GET /v1/schools/:schoolId/classes/:classId/children": {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/classes/cls_1/children", nil)},
		"GET /v1/schools/:schoolId/children":                  {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/children", nil)},
		"POST /v1/schools/:schoolId/children": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/children",
			map[string]any{"first_name": "Cai", "last_name": "Morgan", "year_group": "Y2", "class_ids": []string{"cls_1"}})},
		"GET /v1/schools/:schoolId/children/:childId":   {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/children/chd_1", nil)},
		"PATCH /v1/schools/:schoolId/children/:childId": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/children/chd_1", map[string]any{"year_group": "Y2"})},
		"DELETE /v1/schools/:schoolId/children/:childId": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/children/" + w.newChild(t, "cls_1").ID}
		}},
		"POST /v1/schools/:schoolId/children/:childId/parents": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/children/chd_3/parents",
			map[string]any{"first_name": "Rhys", "last_name": "Vaughan", "phone": "07911 123600", "language": "cy"})},
		"DELETE /v1/schools/:schoolId/children/:childId/parents/:parentId": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			k := w.newChild(t, "cls_1")
			p := w.newInvitedParent(t, k)
			return cell{path: "/v1/schools/sch_1/children/" + k.ID + "/parents/" + p.ID, body: map[string]any{"reason": "Safeguarding review"}}
		}},
		"GET /v1/schools/:schoolId/parents/:parentId": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/parents/par_a", nil)},
		"POST /v1/schools/:schoolId/parents/:parentId/invite-code": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/parents/" + w.newInvitedParent(t, w.K3).ID + "/invite-code"}
		}},
		// The teacher of C1 may message C1; the teacher of C2 may not (403).
		"POST /v1/schools/:schoolId/broadcasts": {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/broadcasts",
			map[string]any{"template": "award", "params": map[string]any{"child_first_name": "Sam", "teacher_name": "Mrs Khan"},
				"audience": map[string]any{"class_ids": []string{"cls_1"}}})},
		// A broadcast the teacher of C1 sent: theirs and the admins' to read.
		"GET /v1/schools/:schoolId/broadcasts/:broadcastId": {allowed: []string{actTeacher, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/broadcasts/" + w.newBroadcast(t).ID}
		}},
		"GET /v1/schools/:schoolId/broadcasts/:broadcastId/recipients": {allowed: []string{actTeacher, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/broadcasts/" + w.newBroadcast(t).ID + "/recipients"}
		}},
		// Announcements: the teacher of C1 may send to C1 (the teacher of C2
		// may not: 403); admins and the author read and cancel one; the
		// list shows each teacher their own (an empty page, not a refusal).
		"POST /v1/schools/:schoolId/announcements": {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/announcements",
			map[string]any{"title": "Trip", "body": "Coats please.", "audience": map[string]any{"class_ids": []string{"cls_1"}}})},
		"GET /v1/schools/:schoolId/announcements": {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			w.newAnnouncement(t, content.AnnouncementScheduled)
			return cell{path: "/v1/schools/sch_1/announcements?limit=5"}
		}},
		"POST /v1/schools/:schoolId/announcements/preview": {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/announcements/preview",
			map[string]any{"title": "Trip", "body": "Coats please.", "audience": map[string]any{"class_ids": []string{"cls_1"}}})},
		"GET /v1/schools/:schoolId/announcements/:announcementId": {allowed: []string{actTeacher, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/announcements/" + w.newAnnouncement(t, content.AnnouncementScheduled).ID}
		}},
		"POST /v1/schools/:schoolId/announcements/:announcementId/cancel": {allowed: []string{actTeacher, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/announcements/" + w.newAnnouncement(t, content.AnnouncementScheduled).ID + "/cancel"}
		}},
		// The page an announcement's SMS links to: the signed token is the
		// credential, the same answer for everyone.
		"GET /a/:token": {public: true, setup: func(t *testing.T, w *world, actor string) cell {
			a := w.newAnnouncement(t, content.AnnouncementSent)
			return cell{path: strings.TrimPrefix(a.Links["en"], testPublicURL)}
		}},
		// The message log: admins see the school's, each teacher their own
		// (the teacher of C2 gets an empty page, not a refusal).
		"GET /v1/schools/:schoolId/messages": {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			w.newBroadcast(t)
			return cell{path: "/v1/schools/sch_1/messages?limit=5"}
		}},
		// The SMS budget is a school setting: admins only; teachers 403.
		"GET /v1/schools/:schoolId/sms-budget": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/sms-budget", nil)},
		// Roster import and the invite funnel: school admins; teachers see
		// the funnel rows of the classes they teach.
		"POST /v1/schools/:schoolId/imports": {allowed: []string{actAdmin}, setup: func(t *testing.T, w *world, actor string) cell {
			return cell{path: "/v1/schools/sch_1/imports?dry_run=true", body: []byte(matrixImportCSV),
				opts: []reqOpt{withHeader("Content-Type", "text/csv")}}
		}},
		"POST /v1/schools/:schoolId/invites/resend":     {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/invites/resend", nil)},
		"GET /v1/schools/:schoolId/funnel":              {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: fixed("/v1/schools/sch_1/funnel", nil)},
		"GET /v1/schools/:schoolId/funnel/families":     {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/funnel/families", nil)},
		"GET /v1/schools/:schoolId/funnel/families.csv": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/funnel/families.csv", nil)},
		// Issue 5: submissions, photos, replies, awards, engagement (cells
		// in handlers_submissions_test.go). Parent A submits for K1 in C1.
		"GET /v1/children/:childId/assignments/:assignmentId/submission":          {allowed: []string{actParentA}, setup: submissionCell("", true, nil)},
		"POST /v1/children/:childId/assignments/:assignmentId/submission":         {allowed: []string{actParentA}, setup: submissionCell("", false, map[string]any{"done": true, "rating": 4})},
		"POST /v1/children/:childId/assignments/:assignmentId/submission/photos":  {allowed: []string{actParentA}, setup: photoUploadCell},
		"POST /v1/children/:childId/assignments/:assignmentId/submission/replies": {allowed: []string{actParentA}, setup: submissionCell("/replies", true, map[string]any{"body": "Thank you"})},
		"GET /v1/photos/:photoId":                                         {allowed: []string{actParentA, actTeacher, actAdmin}, setup: photoCell("")},
		"PUT /v1/photos/:photoId/consent":                                 {allowed: []string{actParentA}, setup: photoCell("/consent")},
		"GET /v1/media/:token":                                            {public: true, setup: mediaCell},
		"GET /v1/schools/:schoolId/assignments/:assignmentId/submissions": {allowed: []string{actTeacher, actAdmin}, setup: staffSubmissionCell("", false)},
		"GET /v1/schools/:schoolId/assignments/:assignmentId/submissions/:submissionId/replies":  {allowed: []string{actTeacher, actAdmin}, setup: staffSubmissionCell("/replies", false)},
		"POST /v1/schools/:schoolId/assignments/:assignmentId/submissions/:submissionId/replies": {allowed: []string{actTeacher, actAdmin}, setup: staffSubmissionCell("/replies", true)},
		"POST /v1/schools/:schoolId/children/:childId/awards":                                    {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/children/chd_1/awards", map[string]any{"reason": "Super counting"})},
		// Teachers see their class; the pupil-premium split is admins' only.
		"GET /v1/schools/:schoolId/classes/:classId/engagement": {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/classes/cls_1/engagement?weeks=2", nil)},
		"GET /v1/schools/:schoolId/engagement":                  {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/engagement?weeks=2", nil)},
		"GET /v1/schools/:schoolId/engagement.csv":              {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/engagement.csv?weeks=2", nil)},
		// Issue 5 part 1: feed, devices, preferences, activities and
		// assignments (cell helpers in handlers_feed_test.go).
		"GET /v1/children/:childId/feed":               {allowed: []string{actParentA, actTeacher, actAdmin}, setup: fixed("/v1/children/chd_1/feed", nil)},
		"POST /v1/children/:childId/feed/:itemId/seen": {allowed: []string{actParentA}, setup: feedSeenCell},
		"POST /v1/me/invites/claim": {allowed: parentActors, setup: func(t *testing.T, w *world, actor string) cell {
			// A fresh code per actor: a claimed code is only its claimer's.
			p := w.newInvitedParent(t, w.newChild(t, "cls_1"))
			code, _, err := IssueInviteCode(context.Background(), w.h.store, w.h.deps.HashKey, "sch_1", p.ID, w.h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return cell{path: "/v1/me/invites/claim", body: map[string]any{"code": code}}
		}},
		// Staff register the staff app's devices on the same routes.
		"POST /v1/me/devices":             {allowed: signedIn, setup: deviceCell},
		"DELETE /v1/me/devices/:deviceId": {allowed: signedIn, setup: removeDeviceCell},
		"GET /v1/me/staff-settings":       {allowed: staffActors, setup: fixed("/v1/me/staff-settings", nil)},
		"PUT /v1/me/staff-settings":       {allowed: staffActors, setup: fixed("/v1/me/staff-settings", staffSettingsBody())},
		// Deletion is the author's alone; hiding is for staff who see the
		// child (cells in moderation_test.go).
		"DELETE /v1/photos/:photoId": {allowed: []string{actParentA}, setup: photoCell("")},
		"DELETE /v1/children/:childId/assignments/:assignmentId/submission/comment":          {allowed: []string{actParentA}, setup: commentCell},
		"DELETE /v1/children/:childId/assignments/:assignmentId/submission/replies/:replyId": {allowed: []string{actParentA}, setup: parentReplyCell},
		"POST /v1/schools/:schoolId/moderation/hide":                                         {allowed: []string{actTeacher, actAdmin}, setup: hideCell},
		"POST /v1/me/notifications/read": {allowed: parentActors,
			setup: fixed("/v1/me/notifications/read", map[string]any{"refs": []string{"brd_none:p00000/0"}})},
		// The inbox: each parent their own; opening parent A's item is
		// theirs alone (404 for everyone else, parent B included).
		"GET /v1/me/inbox":         {allowed: parentActors, setup: fixed("/v1/me/inbox", nil)},
		"GET /v1/me/inbox/:itemId": {allowed: []string{actParentA}, setup: inboxOpenCell},
		// Attachments: staff of the school; staff counts of an announcement
		// the admin sent to C1: the admin and the teacher of C1.
		"POST /v1/schools/:schoolId/attachments":                                  {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: attachmentUploadCell},
		"GET /v1/schools/:schoolId/announcements/:announcementId/stats":           {allowed: []string{actTeacher, actAdmin}, setup: announcementStatsCell},
		"GET /v1/me/preferences":                                                  {allowed: parentActors, setup: fixed("/v1/me/preferences", nil)},
		"PUT /v1/me/preferences":                                                  {allowed: parentActors, setup: fixed("/v1/me/preferences", autoPreferences())},
		"GET /v1/activities":                                                      {allowed: signedIn, setup: fixed("/v1/activities?subject=maths", nil)},
		"GET /v1/activities/:activityId":                                          {allowed: signedIn, setup: fixed("/v1/activities/act_starter_001", nil)},
		"POST /v1/schools/:schoolId/activities":                                   {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: fixed("/v1/schools/sch_1/activities", newActivityBody())},
		"PATCH /v1/schools/:schoolId/activities/:activityId":                      {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: schoolActivityCell(map[string]any{"minutes": 20})},
		"DELETE /v1/schools/:schoolId/activities/:activityId":                     {allowed: []string{actTeacher, actTeacherOther, actAdmin}, setup: schoolActivityCell(nil)},
		"GET /v1/schools/:schoolId/classes/:classId/assignments":                  {allowed: []string{actTeacher, actAdmin}, setup: fixed("/v1/schools/sch_1/classes/cls_1/assignments", nil)},
		"POST /v1/schools/:schoolId/classes/:classId/assignments":                 {allowed: []string{actTeacher, actAdmin}, setup: newAssignmentCell},
		"PATCH /v1/schools/:schoolId/classes/:classId/assignments/:assignmentId":  {allowed: []string{actTeacher, actAdmin}, setup: assignmentCell(true)},
		"DELETE /v1/schools/:schoolId/classes/:classId/assignments/:assignmentId": {allowed: []string{actTeacher, actAdmin}, setup: assignmentCell(false)},
		// Issue 6: data rights. Closing and erasing act on a fresh account
		// per parent actor, so the actor's own cells keep working.
		"GET /v1/me/retention": {allowed: []string{actParentA, actParentB, actParentOther}, setup: fixed("/v1/me/retention", nil)},
		"POST /v1/me/close": {allowed: []string{actParentA, actParentB, actParentOther},
			setup: rightsCell("/v1/me/close", map[string]string{"password": fixturePassword})},
		"POST /v1/me/erase": {allowed: []string{actParentA, actParentB, actParentOther},
			setup: rightsCell("/v1/me/erase", map[string]string{"password": fixturePassword})},
		"POST /v1/me/export":                                   {allowed: []string{actParentA, actParentB, actParentOther}, setup: fixed("/v1/me/export", nil)},
		"GET /v1/me/exports/:exportId":                         {allowed: []string{actParentA}, setup: exportCell("")},
		"GET /v1/me/exports/:exportId/download":                {allowed: []string{actParentA}, setup: exportCell("/download")},
		"POST /v1/schools/:schoolId/export":                    {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/export", nil)},
		"GET /v1/schools/:schoolId/exports/:exportId":          {allowed: []string{actAdmin}, setup: schoolExportCell("")},
		"GET /v1/schools/:schoolId/exports/:exportId/download": {allowed: []string{actAdmin}, setup: schoolExportCell("/download")},
		// Ending a subscription: the school's admin (here also its trust's
		// admin), with the school's name and their password.
		"POST /v1/schools/:schoolId/subscription/end": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/subscription/end",
			map[string]string{"confirm_school_name": "Riverside Primary", "password": fixturePassword})},
		"POST /v1/schools/:schoolId/subscription/reactivate": {allowed: []string{actAdmin}, setup: fixed("/v1/schools/sch_1/subscription/reactivate", nil)},
	}
}

// matrixImportCSV is a one-family Arbor-style export.
const matrixImportCSV = "UPN,Forename,Surname,Year,Class,Contact 1 Name,Contact 1 Mobile,Contact 1 Email\r\n" +
	"H801200001001,Eirlys,Pritchard,Y2,Kingfishers,Gwenllian Pritchard,07911 123501,gwen.p@example.test\r\n"

func (w *world) emailOf(actor string) string {
	return map[string]string{actParentA: w.ParentA.Email, actParentB: w.ParentB.Email, actParentOther: w.ParentOther.Email,
		actTeacher: w.Teacher.Email, actTeacherOther: w.TeacherOther.Email, actAdmin: w.Admin.Email,
		actAdminOther: w.AdminOther.Email}[actor]
}

// newBroadcast stores a broadcast the teacher of C1 sent to C1.
func (w *world) newBroadcast(t testing.TB) *content.Broadcast {
	b := &content.Broadcast{ID: content.NewID("brd"), SchoolID: "sch_1", CreatedBy: w.Teacher.ID, Template: "award",
		Category: "awards", Params: map[string]string{"child_first_name": "Sam", "teacher_name": "Mrs Khan"},
		Audience: content.Audience{ClassIDs: []string{"cls_1"}}, State: content.BroadcastExpanding, CreatedAt: w.h.clock.Now()}
	if err := w.h.store.CreateBroadcast(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// newAnnouncement stores an announcement the teacher of C1 wrote to C1, in
// state, with its English link.
func (w *world) newAnnouncement(t testing.TB, state content.AnnouncementState) *content.Announcement {
	now := w.h.clock.Now()
	a := &content.Announcement{ID: content.NewID("ann"), SchoolID: "sch_1", CreatedBy: w.Teacher.ID, Title: "Trip",
		Body: "Coats please.", Language: "en", Audience: content.AnnouncementAudience{ClassIDs: []string{"cls_1"}},
		SendAt: now.Add(time.Hour), State: state, CreatedAt: now}
	a.Links = map[string]string{"en": (&server{Deps: w.h.deps}).announcementLink(a.ID, "en", now.Add(content.AnnouncementLinkTTL))}
	if err := w.h.store.CreateAnnouncement(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *world) newChild(t testing.TB, classID string) *content.Child {
	k := &content.Child{ID: content.NewID("chd"), SchoolID: "sch_1", FirstName: "Temp", LastName: "Child", YearGroup: "Y2",
		ClassIDs: []string{classID}, SchoolLink: content.SchoolLink{State: content.LinkLinked}}
	if err := w.h.store.CreateChild(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return k
}

func (w *world) newInvitedParent(t testing.TB, k *content.Child) *content.Parent {
	ctx := context.Background()
	p := &content.Parent{ID: content.NewID("par"), FirstName: "Invited", LastName: "Parent", Phone: "+447911123777",
		Language: "en", State: content.ParentInvited, Sessions: []string{}}
	if err := w.h.store.CreateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := w.h.linkForTest(ctx, p, k); err != nil {
		t.Fatal(err)
	}
	return p
}

func redeemBody(code, email string) map[string]any {
	return map[string]any{"code": code, "email": email, "password": "a-long-enough-pass-9",
		"consent": map[string]any{"privacy_notice_version": "2026-09", "accepted": true}}
}

// TestAuthorizationMatrix sends every route as each of nine actors: only the
// allowed cells succeed; the others are refused (401 for no or dead
// sessions, 403 or 404 otherwise) and name none of the seeded people.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	m := matrix()
	var routes []string
	for _, r := range w.h.app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" {
			continue
		}
		key := r.Method + " " + r.Path
		if !slices.Contains(routes, key) {
			routes = append(routes, key)
		}
	}
	slices.Sort(routes)
	for _, key := range routes {
		if _, ok := m[key]; !ok {
			t.Errorf("route %s is not in the authorization matrix", key)
		}
	}
	for key := range m {
		if !slices.Contains(routes, key) {
			t.Errorf("matrix entry %s names no route", key)
		}
	}
	cells, allowed, denied := 0, 0, 0
	for _, key := range routes {
		e, ok := m[key]
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(key, " ")
		var publicStatus int
		for _, actor := range allActors {
			c := e.setup(t, w, actor)
			token := w.tokens[actor]
			if c.token != "" {
				token = c.token
			}
			resp, body := w.h.do(method, c.path, c.body, token, c.opts...)
			cells++
			name := fmt.Sprintf("%s as %s", key, actor)
			switch {
			case e.public:
				if publicStatus == 0 {
					publicStatus = resp.StatusCode
				}
				if resp.StatusCode >= 500 || resp.StatusCode != publicStatus {
					t.Errorf("%s: status %d, want the same status for every actor (%d)", name, resp.StatusCode, publicStatus)
				}
				allowed++
			case slices.Contains(e.allowed, actor):
				allowed++
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					t.Errorf("%s: status %d, want success: %s", name, resp.StatusCode, body)
				}
			default:
				denied++
				want := []int{http.StatusForbidden, http.StatusNotFound}
				if actor == actAnonymous || actor == actClosed {
					want = []int{http.StatusUnauthorized}
				}
				if !slices.Contains(want, resp.StatusCode) {
					t.Errorf("%s: status %d, want one of %v: %s", name, resp.StatusCode, want, body)
				}
				for _, v := range w.pii {
					if v != "" && strings.Contains(string(body), v) {
						t.Errorf("%s: refused response leaks %q", name, v)
					}
				}
			}
		}
	}
	t.Logf("authorization matrix: %d routes × %d actors = %d cells: %d allowed, %d denied", len(routes), len(allActors), cells, allowed, denied)
}

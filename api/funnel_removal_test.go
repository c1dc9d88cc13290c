package api

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// The invited clock's notice reaches the school as a removal date on the
// family's funnel row: set for an invited family once noticed, absent for
// one not yet noticed and for a family who joined.
func TestFunnelShowsInvitedFamiliesRemovalDate(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()
	now := s.h.clock.Now()
	invite := now.AddDate(-1, 0, 30)
	noticed := invite.AddDate(0, 12, 0).Add(-content.InvitedNoticeBefore)
	for _, f := range []struct {
		parent, child string
		state         content.ParentState
		notice        time.Time
	}{
		{"par_noticed", "chd_n", content.ParentInvited, noticed},
		{"par_recent", "chd_r", content.ParentInvited, time.Time{}},
		{"par_joined", "chd_j", content.ParentActive, noticed}, // joined after the notice
	} {
		if err := s.h.store.CreateChild(ctx, &content.Child{ID: f.child, SchoolID: s.sc.ID, FirstName: "Kid", LastName: "K", YearGroup: "Y2",
			Parents:    []content.ParentLink{{ParentID: f.parent, State: content.LinkLinked, LinkedAt: invite}},
			SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: invite}); err != nil {
			t.Fatal(err)
		}
		p := &content.Parent{ID: f.parent, FirstName: "Fam", LastName: "Ily", Language: "en", State: f.state,
			Children: []content.ChildLink{{ChildID: f.child, SchoolID: s.sc.ID, FirstName: "Kid", YearGroup: "Y2",
				State: content.LinkLinked, LinkedAt: invite}}, CreatedAt: invite}
		if !f.notice.IsZero() {
			p.InviteNoticeAt, p.InviteNoticeFor = f.notice, invite
		}
		if err := s.h.store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := s.h.do("GET", "/v1/schools/"+s.sc.ID+"/funnel/families", nil, s.admin)
	wantStatus(t, resp, body, 200)
	got := map[string]*time.Time{}
	for _, it := range decode[familyPageDTO](t, body).Items {
		got[it.ParentID] = it.RemovalDueAt
	}
	want := invite.AddDate(0, 12, 0)
	if d := got["par_noticed"]; d == nil || !d.Equal(want) {
		t.Errorf("noticed family's removal date %v, want %v", d, want)
	}
	for _, id := range []string{"par_recent", "par_joined"} {
		if d, ok := got[id]; !ok || d != nil {
			t.Errorf("%s: listed %v, removal date %v, want listed without one", id, ok, d)
		}
	}
}

package worker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// TestChannelsForPreferences: push when the parent has the app, unless the
// category's preference says otherwise and can be honoured; invites ignore
// preferences and devices.
func TestChannelsForPreferences(t *testing.T) {
	t.Parallel()
	act := &content.Broadcast{Template: string(notify.TemplateActivitySet), Category: content.CategoryActivities}
	inv := &content.Broadcast{Template: string(notify.TemplateInvite), Category: "invites"}
	pref := func(ch string) map[string]content.ChannelPreference {
		return map[string]content.ChannelPreference{content.CategoryActivities: {Channel: ch}}
	}
	const mob, landline, mail = "+447911123456", "+442079460000", "a@example.test"
	for _, tc := range []struct {
		name string
		pc   content.ParentContact
		b    *content.Broadcast
		want []notify.Channel
	}{
		{"app: push", content.ParentContact{Phone: mob, Email: mail, Devices: 1}, act, []notify.Channel{notify.ChannelPush}},
		{"no app: sms", content.ParentContact{Phone: mob, Email: mail}, act, []notify.Channel{notify.ChannelSMS}},
		{"no app, landline: email", content.ParentContact{Phone: landline, Email: mail}, act, []notify.Channel{notify.ChannelEmail}},
		{"app but prefers sms", content.ParentContact{Phone: mob, Devices: 2, Prefs: pref(content.ChannelSMS)}, act, []notify.Channel{notify.ChannelSMS}},
		{"app but prefers email", content.ParentContact{Phone: mob, Email: mail, Devices: 1, Prefs: pref(content.ChannelEmail)}, act, []notify.Channel{notify.ChannelEmail}},
		{"prefers sms with no mobile: default", content.ParentContact{Email: mail, Devices: 1, Prefs: pref(content.ChannelSMS)}, act, []notify.Channel{notify.ChannelPush}},
		{"prefers push with no app: default", content.ParentContact{Phone: mob, Prefs: pref(content.ChannelPush)}, act, []notify.Channel{notify.ChannelSMS}},
		{"none", content.ParentContact{Phone: mob, Devices: 1, Prefs: pref(content.ChannelNone)}, act, nil},
		{"another category's preference", content.ParentContact{Phone: mob, Devices: 1,
			Prefs: map[string]content.ChannelPreference{content.CategoryAwards: {Channel: content.ChannelNone}}}, act, []notify.Channel{notify.ChannelPush}},
		{"invite ignores app and preference", content.ParentContact{Phone: mob, Email: mail, Devices: 1, Prefs: map[string]content.ChannelPreference{"invites": {Channel: content.ChannelNone}}}, inv,
			[]notify.Channel{notify.ChannelSMS, notify.ChannelEmail}},
		{"closed", content.ParentContact{Phone: mob, Devices: 1, State: content.ParentClosed}, act, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := channelsFor(tc.pc, tc.b, phone.Numbers{}); !slices.Equal(got, tc.want) {
				t.Fatalf("channels %v, want %v", got, tc.want)
			}
		})
	}
}

// TestExpansionUsesDevicesAndPreferences: both the whole-school stream and
// the per-parent path see devices and preferences.
func TestExpansionUsesDevicesAndPreferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	rosterWithFamilies(t, s, 0, 6)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	// par_0001 has the app; par_0002 has the app but wants SMS for
	// activities; par_0003 wants nothing for activities.
	for _, id := range []string{"par_0001", "par_0002"} {
		if err := s.PutDevice(ctx, id, content.Device{ID: content.DeviceID([]byte("k"), "tok-"+id), Platform: content.PlatformIOS,
			Token: "tok-" + id, LastSeen: now, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPreferences(ctx, "par_0002", map[string]content.ChannelPreference{content.CategoryActivities: {Channel: content.ChannelSMS}}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreferences(ctx, "par_0003", map[string]content.ChannelPreference{content.CategoryActivities: {Channel: content.ChannelNone}}, false); err != nil {
		t.Fatal(err)
	}
	for i, aud := range []content.Audience{{AllParents: true}, {ParentIDs: []string{"par_0000", "par_0001", "par_0002", "par_0003", "par_0004", "par_0005"}}} {
		id := fmt.Sprintf("brd_pref_%d", i)
		if err := s.CreateBroadcast(ctx, &content.Broadcast{ID: id, SchoolID: "sch_1", CreatedBy: "stf_1",
			Template: string(notify.TemplateActivitySet), Category: content.CategoryActivities,
			Params:   map[string]string{"activity_title": "Story bag", "teacher_name": "Mrs Khan", "child_first_name": "Sam"},
			Audience: aud, State: content.BroadcastExpanding, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		expand(t, s, &taskstest.Recorder{}, id)
		count, channel, _ := ledgerOf(t, s, id)
		want := map[string]string{"par_0000": "email", "par_0001": "push", "par_0002": "sms", "par_0004": "sms", "par_0005": "sms"}
		if len(count) != len(want) {
			t.Fatalf("%s: recipients %v, want %v", id, channel, want)
		}
		for p, ch := range want {
			if channel[p] != ch || count[p] != 1 {
				t.Errorf("%s: %s got %q ×%d, want %s once", id, p, channel[p], count[p], ch)
			}
		}
	}
}

package content

import "testing"

func TestMessageLanguage(t *testing.T) {
	p := &Parent{Language: "pl", Preferences: map[string]ChannelPreference{
		CategoryAwards: {Channel: ChannelSMS, Language: "cy"}, CategoryNews: {Channel: ChannelNone}}}
	for _, tc := range []struct{ category, want string }{
		{CategoryAwards, "cy"}, {CategoryNews, "pl"}, {CategoryActivities, "pl"}, {"invites", "pl"},
	} {
		if got := p.MessageLanguage(tc.category); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.category, got, tc.want)
		}
	}
	if got := (&Parent{Language: "en"}).MessageLanguage(CategoryReplies); got != "en" {
		t.Errorf("no preferences: %q", got)
	}
	a, b := DeviceID([]byte("k1"), "tok"), DeviceID([]byte("k2"), "tok")
	if a == b || a == DeviceID([]byte("k1"), "tok2") || a != DeviceID([]byte("k1"), "tok") || len(a) != len("dev_")+32 {
		t.Errorf("device ids: %s %s", a, b)
	}
}

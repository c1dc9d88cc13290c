package mongostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestDevicesMoveBetweenParentsAndGoStale: a token registered by a second
// parent leaves the first; refreshes move last-seen; a removed device is
// gone; the stale sweep drops only devices unseen since the cutoff; and
// the parent's other fields survive every write.
func TestDevicesMoveBetweenParentsAndGoStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	key := []byte("test-key")
	for _, id := range []string{"par_1", "par_2"} {
		if err := s.CreateParent(ctx, &content.Parent{ID: id, FirstName: "F", LastName: "L", Language: "en",
			State: content.ParentActive, Sessions: []string{}, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	dev := func(token string, at time.Time) content.Device {
		return content.Device{ID: content.DeviceID(key, token), Platform: content.PlatformAndroid, Token: token, LastSeen: at, Created: at}
	}
	tokens := func(parentID string) []string {
		t.Helper()
		ts, err := s.DeviceTokens(ctx, parentID)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutDevice(ctx, "par_1", dev("tok-shared", t0)))
	must(s.PutDevice(ctx, "par_1", dev("tok-old", t0)))
	must(s.PutDevice(ctx, "par_1", dev("tok-old", t0.Add(time.Hour)))) // refresh: still one
	if got := tokens("par_1"); len(got) != 2 || got[0] != "tok-old" {
		t.Fatalf("par_1 tokens %v", got)
	}
	must(s.PutDevice(ctx, "par_2", dev("tok-shared", t0.Add(2*time.Hour))))
	if got := tokens("par_1"); len(got) != 1 || got[0] != "tok-old" {
		t.Fatalf("after the move, par_1 tokens %v", got)
	}
	if got := tokens("par_2"); len(got) != 1 || got[0] != "tok-shared" {
		t.Fatalf("par_2 tokens %v", got)
	}
	// UpdateParent (other handlers) keeps devices and preferences.
	must(s.SetPreferences(ctx, "par_1", map[string]content.ChannelPreference{content.CategoryAwards: {Channel: content.ChannelSMS, Language: "cy"}}, false))
	p, err := s.Parent(ctx, "par_1")
	must(err)
	p.FirstName = "Changed"
	must(s.UpdateParent(ctx, p))
	p, err = s.Parent(ctx, "par_1")
	must(err)
	if len(p.Devices) != 1 || p.Preferences[content.CategoryAwards].Language != "cy" {
		t.Fatalf("update lost devices or preferences: %+v %+v", p.Devices, p.Preferences)
	}
	if p.Devices[0].Created.IsZero() || !p.Devices[0].LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("device times: %+v", p.Devices[0])
	}
	// Removing someone else's device is not found.
	if err := s.RemoveDevice(ctx, "par_1", content.DeviceID(key, "tok-shared")); content.ErrorCode(err) != content.CodeNotFound {
		t.Fatalf("remove another parent's device: %v", err)
	}
	// Stale sweep: cutoff between par_1's device and par_2's.
	n, err := s.DropStaleDevices(ctx, t0.Add(90*time.Minute))
	must(err)
	if n != 1 || len(tokens("par_1")) != 0 || len(tokens("par_2")) != 1 {
		t.Fatalf("sweep dropped %d; par_1 %v par_2 %v", n, tokens("par_1"), tokens("par_2"))
	}
	if n, err := s.DropStaleDevices(ctx, t0.Add(90*time.Minute)); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
	must(s.RemoveDevice(ctx, "par_2", content.DeviceID(key, "tok-shared")))
	if got := tokens("par_2"); len(got) != 0 {
		t.Fatalf("after remove: %v", got)
	}
}

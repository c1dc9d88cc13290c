package outbox

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/notify"
)

// Forget takes an erased parent's messages out of every channel file and
// the in-memory list, leaves everyone else's, keeps the file private, and
// finds nothing the second time.
func TestForgetRemovesARecipientsMessages(t *testing.T) {
	ctx := context.Background()
	o := mustOutbox(t, nil)
	const gone, kept = "+447700900111", "+447700900222"
	for _, m := range []notify.SMS{{Ref: "r1", To: gone, Body: "Your code is ABC"}, {Ref: "r2", To: kept, Body: "Hello"},
		{Ref: "r3", To: kept, Body: "Jo Canary Smith invited you"}} {
		if res := o.SendSMS(ctx, m); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if _, err := o.SendEmails(ctx, []notify.Email{{Ref: "e1", To: "gone@example.test", Subject: "Hi", Text: "Welcome"},
		{Ref: "e2", To: "kept@example.test", Subject: "Hi", Text: "Welcome"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.SendPushes(ctx, []notify.Push{{Ref: "p1", Token: "tok-gone", Title: "New", Body: "Award"}}); err != nil {
		t.Fatal(err)
	}
	n, err := o.Forget(ctx, []string{gone, "gone@example.test", "tok-gone", "Jo Canary Smith", ""})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("forgot %d lines, want 4", n)
	}
	var left []string
	for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelEmail, notify.ChannelPush} {
		for _, r := range readRecords(t, o, ch) {
			left = append(left, r.Ref)
		}
	}
	if strings.Join(left, ",") != "r2,e2" {
		t.Fatalf("lines left %v, want r2,e2", left)
	}
	for _, r := range o.Recent() {
		if r.Ref != "r2" && r.Ref != "e2" {
			t.Fatalf("Recent still holds %s", r.Ref)
		}
	}
	info, err := os.Stat(o.Path(notify.ChannelSMS))
	if err != nil || info.Mode().Perm() != fileMode {
		t.Fatalf("rewritten file mode %v (%v), want %v", info.Mode().Perm(), err, fileMode)
	}
	if n, err := o.Forget(ctx, []string{gone, "gone@example.test", "tok-gone"}); err != nil || n != 0 {
		t.Fatalf("second forget removed %d (%v), want 0", n, err)
	}
	// Appends go on after a rewrite.
	if res := o.SendSMS(ctx, notify.SMS{Ref: "r4", To: kept, Body: "Again"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := len(readRecords(t, o, notify.ChannelSMS)); got != 2 {
		t.Fatalf("%d SMS lines after a new send, want 2", got)
	}
}

package redistest

import (
	"context"
	"testing"
	"time"
)

// Keys with a TTL expire in real time on either Redis: a lock nobody
// deletes (asynq's Unique lock of a failed task) must not outlive its TTL.
func TestKeysExpire(t *testing.T) {
	c, _ := NewTimed(t)
	ctx := context.Background()
	if err := c.Set(ctx, "lock", "x", 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.Exists(ctx, "lock").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a key with a 200 ms TTL still exists after 5 s")
		}
		time.Sleep(20 * time.Millisecond) // the expiry is the server's: nothing to wait on
	}
}

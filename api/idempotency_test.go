package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// broadcastsOf lists the school's broadcasts still expanding (the test
// queue never runs the expansion).
func broadcastsOf(t testing.TB, w *world) []*content.Broadcast {
	t.Helper()
	all, err := w.h.store.BroadcastsInState(context.Background(), content.BroadcastExpanding)
	if err != nil {
		t.Fatal(err)
	}
	var out []*content.Broadcast
	for _, b := range all {
		if b.SchoolID == "sch_1" {
			out = append(out, b)
		}
	}
	return out
}

// idempotencyID is the record id the API gives (school, caller, key).
func (w *world) idempotencyID(callerID, key string) string {
	return "idk_" + content.KeyedHash(w.h.deps.HashKey, "idempotency|sch_1|"+callerID+"|"+key)
}

func (w *world) fingerprint(body any) string {
	raw, _ := json.Marshal(body)
	return content.KeyedHash(w.h.deps.HashKey, "POST\n"+broadcastsPath+"\n"+string(raw))
}

// TestIdempotencyKey: Stripe's semantics for POST …/broadcasts (TESTING D4).
func TestIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.tokens[actAdmin]
	all := awardBody(map[string]any{"all_parents": true})
	key := func(k string) reqOpt { return withHeader("Idempotency-Key", k) }
	expandTasks := func() int { return len(w.h.queue.OfType(tasks.TypeExpandBroadcast)) }

	var first broadcastDTO
	t.Run("same key, same body: the first answer again", func(t *testing.T) {
		resp, body := w.h.do("POST", broadcastsPath, all, admin, key("key-1"))
		wantStatus(t, resp, body, 202)
		if resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a first request is marked replayed")
		}
		first = decode[broadcastDTO](t, body)
		tasksBefore := expandTasks()
		w.h.clock.Advance(10 * time.Minute)
		resp2, body2 := w.h.do("POST", broadcastsPath, all, admin, key("key-1"))
		wantStatus(t, resp2, body2, 202)
		if resp2.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(body, body2) {
			t.Fatalf("replay: header %q, body %s, want %s", resp2.Header.Get("Idempotent-Replayed"), body2, body)
		}
		if expandTasks() != tasksBefore || len(broadcastsOf(t, w)) != 1 {
			t.Fatalf("a replay queued or created again: %d tasks, %d broadcasts", expandTasks()-tasksBefore, len(broadcastsOf(t, w)))
		}
		b, err := w.h.store.Broadcast(ctx, first.ID)
		if err != nil || b.IdempotencyKey != w.idempotencyID(w.Admin.ID, "key-1") {
			t.Fatalf("stored key %q (%v): the scoped hash, never the client's key", b.IdempotencyKey, err)
		}
		// The record names its school and caller: an erasure finds the
		// answers that may hold a parent's data by them.
		rec, err := w.h.store.IdempotencyRecord(ctx, w.idempotencyID(w.Admin.ID, "key-1"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.SchoolID != "sch_1" || rec.AccountID != w.Admin.ID {
			t.Fatalf("record scope %q/%q, want sch_1/%s", rec.SchoolID, rec.AccountID, w.Admin.ID)
		}
	})
	t.Run("same key, different body: 422", func(t *testing.T) {
		other := awardBody(map[string]any{"class_ids": []string{"cls_1"}})
		resp, body := w.h.do("POST", broadcastsPath, other, admin, key("key-1"))
		wantStatus(t, resp, body, 422)
		if e := decode[errorBody](t, body); e.Error.Code != "unprocessable" || !strings.Contains(e.Error.Message, "different request") {
			t.Fatalf("error %+v", e.Error)
		}
	})
	t.Run("keys are the caller's own", func(t *testing.T) {
		mine := awardBody(map[string]any{"class_ids": []string{"cls_1"}})
		resp, body := w.h.do("POST", broadcastsPath, mine, w.tokens[actTeacher], key("key-1"))
		wantStatus(t, resp, body, 202)
		if resp.Header.Get("Idempotent-Replayed") != "" || decode[broadcastDTO](t, body).ID == first.ID {
			t.Fatal("another caller's key answered this request")
		}
	})
	t.Run("a refused request is not remembered", func(t *testing.T) {
		resp, body := w.h.do("POST", broadcastsPath, map[string]any{"template": "nope", "audience": map[string]any{"all_parents": true}}, admin, key("key-2"))
		wantStatus(t, resp, body, 400)
		resp, body = w.h.do("POST", broadcastsPath, all, admin, key("key-2"))
		wantStatus(t, resp, body, 202)
		if resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("replayed after a refusal")
		}
	})
	t.Run("a key is 1 to 255 printable characters", func(t *testing.T) {
		for _, k := range []string{strings.Repeat("k", 256), "tab\tkey"} {
			status, body, _ := w.raw(t, broadcastsPath, all, admin, k)
			if status != 400 || !strings.Contains(string(body), "Idempotency-Key") {
				t.Fatalf("key %q: %d %s", k, status, body)
			}
		}
		resp, body := w.h.do("POST", broadcastsPath, all, admin, key(strings.Repeat("k", 255)))
		wantStatus(t, resp, body, 202)
	})
	t.Run("after 24 hours the key is new", func(t *testing.T) {
		resp, body := w.h.do("POST", broadcastsPath, all, admin, key("key-3"))
		wantStatus(t, resp, body, 202)
		a := decode[broadcastDTO](t, body)
		w.h.clock.Advance(content.IdempotencyTTL + time.Minute)
		admin = w.h.login(w.Admin.Email, fixturePassword).AccessToken // the old token has expired
		resp, body = w.h.do("POST", broadcastsPath, all, admin, key("key-3"))
		wantStatus(t, resp, body, 202)
		if resp.Header.Get("Idempotent-Replayed") != "" || decode[broadcastDTO](t, body).ID == a.ID {
			t.Fatal("an expired key was replayed")
		}
	})
	t.Run("in progress: 409, then taken over once the holder is presumed dead", func(t *testing.T) {
		now := w.h.clock.Now()
		rec := &content.IdempotencyRecord{ID: w.idempotencyID(w.Admin.ID, "key-4"), Fingerprint: w.fingerprint(all),
			ResourceID: "brd_heldbyacrash", Holder: "hld_other", HeldAt: now, CreatedAt: now}
		if err := w.h.store.ReserveIdempotencyKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		resp, body := w.h.do("POST", broadcastsPath, all, admin, key("key-4"))
		wantStatus(t, resp, body, 409)
		w.h.clock.Advance(idempotencyLease + time.Second)
		resp, body = w.h.do("POST", broadcastsPath, all, admin, key("key-4"))
		wantStatus(t, resp, body, 202)
		if got := decode[broadcastDTO](t, body); got.ID != "brd_heldbyacrash" {
			t.Fatalf("take-over made %s, want the reserved id", got.ID)
		}
		resp, body = w.h.do("POST", broadcastsPath, all, admin, key("key-4"))
		wantStatus(t, resp, body, 202)
		if resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("not replayed after the take-over answered")
		}
	})
	t.Run("created but not queued: a retry queues the same broadcast", func(t *testing.T) {
		now := w.h.clock.Now()
		rec := &content.IdempotencyRecord{ID: w.idempotencyID(w.Admin.ID, "key-5"), Fingerprint: w.fingerprint(all),
			ResourceID: "brd_createdonly", CreatedAt: now} // released by the failed request
		if err := w.h.store.ReserveIdempotencyKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		b := &content.Broadcast{ID: "brd_createdonly", SchoolID: "sch_1", CreatedBy: w.Admin.ID, Template: "award", Category: "awards",
			Audience: content.Audience{AllParents: true}, State: content.BroadcastExpanding, IdempotencyKey: rec.ID, CreatedAt: now}
		if err := w.h.store.CreateBroadcast(ctx, b); err != nil {
			t.Fatal(err)
		}
		n := len(broadcastsOf(t, w))
		resp, body := w.h.do("POST", broadcastsPath, all, admin, key("key-5"))
		wantStatus(t, resp, body, 202)
		queued := w.h.queue.OfType(tasks.TypeExpandBroadcast)
		p, _ := tasks.ParseExpandBroadcast(queued[len(queued)-1].Payload())
		if decode[broadcastDTO](t, body).ID != b.ID || p.BroadcastID != b.ID || len(broadcastsOf(t, w)) != n {
			t.Fatalf("retry made a new broadcast or queued another: %s, task for %s", body, p.BroadcastID)
		}
	})
}

// raw sends one POST without the contract check (for headers the document
// itself refuses) and returns status, body and headers.
func (w *world) raw(t testing.TB, path string, body any, token, key string) (int, []byte, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := w.h.app.Test(req, 30_000)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

// TestIdempotencyConcurrentSubmits: eight identical submits at once, in
// several rounds (TESTING D4). Each round creates exactly one broadcast and
// queues one expansion; every other submit is a replay of its answer or a
// 409 while it is still running.
func TestIdempotencyConcurrentSubmits(t *testing.T) {
	w := newWorld(t)
	const rounds, submits = 5, 8
	body := awardBody(map[string]any{"all_parents": true})
	tally := map[string]int{}
	for r := 0; r < rounds; r++ {
		k := fmt.Sprintf("double-tap-%d", r)
		before, tasksBefore := len(broadcastsOf(t, w)), len(w.h.queue.OfType(tasks.TypeExpandBroadcast))
		var mu sync.Mutex
		ids := map[string]bool{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < submits; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status, out, hdr := w.raw(t, broadcastsPath, body, w.tokens[actAdmin], k)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == 202 && hdr.Get("Idempotent-Replayed") == "true":
					tally["202 replayed"]++
				case status == 202:
					tally["202 first"]++
				case status == 409:
					tally["409 in progress"]++
				default:
					t.Errorf("round %d: status %d: %s", r, status, out)
				}
				if status == 202 {
					var b broadcastDTO
					if err := json.Unmarshal(out, &b); err != nil {
						t.Error(err)
					}
					ids[b.ID] = true
				}
			}()
		}
		close(start)
		wg.Wait()
		created := len(broadcastsOf(t, w)) - before
		queued := len(w.h.queue.OfType(tasks.TypeExpandBroadcast)) - tasksBefore
		if created != 1 || queued != 1 || len(ids) != 1 {
			t.Fatalf("round %d: %d broadcasts created, %d expansions queued, %d distinct ids answered; want 1 each", r, created, queued, len(ids))
		}
	}
	if tally["202 first"] != rounds {
		t.Fatalf("%d first answers in %d rounds", tally["202 first"], rounds)
	}
	t.Logf("%d rounds × %d concurrent submits: %v; one broadcast and one expansion per round", rounds, submits, tally)
}

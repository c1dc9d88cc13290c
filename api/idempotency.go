package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Idempotency-Key, with Stripe's semantics. A client that may retry a
// create (a flaky school network, a double tap) sends a key of its choice;
// the server remembers the first answer for content.IdempotencyTTL and
// replays it to every repeat with the same body.
const (
	headerIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"
	maxIdempotencyKey        = 255
	// idempotencyLease is how long a request holds a key before a retry may
	// take it over: longer than any request can run (WriteTimeout 30s,
	// store calls 5s), so only a crashed request's key is taken.
	idempotencyLease = 2 * time.Minute
)

// idempotent runs create at most once per (school, caller, key). Without
// the header it simply runs. With it:
//
//   - the first request reserves the key (an insert by _id: of racing
//     duplicates exactly one wins), runs, and stores its 2xx answer;
//   - a repeat with the same method, path and body gets the stored answer
//     again, with Idempotent-Replayed: true;
//   - a repeat with another body is 422: a key names one request;
//   - a repeat while the first still runs is 409: retry shortly.
//
// create receives the id to give what it makes. A retry after a failure
// gets the same id, so even a request that failed half-way (created, then
// could not queue) cannot lead to a second copy.
//
// Refusals (4xx) are not stored, as at Stripe: the key is forgotten and
// the client may fix the request and send it again with the same key.
// Other failures hand the key back for a retry.
func (s *server) idempotent(c *fiber.Ctx, schoolID string, newID func() string, create func(resourceID string) error) error {
	key := c.Get(headerIdempotencyKey)
	if key == "" {
		return create(newID())
	}
	if !validIdempotencyKey(key) {
		return &content.Error{Code: content.CodeInvalid, Message: "the Idempotency-Key header is not valid",
			Fields: map[string]string{headerIdempotencyKey: "must be 1 to 255 printable ASCII characters"}}
	}
	ctx := c.UserContext()
	id := "idk_" + content.KeyedHash(s.HashKey, "idempotency|"+schoolID+"|"+principal(c).ID()+"|"+key)
	fingerprint := content.KeyedHash(s.HashKey, c.Method()+"\n"+c.Path()+"\n"+string(c.Request().Body()))
	c.Locals(localIdempotencyID, id)
	holder := content.NewID("hld")
	now := s.Clock.Now()

	var rec *content.IdempotencyRecord
	for attempt := 0; rec == nil; attempt++ {
		if attempt == 3 {
			return content.Errorf(content.CodeConflict, "a request with this Idempotency-Key is in progress; retry shortly")
		}
		fresh := &content.IdempotencyRecord{ID: id, Fingerprint: fingerprint, ResourceID: newID(), Holder: holder,
			HeldAt: now, CreatedAt: now, SchoolID: schoolID, AccountID: principal(c).ID()}
		err := s.Idempotency.ReserveIdempotencyKey(ctx, fresh)
		if err == nil {
			rec = fresh
			break
		}
		if !content.IsCode(err, content.CodeConflict) {
			return err
		}
		old, err := s.Idempotency.IdempotencyRecord(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue // forgotten in between: reserve again
		} else if err != nil {
			return err
		}
		if old.Expired(now) {
			if err := s.Idempotency.DeleteIdempotencyKey(ctx, id, old.ResourceID); err != nil {
				return err
			}
			continue
		}
		if old.Fingerprint != fingerprint {
			return content.Errorf(content.CodeUnprocessable,
				"this Idempotency-Key was used with a different request; use a new key for a new request")
		}
		if old.Completed() {
			c.Set(headerIdempotentReplayed, "true")
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Status(old.Status).Send(old.Body)
		}
		if old.Holder != "" && now.Before(old.HeldAt.Add(idempotencyLease)) {
			return content.Errorf(content.CodeConflict, "a request with this Idempotency-Key is in progress; retry shortly")
		}
		ok, err := s.Idempotency.TakeOverIdempotencyKey(ctx, id, old.Holder, holder, now)
		if err != nil {
			return err
		}
		if !ok {
			return content.Errorf(content.CodeConflict, "a request with this Idempotency-Key is in progress; retry shortly")
		}
		old.Holder, old.HeldAt = holder, now
		rec = old
	}

	// Clean-up must happen even if the client has gone away.
	bg := context.WithoutCancel(ctx)
	if err := create(rec.ResourceID); err != nil {
		var cleanup error
		if status := statusOf[content.ErrorCode(err)]; status >= 400 && status < 500 && status != http.StatusConflict {
			cleanup = s.Idempotency.DeleteIdempotencyKey(bg, id, rec.ResourceID)
		} else {
			cleanup = s.Idempotency.ReleaseIdempotencyKey(bg, id, holder)
		}
		if cleanup != nil {
			s.Log.Error("idempotency key clean-up failed", "request_id", requestID(c), "err", cleanup)
		}
		return err
	}
	status := c.Response().StatusCode()
	body := append([]byte(nil), c.Response().Body()...)
	if err := s.Idempotency.CompleteIdempotencyKey(bg, id, status, body); err != nil {
		// The work is done and answered; a retry takes the key over after
		// the lease and finds what was made under the same resource id.
		s.Log.Error("idempotency key not completed", "request_id", requestID(c), "err", err)
	}
	return nil
}

const localIdempotencyID = "idempotency_id"

// idempotencyRecordID is the hashed, scoped key the request runs under
// ("" without one): stored on what it creates instead of the client's key.
func idempotencyRecordID(c *fiber.Ctx) string {
	id, _ := c.Locals(localIdempotencyID).(string)
	return id
}

// validIdempotencyKey: 1–255 printable ASCII characters (a UUID is usual).
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

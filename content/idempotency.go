package content

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a client's Idempotency-Key is remembered:
// within it the same key replays the first answer; after it the key is new
// again. Expiry is read from CreatedAt (no TTL index); a retention sweep
// may delete old records later.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is what the server remembers about one
// Idempotency-Key, scoped to a school and a caller.
type IdempotencyRecord struct {
	ID          string // keyed hash of school, caller and the client's key
	Fingerprint string // hash of method, path and body of the first request
	// ResourceID is the id the first request gives what it creates. A
	// retry of a request that failed half-way reuses it, so the store's
	// unique _id stops a second copy even then.
	ResourceID string
	Holder     string // token of the request running with the key; "" when none
	HeldAt     time.Time
	Status     int    // HTTP status of the stored answer; 0 while none is stored
	Body       []byte // the stored answer (JSON), as the first request got it
	CreatedAt  time.Time
	// SchoolID and AccountID are the key's scope: the school and the
	// caller. An erasure finds the answers that may hold a parent's data
	// by them: the parent's own, and those of the parent's schools.
	SchoolID, AccountID string
}

// Completed reports whether an answer is stored.
func (r *IdempotencyRecord) Completed() bool { return r.Status != 0 }

// Expired reports whether the key is past IdempotencyTTL at now.
func (r *IdempotencyRecord) Expired(now time.Time) bool {
	return !now.Before(r.CreatedAt.Add(IdempotencyTTL))
}

// IdempotencyKeys stores idempotency records. Hot operations are by _id;
// the conditional ones (take over, delete expired) run only on the rare
// paths of a retry after a failure or a key reused after a day.
type IdempotencyKeys interface {
	// ReserveIdempotencyKey inserts r; CodeConflict if its id exists
	// (another request holds or completed the key).
	ReserveIdempotencyKey(ctx context.Context, r *IdempotencyRecord) error
	IdempotencyRecord(ctx context.Context, id string) (*IdempotencyRecord, error)
	// TakeOverIdempotencyKey gives an unanswered record to holder `to` if
	// it is still held by `from` ("" = released); false if another request
	// got there first or the record was answered.
	TakeOverIdempotencyKey(ctx context.Context, id, from, to string, at time.Time) (bool, error)
	// ReleaseIdempotencyKey lets the next request with the key run: the
	// holder failed without an answer worth replaying.
	ReleaseIdempotencyKey(ctx context.Context, id, holder string) error
	// CompleteIdempotencyKey stores the answer to replay.
	CompleteIdempotencyKey(ctx context.Context, id string, status int, body []byte) error
	// DeleteIdempotencyKey removes the record if it is still the one that
	// gave out resourceID (an expired key about to be reused).
	DeleteIdempotencyKey(ctx context.Context, id, resourceID string) error
}

package content

import "context"

// BroadcastCreator is what publishing a broadcast needs of the ledger.
type BroadcastCreator interface {
	CreateBroadcast(ctx context.Context, b *Broadcast) error // CodeConflict if the id exists
	Broadcast(ctx context.Context, id string) (*Broadcast, error)
}

// Publish is the one way a broadcast is sent: it creates b (state
// expanding) and then hands its id to expand, which queues the expansion
// (worker/tasks.Expander over the task queue; it may do a step of its own
// first, which then runs after the create and before the queueing).
//
// Callers derive b.ID from what asked for the broadcast (an idempotency
// record, an export, a day's sweep), so a retry after a failure part-way
// finds it stored already. Publish then carries on with the stored
// broadcast (queueing an expansion again is harmless: one queued at a time,
// and a re-run appends only recipients no page has) and reports
// created=false, when same accepts it (nil accepts any). Otherwise the id
// is another's: CodeConflict, and nothing is queued.
//
// It returns the broadcast published: b, or the stored one.
func Publish(ctx context.Context, ledger BroadcastCreator, expand func(ctx context.Context, broadcastID string) error,
	b *Broadcast, same func(stored *Broadcast) bool) (pub *Broadcast, created bool, err error) {
	pub, created = b, true
	if err := ledger.CreateBroadcast(ctx, b); IsCode(err, CodeConflict) {
		stored, err := ledger.Broadcast(ctx, b.ID)
		if err != nil {
			return nil, false, err
		}
		if same != nil && !same(stored) {
			return nil, false, Errorf(CodeConflict, "this broadcast already exists")
		}
		pub, created = stored, false
	} else if err != nil {
		return nil, false, err
	}
	if err := expand(ctx, pub.ID); err != nil {
		return nil, false, err
	}
	return pub, created, nil
}

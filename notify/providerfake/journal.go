package providerfake

import "sync"

// journal is what a fake has been sent, in order: every message (or, for
// SendGrid, request) it parsed, whatever it answered. Each fake embeds
// one, so Received and Accepted are the fake's own.
type journal[M interface{ accepted() bool }] struct {
	mu   sync.Mutex
	seen []M
}

// Received returns every message the fake parsed, accepted or not, in order.
func (j *journal[M]) Received() []M {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]M(nil), j.seen...)
}

// AcceptedCount is len(Accepted()) without copying the record: cheap
// enough for a test to poll while messages arrive.
func (j *journal[M]) AcceptedCount() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, m := range j.seen {
		n += btoi(m.accepted())
	}
	return n
}

// Accepted returns the messages the fake accepted, in order.
func (j *journal[M]) Accepted() []M {
	var out []M
	for _, m := range j.Received() {
		if m.accepted() {
			out = append(out, m)
		}
	}
	return out
}

// countAccepted sums n over the messages the fake accepted.
func (j *journal[M]) countAccepted(n func(M) int) int {
	total := 0
	for _, m := range j.Accepted() {
		total += n(m)
	}
	return total
}

func (j *journal[M]) record(m M) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seen = append(j.seen, m)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

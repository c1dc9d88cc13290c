package content

import (
	"testing"
	"time"
)

func TestEntryRefRoundTrip(t *testing.T) {
	t.Parallel()
	page := LedgerPageID("brd_abc", 12)
	for _, i := range []int{0, 7, LedgerPageSize - 1} {
		p, n, err := ParseEntryRef(EntryRef(page, i))
		if err != nil || p != page || n != i {
			t.Errorf("round trip %d: %q %d %v", i, p, n, err)
		}
	}
	for _, bad := range []string{"", "x", "/3", "p/abc", "p/-1", "p/100"} {
		if _, _, err := ParseEntryRef(bad); err == nil {
			t.Errorf("ParseEntryRef(%q) accepted", bad)
		}
	}
}

func TestEntryStates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		e         LedgerEntry
		state     MessageState
		claimable bool
	}{
		{LedgerEntry{}, StatePending, true},
		{LedgerEntry{Claims: 1}, StateSending, false},
		{LedgerEntry{Claims: 1, Released: 1, Rank: RankDeferred, NotBefore: now.Add(time.Hour)}, StateDeferred, false},
		{LedgerEntry{Claims: 1, Released: 1, Rank: RankDeferred, NotBefore: now}, StateDeferred, true},
		{LedgerEntry{Claims: 1, Rank: RankUnknown}, StateUnknown, false},
		{LedgerEntry{Claims: 1, Rank: RankSent}, StateSent, false},
		{LedgerEntry{Claims: 1, Rank: RankDelivered}, StateDelivered, false},
		{LedgerEntry{Claims: 1, Rank: RankSuppressed}, StateSuppressed, false},
	}
	for _, c := range cases {
		if got := c.e.State(); got != c.state {
			t.Errorf("%+v: state %s, want %s", c.e, got, c.state)
		}
		if got := c.e.Claimable(now); got != c.claimable {
			t.Errorf("%+v: claimable %v, want %v", c.e, got, c.claimable)
		}
	}
	if StateSending.Settled() || !StateUnknown.Settled() || StateDeferred.Settled() {
		t.Error("Settled is wrong")
	}
}

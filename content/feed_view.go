package content

import "time"

// A child's feed view answers the commonest request, a parent opening the
// newest page of their child's feed, from one read by _id: it keeps the
// newest page as it was last built and, for each parent a full sign-in
// check let read it, what that check found. Both are caches with explicit
// invalidation. The store counts every change to the child's feed and,
// per parent, every change that could take away that parent's access
// (a session ended, the account closed or erased, a link removed); each
// count is raised after the change is written, and a kept page or access
// is current only while it carries the count it was built at. A reader
// that builds from state older than a change therefore saves something
// already stale. Expiry (FeedAccessTTL, FeedPageTTL) bounds what a change
// whose count was never raised (a process that died between the two
// writes) could leave behind.

// FeedAccessTTL is how long a kept access answers without a full check of
// the parent's record; the full check also refreshes last-active.
const FeedAccessTTL = 2 * time.Minute

// FeedPageTTL is how long a kept page answers before it is built again.
const FeedPageTTL = 10 * time.Minute

// FeedAccess is what a full check of a parent's record found about their
// right to read one child's feed.
type FeedAccess struct {
	ParentID  string
	Sessions  []string // the account's live sessions at the check
	Language  string
	SchoolID  string // the school of the parent's link to the child
	CheckedAt time.Time
}

// HasSession reports whether sid was live at the check.
func (a *FeedAccess) HasSession(sid string) bool {
	for _, s := range a.Sessions {
		if s == sid {
			return true
		}
	}
	return false
}

// FeedView is a child's view as one read found it: only what is current.
type FeedView struct {
	ChildID string
	// Page is the kept newest page (up to FeedPageMax items, newest
	// first) and Next its continuation, when HasPage.
	Page    []*FeedItem
	Next    int64
	HasPage bool
	// Access holds the current accesses by parent id.
	Access map[string]FeedAccess
	// The counts the view was read at, written back by SaveFeedView.
	PageVersion   int64
	AccessVersion map[string]int64
}

// FirstPage cuts the kept page to limit items and says where the next
// page starts, exactly as FeedPage would answer for that limit.
func (v *FeedView) FirstPage(limit int) ([]*FeedItem, int64) {
	return CutFeedPage(v.Page, v.Next, limit)
}

// CutFeedPage cuts a newest page (items from FeedPage with next) to limit
// items: a cut page continues below its last item (or nowhere, when that
// was position 0).
func CutFeedPage(items []*FeedItem, next int64, limit int) ([]*FeedItem, int64) {
	if limit <= 0 {
		limit = FeedPageDefault
	}
	if len(items) <= limit {
		return items, next
	}
	last := items[limit-1].Position
	if last <= 0 {
		return items[:limit], -1
	}
	return items[:limit], last
}

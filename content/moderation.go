package content

import (
	"context"
	"slices"
	"time"
)

// Hidden records that a member of staff hid a parent's words or photo from
// the class. The content is kept for its author (their own submission and
// export) and nobody else sees it; the staff member's reason is in the
// audit event, not here.
type Hidden struct {
	By string // staff id
	At time.Time
}

// ModerationReasonMax bounds the reason staff give for hiding content.
const ModerationReasonMax = 500

// VisiblePhotoIDs are the submission's photos anyone but their author may
// see.
func (s *Submission) VisiblePhotoIDs() []string {
	out := make([]string, 0, len(s.PhotoIDs))
	for _, id := range s.PhotoIDs {
		if !slices.Contains(s.HiddenPhotoIDs, id) {
			out = append(out, id)
		}
	}
	return out
}

// ForOthers is the submission as anyone but its author sees it (staff
// views, the school's export): hidden comment, replies and photos left
// out.
func (s *Submission) ForOthers() *Submission {
	out := *s
	if s.CommentHidden != nil {
		out.Comment = ""
	}
	out.PhotoIDs, out.HiddenPhotoIDs = s.VisiblePhotoIDs(), nil
	out.Replies = slices.DeleteFunc(slices.Clone(s.Replies), func(r Reply) bool { return r.Hidden != nil })
	return &out
}

// Moderation deletes what a parent withdraws and hides what staff take
// down. Every change is one update by _id and repeats harmlessly.
type Moderation interface {
	// DeleteReply removes one reply from the submission's thread;
	// CodeNotFound if the thread has no such reply.
	DeleteReply(ctx context.Context, submissionID, replyID string) (*Submission, error)
	// ClearComment removes the submission's comment (and any hiding of it).
	ClearComment(ctx context.Context, submissionID string, at time.Time) (*Submission, error)
	// DeletePhoto removes the photo from its submission, deletes both
	// stored pictures, then its metadata. A retry after a crash finishes.
	DeletePhoto(ctx context.Context, photoID string) error
	// HideComment, HideReply and HidePhoto mark content hidden; hiding it
	// again keeps the first record.
	HideComment(ctx context.Context, submissionID string, h Hidden) (*Submission, error)
	HideReply(ctx context.Context, submissionID, replyID string, h Hidden) (*Submission, error)
	HidePhoto(ctx context.Context, photoID string, h Hidden) (*Photo, error)
	// ClearFeedComment removes a parent's comment excerpt from a feed item.
	ClearFeedComment(ctx context.Context, itemID, parentID string) error
}

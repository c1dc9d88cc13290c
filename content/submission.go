package content

import (
	"context"
	"strings"
	"time"
)

// Limits on what a family sends back, so a submission stays a small
// document and a comment fits the teacher's screen.
const (
	SubmissionCommentMax = 1000 // characters
	ReplyBodyMax         = 1000 // characters
	AwardReasonMax       = 200  // characters
	SubmissionPhotosMax  = 10   // photos per submission
)

// AssignmentTarget is what submissions need to know of an assignment: the
// school it belongs to, the classes and children it was set for, and its
// activity's title for notifications. The assignments store supplies it.
type AssignmentTarget struct {
	ID       string
	SchoolID string
	ClassIDs []string // classes it was set for (children's classes when set for chosen children)
	ChildIDs []string // chosen children; empty means the whole of ClassIDs
	// ActivityIDs are the assignment's activities: each is a feed item
	// ("asg:<assignment>:<activity>") a submission marks done.
	ActivityIDs []string
	Title       string // the first activity's title
	Released    bool   // families see it (and may submit) only once released
}

// SetFor reports whether the assignment was set for the child.
func (a *AssignmentTarget) SetFor(k *Child) bool {
	if k.SchoolID != a.SchoolID {
		return false
	}
	if len(a.ChildIDs) > 0 {
		for _, id := range a.ChildIDs {
			if id == k.ID {
				return true
			}
		}
		return false
	}
	for _, c := range a.ClassIDs {
		for _, kc := range k.ClassIDs {
			if c == kc {
				return true
			}
		}
	}
	return false
}

// SubmissionID is the composite _id of one parent's submission for one child
// and assignment: a repeat submit updates the same document.
func SubmissionID(assignmentID, childID, parentID string) string {
	return "sub_" + assignmentID + "." + childID + "." + parentID
}

// Submission is what one parent sends back about one child's assignment.
type Submission struct {
	ID           string
	SchoolID     string
	AssignmentID string
	ChildID      string
	ParentID     string
	Done         bool
	Rating       int // 1–5; 0 means not rated
	Comment      string
	PhotoIDs     []string
	Replies      []Reply
	// CommentHidden is set when staff hid the comment from the class.
	CommentHidden *Hidden
	// HiddenPhotoIDs are the photos of PhotoIDs staff hid from the class.
	HiddenPhotoIDs []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Reply is one message in a submission's thread.
type Reply struct {
	ID         string
	AuthorKind AccountKind
	AuthorID   string
	AuthorName string // the teacher's display name ("Mrs Khan"); empty for parents
	Body       string
	At         time.Time
	Hidden     *Hidden // a parent's reply staff hid from the class
}

// SubmissionUpdate is what a parent sets on their submission: nil fields
// are left as they are (on a new submission: not done, unrated, no comment).
type SubmissionUpdate struct {
	Done    *bool
	Rating  *int
	Comment *string
}

// Photo is one photo a parent sent with a submission. The pictures live in
// GridFS under PhotoFileID(ID, variant); this is their metadata, by _id.
type Photo struct {
	ID           string
	SubmissionID string
	SchoolID     string
	ChildID      string
	ParentID     string
	ContentType  string // of the stored pictures (always image/jpeg today)
	SourceFormat string // what the parent sent: jpeg, png, webp
	Width        int
	Height       int
	Bytes        int
	ThumbBytes   int
	Promotion    PhotoConsent
	Hidden       *Hidden // staff hid it from the class
	CreatedAt    time.Time
}

// PhotoConsent records a parent's opt-in to the school using one photo in
// its promotion (a separate consent from the privacy notice).
type PhotoConsent struct {
	Granted bool
	By      string // parent id
	At      time.Time
}

// Photo variants.
const (
	PhotoFull  = "full"
	PhotoThumb = "thumb"
)

// ValidPhotoVariant reports whether v names a stored picture.
func ValidPhotoVariant(v string) bool { return v == PhotoFull || v == PhotoThumb }

// PhotoFileID is the GridFS file id of one variant of a photo.
func PhotoFileID(photoID, variant string) string { return photoID + "/" + variant }

// Award is a teacher's award to a child.
type Award struct {
	ID        string
	SchoolID  string
	ChildID   string
	GivenBy   string // staff id
	GiverName string // display name ("Mrs Khan")
	Reason    string
	CreatedAt time.Time
}

// StaffDisplayName is how parents see a member of staff: title and last
// name ("Mrs Khan"), else first and last name.
func StaffDisplayName(st *Staff) string {
	if st.Title != "" && st.LastName != "" {
		return st.Title + " " + st.LastName
	}
	return strings.TrimSpace(st.FirstName + " " + st.LastName)
}

// Submissions stores submissions, their reply threads, photos and awards.
// Every read is by _id; an assignment's submissions are listed through an
// index document of ids kept with $addToSet.
type Submissions interface {
	// PutSubmission creates or updates the parent's submission (identified
	// by s.ID) with upd and returns it as stored. It is idempotent.
	PutSubmission(ctx context.Context, s *Submission, upd SubmissionUpdate, at time.Time) (*Submission, error)
	Submission(ctx context.Context, id string) (*Submission, error)
	// SubmissionsOfAssignment returns the submissions made for an
	// assignment, oldest first.
	SubmissionsOfAssignment(ctx context.Context, assignmentID string) ([]*Submission, error)
	// AddReply appends a reply to the thread unless one with its id is
	// already there (a retry), and returns the submission as stored.
	AddReply(ctx context.Context, submissionID string, r Reply) (*Submission, error)

	// PutPhoto stores the photo's pictures and metadata and lists it on its
	// submission (created if need be from base). Storing the same photo id
	// again is a no-op.
	PutPhoto(ctx context.Context, base *Submission, p *Photo, full, thumb []byte) error
	Photo(ctx context.Context, id string) (*Photo, error)
	// PhotoBytes returns one stored variant of a photo.
	PhotoBytes(ctx context.Context, photoID, variant string) ([]byte, error)
	SetPhotoConsent(ctx context.Context, photoID string, c PhotoConsent) (*Photo, error)

	CreateAward(ctx context.Context, a *Award) error // CodeConflict if the id exists
	Award(ctx context.Context, id string) (*Award, error)
}

package content

import (
	"context"
	"time"
)

// ImportStatus is where a roster import batch is.
type ImportStatus string

const (
	ImportDryRun     ImportStatus = "dry_run"    // planned, nothing written
	ImportCommitting ImportStatus = "committing" // writes under way; re-running the upload resumes
	ImportCommitted  ImportStatus = "committed"  // every write and the invite broadcast done
	ImportFailed     ImportStatus = "failed"     // stopped part-way; re-running the upload resumes
)

// ImportStatuses lists every import batch status, in order.
var ImportStatuses = []ImportStatus{ImportDryRun, ImportCommitting, ImportCommitted, ImportFailed}

// ImportRowChunk is how many per-row outcomes one stored chunk holds.
const ImportRowChunk = 1000

// ImportBatch records one upload of an MIS export. Its id is derived from
// the school and the file's hash, so uploading the same file again finds
// the same batch: a committed batch is answered as it stands, a failed
// one resumes.
type ImportBatch struct {
	ID                string
	SchoolID          string
	CreatedBy         string // staff id
	FileName          string // as the client named it; may be ""
	FileSHA256        string // hex
	Status            ImportStatus
	Counts            map[string]int // summary numbers (new_children, leavers, invites…)
	RowChunks         int            // chunks of per-row outcomes stored
	InviteBroadcastID string         // "" when nobody was invited
	Invited           int
	ErrorCode         string // classified code of the failure, never a message
	// PRMissing and PRRelationships record the school's choices about
	// parental responsibility for this file (who beyond the PR column
	// was treated as a parent); empty when it made none.
	PRMissing       string
	PRRelationships []string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ImportRowOutcome is what a commit did with one spreadsheet row.
type ImportRowOutcome struct {
	Row      int
	Outcome  string // created | updated | unchanged | rejected | duplicate
	ChildID  string
	Problems []string // problem codes on the row
}

// FamilyInvite records that a parent was invited at a school, by which
// import and broadcast, so a re-upload invites nobody twice, reminders
// find whom to remind, and the funnel counts the invited. _id is
// InvitationID(schoolID, parentID): one per parent and school.
type FamilyInvite struct {
	ID          string
	SchoolID    string
	ParentID    string
	ImportID    string // "" for "invite everyone not yet joined"
	BroadcastID string // the latest invite broadcast naming this parent
	FirstAt     time.Time
	LastAt      time.Time
	Reminders   int
}

// RosterSnapshot is a school's roster as an import diffs against it: its
// children (live and removed), the parents linked at the school, its
// classes, and the parents already invited.
type RosterSnapshot struct {
	Children []*Child
	Parents  []*Parent
	Classes  []*Class
	Invited  map[string]bool // parent ids with an invite or invitation on record
}

// ParentUpdate is what a commit changes on a parent that exists: the
// parent's copy of its child links, and, for parents who have not joined
// yet, the contact details the school holds.
type ParentUpdate struct {
	ID       string
	Children []ChildLink
	// Before lists the children the parent was linked to before (any
	// school), so a link the write drops or ends is known to have ended.
	Before     []string
	SetContact bool
	FirstName  string
	LastName   string
	Phone      string
	Email      string
	Language   string
}

// ImportWrites are a commit's roster writes, applied in bulk. Inserts
// ignore documents already there (a resumed commit), updates are
// idempotent, so applying the same writes twice changes nothing.
type ImportWrites struct {
	NewClasses    []*Class
	NewChildren   []*Child
	Children      []*Child // replaced whole (the school's data is the source of truth)
	NewParents    []*Parent
	ParentUpdates []ParentUpdate
}

// Imports stores import batches, their per-row outcomes and the family
// invite records, and applies a commit's writes in bulk.
type Imports interface {
	PutImport(ctx context.Context, b *ImportBatch) error // upsert by ID
	Import(ctx context.Context, id string) (*ImportBatch, error)
	// PutImportRows stores outcomes in chunks of ImportRowChunk keyed
	// "importID:NNNN" and returns how many chunks it wrote.
	PutImportRows(ctx context.Context, importID string, rows []ImportRowOutcome) (int, error)
	ImportRows(ctx context.Context, importID string, chunk int) ([]ImportRowOutcome, error)

	RosterSnapshot(ctx context.Context, schoolID string) (*RosterSnapshot, error)
	ApplyImport(ctx context.Context, w *ImportWrites) error

	// PutFamilyInvites upserts invite records: FirstAt and ImportID are
	// kept from the first, BroadcastID and LastAt follow the latest.
	PutFamilyInvites(ctx context.Context, invs []*FamilyInvite) error
	FamilyInvitesOfSchool(ctx context.Context, schoolID string) ([]*FamilyInvite, error)
	// CountReminder records one more reminder sent to these parents.
	CountReminder(ctx context.Context, schoolID string, parentIDs []string) error

	// SuppressedKeys is SuppressedAmong for a whole import's contacts.
	SuppressedKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

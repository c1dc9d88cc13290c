package content

import (
	"context"
	"time"
)

// Erasure subjects: whose data an erasure removes.
const (
	SubjectParent = "parent"
	SubjectChild  = "child"
	SubjectSchool = "school"
	SubjectStaff  = "staff"
)

// ErasureSubjectKinds lists every kind of erasure subject.
var ErasureSubjectKinds = []string{SubjectParent, SubjectChild, SubjectSchool, SubjectStaff}

// Why an erasure ran; the certificate says so.
const (
	ErasureRequested     = "requested"      // right to be forgotten
	ErasureAfterClosure  = "closed_90_days" // closed account, 90 days on
	ErasureChildRemoved  = "child_removed"  // removed by school and every parent, 90 days on
	ErasureSchoolEnded   = "school_ended"   // subscription ended six weeks ago
	ErasureStaffInactive = "staff_inactive" // staff idle two years
)

// ErasureReasons lists every reason an erasure runs for.
var ErasureReasons = []string{ErasureRequested, ErasureAfterClosure, ErasureChildRemoved, ErasureSchoolEnded, ErasureStaffInactive}

// ErasureSubject names one subject of an erasure. IDs only.
type ErasureSubject struct {
	Kind string // SubjectParent | SubjectChild | SubjectSchool | SubjectStaff
	ID   string
}

// Key is the erasure record's _id and the erasure chain's task key.
func (s ErasureSubject) Key() string { return s.Kind + ":" + s.ID }

// ErasureRecord is an erasure's progress and, once complete, its
// certificate: what was erased, when, why, and how much from each store.
// It holds IDs and counts only, never what was erased.
type ErasureRecord struct {
	ID          string // Subject.Key()
	Subject     ErasureSubject
	SchoolIDs   []string // schools the subject belonged to (who may see the certificate)
	Reason      string
	RequestedBy string // account id, or "" for the retention sweep
	RequestedAt time.Time
	Stage       int              // the next stage to run
	StagesDone  []string         // names of finished stages, in order
	Counts      map[string]int64 // per store area: documents, files, keys removed or anonymised
	StageAt     map[string]time.Time
	CompletedAt time.Time
}

// Complete reports whether every stage has run.
func (r *ErasureRecord) Complete() bool { return !r.CompletedAt.IsZero() }

// AreaEraser removes or anonymises what one store area (a collection, a
// file bucket, a cache) holds about a subject and reports how many
// documents, files or keys it changed. It is idempotent: a second call
// finds nothing left and reports 0. New store areas register one, so an
// erasure reaches them without the pipeline changing.
type AreaEraser interface {
	Area() string
	Erase(ctx context.Context, s ErasureSubject) (int64, error)
}

// Erasures stores erasure records. Every call is by _id.
type Erasures interface {
	// StartErasure records a new erasure; if one exists for the subject it
	// is returned unchanged with started false (an erasure runs once).
	StartErasure(ctx context.Context, r *ErasureRecord) (rec *ErasureRecord, started bool, err error)
	Erasure(ctx context.Context, id string) (*ErasureRecord, error)
	// FinishErasureStage records stage (index) done with its counts and
	// moves the record to stage+1 in one single-document update; a stage
	// already past is a no-op (a rerun after a crash).
	FinishErasureStage(ctx context.Context, id string, stage int, name string, counts map[string]int64, at time.Time) error
	CompleteErasure(ctx context.Context, id string, at time.Time) error
}

package misimport

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// Commit is who commits a run and how its batch is recorded.
type Commit struct {
	// ID is the batch's id, derived by the caller from the school, the
	// file and the school's choices: the same upload finds the same batch.
	ID             string
	StaffID        string
	FileName       string // as the client named it; may be ""
	FileSHA256     string // hex
	Responsibility Responsibility
	Clock          content.Clock
	// Chunk is how many children or parents one Store.ApplyImport call
	// carries; 0 means ApplyChunk.
	Chunk int
	// Invite invites the parents (ids, in the plan's order) once the
	// roster is written, and answers the invite broadcast ("" when it
	// made none) and how many it invited. It must be safe to call again
	// with the same ids when a failed commit is resumed.
	Invite func(ctx context.Context, ids []string, now time.Time) (broadcastID string, invited int, err error)
	// Log records a failure to mark the batch failed; nil is slog.Default.
	Log *slog.Logger
}

// Committed is what a commit did.
type Committed struct {
	Resumed     bool   // an earlier attempt at the same batch had not finished
	BroadcastID string // this run's invite broadcast; "" when it invited nobody
	Invited     int    // parents this run invited
}

// Commit applies the run through st. The batch is recorded as committing
// first; every write is idempotent and ids are derived from the school
// and UPN or household key, so running the same upload again after a
// failure resumes it, and after success changes nothing. A failure is
// recorded on the batch (status failed, with the error's code) and
// returned. The run's file and plan are let go as the writes proceed: a
// run commits once.
func (r *Run) Commit(ctx context.Context, st Store, c Commit) (Committed, error) {
	now := c.Clock.Now()
	prev, err := st.Import(ctx, c.ID)
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return Committed{}, err
	}
	batch := &content.ImportBatch{ID: c.ID, SchoolID: r.SchoolID, CreatedBy: c.StaffID, FileName: c.FileName,
		FileSHA256: c.FileSHA256, Status: content.ImportCommitting, Counts: r.counts(),
		PRMissing: string(c.Responsibility.Missing), PRRelationships: c.Responsibility.Relationships,
		CreatedAt: now, UpdatedAt: now}
	var res Committed
	if prev != nil {
		if prev.SchoolID != r.SchoolID {
			return Committed{}, content.Errorf(content.CodeConflict, "this import already exists")
		}
		// The first attempt's plan is the batch's record; a resumed run
		// sees part of it applied already.
		batch.Counts, batch.CreatedAt, batch.CreatedBy, batch.RowChunks = prev.Counts, prev.CreatedAt, prev.CreatedBy, prev.RowChunks
		res.Resumed = prev.Status != content.ImportCommitted
	}
	if err := st.PutImport(ctx, batch); err != nil {
		return Committed{}, err
	}
	if err := r.write(ctx, st, c, batch, now, &res); err != nil {
		batch.Status, batch.ErrorCode, batch.UpdatedAt = content.ImportFailed, string(content.ErrorCode(err)), c.Clock.Now()
		if perr := st.PutImport(ctx, batch); perr != nil {
			log := c.Log
			if log == nil {
				log = slog.Default()
			}
			log.Error("record failed import", "import_id", c.ID, "err", perr)
		}
		return Committed{}, err
	}
	invited := res.Invited
	if prev != nil {
		if res.BroadcastID == "" {
			batch.InviteBroadcastID = prev.InviteBroadcastID
		}
		invited = max(invited, prev.Invited)
	}
	batch.Invited = invited
	batch.Status, batch.ErrorCode, batch.UpdatedAt = content.ImportCommitted, "", c.Clock.Now()
	if err := st.PutImport(ctx, batch); err != nil {
		return Committed{}, err
	}
	return res, nil
}

// write stores the per-row outcomes (unless an earlier attempt did), the
// roster writes and the invites of a batch recorded as committing.
func (r *Run) write(ctx context.Context, st Store, c Commit, batch *content.ImportBatch, now time.Time, res *Committed) error {
	if batch.RowChunks == 0 {
		n, err := st.PutImportRows(ctx, c.ID, r.outcomes())
		if err != nil {
			return err
		}
		batch.RowChunks = n
	}
	ids := r.invitees()
	chunk := c.Chunk
	if chunk <= 0 {
		chunk = ApplyChunk
	}
	if err := r.apply(now, chunk, func(w *content.ImportWrites) error { return st.ApplyImport(ctx, w) }); err != nil {
		return err
	}
	// The parsed file and the roster copy are not needed past here.
	r.Import, r.Plan, r.snap, r.byUPN = nil, nil, nil, nil
	bid, invited, err := c.Invite(ctx, ids, now)
	if err != nil {
		return err
	}
	batch.InviteBroadcastID, res.BroadcastID, res.Invited = bid, bid, invited
	return nil
}

// counts are the plan's numbers as the batch records them.
func (r *Run) counts() map[string]int {
	s := &r.Plan.Summary
	return map[string]int{"rows": s.Rows, "pupils": s.Pupils, "rejected_rows": s.RejectedRows,
		"duplicate_rows": s.DuplicateRows, "new_children": s.NewChildren, "changed_children": s.ChangedChildren,
		"unchanged_children": s.UnchangedChildren, "leavers": s.Leavers, "new_parents": s.NewParents,
		"changed_parents": s.ChangedParents, "unchanged_parents": s.UnchangedParents, "invites": s.Invites,
		"invites_by_sms": s.InvitesBySMS, "invites_by_email": s.InvitesByEmail, "households": r.Import.Households(),
		"contacts_without_pr": s.ContactsWithoutPR}
}

// Row outcomes as content.ImportRowOutcome.Outcome holds them.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeRejected  = "rejected"
	OutcomeDuplicate = "duplicate"
)

// outcomes are the per-row outcomes of the plan, in row order: the
// accepted pupils' (created, updated, unchanged), then rows without an
// accepted pupil (rejected or skipped duplicates).
func (r *Run) outcomes() []content.ImportRowOutcome {
	imp := r.Import
	outcomes := make([]content.ImportRowOutcome, 0, imp.Rows)
	for _, cp := range r.Plan.Children {
		p := &imp.Pupils[cp.Pupil]
		out := content.ImportRowOutcome{Row: p.Row}
		cur, relinked := r.current(p)
		switch {
		case cp.Change == ChangeUnchanged && !relinked:
			out.Outcome, out.ChildID = OutcomeUnchanged, cur.ID
		case cur == nil:
			out.Outcome, out.ChildID = OutcomeCreated, r.childID(p.UPN)
		default:
			out.Outcome, out.ChildID = OutcomeUpdated, cur.ID
		}
		outcomes = append(outcomes, out)
	}
	accepted := make(map[int]bool, len(imp.Pupils))
	for _, p := range imp.Pupils {
		accepted[p.Row] = true
	}
	codes := map[int][]string{}
	for _, p := range imp.Problems {
		if !slices.Contains(codes[p.Row], p.Code) {
			codes[p.Row] = append(codes[p.Row], p.Code)
		}
	}
	for i := range outcomes {
		outcomes[i].Problems = codes[outcomes[i].Row]
	}
	rows := make([]int, 0, len(codes))
	for row := range codes {
		if !accepted[row] {
			rows = append(rows, row)
		}
	}
	slices.Sort(rows)
	for _, row := range rows {
		o := content.ImportRowOutcome{Row: row, Outcome: OutcomeRejected, Problems: codes[row]}
		if slices.Contains(o.Problems, CodeDuplicateRow) {
			o.Outcome = OutcomeDuplicate
		}
		outcomes = append(outcomes, o)
	}
	slices.SortStableFunc(outcomes, func(a, b content.ImportRowOutcome) int { return a.Row - b.Row })
	return outcomes
}

// invitees are the parents the plan invites, by id, minus any already
// invited or no longer waiting to join (the plan knows the roster's; this
// covers a resumed run whose first attempt created them), and any every
// one of whose children has severed them.
func (r *Run) invitees() []string {
	state := map[string]content.ParentState{}
	for _, p := range r.snap.Parents {
		state[p.ID] = p.State
	}
	seen := map[string]bool{}
	var ids []string
	for _, inv := range r.Plan.Invites {
		id := r.parent[inv.Parent]
		if seen[id] || r.snap.Invited[id] || r.severedFromAll(inv, id) {
			continue
		}
		if st, ok := state[id]; ok && st != content.ParentInvited {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids
}

// severedFromAll reports whether every pupil the plan invites the file's
// parent (id) for has severed them: such a parent is not invited.
func (r *Run) severedFromAll(inv Invite, id string) bool {
	if len(inv.Children) == 0 {
		return false
	}
	for _, pi := range inv.Children {
		k := r.byUPN[r.Import.Pupils[pi].UPN]
		if k == nil || !k.SeveredFrom(id, r.severanceKeys(k, inv.Parent)) {
			return false
		}
	}
	return true
}

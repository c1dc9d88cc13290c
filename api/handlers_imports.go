package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Roster import: a school admin uploads the MIS export (SIMS, Arbor,
// Bromcom) as text/csv. A dry run parses, validates and diffs it against
// the roster and writes nothing but an audit event; a commit applies the
// same plan in bulk with deterministic ids (a retried or re-uploaded file
// lands on the same documents), records the batch with a per-row outcome
// and invites every new parent through the messaging pipeline with one
// broadcast. Parsing, planning and the commit's writes are
// content/misimport's (misimport.PlanRun, Run.Commit), run here in the
// request; this file holds the HTTP side and the invites' publishing.

// ImportBodyLimit caps an upload: a 50,000-row export is about 12 MB.
// The body is read by the handler once the caller is known to be the
// school's admin (readUpload), so this also bounds its memory.
const ImportBodyLimit = 20 << 20

// importRoute is the upload's route under /v1.
const importRoute = "/schools/:schoolId/imports"

// maxProblemsShown is how many problems a response lists; counts per code
// are always complete.
const maxProblemsShown = 500

// maxLeaverShare is the share of the roster a commit removes without
// confirm_leavers=true: more usually means a partial file (one class).
const maxLeaverShare = 0.2

type importProblemDTO struct {
	Row      int    `json:"row"`
	Column   string `json:"column"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type importLanguageDTO struct {
	Language     string `json:"language"`
	Invites      int    `json:"invites"`
	SMS          int    `json:"sms"`
	Email        int    `json:"email"`
	SMSSegments  int    `json:"sms_segments"`
	SMSCostPence int64  `json:"sms_cost_pence"`
	UCS2Messages int    `json:"ucs2_messages"`
}

type importSummaryDTO struct {
	Rows               int     `json:"rows"`
	Pupils             int     `json:"pupils"`
	RejectedRows       int     `json:"rejected_rows"`
	DuplicateRows      int     `json:"duplicate_rows"`
	NewChildren        int     `json:"new_children"`
	ChangedChildren    int     `json:"changed_children"`
	UnchangedChildren  int     `json:"unchanged_children"`
	Leavers            int     `json:"leavers"`
	LeaverShare        float64 `json:"leaver_share"`
	Households         int     `json:"households"`
	Parents            int     `json:"parents"`
	NewParents         int     `json:"new_parents"`
	ChangedParents     int     `json:"changed_parents"`
	UnchangedParents   int     `json:"unchanged_parents"`
	Invites            int     `json:"invites"`
	InvitesBySMS       int     `json:"invites_by_sms"`
	InvitesByEmail     int     `json:"invites_by_email"`
	SuppressedChannels int     `json:"suppressed_channels"`
	FullySuppressed    int     `json:"fully_suppressed"`
	Unreachable        int     `json:"unreachable"`
	// ContactsWithoutPR are contacts left out as not having parental
	// responsibility, one per pupil and contact; by reason below.
	ContactsWithoutPR         int            `json:"contacts_without_pr"`
	ContactsWithoutPRByReason map[string]int `json:"contacts_without_pr_by_reason"`
	SMSSegments               int            `json:"sms_segments"`
	SMSCostPence              int64          `json:"sms_cost_pence"`
	SMSPricePence             int64          `json:"sms_price_pence"`
}

// importWarningDTO is about the whole file, not a row.
type importWarningDTO struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type importDetectionDTO struct {
	Confidence string            `json:"confidence"`
	Notes      []string          `json:"notes"`
	Columns    map[string]string `json:"columns"`
	Ignored    []string          `json:"ignored"`
}

type importResultDTO struct {
	ImportID          string              `json:"import_id,omitempty"`
	Status            string              `json:"status"`
	Resumed           bool                `json:"resumed,omitempty"`
	InviteBroadcastID string              `json:"invite_broadcast_id,omitempty"`
	Invited           int                 `json:"invited"`
	Encoding          string              `json:"encoding"`
	Detection         importDetectionDTO  `json:"detection"`
	Warnings          []importWarningDTO  `json:"warnings"`
	Summary           importSummaryDTO    `json:"summary"`
	ByLanguage        []importLanguageDTO `json:"by_language"`
	ProblemCounts     map[string]int      `json:"problem_counts"`
	Problems          []importProblemDTO  `json:"problems"`
	ProblemsTruncated bool                `json:"problems_truncated"`
}

// importRequest is what an upload's query and headers ask for.
type importRequest struct {
	dryRun, confirmLeavers bool
	mapping                misimport.Mapping
	resp                   misimport.Responsibility
	// choices is the canonical form of the mapping and the school's
	// parental-responsibility choices, part of the import's id.
	choices string
}

// importRoster is the upload: a school admin's file is planned against
// the roster and described (dry run), or committed and its new parents
// invited.
func (s *server) importRoster() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		p := principal(c)
		req, err := readImportRequest(c)
		if err != nil {
			return err
		}
		// Only now, for a school admin with a well-formed request, is the
		// file read; an account has one import in flight at a time.
		body, release, err := s.takeUpload(c, "import", importsPerAccount)
		if err != nil {
			return err
		}
		defer release()
		if len(body) == 0 {
			fe := content.FieldErrors{}
			fe.Add("body", "the CSV file is empty")
			return fe.Err()
		}
		sum := sha256.Sum256(body)
		run, dto, err := s.planImport(c, sc, body, req)
		if err != nil {
			return err
		}
		if err := checkResponsibility(run.Import.Detection, req.resp, req.dryRun); err != nil {
			return err
		}
		// Parsed: the upload (12 MB for a 50,000-row export) is not needed
		// for the plan's writes, and is let go while they run.
		c.Request().SwapBody(nil)
		if req.dryRun {
			dto.Status = string(content.ImportDryRun)
			s.audit(c, p.Kind, p.ID(), "import.dry_run", sc.ID, "school:"+sc.ID)
			return c.JSON(dto)
		}
		if err := checkLeavers(run.Plan.Summary, req.confirmLeavers); err != nil {
			return err
		}
		sha := hex.EncodeToString(sum[:])
		importID := "imp_" + content.KeyedHash(s.HashKey, "import:"+sc.ID+":"+sha+":"+req.choices)[:20]
		if err := s.commitImport(c, run, dto, importID, sha, req.resp); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "import.commit", sc.ID, "import:"+importID)
		s.Log.Info("import committed", "request_id", requestID(c), "school_id", sc.ID, "import_id", importID,
			"rows", dto.Summary.Rows, "invited", dto.Invited)
		return c.JSON(dto)
	}
}

// readImportRequest reads and checks an upload's query parameters and
// content type, before its body is read.
func readImportRequest(c *fiber.Ctx) (importRequest, error) {
	fe := content.FieldErrors{}
	req := importRequest{dryRun: true}
	switch c.Query("dry_run") {
	case "", "true":
	case "false":
		req.dryRun = false
	default:
		fe.Add("dry_run", "must be true or false")
	}
	switch c.Query("confirm_leavers") {
	case "", "false":
	case "true":
		req.confirmLeavers = true
	default:
		fe.Add("confirm_leavers", "must be true or false")
	}
	mapping, mapKey := parseMapping(c, fe)
	resp, respKey := parseResponsibility(c, fe)
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != "text/csv" {
		fe.Add("Content-Type", "must be text/csv")
	}
	req.mapping, req.resp, req.choices = mapping, resp, mapKey+respKey
	return req, fe.Err()
}

// checkLeavers refuses a commit that would remove more than a fifth of
// the roster, and more than five pupils, until the admin confirms it.
func checkLeavers(sum misimport.Summary, confirmed bool) error {
	if sum.LeaverShare > maxLeaverShare && sum.Leavers > 5 && !confirmed {
		return &content.Error{Code: content.CodeConflict,
			Message: "this file would remove many pupils; check it is the whole school's export, then commit with confirm_leavers=true",
			Fields:  map[string]string{"confirm_leavers": "required when more than a fifth of the roster would leave"}}
	}
	return nil
}

// parseMapping reads an explicit column mapping, a JSON object of field →
// header, from the "mapping" query parameter or the X-Column-Mapping
// header. mapKey is its canonical form, part of the import's id.
func parseMapping(c *fiber.Ctx, fe content.FieldErrors) (misimport.Mapping, string) {
	raw := c.Query("mapping")
	field := "mapping"
	if raw == "" {
		raw, field = c.Get("X-Column-Mapping"), "X-Column-Mapping"
	}
	if raw == "" {
		return nil, ""
	}
	if len(raw) > 8192 {
		fe.Add(field, "at most 8192 characters")
		return nil, ""
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		fe.Add(field, "must be a JSON object of field name to column header")
		return nil, ""
	}
	out := misimport.Mapping{}
	for k, v := range m {
		if k == "" || len(k) > 64 || len(v) > 200 || strings.ContainsFunc(k+v, unicode.IsControl) {
			fe.Add(field, "field names and headers must be short plain text")
			return nil, ""
		}
		out[misimport.Field(k)] = v
	}
	canon, _ := json.Marshal(m) // map keys marshal sorted
	return out, string(canon)
}

// maxPRRelationships caps pr_allowed_relationships.
const maxPRRelationships = 20

// parseResponsibility reads who counts as having parental responsibility
// beyond the file's PR column: pr_missing, the choice for contact columns
// without one (treat_all_as_parents | priority_one_only), and
// pr_allowed_relationships, relationships the school treats as having PR
// (a JSON array of strings, or a comma-separated list). respKey is their
// canonical form, part of the import's id: a commit with another choice
// is another batch. It is "" when neither is given, so files committed
// before PR was read keep their ids.
func parseResponsibility(c *fiber.Ctx, fe content.FieldErrors) (misimport.Responsibility, string) {
	var r misimport.Responsibility
	r.Missing = misimport.PRMissing(c.Query("pr_missing"))
	if !misimport.ValidPRMissing(r.Missing) {
		fe.Add("pr_missing", "must be treat_all_as_parents or priority_one_only")
		r.Missing = misimport.PRMissingUnset
	}
	raw := strings.TrimSpace(c.Query("pr_allowed_relationships"))
	var list []string
	switch {
	case raw == "":
	case len(raw) > 2048:
		fe.Add("pr_allowed_relationships", "at most 2048 characters")
	case strings.HasPrefix(raw, "["):
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			fe.Add("pr_allowed_relationships", "must be a JSON array of relationships, or a comma-separated list")
			list = nil
		}
	default:
		list = strings.Split(raw, ",")
	}
	for _, rel := range list {
		n := misimport.NormalizeRelationship(rel)
		if n == "" || len(n) > 64 || strings.ContainsFunc(n, unicode.IsControl) {
			fe.Add("pr_allowed_relationships", "each relationship must be short plain text, as the MIS writes it")
			return misimport.Responsibility{}, ""
		}
		if !slices.Contains(r.Relationships, n) {
			r.Relationships = append(r.Relationships, n)
		}
	}
	if len(r.Relationships) > maxPRRelationships {
		fe.Add("pr_allowed_relationships", "at most 20 relationships")
	}
	slices.Sort(r.Relationships)
	if r.Missing == misimport.PRMissingUnset && len(r.Relationships) == 0 {
		return r, ""
	}
	canon, _ := json.Marshal(struct {
		Missing       string   `json:"pr_missing"`
		Relationships []string `json:"pr_allowed_relationships"`
	}{string(r.Missing), r.Relationships})
	return r, ":" + string(canon)
}

// checkResponsibility refuses what the school must decide first: a commit
// of a file with contact columns but no PR column, until pr_missing says
// who of those contacts is a parent; and priority_one_only for contacts
// whose priority the file does not give.
func checkResponsibility(det *misimport.Detection, r misimport.Responsibility, dryRun bool) error {
	if len(det.SlotsWithoutPR()) == 0 {
		return nil
	}
	if r.Missing == misimport.PRMissingPriorityOne && det.PriorityUnknown() {
		return &content.Error{Code: content.CodeUnprocessable,
			Message: "the file gives neither parental responsibility nor a priority for its contacts",
			Fields:  map[string]string{"pr_missing": "priority_one_only needs a Priority column; add it, or choose treat_all_as_parents"}}
	}
	if r.Missing == misimport.PRMissingUnset && !dryRun {
		return &content.Error{Code: content.CodeUnprocessable,
			Message: "the file does not say which contacts have parental responsibility; choose who is invited, then commit again",
			Fields: map[string]string{"pr_missing": "required: the file has no parental responsibility column; " +
				"treat_all_as_parents invites every contact, priority_one_only each pupil's priority-1 contact"}}
	}
	return nil
}

// prWarnings are the file-level warnings about parental responsibility.
func prWarnings(det *misimport.Detection, r misimport.Responsibility) []importWarningDTO {
	slots := det.SlotsWithoutPR()
	if len(slots) == 0 {
		return []importWarningDTO{}
	}
	names := make([]string, 0, len(slots))
	for _, slot := range slots {
		if slot == 0 {
			names = append(names, "the contact columns")
		} else {
			names = append(names, "contact "+strconv.Itoa(slot))
		}
	}
	msg := "the file has no parental responsibility column for " + strings.Join(names, ", ") + "; "
	switch r.Missing {
	case misimport.PRMissingAllParents:
		msg += "as chosen (treat_all_as_parents), every such contact is a parent and is invited"
	case misimport.PRMissingPriorityOne:
		msg += "as chosen (priority_one_only), only each pupil's priority-1 contact is a parent and is invited"
	default:
		msg += "none of those contacts is counted as a parent. Choose pr_missing=treat_all_as_parents or " +
			"priority_one_only (or add the column to the export) before committing"
	}
	return []importWarningDTO{{Code: misimport.CodePRColumnMissing, Message: msg}}
}

// fileName is the client's name for the file, kept for the admin's
// records only when it is short plain text.
func fileName(c *fiber.Ctx) string {
	n := strings.TrimSpace(c.Get("X-File-Name"))
	if len(n) > 200 || strings.ContainsFunc(n, unicode.IsControl) {
		return ""
	}
	return n
}

// planImport parses the file, loads the roster and suppressions and plans
// the change (misimport.PlanRun), and describes it. It writes nothing.
func (s *server) planImport(c *fiber.Ctx, sc *content.School, body []byte, req importRequest) (*misimport.Run, *importResultDTO, error) {
	imp, err := misimport.Parse(bytes.NewReader(body), misimport.Options{Region: sc.Country, DefaultLanguage: sc.Language,
		Phones: s.Phones, Mapping: req.mapping, Responsibility: req.resp})
	if err != nil {
		return nil, nil, importFileError(err)
	}
	run, err := misimport.PlanRun(c.UserContext(), s.Imports, s.HashKey, sc.ID, imp)
	if err != nil {
		return nil, nil, err
	}
	dto, err := s.describeImport(sc, run, req.resp)
	if err != nil {
		return nil, nil, err
	}
	return run, dto, nil
}

// importFileError turns a file misimport could not read into a response:
// a detection it was unsure of is 422 naming the fields to map.
func importFileError(err error) error {
	var de *misimport.DetectionError
	if errors.As(err, &de) {
		fields := map[string]string{}
		for _, f := range de.Unmapped {
			fields["mapping."+string(f)] = "no column found; map it to a header of the file"
		}
		for f, hs := range de.Ambiguous {
			fields["mapping."+string(f)] = "several columns could hold it (" + strings.Join(hs, ", ") + "); map one"
		}
		for f := range de.Unknown {
			fields["mapping."+string(f)] = "the mapping names a header the file does not have"
		}
		return &content.Error{Code: content.CodeUnprocessable,
			Message: "the columns could not all be recognised; send a column mapping", Fields: fields, Err: err}
	}
	var ce *content.Error
	if errors.As(err, &ce) {
		return err
	}
	return content.Wrap(content.CodeInvalid, err, "the file could not be read as a CSV export")
}

// describeImport is the response to an upload: summary, SMS estimate by
// language, detection and the first problems.
func (s *server) describeImport(sc *content.School, run *misimport.Run, resp misimport.Responsibility) (*importResultDTO, error) {
	imp, sum := run.Import, run.Plan.Summary
	d := &importResultDTO{Encoding: imp.Encoding}
	det := imp.Detection
	d.Detection = importDetectionDTO{Confidence: string(det.Confidence), Notes: orEmpty(det.Notes),
		Columns: map[string]string{}, Ignored: orEmpty(det.Ignored)}
	for f, i := range det.Columns {
		d.Detection.Columns[string(f)] = det.Header[i]
	}
	d.Summary = importSummaryDTO{Rows: sum.Rows, Pupils: sum.Pupils, RejectedRows: sum.RejectedRows,
		DuplicateRows: sum.DuplicateRows, NewChildren: sum.NewChildren, ChangedChildren: sum.ChangedChildren,
		UnchangedChildren: sum.UnchangedChildren, Leavers: sum.Leavers, LeaverShare: sum.LeaverShare,
		Households: imp.Households(), Parents: len(imp.Parents), NewParents: sum.NewParents,
		ChangedParents: sum.ChangedParents, UnchangedParents: sum.UnchangedParents, Invites: sum.Invites,
		InvitesBySMS: sum.InvitesBySMS, InvitesByEmail: sum.InvitesByEmail, SuppressedChannels: sum.SuppressedChannels,
		FullySuppressed: sum.FullySuppressed, Unreachable: sum.Unreachable, SMSPricePence: int64(s.SMSPrice),
		ContactsWithoutPR: sum.ContactsWithoutPR, ContactsWithoutPRByReason: map[string]int{}}
	for r, n := range sum.WithoutPR {
		d.Summary.ContactsWithoutPRByReason[r] = n
	}
	d.Warnings = prWarnings(det, resp)
	langs, err := s.inviteEstimates(sc, run)
	if err != nil {
		return nil, err
	}
	d.ByLanguage = []importLanguageDTO{}
	for _, ld := range langs {
		ld.SMSCostPence = s.SMSPrice.Cost(ld.SMSSegments)
		d.Summary.SMSSegments += ld.SMSSegments
		d.Summary.SMSCostPence += ld.SMSCostPence
		d.ByLanguage = append(d.ByLanguage, *ld)
	}
	sort.Slice(d.ByLanguage, func(i, j int) bool { return d.ByLanguage[i].Language < d.ByLanguage[j].Language })
	d.ProblemCounts = map[string]int{}
	for code, n := range sum.Problems {
		d.ProblemCounts[code] = n
	}
	d.Problems, d.ProblemsTruncated = shownProblems(imp, run.Plan)
	return d, nil
}

// inviteEstimates counts the plan's invites by language, with the SMS
// segments they take. The invite SMS is rendered as it will be sent, with
// a placeholder code of the real length, so segments (GSM-7 or UCS-2)
// are exact.
func (s *server) inviteEstimates(sc *content.School, run *misimport.Run) (map[string]*importLanguageDTO, error) {
	code := strings.Repeat("0", content.InviteCodeLength)
	link := s.AppURL + "/join/" + code
	type key struct{ lang, child string }
	segs := map[key]notify.SegmentCount{}
	langs := map[string]*importLanguageDTO{}
	for _, inv := range run.Plan.Invites {
		ld := langs[inv.Language]
		if ld == nil {
			ld = &importLanguageDTO{Language: inv.Language}
			langs[inv.Language] = ld
		}
		ld.Invites++
		if inv.Email {
			ld.Email++
		}
		if !inv.SMS {
			continue
		}
		ld.SMS++
		// The sender names every child at the school, as "A & B".
		names := make([]string, 0, len(inv.Children))
		for _, k := range inv.Children {
			names = append(names, run.Import.Pupils[k].FirstName)
		}
		child := strings.Join(names, " & ")
		k := key{inv.Language, child}
		n, ok := segs[k]
		if !ok {
			r, err := s.Catalog.RenderOrEnglish(notify.TemplateInvite, inv.Language,
				notify.Params{SchoolName: sc.Name, ChildFirstName: child, Code: code, Link: link})
			if err != nil {
				return nil, content.Wrap(content.CodeInternal, err, "internal error")
			}
			n = notify.CountSegments(r.SMSBody)
			segs[k] = n
		}
		ld.SMSSegments += n.Segments
		if n.Encoding == notify.EncodingUCS2 {
			ld.UCS2Messages++
		}
	}
	return langs, nil
}

// shownProblems are the first maxProblemsShown problems of the file and
// the plan, in row order, and whether any were left out.
func shownProblems(imp *misimport.Import, pl *misimport.Plan) ([]importProblemDTO, bool) {
	all := make([]misimport.Problem, 0, min(len(imp.Problems)+len(pl.Problems), maxProblemsShown+1))
	all = append(all, imp.Problems...)
	all = append(all, pl.Problems...)
	slices.SortStableFunc(all, func(a, b misimport.Problem) int { return a.Row - b.Row })
	out := []importProblemDTO{}
	for _, p := range all[:min(len(all), maxProblemsShown)] {
		out = append(out, importProblemDTO{Row: p.Row, Column: p.Column, Code: p.Code,
			Severity: string(p.Severity), Message: p.Message})
	}
	return out, len(all) > maxProblemsShown || imp.ProblemsDropped > 0
}

// commitImport commits the run (misimport's Run.Commit writes the batch,
// its row outcomes and the roster) and fills the answer; the invites go
// out through publishImportInvites.
func (s *server) commitImport(c *fiber.Ctx, run *misimport.Run, dto *importResultDTO, importID, sha string, resp misimport.Responsibility) error {
	staffID := principal(c).ID()
	res, err := run.Commit(c.UserContext(), s.Imports, misimport.Commit{ID: importID, StaffID: staffID,
		FileName: fileName(c), FileSHA256: sha, Responsibility: resp, Clock: s.Clock,
		Log: s.Log.With("request_id", requestID(c)),
		Invite: func(ctx context.Context, ids []string, now time.Time) (string, int, error) {
			return s.publishImportInvites(c, run.SchoolID, staffID, importID, ids, now)
		}})
	if err != nil {
		return err
	}
	dto.ImportID, dto.Status, dto.Resumed = importID, string(content.ImportCommitted), res.Resumed
	dto.InviteBroadcastID, dto.Invited = res.BroadcastID, res.Invited
	return nil
}

// publishImportInvites invites an import's parents with one broadcast,
// its id derived from the import's, and queues the reminders that follow
// it. It answers the broadcast ("" when there was no one to invite) and
// how many were invited.
func (s *server) publishImportInvites(c *fiber.Ctx, schoolID, staffID, importID string, ids []string, now time.Time) (string, int, error) {
	bid, invited, err := s.inviteParents(c, schoolID, staffID, "brd_"+content.KeyedHash(s.HashKey, "invite:"+importID)[:20],
		importID, ids, now)
	if err != nil || bid == "" {
		return bid, invited, err
	}
	for _, day := range tasks.InviteReminderDays {
		t, err := tasks.NewInviteReminder(importID, day, now.Add(time.Duration(day)*24*time.Hour))
		if err != nil {
			return "", 0, err
		}
		if err := tasks.Enqueue(c.UserContext(), s.Tasks, t); err != nil {
			return "", 0, content.Wrap(content.CodeUnavailable, err, "the invite reminders could not be queued; upload the same file again to resume")
		}
	}
	return bid, invited, nil
}

// inviteParents creates one invite broadcast (the worker issues each
// parent's code at send time) and records the invites. broadcastID is
// derived from what asked for it, so a retry finds the same broadcast
// and invites nobody twice. It returns "" when there is no one to invite.
func (s *server) inviteParents(c *fiber.Ctx, schoolID, staffID, broadcastID, importID string, ids []string, now time.Time) (string, int, error) {
	if len(ids) == 0 {
		return "", 0, nil
	}
	ctx := c.UserContext()
	b := &content.Broadcast{ID: broadcastID, SchoolID: schoolID, CreatedBy: staffID, Template: string(notify.TemplateInvite),
		Category: "invites", Params: map[string]string{"link": s.AppURL}, // the sender appends /join/{code}
		Audience: content.Audience{ParentIDs: ids}, State: content.BroadcastExpanding, CreatedAt: now}
	b, created, err := s.publish(ctx, b, func(prev *content.Broadcast) bool { return prev.SchoolID == schoolID },
		"the invites could not be queued; try again")
	if err != nil {
		return "", 0, err
	}
	if !created {
		// A retry: record the invites of the broadcast that exists.
		if ids, err = s.Ledger.AudienceParents(ctx, b); err != nil {
			return "", 0, err
		}
	}
	// A chunk of records at a time: a whole school's would be 50,000
	// records alive at once for no gain.
	invs := make([]*content.FamilyInvite, 0, min(len(ids), importApplyChunk))
	for i, id := range ids {
		invs = append(invs, &content.FamilyInvite{ID: content.InvitationID(schoolID, id), SchoolID: schoolID, ParentID: id,
			ImportID: importID, BroadcastID: b.ID, FirstAt: now, LastAt: now})
		if len(invs) == cap(invs) || i == len(ids)-1 {
			if err := s.Imports.PutFamilyInvites(ctx, invs); err != nil {
				return "", 0, err
			}
			invs = make([]*content.FamilyInvite, 0, cap(invs))
		}
	}
	return b.ID, len(ids), nil
}

// importApplyChunk is how many invite records one PutFamilyInvites call
// carries: a chunk of a commit's writes (misimport.ApplyChunk).
const importApplyChunk = misimport.ApplyChunk

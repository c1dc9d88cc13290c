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
	"github.com/hibiken/asynq"
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
// broadcast.

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

// importRun is one parsed and planned upload.
type importRun struct {
	sc     *content.School
	imp    *misimport.Import
	plan   *misimport.Plan
	snap   *content.RosterSnapshot
	byUPN  map[string]*content.Child // every child of the school with a UPN, removed ones included
	sha    string
	dto    importResultDTO
	parent []string // Import.Parents index → parent id (roster or deterministic)
	resp   misimport.Responsibility
}

func (s *server) importRoster() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		p := principal(c)
		fe := content.FieldErrors{}
		dryRun := true
		switch c.Query("dry_run") {
		case "", "true":
		case "false":
			dryRun = false
		default:
			fe.Add("dry_run", "must be true or false")
		}
		confirmLeavers := false
		switch c.Query("confirm_leavers") {
		case "", "false":
		case "true":
			confirmLeavers = true
		default:
			fe.Add("confirm_leavers", "must be true or false")
		}
		mapping, mapKey := parseMapping(c, fe)
		resp, respKey := parseResponsibility(c, fe)
		if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != "text/csv" {
			fe.Add("Content-Type", "must be text/csv")
		}
		if err := fe.Err(); err != nil {
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
			fe.Add("body", "the CSV file is empty")
			return fe.Err()
		}
		run, err := s.planImport(c, sc, body, mapping, resp)
		if err != nil {
			return err
		}
		if err := checkResponsibility(run.imp.Detection, resp, dryRun); err != nil {
			return err
		}
		// Parsed: the upload (12 MB for a 50,000-row export) is not needed
		// for the plan's writes, and is let go while they run.
		c.Request().SwapBody(nil)
		if dryRun {
			run.dto.Status = string(content.ImportDryRun)
			s.audit(c, p.Kind, p.ID(), "import.dry_run", sc.ID, "school:"+sc.ID)
			return c.JSON(run.dto)
		}
		if run.plan.Summary.LeaverShare > maxLeaverShare && run.plan.Summary.Leavers > 5 && !confirmLeavers {
			return &content.Error{Code: content.CodeConflict,
				Message: "this file would remove many pupils; check it is the whole school's export, then commit with confirm_leavers=true",
				Fields:  map[string]string{"confirm_leavers": "required when more than a fifth of the roster would leave"}}
		}
		importID := "imp_" + content.KeyedHash(s.HashKey, "import:"+sc.ID+":"+run.sha+":"+mapKey+respKey)[:20]
		if err := s.commitImport(c, run, importID, p.ID(), fileName(c)); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "import.commit", sc.ID, "import:"+importID)
		s.Log.Info("import committed", "request_id", requestID(c), "school_id", sc.ID, "import_id", importID,
			"rows", run.dto.Summary.Rows, "invited", run.dto.Invited)
		return c.JSON(run.dto)
	}
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
// the change. It writes nothing.
func (s *server) planImport(c *fiber.Ctx, sc *content.School, body []byte, mapping misimport.Mapping,
	resp misimport.Responsibility) (*importRun, error) {
	ctx := c.UserContext()
	sum := sha256.Sum256(body)
	imp, err := misimport.Parse(bytes.NewReader(body), misimport.Options{Region: sc.Country, DefaultLanguage: sc.Language,
		Phones: s.Phones, Mapping: mapping, Responsibility: resp})
	if err != nil {
		return nil, importFileError(err)
	}
	snap, err := s.Imports.RosterSnapshot(ctx, sc.ID)
	if err != nil {
		return nil, err
	}
	run := &importRun{sc: sc, imp: imp, snap: snap, sha: hex.EncodeToString(sum[:]), resp: resp}
	roster := run.roster()

	hit, err := s.suppressedContacts(ctx, imp.Contacts())
	if err != nil {
		return nil, err
	}
	suppressed := func(channel, normalized string) bool {
		return hit[misimport.ContactRef{Channel: channel, Normalized: normalized}]
	}
	run.plan = misimport.NewPlan(imp, roster, suppressed)
	run.parent = run.parentIDs(s.HashKey)
	if err := s.describeImport(run); err != nil {
		return nil, err
	}
	return run, nil
}

// suppressionLookupBatch is how many contacts' keys exist at once while
// the file's contacts are checked against the suppression list.
const suppressionLookupBatch = 5000

// suppressedContacts returns the contacts among refs that are on the
// suppression list (usually none). Keys are made and looked up a batch at
// a time: all 100,000 of a large file's keys at once (64-byte hex each)
// would sit on top of the parsed file at the plan's memory peak.
func (s *server) suppressedContacts(ctx context.Context, refs []misimport.ContactRef) (map[misimport.ContactRef]bool, error) {
	hits := map[misimport.ContactRef]bool{}
	keys := make([]string, 0, min(len(refs), suppressionLookupBatch))
	for start := 0; start < len(refs); start += suppressionLookupBatch {
		batch := refs[start:min(start+suppressionLookupBatch, len(refs))]
		keys = keys[:0]
		for _, r := range batch {
			keys = append(keys, content.SuppressionKey(s.HashKey, r.Channel, r.Normalized))
		}
		hit, err := s.Imports.SuppressedKeys(ctx, keys)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			if hit[k] {
				hits[batch[i]] = true
			}
		}
	}
	return hits, nil
}

// parentIDs maps each parent of the file to its id: the roster parent it
// matched, or a deterministic one from the school and household key.
func (run *importRun) parentIDs(hashKey []byte) []string {
	ids := make([]string, len(run.imp.Parents))
	for _, pp := range run.plan.Parents {
		id := pp.RosterKey
		if id == "" {
			id = "par_" + content.KeyedHash(hashKey, "household:"+run.sc.ID+":"+run.imp.Parents[pp.Parent].Key)[:20]
		}
		ids[pp.Parent] = id
	}
	return ids
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

// roster turns the snapshot into misimport's view, keyed by parent id.
func (run *importRun) roster() misimport.Roster {
	r := misimport.Roster{Children: map[string]misimport.CurrentChild{}, Parents: map[string]misimport.CurrentParent{}}
	className := map[string]string{}
	for _, cl := range run.snap.Classes {
		className[cl.ID] = cl.Name
	}
	run.byUPN = map[string]*content.Child{}
	for _, k := range run.snap.Children {
		if k.UPN == "" {
			continue
		}
		if prev, ok := run.byUPN[k.UPN]; ok && prev.SchoolLink.State == content.LinkLinked {
			continue // a live child wins over a removed one with the same UPN
		}
		run.byUPN[k.UPN] = k
		if k.SchoolLink.State != content.LinkLinked {
			continue
		}
		cc := misimport.CurrentChild{FirstName: k.FirstName, LastName: k.LastName, YearGroup: k.YearGroup,
			PupilPremium: k.PupilPremium}
		if len(k.ClassIDs) > 0 {
			cc.RegGroup = className[k.ClassIDs[0]]
		}
		for _, l := range k.Parents {
			if l.State == content.LinkLinked {
				cc.ParentKeys = append(cc.ParentKeys, l.ParentID)
			}
		}
		r.Children[k.UPN] = cc
	}
	for _, p := range run.snap.Parents {
		if p.State == content.ParentErased {
			continue
		}
		r.Parents[p.ID] = misimport.CurrentParent{FirstName: p.FirstName, LastName: p.LastName, Mobile: p.Phone,
			Email: p.Email, Language: p.Language,
			Invited: run.snap.Invited[p.ID] || p.State != content.ParentInvited}
	}
	return r
}

// describeImport fills the response: summary, SMS estimate by language,
// detection and the first problems.
func (s *server) describeImport(run *importRun) error {
	imp, pl, sum := run.imp, run.plan, run.plan.Summary
	d := &run.dto
	d.Encoding = imp.Encoding
	det := imp.Detection
	d.Detection = importDetectionDTO{Confidence: string(det.Confidence), Notes: orEmpty(det.Notes),
		Columns: map[string]string{}, Ignored: orEmpty(det.Ignored)}
	for f, i := range det.Columns {
		d.Detection.Columns[string(f)] = det.Header[i]
	}
	d.Summary = importSummaryDTO{Rows: sum.Rows, Pupils: sum.Pupils, RejectedRows: sum.RejectedRows,
		DuplicateRows: sum.DuplicateRows, NewChildren: sum.NewChildren, ChangedChildren: sum.ChangedChildren,
		UnchangedChildren: sum.UnchangedChildren, Leavers: sum.Leavers, LeaverShare: sum.LeaverShare,
		Households: households(imp), Parents: len(imp.Parents), NewParents: sum.NewParents,
		ChangedParents: sum.ChangedParents, UnchangedParents: sum.UnchangedParents, Invites: sum.Invites,
		InvitesBySMS: sum.InvitesBySMS, InvitesByEmail: sum.InvitesByEmail, SuppressedChannels: sum.SuppressedChannels,
		FullySuppressed: sum.FullySuppressed, Unreachable: sum.Unreachable, SMSPricePence: int64(s.SMSPrice),
		ContactsWithoutPR: sum.ContactsWithoutPR, ContactsWithoutPRByReason: map[string]int{}}
	for r, n := range sum.WithoutPR {
		d.Summary.ContactsWithoutPRByReason[r] = n
	}
	d.Warnings = prWarnings(det, run.resp)

	// The invite SMS is rendered as it will be sent, with a placeholder
	// code of the real length, so segments (GSM-7 or UCS-2) are exact.
	code := strings.Repeat("0", content.InviteCodeLength)
	link := s.AppURL + "/join/" + code
	type key struct{ lang, child string }
	segs := map[key]notify.SegmentCount{}
	langs := map[string]*importLanguageDTO{}
	for _, inv := range pl.Invites {
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
			names = append(names, imp.Pupils[k].FirstName)
		}
		child := strings.Join(names, " & ")
		k := key{inv.Language, child}
		sc, ok := segs[k]
		if !ok {
			r, err := s.Catalog.RenderOrEnglish(notify.TemplateInvite, inv.Language,
				notify.Params{SchoolName: run.sc.Name, ChildFirstName: child, Code: code, Link: link})
			if err != nil {
				return content.Wrap(content.CodeInternal, err, "internal error")
			}
			sc = notify.CountSegments(r.SMSBody)
			segs[k] = sc
		}
		ld.SMSSegments += sc.Segments
		if sc.Encoding == notify.EncodingUCS2 {
			ld.UCS2Messages++
		}
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
	all := make([]misimport.Problem, 0, min(len(imp.Problems)+len(pl.Problems), maxProblemsShown+1))
	all = append(all, imp.Problems...)
	all = append(all, pl.Problems...)
	slices.SortStableFunc(all, func(a, b misimport.Problem) int { return a.Row - b.Row })
	d.ProblemsTruncated = len(all) > maxProblemsShown || imp.ProblemsDropped > 0
	d.Problems = []importProblemDTO{}
	for _, p := range all[:min(len(all), maxProblemsShown)] {
		d.Problems = append(d.Problems, importProblemDTO{Row: p.Row, Column: p.Column, Code: p.Code,
			Severity: string(p.Severity), Message: p.Message})
	}
	return nil
}

// households counts families: pupils joined by a shared contact are one.
func households(imp *misimport.Import) int {
	up := make([]int, len(imp.Pupils))
	for i := range up {
		up[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for up[i] != i {
			up[i] = up[up[i]]
			i = up[i]
		}
		return i
	}
	for _, p := range imp.Parents {
		for _, k := range p.Children[min(1, len(p.Children)):] {
			a, b := find(p.Children[0]), find(k)
			if a != b {
				up[a] = b
			}
		}
	}
	n := 0
	for i := range up {
		if find(i) == i {
			n++
		}
	}
	return n
}

// commitImport applies the plan. The batch is recorded as committing
// first; every write is idempotent and ids are derived from the school
// and UPN or household key, so running the same upload again after a
// failure resumes it, and after success changes nothing.
func (s *server) commitImport(c *fiber.Ctx, run *importRun, importID, staffID, name string) error {
	ctx := c.UserContext()
	now := s.Clock.Now()
	prev, err := s.Imports.Import(ctx, importID)
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	batch := &content.ImportBatch{ID: importID, SchoolID: run.sc.ID, CreatedBy: staffID, FileName: name,
		FileSHA256: run.sha, Status: content.ImportCommitting, Counts: summaryCounts(run.dto.Summary),
		PRMissing: string(run.resp.Missing), PRRelationships: run.resp.Relationships, CreatedAt: now, UpdatedAt: now}
	if prev != nil {
		if prev.SchoolID != run.sc.ID {
			return content.Errorf(content.CodeConflict, "this import already exists")
		}
		// The first attempt's plan is the batch's record; a resumed run
		// sees part of it applied already.
		batch.Counts, batch.CreatedAt, batch.CreatedBy, batch.RowChunks = prev.Counts, prev.CreatedAt, prev.CreatedBy, prev.RowChunks
		run.dto.Resumed = prev.Status != content.ImportCommitted
	}
	if err := s.Imports.PutImport(ctx, batch); err != nil {
		return err
	}
	fail := func(err error) error {
		batch.Status, batch.ErrorCode, batch.UpdatedAt = content.ImportFailed, string(content.ErrorCode(err)), s.Clock.Now()
		if perr := s.Imports.PutImport(ctx, batch); perr != nil {
			s.Log.Error("record failed import", "request_id", requestID(c), "import_id", importID, "err", perr)
		}
		return err
	}
	if batch.RowChunks == 0 {
		n, err := s.Imports.PutImportRows(ctx, importID, run.outcomes(s.HashKey))
		if err != nil {
			return fail(err)
		}
		batch.RowChunks = n
	}
	ids := run.invitees(s.HashKey)
	err = run.apply(s.HashKey, now, importApplyChunk, func(w *content.ImportWrites) error { return s.Imports.ApplyImport(ctx, w) })
	if err != nil {
		return fail(err)
	}
	// The parsed file and the roster copy are not needed past here.
	run.imp, run.plan, run.snap, run.byUPN = nil, nil, nil, nil
	bid, invited, err := s.inviteParents(c, run.sc.ID, staffID, "brd_"+content.KeyedHash(s.HashKey, "invite:"+importID)[:20],
		importID, ids, now)
	if err != nil {
		return fail(err)
	}
	if bid != "" {
		for _, day := range tasks.InviteReminderDays {
			t, err := tasks.NewInviteReminder(importID, day, now.Add(time.Duration(day)*24*time.Hour))
			if err != nil {
				return fail(err)
			}
			if _, err := s.Tasks.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return fail(content.Wrap(content.CodeUnavailable, err, "the invite reminders could not be queued; upload the same file again to resume"))
			}
		}
		batch.InviteBroadcastID = bid
	} else if prev != nil {
		batch.InviteBroadcastID = prev.InviteBroadcastID
	}
	batch.Invited = invited
	if prev != nil && prev.Invited > invited {
		batch.Invited = prev.Invited
	}
	batch.Status, batch.ErrorCode, batch.UpdatedAt = content.ImportCommitted, "", s.Clock.Now()
	if err := s.Imports.PutImport(ctx, batch); err != nil {
		return err
	}
	run.dto.ImportID, run.dto.Status = importID, string(content.ImportCommitted)
	run.dto.InviteBroadcastID, run.dto.Invited = bid, invited
	return nil
}

func summaryCounts(s importSummaryDTO) map[string]int {
	return map[string]int{"rows": s.Rows, "pupils": s.Pupils, "rejected_rows": s.RejectedRows,
		"duplicate_rows": s.DuplicateRows, "new_children": s.NewChildren, "changed_children": s.ChangedChildren,
		"unchanged_children": s.UnchangedChildren, "leavers": s.Leavers, "new_parents": s.NewParents,
		"changed_parents": s.ChangedParents, "unchanged_parents": s.UnchangedParents, "invites": s.Invites,
		"invites_by_sms": s.InvitesBySMS, "invites_by_email": s.InvitesByEmail, "households": s.Households,
		"contacts_without_pr": s.ContactsWithoutPR}
}

// invitees are the parents the plan invites, by id, minus any already
// invited or no longer waiting to join (the plan knows the roster's; this
// covers a resumed run whose first attempt created them).
func (run *importRun) invitees(hashKey []byte) []string {
	state := map[string]content.ParentState{}
	for _, p := range run.snap.Parents {
		state[p.ID] = p.State
	}
	seen := map[string]bool{}
	var ids []string
	for _, inv := range run.plan.Invites {
		id := run.parent[inv.Parent]
		if seen[id] || run.snap.Invited[id] || run.severedFromAll(hashKey, inv, id) {
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
	if err := s.Ledger.CreateBroadcast(ctx, b); content.IsCode(err, content.CodeConflict) {
		prev, err := s.Ledger.Broadcast(ctx, broadcastID)
		if err != nil {
			return "", 0, err
		}
		if prev.SchoolID != schoolID {
			return "", 0, content.Errorf(content.CodeConflict, "this broadcast already exists")
		}
		// A retry: record the invites of the broadcast that exists.
		if ids, err = s.Ledger.AudienceParents(ctx, prev); err != nil {
			return "", 0, err
		}
		b = prev
	} else if err != nil {
		return "", 0, err
	}
	task, err := tasks.NewExpandBroadcast(b.ID)
	if err != nil {
		return "", 0, err
	}
	if _, err := s.Tasks.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return "", 0, content.Wrap(content.CodeUnavailable, err, "the invites could not be queued; try again")
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

// importApplyChunk is how many children or parents one ApplyImport call
// carries: one bulk call's worth. The commit streams its writes a chunk
// at a time, so a 50,000-pupil file never has all its children and
// parents built as documents at once on top of the parsed file and plan.
const importApplyChunk = 1000

// childID is the deterministic id of a new child: a retried or
// re-uploaded file lands on the same document.
func childID(hashKey []byte, schoolID, upn string) string {
	return "chd_" + content.KeyedHash(hashKey, "upn:"+schoolID+":"+upn)[:20]
}

// outcomes are the per-row outcomes of the plan, in row order: the
// accepted pupils' (created, updated, unchanged), then rows without an
// accepted pupil (rejected or skipped duplicates).
func (run *importRun) outcomes(hashKey []byte) []content.ImportRowOutcome {
	imp := run.imp
	outcomes := make([]content.ImportRowOutcome, 0, imp.Rows)
	for _, cp := range run.plan.Children {
		p := imp.Pupils[cp.Pupil]
		out := content.ImportRowOutcome{Row: p.Row}
		cur := run.byUPN[p.UPN]
		relinked := cur != nil && cur.SchoolLink.State != content.LinkLinked
		switch {
		case cp.Change == misimport.ChangeUnchanged && !relinked:
			out.Outcome, out.ChildID = "unchanged", cur.ID
		case cur == nil:
			out.Outcome, out.ChildID = "created", childID(hashKey, run.sc.ID, p.UPN)
		default:
			out.Outcome, out.ChildID = "updated", cur.ID
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
		o := content.ImportRowOutcome{Row: row, Outcome: "rejected", Problems: codes[row]}
		if slices.Contains(o.Problems, misimport.CodeDuplicateRow) {
			o.Outcome = "duplicate"
		}
		outcomes = append(outcomes, o)
	}
	slices.SortStableFunc(outcomes, func(a, b content.ImportRowOutcome) int { return a.Row - b.Row })
	return outcomes
}

// apply turns the plan into bulk writes and hands them to put at most
// chunk children or parents at a time: every child first (with the
// classes its reg group needs, then leavers), then every parent, so a
// commit that stops part-way and runs again converges on the same
// documents (children are the source of truth of every link). Children
// are written whole from the roster copy plus the file; parents' copies
// of their links are rebuilt from the children, as syncParentLink does.
// Of a written child only its links are kept past its chunk.
func (run *importRun) apply(hashKey []byte, now time.Time, chunk int, put func(*content.ImportWrites) error) error {
	imp, sc := run.imp, run.sc
	w := &content.ImportWrites{}
	flush := func(force bool) error {
		n := len(w.NewChildren) + len(w.Children) + len(w.NewParents) + len(w.ParentUpdates)
		if n < chunk && !(force && n+len(w.NewClasses) > 0) {
			return nil
		}
		err := put(w)
		w = &content.ImportWrites{}
		return err
	}
	// Reg groups become classes, matched by name.
	classOf := map[string]string{}
	for _, cl := range run.snap.Classes {
		if _, ok := classOf[strings.ToLower(cl.Name)]; !ok {
			classOf[strings.ToLower(cl.Name)] = cl.ID
		}
	}
	classFor := func(p misimport.Pupil) []string {
		if p.RegGroup == "" {
			return []string{}
		}
		k := strings.ToLower(p.RegGroup)
		id, ok := classOf[k]
		if !ok {
			id = "cls_" + content.KeyedHash(hashKey, "class:"+sc.ID+":"+k)[:20]
			classOf[k] = id
			w.NewClasses = append(w.NewClasses, &content.Class{ID: id, SchoolID: sc.ID, Name: p.RegGroup,
				YearGroup: p.YearGroup, TeacherIDs: []string{}, CreatedAt: now})
		}
		return []string{id}
	}

	// links holds, by parent id, this school's links as the written
	// children will stand; written, the roster's children among them (a
	// new child is not on the roster).
	written := map[string]bool{}
	links := map[string][]content.ChildLink{}
	wrote := func(k *content.Child, onRoster bool) {
		if onRoster {
			written[k.ID] = true
		}
		for _, l := range k.Parents {
			links[l.ParentID] = append(links[l.ParentID], childLink(sc.ID, k, l))
		}
	}
	for _, cp := range run.plan.Children {
		p := imp.Pupils[cp.Pupil]
		cur := run.byUPN[p.UPN]
		relinked := cur != nil && cur.SchoolLink.State != content.LinkLinked
		switch {
		case cp.Change == misimport.ChangeUnchanged && !relinked:
			continue
		case cur == nil:
			k := &content.Child{ID: childID(hashKey, sc.ID, p.UPN), SchoolID: sc.ID,
				FirstName: p.FirstName, LastName: p.LastName, UPN: p.UPN, YearGroup: p.YearGroup, ClassIDs: classFor(p),
				PupilPremium: p.PupilPremium, SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}
			for _, l := range p.Links {
				_ = k.LinkParent(run.parent[l.Parent], nil, l.Relationship, now) // a new child has no severances
			}
			w.NewChildren = append(w.NewChildren, k)
			wrote(k, false)
		default:
			k := *cur
			k.Parents = slices.Clone(cur.Parents)
			if relinked {
				// A returning pupil: re-linking resets the retention clock.
				k.SchoolLink = content.SchoolLink{State: content.LinkLinked}
			}
			regChanged := relinked || slices.Contains(cp.Fields, misimport.FieldNameRegGroup)
			k.FirstName, k.LastName, k.YearGroup, k.PupilPremium = p.FirstName, p.LastName, p.YearGroup, p.PupilPremium
			if regChanged {
				k.ClassIDs = classFor(p)
			}
			// Links the file adds; links it no longer lists are kept (a
			// parent the school added by hand, or one the MIS dropped,
			// keeps access until an admin unlinks them).
			for _, l := range p.Links {
				// A parent the school severed from the child (by id, or by
				// the file's contact for them) is not linked again.
				if err := k.LinkParent(run.parent[l.Parent], run.severanceKeys(hashKey, &k, l.Parent), l.Relationship, now); err != nil && !errors.Is(err, content.ErrSevered) {
					return err
				}
			}
			w.Children = append(w.Children, &k)
			wrote(&k, true)
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	for _, upn := range run.plan.Leavers {
		cur := run.byUPN[upn]
		if cur == nil || cur.SchoolLink.State != content.LinkLinked {
			continue
		}
		k := *cur
		k.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: now}
		w.Children = append(w.Children, &k)
		wrote(&k, true)
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	// The pupils are written: from here on only parents are read.
	run.imp.ReleasePupils()
	run.plan.Children = nil

	// Every parent linked to a written child, or whose contacts the file
	// changes, gets its copy rebuilt from the school's children as they
	// will stand.
	//
	// The contacts to apply are copied out, sorted by parent id, so the
	// file's parents and the plan (a whole struct per parent, most of it
	// for planning) go before the parents' writes.
	n := 0
	for _, pp := range run.plan.Parents {
		if pp.Change == misimport.ChangeNew || pp.Change == misimport.ChangeChanged {
			n++
		}
	}
	contacts := make([]contactWrite, 0, n)
	for _, pp := range run.plan.Parents {
		if pp.Change == misimport.ChangeNew || pp.Change == misimport.ChangeChanged {
			ip := &imp.Parents[pp.Parent]
			contacts = append(contacts, contactWrite{id: run.parent[pp.Parent], firstName: ip.FirstName,
				lastName: ip.LastName, mobile: ip.Mobile, email: ip.Email, language: ip.Language})
		}
	}
	slices.SortFunc(contacts, func(a, b contactWrite) int { return strings.Compare(a.id, b.id) })
	run.plan, imp.Parents = nil, nil
	contactOf := func(id string) (*contactWrite, bool) {
		i, ok := slices.BinarySearchFunc(contacts, id, func(c contactWrite, id string) int { return strings.Compare(c.id, id) })
		if !ok {
			return nil, false
		}
		return &contacts[i], true
	}
	affected := func(id string) bool {
		_, linked := links[id]
		_, changed := contactOf(id)
		return linked || changed
	}
	for _, k := range run.snap.Children {
		if written[k.ID] {
			continue
		}
		for _, l := range k.Parents {
			if affected(l.ParentID) {
				links[l.ParentID] = append(links[l.ParentID], childLink(sc.ID, k, l))
			}
		}
	}
	written = nil
	existing := map[string]*content.Parent{}
	for _, p := range run.snap.Parents {
		existing[p.ID] = p
	}
	ids := make([]string, 0, len(links)+len(contacts))
	for id := range links {
		ids = append(ids, id)
	}
	for _, c := range contacts {
		if _, ok := links[c.id]; !ok {
			ids = append(ids, c.id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out := []content.ChildLink{}
		cur := existing[id]
		if cur != nil {
			for _, cl := range cur.Children {
				if cl.SchoolID != sc.ID {
					out = append(out, cl)
				}
			}
		}
		kids := links[id]
		delete(links, id) // built once; let it go with its chunk
		slices.SortStableFunc(kids, func(a, b content.ChildLink) int { return strings.Compare(a.ChildID, b.ChildID) })
		for i, l := range kids {
			if i > 0 && kids[i-1] == l {
				continue // the same child reached twice
			}
			out = append(out, l)
		}
		ip, hasContact := contactOf(id)
		switch {
		case cur == nil && !hasContact:
			continue // linked by a child but not in this file nor the roster: nothing to copy to
		case cur == nil && len(out) == 0:
			continue // every child the file links them to was severed from them
		case cur == nil:
			w.NewParents = append(w.NewParents, &content.Parent{ID: id, FirstName: ip.firstName, LastName: ip.lastName,
				Phone: ip.mobile, Email: ip.email, Language: ip.language, State: content.ParentInvited,
				Sessions: []string{}, Children: out, CreatedAt: now})
		default:
			u := content.ParentUpdate{ID: id, Children: out}
			// Contacts of a parent who has joined are theirs to change.
			if hasContact && cur.State == content.ParentInvited {
				u.SetContact, u.FirstName, u.LastName, u.Phone, u.Email, u.Language = true, ip.firstName, ip.lastName, ip.mobile, ip.email, ip.language
			}
			w.ParentUpdates = append(w.ParentUpdates, u)
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	return flush(true)
}

// contactWrite is a parent's contact as the file gives it, to write.
type contactWrite struct {
	id                                           string
	firstName, lastName, mobile, email, language string
}

// childLink is a parent's copy of its link to child k at school
// schoolID (content.ChildLinkOf: left when the school has removed the child).
func childLink(schoolID string, k *content.Child, l content.ParentLink) content.ChildLink {
	cl := content.ChildLinkOf(k, l)
	cl.SchoolID = schoolID
	return cl
}

// severanceKeys are the keys a severance on k would hold for the file's
// parent i (none when k has no severances, which is almost always).
func (run *importRun) severanceKeys(hashKey []byte, k *content.Child, i int) []string {
	if len(k.Severed) == 0 {
		return nil
	}
	ip := &run.imp.Parents[i]
	return content.SeveranceKeys(hashKey, ip.Mobile, ip.Email)
}

// severedFromAll reports whether every pupil the plan invites the file's
// parent i for has severed them: such a parent is not invited.
func (run *importRun) severedFromAll(hashKey []byte, inv misimport.Invite, id string) bool {
	if len(inv.Children) == 0 {
		return false
	}
	for _, pi := range inv.Children {
		k := run.byUPN[run.imp.Pupils[pi].UPN]
		if k == nil || !k.SeveredFrom(id, run.severanceKeys(hashKey, k, inv.Parent)) {
			return false
		}
	}
	return true
}

type resendInvitesDTO struct {
	BroadcastID string `json:"broadcast_id,omitempty"`
	Invited     int    `json:"invited"`
}

// resendInvites invites every parent linked at the school who has not
// joined: one invite broadcast, each parent getting a fresh code at send
// time (which kills their old one). With an Idempotency-Key a repeat
// answers the first result and invites nobody again.
func (s *server) resendInvites() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(c.Request().Body())) > 0 {
			var empty struct{}
			if err := decodeJSON(c, &empty); err != nil {
				return err
			}
		}
		return s.idempotent(c, sc.ID, func() string { return content.NewID("brd") }, func(broadcastID string) error {
			ctx := c.UserContext()
			var ids []string
			err := s.Roster.EachParentOfSchool(ctx, sc.ID, func(pc content.ParentContact) error {
				if pc.State == content.ParentInvited && (pc.Phone != "" || pc.Email != "") {
					ids = append(ids, pc.ID)
				}
				return nil
			})
			if err != nil {
				return err
			}
			slices.Sort(ids)
			p := principal(c)
			bid, n, err := s.inviteParents(c, sc.ID, p.ID(), broadcastID, "", ids, s.Clock.Now())
			if err != nil {
				return err
			}
			if bid != "" {
				s.audit(c, p.Kind, p.ID(), "invite.resend", sc.ID, "broadcast:"+bid)
			}
			s.Log.Info("invites resent", "request_id", requestID(c), "school_id", sc.ID, "broadcast_id", bid, "invited", n)
			return c.Status(fiber.StatusAccepted).JSON(resendInvitesDTO{BroadcastID: bid, Invited: n})
		})
	}
}

package misimport

import "fmt"

// Severity says what a problem did to the import.
type Severity string

const (
	// SeverityError: the row (pupil) was not imported, or the cell's value
	// was dropped.
	SeverityError Severity = "error"
	// SeverityWarning: imported, but the school should look.
	SeverityWarning Severity = "warning"
)

// Problem codes: machine-readable, stable, and what the UI translates.
const (
	CodeBadEncoding      = "bad_encoding"      // invalid UTF-8 in a UTF-8 file, read as Windows-1252
	CodeFieldTooLong     = "field_too_long"    // cell longer than the field limit; value dropped
	CodeFormulaCell      = "formula_cell"      // cell looks like a spreadsheet formula; value dropped
	CodeMissingUPN       = "missing_upn"       // no UPN: the pupil cannot be matched to the roster
	CodeBadUPN           = "bad_upn"           // not the shape of a UPN
	CodeUPNCheckLetter   = "upn_check_letter"  // UPN's check letter does not match its digits
	CodeMissingName      = "missing_name"      // pupil (error) or contact (warning) has no name
	CodeBadYearGroup     = "bad_year_group"    // not a year group Hometime serves
	CodeBadBoolean       = "bad_boolean"       // not Y/N, Yes/No, True/False or 1/0; read as no
	CodeBadPriority      = "bad_priority"      // contact priority is not a small whole number
	CodeDuplicateRow     = "duplicate_row"     // exact copy of an earlier row with the same UPN; skipped
	CodeDuplicateUPN     = "duplicate_upn"     // same UPN as an earlier row with different details; skipped
	CodeInvalidPhone     = "invalid_phone"     // not a phone number for the school's country
	CodeLandline         = "landline"          // a valid number that cannot take texts
	CodeInvalidEmail     = "invalid_email"     // not a usable email address
	CodeUnreachable      = "unreachable"       // contact with neither a mobile nor an email: not invited
	CodeUnknownLanguage  = "unknown_language"  // language not offered; the school's default is used
	CodeContactConflict  = "contact_conflict"  // same person on several rows with different details; first row wins
	CodeDuplicateContact = "duplicate_contact" // the same person twice on one row
	CodeSuppressed       = "suppressed"        // contact asked not to be messaged on this channel
	// A contact left out for want of parental responsibility: never
	// linked, never invited (see Responsibility).
	CodeNoParentalResponsibility = "no_parental_responsibility" // the PR cell does not say yes
	CodeNotPriorityOne           = "not_priority_one"           // no PR column, and the school chose priority-1 contacts only
	// CodePRColumnMissing is file-level, not a row's: contact slots with
	// no PR column and no choice made for them.
	CodePRColumnMissing = "pr_column_missing"
)

// Problem is one thing wrong with one cell. Row is the spreadsheet row the
// school sees when it opens the file (the header is row 1; a quoted cell
// spanning several lines still counts as one row); Line is the physical
// line where the record starts, for those who open it in a text editor.
// Column is the header text of the cell as it appears in the file.
// Message is for the school's admin and quotes nothing from the cell: the
// admin has the file, the logs must not.
type Problem struct {
	Row      int
	Line     int
	Column   string
	Code     string
	Severity Severity
	Message  string
}

func (p Problem) String() string {
	return fmt.Sprintf("row %d, %s: %s (%s)", p.Row, p.Column, p.Message, p.Code)
}

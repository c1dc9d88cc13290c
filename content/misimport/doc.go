// Package misimport is the core of the bulk roster import: it reads a
// pupil-and-contacts CSV exported from a UK MIS (SIMS, Arbor, Bromcom),
// works out which column is which, validates every row, folds contacts
// shared by siblings into one parent per household, plans the change
// against the school's current roster, and commits that plan.
//
// Parse and NewPlan are pure: they write nothing. PlanRun and Run.Commit
// go through a Store (content.Imports satisfies it): PlanRun reads the
// school's roster and looks the file's contacts up on the suppression
// list; Commit records the batch, stores its per-row outcomes, writes the
// children, classes and parents a chunk (ApplyChunk) at a time, and hands
// the parents to invite to the caller's Invite, which publishes the invite
// broadcast. Both run in the API process, inside the upload's request
// (POST /v1/schools/{id}/imports; the commit when dry_run=false): the
// response comes once every write is done. The worker only sends the
// invites and their reminders. The caller supplies the phone-number
// library (behind Phones).
//
// Memory follows the roster, not the file: rows are read one at a time,
// each record and cell has a size limit, kept strings are copied out of
// the CSV record, and only accepted pupils, their deduplicated parents and
// (up to a cap) the problems are kept.
//
// Decisions a reader would otherwise have to reverse-engineer:
//
//   - Rows. Problem.Row is the row the school sees in Excel: the header is
//     row 1, a cell with line breaks is still one row, and blank lines
//     count (Excel shows them). Problem.Line is the physical line.
//   - Encoding. The first 64 KiB decide: valid UTF-8 (BOM or not) is
//     UTF-8, anything else Windows-1252. A UTF-8 file with a stray invalid
//     byte later on (two exports pasted together) has that byte read as
//     Windows-1252 and the cell flagged bad_encoding. UTF-16 is refused
//     with a message saying how to save the file.
//   - Formula cells are refused, not stripped: a MIS never exports a
//     formula, so one means the file was edited; stripping "=" would turn
//     it into text we would then put in a greeting. The cell's value is
//     dropped with a formula_cell error (the pupil is rejected when the
//     cell was required). Phone numbers starting "+" and the "-" that
//     exports use for "none" are data, not formulas. Escaping cells on the
//     way out (the funnel export) is a separate job for that exporter.
//   - Detection confidence. High: every required field (UPN, a forename,
//     surname, year group, and a mobile or email for at least one contact)
//     matched one header, no choices made. Medium: detection chose between
//     synonyms ("Contact 1 Mobile" over "Contact 1 Telephone", "Reg Group"
//     over "Class") or a contact slot lacks a channel or name column; the
//     caller should show the mapping. Low: a required field is missing or
//     two headers claim it equally; Detect returns a DetectionError
//     listing them, and the caller asks the school for a Mapping.
//   - Households. A contact's key is its E.164 mobile, else its lower-cased
//     email (ContactKey): couples often share a family email, rarely a
//     mobile. An email-only contact whose email belongs to exactly one
//     contact with a mobile is that person. The first row wins where rows
//     disagree (contact_conflict), blanks are filled from later rows.
//   - Duplicates. A second row with the same UPN is skipped: as
//     duplicate_row (warning) when its mapped cells are identical, as
//     duplicate_upn (error) when they differ. Rows with errors still mark
//     their UPN as seen, so a typo never turns a pupil into a leaver.
//   - Parental responsibility. Only a contact whose PR cell says yes (or
//     whose relationship the school lists) is a parent; the others are
//     counted in Import.WithoutPR, noted on their row, and their other
//     cells are not read. Slots with no PR column follow
//     Options.Responsibility.Missing: unset, none of their contacts is a
//     parent (see responsibility.go).
//   - Languages are the codes Hometime has templates for (en, cy, pl, ur,
//     es, ro, ar); anything else is the school's default with an
//     unknown_language warning.
package misimport

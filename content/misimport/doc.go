// Package misimport is the pure core of the bulk roster import: it reads a
// pupil-and-contacts CSV exported from a UK MIS (SIMS, Arbor, Bromcom),
// works out which column is which, validates every row, folds contacts
// shared by siblings into one parent per household, and plans the change
// against the school's current roster.
//
// It writes nothing anywhere. The API's dry run and the worker's commit
// both call it; they own the stores, the phone-number library (behind
// Phones) and the suppression list (behind Suppressed).
//
// Memory is bounded by the roster, not by the file: rows are read one at a
// time, each record and field has a size limit, and only the accepted
// pupils, their deduplicated parents and (up to a cap) the problems are
// kept.
package misimport

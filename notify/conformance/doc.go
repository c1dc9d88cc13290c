// Package conformance holds one test that runs every provider adapter
// (notify/twilio, notify/sendgrid, notify/fcm) — the real SDK clients
// against the local fakes in notify/providerfake — through the same cases:
// what each must do alike whatever its provider, so a new adapter is
// added to one table rather than given its own copy of the tests.
package conformance

// Package providerfake runs local httptest servers that speak the wire
// formats of Twilio (SMS), SendGrid (email) and FCM (push), so tests can
// drive the real provider SDKs end to end without the internet.
//
// Every fake records each call it receives (safe for concurrent use), can be
// told to fail in the ways the real providers fail (429, 5xx, hanging past
// the client's timeout — optionally after accepting the message, which is
// what makes a send ambiguous), enforces an optional messages-per-second cap
// and can produce signed delivery callbacks for webhook tests.
//
// Fakes are test support: they take a testing.TB and shut down at cleanup.
package providerfake

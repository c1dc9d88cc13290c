package content

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// Password reset by text message: a parent who signed up with a mobile
// number gets a short numeric code. The worker mints it and stores only a
// keyed hash; the API counts every guess on the code's document and spends
// the code once.
const (
	ResetCodeDigits      = 8
	ResetCodeTTL         = 15 * time.Minute
	ResetCodeMaxAttempts = 5 // guesses per code; the throttles bound guesses per number and address on top
)

// PurposeResetSMS is the ResetRequest purpose of a reset code by text.
const PurposeResetSMS = "reset_sms"

// ResetCode is the one live SMS reset code of an account. A new request
// replaces it, so only the latest code works.
type ResetCode struct {
	Kind      AccountKind
	AccountID string
	Hash      string // ResetCodeHash of the code
	ExpiresAt time.Time
	Attempts  int // guesses counted so far, the right one included
}

// NewResetCode returns ResetCodeDigits random decimal digits.
func NewResetCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%0*d", ResetCodeDigits, n.Int64())
}

// ResetCodeHash is the stored form of a code: keyed, and bound to the
// account, so the same digits on two accounts hash apart.
func ResetCodeHash(key []byte, kind AccountKind, accountID, code string) string {
	return KeyedHash(key, "reset-code:"+string(kind)+":"+accountID+":"+code)
}

// StaffInvitation asks an existing staff account to join a school. It is
// keyed by the school and a keyed hash of the email, so inviting the same
// address again updates the one record; it names the account by ID only.
type StaffInvitation struct {
	ID        string
	SchoolID  string
	StaffID   string
	Roles     []Role
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// StaffInvitationTTL is how long an invitation waits for its answer.
const StaffInvitationTTL = 14 * 24 * time.Hour

// StaffInvitationID names the invitation of email at a school.
func StaffInvitationID(key []byte, schoolID, email string) string {
	return "sti_" + KeyedHash(key, "staff-invitation:"+schoolID+":"+email)[:32]
}

// MaxDevicesPerParent caps the push tokens one parent holds: registering
// one more drops the least recently seen.
const MaxDevicesPerParent = 10

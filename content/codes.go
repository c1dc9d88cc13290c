package content

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or typed from a letter is hard to get wrong.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// InviteCodeLength is the number of characters in an invite code: 12
// base32 characters are 60 random bits, so guessing any one of a million
// live codes at the per-IP redemption limit from a botnet still takes
// longer than a code lives.
const InviteCodeLength = 12

// InviteCodeBits is the entropy of one random invite code.
const InviteCodeBits = InviteCodeLength * 5

// InviteCodeTTL is how long an invite code stays redeemable.
const InviteCodeTTL = 30 * 24 * time.Hour

// NewInviteCode returns a fresh random invite code.
func NewInviteCode() string {
	var b [InviteCodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS RNG does not fail on supported platforms
	}
	out := make([]byte, InviteCodeLength)
	for i, v := range b {
		out[i] = crockford[int(v)%len(crockford)] // 256 is a multiple of 32: no bias
	}
	return string(out)
}

// NormalizeInviteCode accepts what a parent may type (lower case, spaces,
// dashes, I/L for 1, O for 0) and returns the canonical code, or false.
func NormalizeInviteCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'I', 'L':
			r = '1'
		case 'O':
			r = '0'
		}
		if !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != InviteCodeLength {
		return "", false
	}
	return b.String(), true
}

// KeyedHash is a hex HMAC-SHA256 of v under key: how codes and tokens are
// stored, so a copy of the database alone cannot be used to redeem them.
func KeyedHash(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// NewID returns a random identifier with a readable prefix, e.g. "sch_…".
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewSecret returns a random 256-bit token, URL-safe.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

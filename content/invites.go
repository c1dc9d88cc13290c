package content

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"time"
)

// InviteCodes is what issuing an invite code needs of the store.
type InviteCodes interface {
	Invitation(ctx context.Context, id string) (*Invitation, error)
	PutInvitation(ctx context.Context, inv *Invitation) error
	PutInviteCode(ctx context.Context, c *InviteCode) error
	InviteCode(ctx context.Context, hash string) (*InviteCode, error)
	DeleteInviteCode(ctx context.Context, hash string) error
}

// InvitationID is the id of the one invitation per parent and school.
func InvitationID(schoolID, parentID string) string { return schoolID + "|" + parentID }

// IssueInviteCode makes code the parent's one live invite code at the
// school: its hash is recorded, the invitation names it, and the code it
// replaces stops working (re-issuing kills the old code). Issuing the same
// code again only renews it, so a retried send issues nothing new. The
// code itself is never stored.
func IssueInviteCode(ctx context.Context, r InviteCodes, hashKey []byte, schoolID, parentID, code string,
	now time.Time) (time.Time, error) {
	invID := InvitationID(schoolID, parentID)
	prev, err := r.Invitation(ctx, invID)
	if err != nil && !IsCode(err, CodeNotFound) {
		return time.Time{}, err
	}
	hash := KeyedHash(hashKey, "invite:"+code)
	exp := now.Add(InviteCodeTTL)
	if err := r.PutInviteCode(ctx, &InviteCode{Hash: hash, SchoolID: schoolID, ParentID: parentID, ExpiresAt: exp}); err != nil {
		return time.Time{}, err
	}
	if err := r.PutInvitation(ctx, &Invitation{ID: invID, SchoolID: schoolID, ParentID: parentID,
		CodeHash: hash, IssuedAt: now, ExpiresAt: exp}); err != nil {
		return time.Time{}, err
	}
	// The invitation now names the new hash, which is what redemption
	// checks; deleting the old code document is tidy-up, not the guard.
	if prev != nil && prev.CodeHash != hash {
		_ = r.DeleteInviteCode(ctx, prev.CodeHash)
	}
	return exp, nil
}

// deriveAttempts bounds how many derived codes are tried when one is taken
// by another parent (codes are 40 bits: among a million live codes, a clash
// is rare but not negligible).
const deriveAttempts = 8

// IssueDerivedInviteCode issues the invite code a broadcast sends a parent
// and returns it. The code is derived from the broadcast and the parent
// under key, so the SMS and the email of one invite carry the same code, and
// a send retried after a crash issues that same code again rather than
// killing the one already delivered. A new invite broadcast derives a new
// code, which supersedes the old. A derived code already held by someone
// else is skipped for the next in a fixed sequence, which every channel of
// the invite walks alike.
func IssueDerivedInviteCode(ctx context.Context, r InviteCodes, key []byte, schoolID, parentID, broadcastID string,
	now time.Time) (string, error) {
	for attempt := range deriveAttempts {
		code := DeriveInviteCode(key, broadcastID, parentID, attempt)
		hash := KeyedHash(key, "invite:"+code)
		held, err := r.InviteCode(ctx, hash)
		switch {
		case err == nil && (held.ParentID != parentID || held.SchoolID != schoolID):
			continue // another parent's code
		case err == nil:
			// Already issued by this invite (the other channel, or a retry):
			// the invitation must still name it.
			inv, err := r.Invitation(ctx, InvitationID(schoolID, parentID))
			if err != nil && !IsCode(err, CodeNotFound) {
				return "", err
			}
			if inv != nil && inv.CodeHash == hash {
				return code, nil
			}
			_ = r.DeleteInviteCode(ctx, hash) // stale (superseded, then re-derived): issue afresh below
		case !IsCode(err, CodeNotFound):
			return "", err
		}
		_, err = IssueInviteCode(ctx, r, key, schoolID, parentID, code, now)
		if IsCode(err, CodeConflict) {
			continue // issued concurrently: the next pass of the loop sees whose it is
		}
		if err != nil {
			return "", err
		}
		return code, nil
	}
	return "", Errorf(CodeConflict, "no free invite code after %d attempts", deriveAttempts)
}

// DeriveInviteCode is the attempt-th invite code of a broadcast for a
// parent, under key (see IssueDerivedInviteCode).
func DeriveInviteCode(key []byte, broadcastID, parentID string, attempt int) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("invite-code:" + broadcastID + ":" + parentID + ":" + strconv.Itoa(attempt)))
	sum := m.Sum(nil)
	out := make([]byte, InviteCodeLength)
	for i := range out {
		out[i] = crockford[int(sum[i])%len(crockford)] // 256 is a multiple of 32: no bias
	}
	return string(out)
}

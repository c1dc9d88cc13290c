package content

import (
	"context"
	"testing"
	"time"
)

// memCodes is an in-memory InviteCodes with the store's insert semantics
// (a second code with the same hash is a conflict).
type memCodes struct {
	codes map[string]*InviteCode
	invs  map[string]*Invitation
}

func (m *memCodes) Invitation(_ context.Context, id string) (*Invitation, error) {
	if v, ok := m.invs[id]; ok {
		c := *v
		return &c, nil
	}
	return nil, Errorf(CodeNotFound, "no invitation")
}
func (m *memCodes) PutInvitation(_ context.Context, inv *Invitation) error {
	c := *inv
	m.invs[inv.ID] = &c
	return nil
}
func (m *memCodes) PutInviteCode(_ context.Context, c *InviteCode) error {
	if _, ok := m.codes[c.Hash]; ok {
		return Errorf(CodeConflict, "invite code already exists")
	}
	v := *c
	m.codes[c.Hash] = &v
	return nil
}
func (m *memCodes) InviteCode(_ context.Context, hash string) (*InviteCode, error) {
	if v, ok := m.codes[hash]; ok {
		c := *v
		return &c, nil
	}
	return nil, Errorf(CodeNotFound, "no code")
}
func (m *memCodes) DeleteInviteCode(_ context.Context, hash string) error {
	delete(m.codes, hash)
	return nil
}

func TestIssueDerivedInviteCode(t *testing.T) {
	ctx := context.Background()
	key := []byte("k")
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	m := &memCodes{codes: map[string]*InviteCode{}, invs: map[string]*Invitation{}}

	// Another parent already holds this parent's first derived code.
	taken := DeriveInviteCode(key, "brd_1", "par_a", 0)
	m.codes[KeyedHash(key, "invite:"+taken)] = &InviteCode{Hash: KeyedHash(key, "invite:"+taken), SchoolID: "sch_1", ParentID: "par_z"}

	code, err := IssueDerivedInviteCode(ctx, m, key, "sch_1", "par_a", "brd_1", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := DeriveInviteCode(key, "brd_1", "par_a", 1); code != want {
		t.Fatalf("code %q, want the second derived code %q", code, want)
	}
	if _, ok := NormalizeInviteCode(code); !ok {
		t.Fatalf("%q is not a valid invite code", code)
	}
	// The other channel of the same invite (or a retry) gets the same code.
	again, err := IssueDerivedInviteCode(ctx, m, key, "sch_1", "par_a", "brd_1", now.Add(time.Second))
	if err != nil || again != code {
		t.Fatalf("second issue: %q %v, want %q", again, err, code)
	}
	// The other parent's code was not touched.
	if c, _ := m.InviteCode(ctx, KeyedHash(key, "invite:"+taken)); c == nil || c.ParentID != "par_z" {
		t.Fatalf("the other parent's code: %+v", c)
	}
	// A new invite supersedes: new code named, old code gone.
	next, err := IssueDerivedInviteCode(ctx, m, key, "sch_1", "par_a", "brd_2", now)
	if err != nil || next == code {
		t.Fatalf("next invite: %q %v", next, err)
	}
	if _, err := m.InviteCode(ctx, KeyedHash(key, "invite:"+code)); !IsCode(err, CodeNotFound) {
		t.Errorf("superseded code still present: %v", err)
	}
	inv, _ := m.Invitation(ctx, InvitationID("sch_1", "par_a"))
	if inv.CodeHash != KeyedHash(key, "invite:"+next) {
		t.Errorf("invitation names %s, want the new code", inv.CodeHash)
	}
}

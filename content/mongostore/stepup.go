package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SMS reset codes live in reset_tokens under "code:<kind>:<account>": one
// document per account, found by _id, and erased with the account's other
// reset data (the accountId rule).
type resetCodeDoc struct {
	ID        string              `bson:"_id"`
	Kind      content.AccountKind `bson:"kind"`
	AccountID string              `bson:"accountId"`
	CodeHash  string              `bson:"codeHash"`
	ExpiresAt time.Time           `bson:"expiresAt"`
	Attempts  int                 `bson:"attempts"`
}

func resetCodeID(kind content.AccountKind, accountID string) string {
	return "code:" + string(kind) + ":" + accountID
}

func (s *Store) PutResetCode(ctx context.Context, c *content.ResetCode) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	id := resetCodeID(c.Kind, c.AccountID)
	_, err := s.c(colResetTokens).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, resetCodeDoc{ID: id, Kind: c.Kind,
		AccountID: c.AccountID, CodeHash: c.Hash, ExpiresAt: c.ExpiresAt, Attempts: c.Attempts}, upsert())
	return mapErr(err, "reset code")
}

func (s *Store) CountResetCodeAttempt(ctx context.Context, kind content.AccountKind, accountID string) (*content.ResetCode, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d resetCodeDoc
	err := s.c(colResetTokens).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: resetCodeID(kind, accountID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "reset code")
	}
	return &content.ResetCode{Kind: d.Kind, AccountID: d.AccountID, Hash: d.CodeHash, ExpiresAt: d.ExpiresAt, Attempts: d.Attempts}, nil
}

func (s *Store) SpendResetCode(ctx context.Context, kind content.AccountKind, accountID, hash string) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colResetTokens).DeleteOne(ctx, bson.D{{Key: "_id", Value: resetCodeID(kind, accountID)}, {Key: "codeHash", Value: hash}})
	if err != nil {
		return false, mapErr(err, "reset code")
	}
	return res.DeletedCount == 1, nil
}

// colStaffInvitations holds invitations for existing staff accounts to join
// a school, by StaffInvitationID (school + keyed hash of the email).
const colStaffInvitations = "staff_invitations"

type staffInvitationDoc struct {
	ID        string         `bson:"_id"`
	SchoolID  string         `bson:"schoolId"`
	StaffID   string         `bson:"staffId"`
	Roles     []content.Role `bson:"roles"`
	InvitedBy string         `bson:"invitedBy"`
	CreatedAt time.Time      `bson:"createdAt"`
	ExpiresAt time.Time      `bson:"expiresAt"`
}

func (d *staffInvitationDoc) toContent() *content.StaffInvitation {
	return &content.StaffInvitation{ID: d.ID, SchoolID: d.SchoolID, StaffID: d.StaffID, Roles: d.Roles,
		InvitedBy: d.InvitedBy, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt}
}

func (s *Store) PutStaffInvitation(ctx context.Context, inv *content.StaffInvitation) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colStaffInvitations).ReplaceOne(ctx, bson.D{{Key: "_id", Value: inv.ID}}, staffInvitationDoc{ID: inv.ID,
		SchoolID: inv.SchoolID, StaffID: inv.StaffID, Roles: inv.Roles, InvitedBy: inv.InvitedBy,
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}, upsert())
	return mapErr(err, "staff invitation")
}

func (s *Store) StaffInvitation(ctx context.Context, id string) (*content.StaffInvitation, error) {
	d, err := getByID[staffInvitationDoc](ctx, s, colStaffInvitations, id, "staff invitation")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// StaffInvitationsOf is read once after a sign-in, not per request: a
// filter on staffId is fine here.
func (s *Store) StaffInvitationsOf(ctx context.Context, staffID string) ([]*content.StaffInvitation, error) {
	docs, err := findAll[staffInvitationDoc](ctx, s, colStaffInvitations, bson.D{{Key: "staffId", Value: staffID}}, "staff invitations")
	if err != nil {
		return nil, err
	}
	out := make([]*content.StaffInvitation, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

func (s *Store) DeleteStaffInvitation(ctx context.Context, id string) error {
	return s.deleteByID(ctx, colStaffInvitations, id, "staff invitation")
}

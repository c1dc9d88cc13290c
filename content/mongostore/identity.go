package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

type loginDoc struct {
	Key       string              `bson:"_id"`
	Kind      content.AccountKind `bson:"kind"`
	AccountID string              `bson:"accountId"`
}

type sessionDoc struct {
	ID        string              `bson:"_id"`
	Kind      content.AccountKind `bson:"kind"`
	AccountID string              `bson:"accountId"`
	CreatedAt time.Time           `bson:"createdAt"`
	ExpiresAt time.Time           `bson:"expiresAt"`
	RevokedAt time.Time           `bson:"revokedAt,omitempty"`
}

type refreshTokenDoc struct {
	Hash      string    `bson:"_id"`
	SessionID string    `bson:"sessionId"`
	Uses      int       `bson:"uses"`
	CreatedAt time.Time `bson:"createdAt"`
}

type resetRequestDoc struct {
	ID        string              `bson:"_id"`
	Kind      content.AccountKind `bson:"kind"`
	AccountID string              `bson:"accountId"`
	Purpose   string              `bson:"purpose"`
	CreatedAt time.Time           `bson:"createdAt"`
	SentAt    time.Time           `bson:"sentAt,omitempty"`
}

type resetTokenDoc struct {
	Hash      string              `bson:"_id"`
	Kind      content.AccountKind `bson:"kind"`
	AccountID string              `bson:"accountId"`
	ExpiresAt time.Time           `bson:"expiresAt"`
	Uses      int                 `bson:"uses"`
}

func upsert() *options.ReplaceOptionsBuilder { return options.Replace().SetUpsert(true) }

func accountCollection(kind content.AccountKind) string {
	if kind == content.KindStaff {
		return colStaff
	}
	return colParents
}

func (s *Store) Login(ctx context.Context, key string) (*content.Login, error) {
	d, err := getByID[loginDoc](ctx, s, colLogins, key, "login")
	if err != nil {
		return nil, err
	}
	return &content.Login{Key: d.Key, Kind: d.Kind, AccountID: d.AccountID}, nil
}

func (s *Store) PutLogin(ctx context.Context, l *content.Login) error {
	return s.insert(ctx, colLogins, loginDoc{Key: l.Key, Kind: l.Kind, AccountID: l.AccountID}, "login")
}

func (s *Store) DeleteLogin(ctx context.Context, key string) error {
	return s.deleteByID(ctx, colLogins, key, "login")
}

func (s *Store) CreateSession(ctx context.Context, se *content.Session) error {
	return s.insert(ctx, colSessions, sessionDoc{ID: se.ID, Kind: se.Kind, AccountID: se.AccountID,
		CreatedAt: se.CreatedAt, ExpiresAt: se.ExpiresAt, RevokedAt: se.RevokedAt}, "session")
}

func (s *Store) Session(ctx context.Context, id string) (*content.Session, error) {
	d, err := getByID[sessionDoc](ctx, s, colSessions, id, "session")
	if err != nil {
		return nil, err
	}
	return &content.Session{ID: d.ID, Kind: d.Kind, AccountID: d.AccountID, CreatedAt: d.CreatedAt,
		ExpiresAt: d.ExpiresAt, RevokedAt: d.RevokedAt}, nil
}

func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	return s.updateByID(ctx, colSessions, id, bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: at}}}}, "session")
}

func (s *Store) PutRefreshToken(ctx context.Context, t *content.RefreshToken) error {
	return s.insert(ctx, colRefreshTokens, refreshTokenDoc{Hash: t.Hash, SessionID: t.SessionID,
		Uses: t.Uses, CreatedAt: t.CreatedAt}, "refresh token")
}

func (s *Store) UseRefreshToken(ctx context.Context, hash string) (*content.RefreshToken, error) {
	d, err := incUse[refreshTokenDoc](ctx, s, colRefreshTokens, hash, "refresh token")
	if err != nil {
		return nil, err
	}
	return &content.RefreshToken{Hash: d.Hash, SessionID: d.SessionID, Uses: d.Uses, CreatedAt: d.CreatedAt}, nil
}

func (s *Store) PutResetRequest(ctx context.Context, r *content.ResetRequest) error {
	return s.insert(ctx, colResetRequests, resetRequestDoc{ID: r.ID, Kind: r.Kind, AccountID: r.AccountID,
		Purpose: r.Purpose, CreatedAt: r.CreatedAt}, "reset request")
}

func (s *Store) ResetRequest(ctx context.Context, id string) (*content.ResetRequest, error) {
	d, err := getByID[resetRequestDoc](ctx, s, colResetRequests, id, "reset request")
	if err != nil {
		return nil, err
	}
	return &content.ResetRequest{ID: d.ID, Kind: d.Kind, AccountID: d.AccountID, Purpose: d.Purpose,
		CreatedAt: d.CreatedAt, SentAt: d.SentAt}, nil
}

func (s *Store) MarkResetRequestSent(ctx context.Context, id string, at time.Time) error {
	return s.updateByID(ctx, colResetRequests, id, bson.D{{Key: "$set", Value: bson.D{{Key: "sentAt", Value: at}}}}, "reset request")
}

func (s *Store) PutResetToken(ctx context.Context, t *content.ResetToken) error {
	return s.insert(ctx, colResetTokens, resetTokenDoc{Hash: t.Hash, Kind: t.Kind, AccountID: t.AccountID,
		ExpiresAt: t.ExpiresAt, Uses: t.Uses}, "reset token")
}

func (s *Store) UseResetToken(ctx context.Context, hash string) (*content.ResetToken, error) {
	d, err := incUse[resetTokenDoc](ctx, s, colResetTokens, hash, "reset token")
	if err != nil {
		return nil, err
	}
	return &content.ResetToken{Hash: d.Hash, Kind: d.Kind, AccountID: d.AccountID, ExpiresAt: d.ExpiresAt, Uses: d.Uses}, nil
}

// AddAccountSession appends a session id, keeping only the newest keep
// sessions (older devices are signed out) — read, trim, $set on one _id.
func (s *Store) AddAccountSession(ctx context.Context, kind content.AccountKind, accountID, sessionID string, keep int) error {
	coll := accountCollection(kind)
	type sessionsOnly struct {
		Sessions []string `bson:"sessions"`
	}
	d, err := getByID[sessionsOnly](ctx, s, coll, accountID, "account")
	if err != nil {
		return err
	}
	next := append(nonNil(d.Sessions), sessionID)
	evicted := false
	if keep > 0 && len(next) > keep {
		next, evicted = next[len(next)-keep:], true
	}
	if err := s.updateByID(ctx, coll, accountID, bson.D{{Key: "$set", Value: bson.D{{Key: "sessions", Value: next}}}}, "account"); err != nil {
		return err
	}
	if evicted {
		return s.sessionsEnded(ctx, kind, accountID)
	}
	return nil
}

func (s *Store) RemoveAccountSession(ctx context.Context, kind content.AccountKind, accountID, sessionID string) error {
	if err := s.updateByID(ctx, accountCollection(kind), accountID,
		bson.D{{Key: "$pull", Value: bson.D{{Key: "sessions", Value: sessionID}}}}, "account"); err != nil {
		return err
	}
	return s.sessionsEnded(ctx, kind, accountID)
}

func (s *Store) ClearAccountSessions(ctx context.Context, kind content.AccountKind, accountID string) error {
	if err := s.updateByID(ctx, accountCollection(kind), accountID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "sessions", Value: []string{}}}}}, "account"); err != nil {
		return err
	}
	return s.sessionsEnded(ctx, kind, accountID)
}

// sessionsEnded: a parent's ended sessions no longer read their children's
// feeds from a kept access.
func (s *Store) sessionsEnded(ctx context.Context, kind content.AccountKind, accountID string) error {
	if kind != content.KindParent {
		return nil
	}
	return s.parentFeedAccessChanged(ctx, accountID)
}

func (s *Store) SetPassword(ctx context.Context, kind content.AccountKind, accountID, hash string) error {
	return s.updateByID(ctx, accountCollection(kind), accountID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}}}}, "account")
}

func (s *Store) TouchActive(ctx context.Context, kind content.AccountKind, accountID string, at time.Time) error {
	return s.updateByID(ctx, accountCollection(kind), accountID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastActiveAt", Value: at}}}}, "account")
}

package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hometime-edu/hometime/content"
)

// Access tokens: HS256 only, fixed issuer and audience, 15 minutes.
const (
	tokenIssuer   = "hometime"
	tokenAudience = "hometime-api"
	AccessTTL     = 15 * time.Minute
	RefreshTTL    = 60 * 24 * time.Hour // absolute: rotation never extends a session
)

type accessClaims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Tokens signs and verifies access tokens.
type Tokens struct {
	key   []byte
	clock content.Clock
}

// NewTokens needs a secret of at least 32 bytes.
func NewTokens(secret []byte, clock content.Clock) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("JWT secret must be at least 32 bytes")
	}
	return &Tokens{key: secret, clock: clock}, nil
}

// Issue returns a signed access token for an account and session.
func (t *Tokens) Issue(kind content.AccountKind, accountID, sessionID string) (string, error) {
	now := t.clock.Now()
	c := accessClaims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   string(kind) + ":" + accountID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(AccessTTL)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// Verify checks signature, algorithm, issuer, audience and expiry and returns
// the account kind, id and session id.
func (t *Tokens) Verify(raw string) (content.AccountKind, string, string, error) {
	var c accessClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.clock.Now),
	)
	if err != nil {
		return "", "", "", content.Wrap(content.CodeUnauthenticated, err, "the access token is not valid")
	}
	kind, id, ok := strings.Cut(c.Subject, ":")
	if !ok || id == "" || c.SessionID == "" || (kind != string(content.KindParent) && kind != string(content.KindStaff)) {
		return "", "", "", content.Errorf(content.CodeUnauthenticated, "the access token is not valid")
	}
	return content.AccountKind(kind), id, c.SessionID, nil
}

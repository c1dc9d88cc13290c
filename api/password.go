package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hometime-edu/hometime/content"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum (m = 19 MiB, t = 2, p = 1).
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is what production uses. Tests may not go below it.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	minPasswordLen = 8
	maxPasswordLen = 128
)

//go:embed breached-passwords.txt
var breachedList []byte

// Passwords hashes and checks passwords. Hashing is bounded by a semaphore
// so a burst of sign-ins cannot allocate 19 MiB per request without limit.
type Passwords struct {
	params   Argon2Params
	breached map[string]struct{}
	slots    chan struct{}
	dummy    string // hash verified for unknown accounts, so timing does not tell
	verified atomic.Int64
}

// Verifications counts the argon2id verifications this hasher has run
// (dummy ones included): what a throttle in front of it bounds.
func (pw *Passwords) Verifications() int64 { return pw.verified.Load() }

// NewPasswords builds the hasher; concurrency bounds simultaneous hashes.
func NewPasswords(p Argon2Params, concurrency int) (*Passwords, error) {
	if p.MemoryKiB < DefaultArgon2.MemoryKiB || p.Time < DefaultArgon2.Time || p.Threads < 1 {
		return nil, fmt.Errorf("argon2id parameters below the minimum m=19MiB t=2 p=1")
	}
	if concurrency < 1 {
		concurrency = 1
	}
	pw := &Passwords{params: p, breached: map[string]struct{}{}, slots: make(chan struct{}, concurrency)}
	sc := bufio.NewScanner(bytes.NewReader(breachedList))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pw.breached[strings.ToLower(line)] = struct{}{}
	}
	d, err := pw.Hash(context.Background(), content.NewSecret())
	if err != nil {
		return nil, err
	}
	pw.dummy = d
	return pw, nil
}

// Check validates a new password and returns a field problem or "".
func (pw *Passwords) Check(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return fmt.Sprintf("must be at least %d characters", minPasswordLen)
	case n > maxPasswordLen:
		return fmt.Sprintf("must be at most %d characters", maxPasswordLen)
	}
	if _, bad := pw.breached[strings.ToLower(password)]; bad {
		return "is too common: it appears in lists of breached passwords"
	}
	return ""
}

func (pw *Passwords) acquire(ctx context.Context) error {
	select {
	case pw.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hash returns a PHC-format argon2id hash.
func (pw *Passwords) Hash(ctx context.Context, password string) (string, error) {
	if err := pw.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-pw.slots }()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	p := pw.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// Verify reports whether password matches hash. An empty hash (an account
// that never set a password) verifies against a dummy so it takes as long.
func (pw *Passwords) Verify(ctx context.Context, hash, password string) (bool, error) {
	if hash == "" {
		_, _ = pw.Verify(ctx, pw.dummy, password)
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	if err := pw.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-pw.slots }()
	pw.verified.Add(1)
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of one verification, for unknown accounts.
func (pw *Passwords) VerifyDummy(ctx context.Context, password string) {
	_, _ = pw.Verify(ctx, pw.dummy, password)
}

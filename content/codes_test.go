package content

import (
	"strings"
	"testing"
)

func TestInviteCodeRoundTrip(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := NewInviteCode()
		if len(c) != InviteCodeLength {
			t.Fatalf("code %q has length %d", c, len(c))
		}
		n, ok := NormalizeInviteCode(strings.ToLower(c[:4]) + "-" + c[4:])
		if !ok || n != c {
			t.Fatalf("normalize(%q) = %q, %v", c, n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 999 {
		t.Fatalf("only %d distinct codes in 1000", len(seen))
	}
}

func TestNormalizeInviteCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"abcd efgh", "ABCDEFGH", true},
		{"o1l0-i2k3", "011012K3", true}, // O→0, I/L→1
		{"oili-0123", "01110123", true},
		{"ABCDEFG", "", false},  // too short
		{"ABCDEFGU", "", false}, // U is not in the alphabet
		{"ABCD!FGH", "", false}, // punctuation
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := NormalizeInviteCode(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestKeyedHashDependsOnKey(t *testing.T) {
	t.Parallel()
	a := KeyedHash([]byte("k1"), "ABCDEFGH")
	b := KeyedHash([]byte("k2"), "ABCDEFGH")
	if a == b || len(a) != 64 {
		t.Fatalf("hashes %q %q", a, b)
	}
	if a != KeyedHash([]byte("k1"), "ABCDEFGH") {
		t.Fatal("hash not deterministic")
	}
}

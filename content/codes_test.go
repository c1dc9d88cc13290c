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
		{"abcd efgh jkmn", "ABCDEFGHJKMN", true},
		{"o1l0-i2k3-abcd", "011012K3ABCD", true}, // O→0, I/L→1
		{"oili-0123-4567", "011101234567", true},
		{" ab-CD\tef-GH-jk-MN ", "ABCDEFGHJKMN", true}, // any mix of spaces, tabs and dashes
		{"ABCDEFGHJKM", "", false},                     // too short
		{"ABCDEFGHJKMNP", "", false},                   // too long
		{"ABCDEFGH", "", false},                        // the old 8-character length
		{"ABCDEFGHJKMU", "", false},                    // U is not in the alphabet
		{"ABCD!FGHJKMN", "", false},                    // punctuation
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := NormalizeInviteCode(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestInviteCodeEntropy: a code carries at least 60 random bits (12
// Crockford characters), every character of the alphabet turns up in every
// position, and derived codes are as long as random ones.
func TestInviteCodeEntropy(t *testing.T) {
	t.Parallel()
	if InviteCodeLength < 12 || InviteCodeBits < 60 || InviteCodeBits != InviteCodeLength*5 {
		t.Fatalf("invite codes are %d characters, %d bits; want at least 12 and 60", InviteCodeLength, InviteCodeBits)
	}
	const n = 4000
	seen := make([]map[byte]int, InviteCodeLength)
	for i := range seen {
		seen[i] = map[byte]int{}
	}
	for i := 0; i < n; i++ {
		c := NewInviteCode()
		if len(c) != InviteCodeLength {
			t.Fatalf("code %q has length %d", c, len(c))
		}
		for j := 0; j < len(c); j++ {
			seen[j][c[j]]++
		}
	}
	// 4000 draws of 32 symbols: each expected 125 times per position, so
	// a symbol missing or under 60 means the position is not uniform.
	for pos, counts := range seen {
		if len(counts) != len(crockford) {
			t.Fatalf("position %d uses %d of %d symbols", pos, len(counts), len(crockford))
		}
		for sym, k := range counts {
			if k < 60 || k > 200 {
				t.Errorf("position %d: %q drawn %d times of %d, want about %d", pos, sym, k, n, n/len(crockford))
			}
		}
	}
	if d := DeriveInviteCode([]byte("k"), "brd_1", "par_a", 0); len(d) != InviteCodeLength {
		t.Fatalf("derived code %q has length %d", d, len(d))
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

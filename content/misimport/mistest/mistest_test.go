package mistest_test

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"testing"

	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

func TestUKPhones(t *testing.T) {
	for _, tc := range []struct {
		raw, region, e164 string
		mobile, ok        bool
	}{
		{"07400 123456", "GB", "+447400123456", true, true},
		{"+44 (0)7400-123-456", "gb", "+447400123456", true, true},
		{"00447400123456", "GB", "+447400123456", true, true},
		{"0161 496 0000", "GB", "+441614960000", false, true},
		{"+44 20 7946 0001", "GB", "+442079460001", false, true},
		{"07400 12", "GB", "", false, false},
		{"0800 CALL ME", "GB", "", false, false},
		{"12345", "GB", "", false, false},
		{"07400 123456", "FR", "", false, false},
	} {
		e164, mobile, err := mistest.UKPhones{}.Normalize(tc.raw, tc.region)
		if e164 != tc.e164 || mobile != tc.mobile || (err == nil) != tc.ok {
			t.Errorf("Normalize(%q, %s) = %q, %v, %v", tc.raw, tc.region, e164, mobile, err)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	sum := func(seed uint64) [32]byte {
		var b bytes.Buffer
		if _, err := mistest.Generate(&b, mistest.Config{Families: 500, Layout: mistest.LayoutArbor, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if sum(1) != sum(1) {
		t.Error("same config, different bytes")
	}
	if sum(1) == sum(2) {
		t.Error("different seeds, same bytes")
	}
}

// countingWriter keeps nothing: the generator must stream.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func TestGenerateStreams50kRows(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~9 MB")
	}
	var w countingWriter
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	exp, err := mistest.Generate(&w, mistest.Config{Families: 33_000, Layout: mistest.LayoutBromcom, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if exp.Rows < 50_000 {
		t.Errorf("%d rows", exp.Rows)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("heap grew %d bytes writing %d bytes", grew, w.n)
	}
}

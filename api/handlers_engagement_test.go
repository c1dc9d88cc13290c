package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSchoolEngagement8Weeks times the admin dashboard: eight weeks
// of the school's totals and its pupil-premium split, 24 lookups by _id.
func BenchmarkSchoolEngagement8Weeks(b *testing.B) {
	w := newWorld(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Straight through the app: the contract check h.do adds would
		// dominate what is measured.
		req := httptest.NewRequest("GET", "/v1/schools/sch_1/engagement?weeks=8", nil)
		req.Header.Set("Authorization", "Bearer "+w.tokens[actAdmin])
		resp, err := w.h.app.Test(req, 10_000)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
}

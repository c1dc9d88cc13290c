package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/media/mediatest"
)

// BenchmarkPhotoUpload12MP times one parent upload end to end through the
// API: multipart parse, sniff, pixel cap, decode, re-encode, thumbnail, two
// GridFS files, the metadata and the submission — on a 12 MP, ~5 MB JPEG.
func BenchmarkPhotoUpload12MP(b *testing.B) {
	w := newWorld(b)
	h := w.h
	photo, err := mediatest.Photo12MP()
	if err != nil {
		b.Fatal(err)
	}
	body, ct := multipartPhoto(b, photo)
	b.SetBytes(int64(len(photo)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := fmt.Sprintf("asg_bench_%d", i)
		h.assignments.mu.Lock()
		h.assignments.m[id] = &content.AssignmentTarget{ID: id, SchoolID: "sch_1", ClassIDs: []string{"cls_1"}, Released: true}
		h.assignments.mu.Unlock()
		b.StartTimer()
		resp, out := h.do("POST", "/v1/children/chd_1/assignments/"+id+"/submission/photos", body, w.tokens[actParentA], withHeader("Content-Type", ct))
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("upload: %d %s", resp.StatusCode, out)
		}
	}
}

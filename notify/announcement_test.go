package notify

import (
	"strings"
	"testing"
)

// An announcement's SMS is its whole text when that fits two segments,
// else the title and the link, the title cut to fit; the email carries the
// whole text, escaped in HTML; the push carries the title.
func TestRenderAnnouncement(t *testing.T) {
	t.Parallel()
	link := "https://api.hometime.app/a/ann_abcdefghijklmnop.cy.tpex40.3czip_GNnGPeiN-j"
	short := Announcement{SchoolName: "Riverside", Title: "Trip", Body: "Coats please.", Link: link, Language: "en"}
	if sms, full := AnnouncementSMS(short); !full || sms != "Riverside: Trip\nCoats please." {
		t.Fatalf("short: %q %v", sms, full)
	}
	long := short
	long.Body = strings.Repeat("Bring a coat. ", 40)
	sms, full := AnnouncementSMS(long)
	if full || sms != "Riverside: Trip "+link {
		t.Fatalf("long: %q %v", sms, full)
	}
	// A Welsh title with a circumflex is UCS-2: two segments hold 134
	// characters, so a long title is cut, and the link survives whole.
	welsh := long
	welsh.Title = strings.Repeat("Taith i'r amgueddfa â'r dosbarth ", 4)
	sms, full = AnnouncementSMS(welsh)
	c := CountSegments(sms)
	if full || c.Segments > AnnouncementSMSSegments || !strings.HasSuffix(sms, " "+link) || !strings.Contains(sms, "…") {
		t.Fatalf("long Welsh title: %q (%d segments, %s)", sms, c.Segments, c.Encoding)
	}
	// Without a link the whole text goes, however long.
	noLink := long
	noLink.Link = ""
	if _, full := AnnouncementSMS(noLink); !full {
		t.Fatal("no link, yet not the whole text")
	}

	evil := Announcement{SchoolName: "<b>School</b>", Title: "<script>alert(1)</script>", Body: "one\n\n<img src=x onerror=alert(1)>",
		Language: "en"}
	r, err := RenderAnnouncement(evil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.EmailHTML, "<script>") || strings.Contains(r.EmailHTML, "<img") || !strings.Contains(r.EmailHTML, "&lt;img") {
		t.Fatalf("html not escaped: %s", r.EmailHTML)
	}
	if r.PushTitle != evil.Title || r.EmailSubject != evil.Title || !strings.Contains(r.EmailText, "onerror") ||
		r.Template != TemplateAnnouncement {
		t.Fatalf("rendered %+v", r)
	}
}

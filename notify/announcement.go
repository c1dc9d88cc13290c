package notify

import (
	htmltemplate "html/template"
	"strings"
	"unicode/utf8"
)

// TemplateAnnouncement names a message staff wrote themselves. It is not a
// system template (Templates does not list it, the Catalog has no
// translations of it): the school writes the text and any versions in
// other languages, and RenderAnnouncement lays it out per channel.
const TemplateAnnouncement Template = "announcement"

// AnnouncementSMSSegments is the most segments an announcement's SMS may
// take with its whole text; longer ones send the title and a link instead.
const AnnouncementSMSSegments = 2

// Announcement is a staff-written message in one language, ready to send.
type Announcement struct {
	SchoolName string
	Title      string
	Body       string
	// Link is a public page with the full text, sent by SMS when the body
	// does not fit AnnouncementSMSSegments; empty when there is none.
	Link     string
	Language string
}

// AnnouncementSMS is the text message for a: the school name, title and
// body when they fit in AnnouncementSMSSegments, else the title (cut to
// fit) and the link. full reports whether the body went whole.
func AnnouncementSMS(a Announcement) (body string, full bool) {
	head := strings.TrimSpace(a.SchoolName)
	if head != "" {
		head += ": "
	}
	title := strings.TrimSpace(a.Title)
	whole := head + title + "\n" + strings.TrimSpace(a.Body)
	if a.Link == "" || CountSegments(whole).Segments <= AnnouncementSMSSegments {
		return whole, true
	}
	link := " " + strings.TrimSpace(a.Link)
	for {
		msg := head + title + link
		if CountSegments(msg).Segments <= AnnouncementSMSSegments || title == "" {
			return msg, false
		}
		// Cut the title by a tenth (at least one character) and mark it.
		title = strings.TrimSuffix(title, "…")
		n := utf8.RuneCountInString(title)
		title = string([]rune(title)[:max(0, n-max(1, n/10))]) + "…"
		if n <= 1 {
			title = ""
		}
	}
}

var announcementHTML = htmltemplate.Must(htmltemplate.New("announcement.html").Parse(`<!DOCTYPE html>
<html lang="{{.Language}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;">
<p style="color:#52606d;">{{.SchoolName}}</p>
<h1 style="font-size:20px;">{{.Title}}</h1>
{{range .Paragraphs}}<p style="white-space:pre-wrap;">{{.}}</p>
{{end}}</body>
</html>
`))

// AnnouncementHTML lays a out as a small HTML document (the email's HTML
// part and the public page): every value is escaped, the body is text.
func AnnouncementHTML(a Announcement) (string, error) {
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(a.Body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	var b strings.Builder
	err := announcementHTML.Execute(&b, struct {
		Announcement
		Paragraphs []string
	}{a, paras})
	return b.String(), err
}

// RenderAnnouncement lays a out for every channel: the SMS as
// AnnouncementSMS, the email with the whole text, the push with the title
// (and the school's name as its body).
func RenderAnnouncement(a Announcement) (Rendered, error) {
	sms, _ := AnnouncementSMS(a)
	html, err := AnnouncementHTML(a)
	if err != nil {
		return Rendered{}, err
	}
	text := strings.TrimSpace(a.Title) + "\n\n" + strings.TrimSpace(a.Body) + "\n\n" + strings.TrimSpace(a.SchoolName) + "\n"
	return Rendered{Template: TemplateAnnouncement, Language: Language(a.Language), SMSBody: sms,
		EmailSubject: strings.TrimSpace(a.Title), EmailText: text, EmailHTML: html,
		PushTitle: strings.TrimSpace(a.Title), PushBody: strings.TrimSpace(a.SchoolName)}, nil
}

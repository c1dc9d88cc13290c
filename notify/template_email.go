package notify

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
)

// emailContent is a rendered email before it is laid out as text and HTML.
// Parameter values are already substituted, unescaped; html/template escapes
// them for the HTML version, so a school name like "<b>" stays text and a
// link can only ever be an http(s) href.
type emailContent struct {
	Language   Language
	Subject    string
	Paragraphs []string
	Action     string
	Link       string // empty when the email has no link
}

func (e emailContent) text() string {
	l := languages[e.Language]
	var b strings.Builder
	b.WriteString(l.greeting)
	for _, p := range e.Paragraphs {
		b.WriteString("\n\n")
		b.WriteString(p)
	}
	if e.Link != "" {
		fmt.Fprintf(&b, "\n\n%s: %s", e.Action, e.Link)
	}
	b.WriteString("\n\n")
	b.WriteString(l.signoff)
	b.WriteString("\n")
	return b.String()
}

func (e emailContent) html(layout *htmltemplate.Template) (string, error) {
	l := languages[e.Language]
	dir := "ltr"
	if l.rtl {
		dir = "rtl"
	}
	data := struct {
		emailContent
		Dir, Greeting, Signoff string
	}{e, dir, l.greeting, l.signoff}
	var b strings.Builder
	if err := layout.Execute(&b, data); err != nil {
		return "", fmt.Errorf("email html: %w", err)
	}
	return b.String(), nil
}

// emailLayout is deliberately plain: inline styles only, one optional
// button, readable in any client and with images off.
const emailLayout = `<!DOCTYPE html>
<html lang="{{.Language}}" dir="{{.Dir}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;">
<p>{{.Greeting}}</p>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#2f6f4f;color:#ffffff;text-decoration:none;border-radius:6px;">{{.Action}}</a></p>
{{end}}<p>{{.Signoff}}</p>
</body>
</html>
`

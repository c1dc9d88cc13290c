package notify

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"strings"
	"text/template"
)

// Template names a system message. The name also travels to the email
// provider as the category, so it must never hold personal data.
type Template string

const (
	TemplateInvite           Template = "invite"
	TemplateInviteReminder   Template = "invite_reminder"
	TemplateActivitySet      Template = "activity_set"
	TemplateTeacherReply     Template = "teacher_reply"
	TemplateAward            Template = "award"
	TemplateInactivityNotice Template = "inactivity_notice"
	TemplateAccountClosed    Template = "account_closed"
	TemplatePasswordReset    Template = "password_reset"
	// TemplatePasswordResetCode texts a parent who signed up by phone a
	// short reset code; it is only ever sent by SMS.
	TemplatePasswordResetCode Template = "password_reset_code"
	TemplateExportReady       Template = "export_ready"
	// TemplateChildLeft tells a parent that the school removed their child
	// (the child left): past activities stay readable in the app until the
	// child-purge clock, and how to close the account.
	TemplateChildLeft Template = "child_left"
	// TemplateDueReminder reminds a family, the day before, of an
	// assignment due that they have not sent anything back for.
	TemplateDueReminder Template = "due_reminder"
	// TemplateDigest is a household's daily summary of the messages whose
	// pushes waited for it: how many, for which children, nothing of what
	// they say.
	TemplateDigest Template = "digest"
	// TemplateConversationMessage tells a parent of a staff member's
	// message in a conversation. The push and the email subject name only
	// the class; the SMS (for a parent without the app) and the email body
	// carry the message itself.
	TemplateConversationMessage Template = "conversation_message"
)

// Templates lists every system template, in a stable order.
func Templates() []Template {
	return []Template{
		TemplateInvite, TemplateInviteReminder, TemplateActivitySet,
		TemplateTeacherReply, TemplateAward, TemplateInactivityNotice,
		TemplateAccountClosed, TemplatePasswordReset, TemplatePasswordResetCode, TemplateExportReady,
		TemplateChildLeft, TemplateDueReminder, TemplateDigest, TemplateConversationMessage,
	}
}

// Errors from rendering. Messages name the template, language and parameter
// but never a parameter's value, which may be personal data.
var (
	ErrUnknownTemplate     = errors.New("unknown template")
	ErrUnsupportedLanguage = errors.New("unsupported language")
	ErrMissingParam        = errors.New("missing template parameter")
	ErrInvalidParam        = errors.New("invalid template parameter")
)

// Rendered is one template rendered in one language for every channel; the
// sender picks the parts for the channel it uses.
type Rendered struct {
	Template Template
	// Language actually used; differs from the one asked for only after
	// RenderOrEnglish fell back to English.
	Language Language

	SMSBody      string
	EmailSubject string
	EmailText    string
	EmailHTML    string
	PushTitle    string
	PushBody     string
}

// SMS addresses the rendered SMS body to a number.
func (r Rendered) SMS(ref, to string) SMS {
	return SMS{Ref: ref, To: to, Body: r.SMSBody}
}

// Email addresses the rendered email; the category is the template name.
func (r Rendered) Email(ref, to string) Email {
	return Email{Ref: ref, To: to, Subject: r.EmailSubject, Text: r.EmailText,
		HTML: r.EmailHTML, Category: string(r.Template)}
}

// Push addresses the rendered push to a device token; data carries IDs only.
func (r Rendered) Push(ref, token string, data map[string]string) Push {
	return Push{Ref: ref, Token: token, Title: r.PushTitle, Body: r.PushBody, Data: data}
}

// Catalog holds every system template, parsed and checked once at start-up
// (build it in the wiring and share it: it is read-only and safe for
// concurrent use).
type Catalog struct {
	entries map[catalogKey]*compiled
	html    *htmltemplate.Template
}

type catalogKey struct {
	tmpl Template
	lang Language
}

// compiled is one message of one language, ready to execute.
type compiled struct {
	lang      Language
	sms       *template.Template
	subject   *template.Template
	body      *template.Template
	action    string
	pushTitle *template.Template
	pushBody  *template.Template
	required  []string // parameter names used by any part, sorted
	// byPart lists the parameters each part uses ("sms", "body", ...), so
	// tests can check a translation kept the code and link where English has them.
	byPart map[string][]string
}

// NewCatalog parses every template in every language. It fails if a
// translation is missing, uses an unknown parameter or uses anything but
// plain {{.Param}} substitutions, so a bad translation stops start-up
// rather than a send.
func NewCatalog() (*Catalog, error) {
	html, err := htmltemplate.New("email.html").Parse(emailLayout)
	if err != nil {
		return nil, fmt.Errorf("parse email layout: %w", err)
	}
	c := &Catalog{entries: make(map[catalogKey]*compiled), html: html}
	for _, lang := range Languages() {
		l := languages[lang]
		for _, tmpl := range Templates() {
			m, ok := l.messages[tmpl]
			if !ok {
				return nil, fmt.Errorf("template %s: no %s translation", tmpl, lang)
			}
			cm, err := compileMessage(tmpl, lang, m)
			if err != nil {
				return nil, err
			}
			c.entries[catalogKey{tmpl, lang}] = cm
		}
	}
	return c, nil
}

// MustCatalog is NewCatalog for tests and wiring that cannot go on without it.
func MustCatalog() *Catalog {
	c, err := NewCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

// Required lists the parameters a template needs (the same in every
// language), so callers can check their data before queueing a send.
func (c *Catalog) Required(tmpl Template) ([]string, error) {
	cm, ok := c.entries[catalogKey{tmpl, LangEnglish}]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTemplate, tmpl)
	}
	return slices.Clone(cm.required), nil
}

// Render renders a template in exactly the given language. An unknown
// template, an unsupported language or a missing parameter is an error;
// nothing falls back silently. Use MatchLanguage to turn a tag such as
// "cy-GB" into a Language first, or RenderOrEnglish to fall back.
func (c *Catalog) Render(tmpl Template, lang Language, p Params) (Rendered, error) {
	if _, ok := c.entries[catalogKey{tmpl, LangEnglish}]; !ok {
		return Rendered{}, fmt.Errorf("render %s: %w", tmpl, ErrUnknownTemplate)
	}
	cm, ok := c.entries[catalogKey{tmpl, lang}]
	if !ok {
		return Rendered{}, fmt.Errorf("render %s: %w: %q (have %s)", tmpl, ErrUnsupportedLanguage, lang, joinLanguages())
	}
	r, err := c.render(tmpl, cm, p, "")
	if err != nil {
		return Rendered{}, fmt.Errorf("render %s (%s): %w", tmpl, lang, err)
	}
	return r, nil
}

// RenderOrEnglish renders in the language that best matches tag (e.g. "pl",
// "cy-GB", "ES") and in English when no supported language matches, so a
// parent with an unsupported preference still gets the message. Check
// Rendered.Language to see which was used. Unknown templates and missing
// parameters are still errors.
func (c *Catalog) RenderOrEnglish(tmpl Template, tag string, p Params) (Rendered, error) {
	return c.RenderFor("", tmpl, tag, p)
}

// RenderFor is RenderOrEnglish for a sender of one channel: only that
// channel's parts of the result are filled (an SMS sender has no use for
// the email's HTML). Every parameter the template needs is still checked,
// so a message that would fail on one channel fails on all. An empty
// channel renders every part.
func (c *Catalog) RenderFor(ch Channel, tmpl Template, tag string, p Params) (Rendered, error) {
	lang, ok := MatchLanguage(tag)
	if !ok {
		lang = LangEnglish
	}
	if _, ok := c.entries[catalogKey{tmpl, LangEnglish}]; !ok {
		return Rendered{}, fmt.Errorf("render %s: %w", tmpl, ErrUnknownTemplate)
	}
	cm := c.entries[catalogKey{tmpl, lang}] // every supported language has every template
	r, err := c.render(tmpl, cm, p, ch)
	if err != nil {
		return Rendered{}, fmt.Errorf("render %s (%s): %w", tmpl, lang, err)
	}
	return r, nil
}

// SMSSchoolNameMax is the most characters of a school's name an SMS body
// shows (a school's name may be up to 120). Longer names are cut at a word
// boundary: with it, an invite's SMS in English or Welsh carries the
// 12-character code and the join link in one GSM-7 segment.
const SMSSchoolNameMax = 36

// smsSchoolName shortens a school name to SMSSchoolNameMax characters, at
// the last space that keeps at least half of them, else mid-word.
func smsSchoolName(name string) string {
	r := []rune(name)
	if len(r) <= SMSSchoolNameMax {
		return name
	}
	cut := r[:SMSSchoolNameMax]
	if r[SMSSchoolNameMax] != ' ' {
		for i := len(cut) - 1; i >= SMSSchoolNameMax/2; i-- {
			if cut[i] == ' ' {
				cut = cut[:i]
				break
			}
		}
	}
	return strings.TrimRight(string(cut), " ,-&")
}

func (c *Catalog) render(tmpl Template, cm *compiled, p Params, ch Channel) (Rendered, error) {
	vals, err := p.values(cm.lang, cm.required)
	if err != nil {
		return Rendered{}, err
	}
	smsVals := vals
	if v, ok := vals[ParamSchoolName]; ok {
		if short := smsSchoolName(v); short != v {
			smsVals = maps.Clone(vals)
			smsVals[ParamSchoolName] = short
		}
	}
	exec := func(part string, t *template.Template) (string, error) {
		in := vals
		if part == "sms" {
			in = smsVals
		}
		var b strings.Builder
		if err := t.Execute(&b, in); err != nil {
			return "", fmt.Errorf("%s: %w", part, err)
		}
		return b.String(), nil
	}
	r := Rendered{Template: tmpl, Language: cm.lang}
	parts := []struct {
		ch   Channel
		name string
		t    *template.Template
		out  *string
	}{
		{ChannelSMS, "sms", cm.sms, &r.SMSBody},
		{ChannelEmail, "subject", cm.subject, &r.EmailSubject},
		{ChannelPush, "push title", cm.pushTitle, &r.PushTitle},
		{ChannelPush, "push body", cm.pushBody, &r.PushBody},
	}
	for _, part := range parts {
		if ch != "" && part.ch != ch {
			continue
		}
		if *part.out, err = exec(part.name, part.t); err != nil {
			return Rendered{}, err
		}
	}
	if ch != "" && ch != ChannelEmail {
		return r, nil
	}
	body, err := exec("email body", cm.body)
	if err != nil {
		return Rendered{}, err
	}
	email := emailContent{
		Language:   cm.lang,
		Subject:    r.EmailSubject,
		Paragraphs: strings.Split(body, "\n\n"),
		Action:     cm.action,
	}
	if cm.action != "" {
		email.Link = vals[ParamLink]
	}
	r.EmailText = email.text()
	if r.EmailHTML, err = email.html(c.html); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

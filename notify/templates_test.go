package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// longestParams are the longest values we expect in practice; the English
// SMS bodies must still fit one GSM-7 segment with them.
func longestParams(t *testing.T) Params {
	t.Helper()
	p := Params{
		SchoolName:     "St Mary and St John CofE Primary Academy",
		ChildFirstName: "Maximilian-Jose",
		Code:           "K7QX2M9PHV3D",
		Link:           "https://hometime.app/join/K7QX2M9PHV3D",
		TeacherName:    "Mrs Featherstonehaugh-Kay",
		ActivityTitle:  "Counting Conkers: a Nature Walk Together",
		CloseDate:      time.Date(2026, time.September, 30, 0, 0, 0, 0, time.UTC), // longest English month
		ItemCount:      100,                                                       // content.DigestHeldMax
		ClassName:      "Kingfishers",
		MessageBody:    "Thanks, see you at pick-up.",
	}
	for name, tc := range map[string]struct {
		v    string
		want int
	}{
		"SchoolName": {p.SchoolName, 40}, "ChildFirstName": {p.ChildFirstName, 15},
		"Code": {p.Code, 12}, "Link": {p.Link, 38},
		"TeacherName": {p.TeacherName, 25}, "ActivityTitle": {p.ActivityTitle, 40},
	} {
		if len(tc.v) != tc.want {
			t.Fatalf("test data: %s is %d chars, want %d", name, len(tc.v), tc.want)
		}
	}
	return p
}

func TestCatalogRendersEveryTemplateInEveryLanguage(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	for _, lang := range Languages() {
		for _, tmpl := range Templates() {
			t.Run(string(lang)+"/"+string(tmpl), func(t *testing.T) {
				r, err := c.Render(tmpl, lang, p)
				if err != nil {
					t.Fatal(err)
				}
				if r.Template != tmpl || r.Language != lang {
					t.Errorf("rendered %s/%s, want %s/%s", r.Template, r.Language, tmpl, lang)
				}
				parts := map[string]string{
					"sms": r.SMSBody, "subject": r.EmailSubject, "text": r.EmailText,
					"html": r.EmailHTML, "push title": r.PushTitle, "push body": r.PushBody,
				}
				for name, s := range parts {
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s is empty", name)
					}
					if strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
						t.Errorf("%s has an unfilled placeholder: %q", name, s)
					}
				}
				for _, one := range []string{r.SMSBody, r.EmailSubject, r.PushTitle, r.PushBody} {
					if strings.ContainsAny(one, "\n\r") {
						t.Errorf("single-line part has a line break: %q", one)
					}
				}
			})
		}
	}
}

// TestTranslationsUseTheSameParamsAsEnglish checks each part of each
// translation (SMS, subject, body, push title and body) uses exactly the
// parameters the English part does, so no translation drops an invite code
// from the SMS or a link from the email.
func TestTranslationsUseTheSameParamsAsEnglish(t *testing.T) {
	c := MustCatalog()
	for _, tmpl := range Templates() {
		en := c.entries[catalogKey{tmpl, LangEnglish}]
		for _, lang := range Languages() {
			cm := c.entries[catalogKey{tmpl, lang}]
			for _, part := range []string{"sms", "subject", "body", "push title", "push body"} {
				if !slices.Equal(cm.byPart[part], en.byPart[part]) {
					t.Errorf("%s/%s %s uses %v, English uses %v", tmpl, lang, part, cm.byPart[part], en.byPart[part])
				}
			}
			if (cm.action == "") != (en.action == "") {
				t.Errorf("%s/%s: email link button present in one language but not the other", tmpl, lang)
			}
		}
	}
}

func TestSMSFitsOneGSM7Segment(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	// English is required to; Welsh was written to as well (lang_cy.go).
	for _, lang := range []Language{LangEnglish, LangWelsh} {
		for _, tmpl := range Templates() {
			t.Run(string(lang)+"/"+string(tmpl), func(t *testing.T) {
				r, err := c.Render(tmpl, lang, p)
				if err != nil {
					t.Fatal(err)
				}
				got := CountSegments(r.SMSBody)
				if got.Encoding != EncodingGSM7 || got.Segments != 1 {
					t.Errorf("%q: %+v, want one GSM-7 segment", r.SMSBody, got)
				}
			})
		}
	}
}

// TestInviteSMSFitsOneSegmentWithTheLongestSchoolName: the invite and its
// reminder, in English and Welsh, with a 12-character code, the default
// join link and a school name of the 120 characters a school may have,
// are one GSM-7 segment that still carries the code and the link.
func TestInviteSMSFitsOneSegmentWithTheLongestSchoolName(t *testing.T) {
	c := MustCatalog()
	code := strings.Repeat("W", 12) // as wide as any code (GSM-7 letters are one septet each)
	for name, school := range map[string]string{
		"words":    strings.Repeat("Ysgol Gynradd ", 9)[:120],
		"one word": strings.Repeat("Llanfairpwll", 10),
		"at max":   strings.Repeat("X", SMSSchoolNameMax),
	} {
		if n := len([]rune(school)); n > 120 {
			t.Fatalf("%s: %d characters", name, n)
		}
		p := Params{SchoolName: school, ChildFirstName: "Maximilian-Jose", Code: code, Link: "https://hometime.app/join/" + code}
		for _, lang := range []Language{LangEnglish, LangWelsh} {
			for _, tmpl := range []Template{TemplateInvite, TemplateInviteReminder} {
				r, err := c.Render(tmpl, lang, p)
				if err != nil {
					t.Fatal(err)
				}
				got := CountSegments(r.SMSBody)
				if got.Encoding != EncodingGSM7 || got.Segments != 1 {
					t.Errorf("%s %s/%s: %q: %+v, want one GSM-7 segment", name, lang, tmpl, r.SMSBody, got)
				}
				if !strings.Contains(r.SMSBody, " "+code+" ") || !strings.HasSuffix(r.SMSBody, p.Link) {
					t.Errorf("%s %s/%s: %q lost the code or the link", name, lang, tmpl, r.SMSBody)
				}
				if !strings.Contains(r.EmailText, school) {
					t.Errorf("%s %s/%s: the email shortened the school's name", name, lang, tmpl)
				}
			}
		}
	}
	if got := smsSchoolName("St Mary and St John CofE Primary Academy Trust"); got != "St Mary and St John CofE Primary" {
		t.Errorf("shortened to %q", got)
	}
}

// TestSMSSegmentsPerLanguage bounds what an SMS costs in the languages that
// need UCS-2, and logs the table (go test -v) for whoever sets budgets.
func TestSMSSegmentsPerLanguage(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	for _, lang := range Languages() {
		for _, tmpl := range Templates() {
			r, err := c.Render(tmpl, lang, p)
			if err != nil {
				t.Fatal(err)
			}
			got := CountSegments(r.SMSBody)
			t.Logf("%s %-18s %s %d segment(s), %d units", lang, tmpl, got.Encoding, got.Segments, got.Units)
			if got.Segments > 3 {
				t.Errorf("%s/%s: %d segments, want at most 3", lang, tmpl, got.Segments)
			}
		}
	}
}

func TestRenderErrors(t *testing.T) {
	c := MustCatalog()
	full := longestParams(t)
	with := func(f func(*Params)) Params { p := full; f(&p); return p }
	tests := []struct {
		name        string
		tmpl        Template
		lang        Language
		p           Params
		want        error
		mentions    []string // in the error message
		mustNotLeak string   // a value that must stay out of the error
	}{
		{"unknown template", "welcome_pack", LangEnglish, full, ErrUnknownTemplate, []string{"welcome_pack"}, ""},
		{"unsupported language", TemplateInvite, "fr", full, ErrUnsupportedLanguage, []string{`"fr"`, "cy"}, ""},
		{"strict about tags", TemplateInvite, "cy-GB", full, ErrUnsupportedLanguage, nil, ""},
		{"missing code", TemplateInvite, LangPolish, with(func(p *Params) { p.Code = "" }), ErrMissingParam, []string{"Code", "invite", "pl"}, ""},
		{"every missing param listed", TemplateInvite, LangEnglish, Params{SchoolName: "Oak"}, ErrMissingParam, []string{"ChildFirstName, Code, Link"}, ""},
		{"blank counts as missing", TemplateAward, LangEnglish, with(func(p *Params) { p.TeacherName = "  " }), ErrMissingParam, []string{"TeacherName"}, ""},
		{"zero close date", TemplateInactivityNotice, LangEnglish, with(func(p *Params) { p.CloseDate = time.Time{} }), ErrMissingParam, []string{"CloseDate"}, ""},
		{"javascript link", TemplatePasswordReset, LangEnglish, with(func(p *Params) { p.Link = "javascript:alert(1)" }), ErrInvalidParam, []string{"Link"}, "alert(1)"},
		{"relative link", TemplateExportReady, LangEnglish, with(func(p *Params) { p.Link = "/exports/123" }), ErrInvalidParam, []string{"Link"}, "/exports/123"},
		{"control characters", TemplateActivitySet, LangEnglish, with(func(p *Params) { p.ChildFirstName = "Sam\nPlease call 07700900123" }), ErrInvalidParam, []string{"ChildFirstName"}, "07700900123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Render(tt.tmpl, tt.lang, tt.p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if tt.mustNotLeak != "" && strings.Contains(err.Error(), tt.mustNotLeak) {
				t.Errorf("error %q leaks the parameter value", err)
			}
		})
	}
}

func TestUnusedParamsAreIgnored(t *testing.T) {
	c := MustCatalog()
	// account_closed needs nothing; a bad unused link must not fail it.
	if _, err := c.Render(TemplateAccountClosed, LangEnglish, Params{Link: "not a url"}); err != nil {
		t.Fatal(err)
	}
}

func TestRenderOrEnglish(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	tests := []struct {
		tag  string
		want Language
	}{
		{"cy", LangWelsh}, {"cy-GB", LangWelsh}, {"PL", LangPolish}, {"ar_EG", LangArabic},
		{"fr", LangEnglish}, {"", LangEnglish}, {"zz-unknown", LangEnglish},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			r, err := c.RenderOrEnglish(TemplateInvite, tt.tag, p)
			if err != nil {
				t.Fatal(err)
			}
			if r.Language != tt.want {
				t.Errorf("language %s, want %s", r.Language, tt.want)
			}
		})
	}
	if _, err := c.RenderOrEnglish("nope", "fr", p); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("unknown template with fallback: err = %v", err)
	}
	if _, err := c.RenderOrEnglish(TemplateInvite, "fr", Params{}); !errors.Is(err, ErrMissingParam) {
		t.Errorf("missing params with fallback: err = %v", err)
	}
}

func TestMatchLanguage(t *testing.T) {
	tests := []struct {
		tag  string
		want Language
		ok   bool
	}{
		{"en", LangEnglish, true}, {"EN-gb", LangEnglish, true}, {" ur ", LangUrdu, true},
		{"es_419", LangSpanish, true}, {"ro-RO", LangRomanian, true},
		{"fr", "fr", false}, {"", "", false}, {"english", "english", false},
	}
	for _, tt := range tests {
		got, ok := MatchLanguage(tt.tag)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MatchLanguage(%q) = %q, %v; want %q, %v", tt.tag, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEmailHTMLEscapesParams(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	p.SchoolName = `<script>alert("x")</script> & Co`
	p.Link = `https://join.hometime.example/i/K7?x="><img src=x onerror=alert(1)>`
	r, err := c.Render(TemplateInvite, LangEnglish, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", `"><img`, "<img"} {
		if strings.Contains(r.EmailHTML, bad) {
			t.Errorf("HTML contains %q:\n%s", bad, r.EmailHTML)
		}
	}
	if !strings.Contains(r.EmailHTML, "&lt;script&gt;") {
		t.Errorf("school name not escaped as text:\n%s", r.EmailHTML)
	}
	// Plain-text parts are not HTML and carry the value as written.
	if !strings.Contains(r.EmailText, p.SchoolName) || !strings.Contains(r.SMSBody, p.SchoolName) {
		t.Errorf("text parts altered the school name")
	}
}

func TestEmailLayout(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	tests := []struct {
		tmpl     Template
		lang     Language
		dir      string
		greeting string
		signoff  string
		action   string // "" = no link in the email
	}{
		{TemplateInvite, LangEnglish, "ltr", "Hello,", "The Hometime team", "Join Hometime"},
		{TemplatePasswordReset, LangWelsh, "ltr", "Helo,", "Tîm Hometime", "Ailosod cyfrinair"},
		{TemplateExportReady, LangArabic, "rtl", "مرحباً،", "فريق Hometime", "تنزيل بياناتك"},
		{TemplateInactivityNotice, LangUrdu, "rtl", "السلام علیکم،", "Hometime ٹیم", "Hometime میں سائن ان کریں"},
		{TemplateActivitySet, LangEnglish, "ltr", "Hello,", "The Hometime team", ""},
		{TemplateAccountClosed, LangPolish, "ltr", "Dzień dobry,", "Zespół Hometime", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+"/"+string(tt.tmpl), func(t *testing.T) {
			r, err := c.Render(tt.tmpl, tt.lang, p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.EmailText, tt.greeting+"\n\n") || !strings.HasSuffix(r.EmailText, "\n\n"+tt.signoff+"\n") {
				t.Errorf("text email not framed by greeting and sign-off:\n%s", r.EmailText)
			}
			if want := `<html lang="` + string(tt.lang) + `" dir="` + tt.dir + `">`; !strings.Contains(r.EmailHTML, want) {
				t.Errorf("HTML lacks %s", want)
			}
			if strings.Count(r.EmailHTML, "<p>") < 3 {
				t.Errorf("HTML should have greeting, paragraphs and sign-off:\n%s", r.EmailHTML)
			}
			if tt.action == "" {
				if strings.Contains(r.EmailText, p.Link) || strings.Contains(r.EmailHTML, "<a ") {
					t.Errorf("email without an action has a link")
				}
				return
			}
			if !strings.Contains(r.EmailText, "\n\n"+tt.action+": "+p.Link+"\n\n") {
				t.Errorf("text email lacks %q line:\n%s", tt.action+": "+p.Link, r.EmailText)
			}
			if !strings.Contains(r.EmailHTML, `<a href="`+p.Link+`"`) || !strings.Contains(r.EmailHTML, ">"+tt.action+"</a>") {
				t.Errorf("HTML lacks the %q button:\n%s", tt.action, r.EmailHTML)
			}
		})
	}
}

func TestCloseDateIsLocalised(t *testing.T) {
	c := MustCatalog()
	p := longestParams(t)
	// 23:30 UTC on 31 March is already 1 April in London: the date shown is
	// the one in the location the caller chose.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	p.CloseDate = time.Date(2026, time.March, 31, 23, 30, 0, 0, time.UTC).In(london)
	tests := []struct {
		lang Language
		want string
	}{
		{LangEnglish, "1 April 2026"},
		{LangWelsh, "1 Ebrill 2026"},
		{LangPolish, "1 kwietnia 2026"},
		{LangUrdu, "1 اپریل 2026"},
		{LangSpanish, "1 de abril de 2026"},
		{LangRomanian, "1 aprilie 2026"},
		{LangArabic, "1 أبريل 2026"},
	}
	for _, tt := range tests {
		r, err := c.Render(TemplateInactivityNotice, tt.lang, p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.SMSBody, tt.want) || !strings.Contains(r.EmailSubject, tt.want) {
			t.Errorf("%s: want %q in SMS %q and subject %q", tt.lang, tt.want, r.SMSBody, r.EmailSubject)
		}
	}
}

func TestRequired(t *testing.T) {
	c := MustCatalog()
	tests := []struct {
		tmpl Template
		want []string
	}{
		{TemplateInvite, []string{ParamChildFirstName, ParamCode, ParamLink, ParamSchoolName}},
		{TemplateTeacherReply, []string{ParamChildFirstName, ParamTeacherName}},
		{TemplateInactivityNotice, []string{ParamCloseDate, ParamLink}},
		{TemplateAccountClosed, nil},
	}
	for _, tt := range tests {
		got, err := c.Required(tt.tmpl)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Required(%s) = %v, %v; want %v", tt.tmpl, got, err, tt.want)
		}
	}
	if _, err := c.Required("nope"); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("Required(unknown) err = %v", err)
	}
}

func TestCompileRejectsUnsafeTranslations(t *testing.T) {
	ok := message{SMS: "s", Subject: "s", Body: "b", PushTitle: "t", PushBody: "b"}
	with := func(f func(*message)) message { m := ok; f(&m); return m }
	tests := []struct {
		name string
		m    message
	}{
		{"unknown parameter", with(func(m *message) { m.SMS = "Hi {{.ParentName}}" })},
		{"conditional hides a parameter", with(func(m *message) { m.Body = "{{if .Code}}Code {{.Code}}{{end}}" })},
		{"pipeline", with(func(m *message) { m.PushBody = "{{.Code | printf \"%q\"}}" })},
		{"nested field", with(func(m *message) { m.Subject = "{{.Link.Host}}" })},
		{"syntax error", with(func(m *message) { m.SMS = "{{.Code" })},
		{"empty part", with(func(m *message) { m.PushTitle = " " })},
		{"templated action", with(func(m *message) { m.Action = "Join {{.SchoolName}}" })},
	}
	if _, err := compileMessage(TemplateInvite, LangEnglish, ok); err != nil {
		t.Fatalf("plain message rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := compileMessage(TemplateInvite, LangEnglish, tt.m); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestRenderedAddressesMessages(t *testing.T) {
	r := Rendered{Template: TemplatePasswordReset, Language: LangEnglish, SMSBody: "sms",
		EmailSubject: "subj", EmailText: "text", EmailHTML: "<p>html</p>", PushTitle: "pt", PushBody: "pb"}
	if got, want := r.SMS("m1", "+447700900123"), (SMS{Ref: "m1", To: "+447700900123", Body: "sms"}); got != want {
		t.Errorf("SMS = %+v", got)
	}
	e := r.Email("m2", "a@example.org")
	if e.Ref != "m2" || e.To != "a@example.org" || e.Subject != "subj" || e.Text != "text" || e.HTML != "<p>html</p>" || e.Category != "password_reset" {
		t.Errorf("Email = %+v", e)
	}
	p := r.Push("m3", "tok", map[string]string{"messageId": "m3"})
	if p.Ref != "m3" || p.Token != "tok" || p.Title != "pt" || p.Body != "pb" || p.Data["messageId"] != "m3" {
		t.Errorf("Push = %+v", p)
	}
}

func TestLanguageMetadata(t *testing.T) {
	for _, lang := range Languages() {
		if lang.NativeName() == "" {
			t.Errorf("%s has no native name", lang)
		}
		if got, want := lang.RightToLeft(), lang == LangArabic || lang == LangUrdu; got != want {
			t.Errorf("%s RightToLeft = %v", lang, got)
		}
	}
}

func TestRenderForFillsOnlyItsChannel(t *testing.T) {
	t.Parallel()
	c := MustCatalog()
	p := longestParams(t)
	for _, tmpl := range Templates() {
		for _, tag := range []string{"en", "cy-GB", "ar", "fr"} {
			all, err := c.RenderOrEnglish(tmpl, tag, p)
			if err != nil {
				t.Fatalf("%s %s: %v", tmpl, tag, err)
			}
			sms, err := c.RenderFor(ChannelSMS, tmpl, tag, p)
			if err != nil {
				t.Fatalf("%s %s sms: %v", tmpl, tag, err)
			}
			if want := (Rendered{Template: tmpl, Language: all.Language, SMSBody: all.SMSBody}); sms != want {
				t.Fatalf("%s %s: RenderFor(sms) = %+v, want %+v", tmpl, tag, sms, want)
			}
			push, err := c.RenderFor(ChannelPush, tmpl, tag, p)
			if err != nil {
				t.Fatalf("%s %s push: %v", tmpl, tag, err)
			}
			if want := (Rendered{Template: tmpl, Language: all.Language, PushTitle: all.PushTitle, PushBody: all.PushBody}); push != want {
				t.Fatalf("%s %s: RenderFor(push) = %+v, want %+v", tmpl, tag, push, want)
			}
			email, err := c.RenderFor(ChannelEmail, tmpl, tag, p)
			if err != nil {
				t.Fatalf("%s %s email: %v", tmpl, tag, err)
			}
			all.SMSBody, all.PushTitle, all.PushBody = "", "", ""
			if email != all {
				t.Fatalf("%s %s: RenderFor(email) = %+v, want the email parts of %+v", tmpl, tag, email, all)
			}
		}
	}
	// A parameter only the email uses is still required of an SMS.
	if _, err := c.RenderFor(ChannelSMS, TemplateInvite, "en", Params{SchoolName: "Oak"}); !errors.Is(err, ErrMissingParam) {
		t.Fatalf("missing params: err = %v, want ErrMissingParam", err)
	}
	if _, err := c.RenderFor(ChannelSMS, Template("nope"), "en", p); !errors.Is(err, ErrUnknownTemplate) {
		t.Fatalf("unknown template: err = %v, want ErrUnknownTemplate", err)
	}
}

package notify

import (
	"fmt"
	"strings"
	"time"
)

// Language is a supported message language as an ISO 639-1 code.
type Language string

// The languages system templates are written in: every template exists in
// each of these seven.
const (
	LangEnglish  Language = "en"
	LangWelsh    Language = "cy"
	LangPolish   Language = "pl"
	LangUrdu     Language = "ur"
	LangSpanish  Language = "es"
	LangRomanian Language = "ro"
	LangArabic   Language = "ar"
)

// Languages lists the supported languages, English first.
func Languages() []Language {
	return []Language{LangEnglish, LangWelsh, LangPolish, LangUrdu, LangSpanish, LangRomanian, LangArabic}
}

// MatchLanguage maps a language tag as stored or sent by a device ("cy",
// "cy-GB", "pl_PL", "EN") to a supported language, by its primary subtag.
func MatchLanguage(tag string) (Language, bool) {
	primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	primary, _, _ = strings.Cut(primary, "_")
	lang := Language(strings.ToLower(primary))
	_, ok := languages[lang]
	return lang, ok
}

// NativeName is the language's name in itself ("Cymraeg"), for pickers.
func (l Language) NativeName() string { return languages[l].name }

// RightToLeft reports whether the language is written right to left.
func (l Language) RightToLeft() bool { return languages[l].rtl }

func joinLanguages() string {
	var names []string
	for _, l := range Languages() {
		names = append(names, string(l))
	}
	return strings.Join(names, ", ")
}

// language is everything a translator provides for one language.
type language struct {
	name     string
	rtl      bool
	greeting string // opens every email
	signoff  string // closes every email
	months   [12]string
	// dateFormat lays out day, month name and year (fmt verbs %[1]d %[2]s
	// %[3]d), in the form used after "on" / "before" in the templates.
	dateFormat string
	messages   map[Template]message
}

func (l language) formatDate(t time.Time) string {
	y, m, d := t.Date()
	return fmt.Sprintf(l.dateFormat, d, l.months[m-1], y)
}

// languages is the immutable table of translations, one file per language.
var languages = map[Language]language{
	LangEnglish:  english,
	LangWelsh:    welsh,
	LangPolish:   polish,
	LangUrdu:     urdu,
	LangSpanish:  spanish,
	LangRomanian: romanian,
	LangArabic:   arabic,
}

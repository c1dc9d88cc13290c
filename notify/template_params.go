package notify

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Parameter names, as written in templates ({{.SchoolName}}) and reported
// by Catalog.Required and in errors.
const (
	ParamSchoolName     = "SchoolName"
	ParamChildFirstName = "ChildFirstName"
	ParamTeacherName    = "TeacherName"
	ParamActivityTitle  = "ActivityTitle"
	ParamCode           = "Code"
	ParamLink           = "Link"
	ParamCloseDate      = "CloseDate"
	ParamClassName      = "ClassName"
	ParamMessageBody    = "MessageBody"
	ParamItemCount      = "ItemCount"
)

// Params are the values a template may substitute. Each template uses some
// of them (Catalog.Required); the rest are ignored. Values are trimmed, and
// a blank value counts as missing.
type Params struct {
	SchoolName     string
	ChildFirstName string
	TeacherName    string // as the teacher presents themself, e.g. "Mrs Khan"
	ActivityTitle  string
	Code           string // invite code
	Link           string // absolute http(s) URL: join, sign-in, reset or download link
	// CloseDate is the day an inactive account closes. Only its calendar
	// date is shown, read in its own location: pass it In the school's zone.
	CloseDate time.Time
	ClassName string // a class's name, e.g. "Robins"
	// MessageBody is a staff member's message: plain text, line breaks allowed.
	MessageBody string
	// ItemCount is how many messages a digest sums up (0: not given).
	ItemCount int
}

// knownParam reports whether name is a field templates may use.
func knownParam(name string) bool {
	switch name {
	case ParamSchoolName, ParamChildFirstName, ParamTeacherName, ParamActivityTitle,
		ParamCode, ParamLink, ParamCloseDate, ParamItemCount, ParamClassName, ParamMessageBody:
		return true
	}
	return false
}

// values returns the required parameters as template input, formatted for
// lang. It reports every missing parameter at once, by name only.
func (p Params) values(lang Language, required []string) (map[string]string, error) {
	all := map[string]string{
		ParamSchoolName:     strings.TrimSpace(p.SchoolName),
		ParamChildFirstName: strings.TrimSpace(p.ChildFirstName),
		ParamTeacherName:    strings.TrimSpace(p.TeacherName),
		ParamActivityTitle:  strings.TrimSpace(p.ActivityTitle),
		ParamCode:           strings.TrimSpace(p.Code),
		ParamLink:           strings.TrimSpace(p.Link),
		ParamClassName:      strings.TrimSpace(p.ClassName),
		ParamMessageBody:    strings.TrimSpace(p.MessageBody),
	}
	if p.ItemCount > 0 {
		all[ParamItemCount] = strconv.Itoa(p.ItemCount)
	}
	if !p.CloseDate.IsZero() {
		all[ParamCloseDate] = languages[lang].formatDate(p.CloseDate)
	}
	vals := make(map[string]string, len(required))
	var missing []string
	for _, name := range required {
		v := all[name]
		if v == "" {
			missing = append(missing, name)
			continue
		}
		if err := checkParam(name, v); err != nil {
			return nil, err
		}
		vals[name] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMissingParam, strings.Join(missing, ", "))
	}
	return vals, nil
}

// checkParam rejects values that would break a message's layout or send
// someone somewhere unsafe. The value itself stays out of the error.
func checkParam(name, v string) error {
	control := unicode.IsControl
	if name == ParamMessageBody {
		control = func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }
	}
	if strings.ContainsFunc(v, control) {
		return fmt.Errorf("%w: %s contains control characters", ErrInvalidParam, name)
	}
	if name == ParamLink {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w: %s must be an absolute http(s) URL", ErrInvalidParam, name)
		}
	}
	return nil
}

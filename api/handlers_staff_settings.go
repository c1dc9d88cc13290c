package api

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Staff settings: a staff member's own working hours (pushes about
// families' messages and submissions reach them only inside these, in the
// school's time zone) and whether they get the daily email digest.

type workingHoursDTO struct {
	Start string   `json:"start"` // "07:30"
	End   string   `json:"end"`   // "18:00"
	Days  []string `json:"days"`  // "mon" … "sun"
}

type staffSettingsDTO struct {
	WorkingHours workingHoursDTO `json:"working_hours"`
	EmailDigest  bool            `json:"email_digest"`
}

// weekdayNames are the JSON names of the days, in time.Weekday order.
var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func toStaffSettingsDTO(st *content.Staff) staffSettingsDTO {
	w := content.WorkingHoursOf(st)
	out := staffSettingsDTO{EmailDigest: !st.DigestOff, WorkingHours: workingHoursDTO{
		Start: clockText(w.StartMinute), End: clockText(w.EndMinute), Days: []string{}}}
	// Monday first, as a week reads at school.
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if slices.Contains(w.Days, d) {
			out.WorkingHours.Days = append(out.WorkingHours.Days, weekdayNames[d])
		}
	}
	return out
}

func clockText(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClockText reads "HH:MM" (24-hour) as minutes after midnight.
func parseClockText(v string) (int, bool) {
	if len(v) != 5 || v[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(v[:2])
	m, err2 := strconv.Atoi(v[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

func (s *server) getStaffSettings() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(toStaffSettingsDTO(principal(c).Staff))
	}
}

// putStaffSettings replaces both settings; every field is required, and
// working hours must start before they end on at least one day.
func (s *server) putStaffSettings() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req struct {
			WorkingHours *struct {
				Start *string  `json:"start"`
				End   *string  `json:"end"`
				Days  []string `json:"days"`
			} `json:"working_hours"`
			EmailDigest *bool `json:"email_digest"`
		}
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		if req.EmailDigest == nil {
			fe.Add("email_digest", "required: true or false")
		}
		var hours content.WorkingHours
		if w := req.WorkingHours; w == nil {
			fe.Add("working_hours", "required")
		} else {
			start, okStart := 0, false
			if w.Start == nil {
				fe.Add("working_hours.start", "required")
			} else if start, okStart = parseClockText(*w.Start); !okStart {
				fe.Add("working_hours.start", "must be a 24-hour time HH:MM")
			}
			end, okEnd := 0, false
			if w.End == nil {
				fe.Add("working_hours.end", "required")
			} else if end, okEnd = parseClockText(*w.End); !okEnd {
				fe.Add("working_hours.end", "must be a 24-hour time HH:MM")
			}
			if okStart && okEnd && end <= start {
				fe.Add("working_hours.end", "must be after the start")
			}
			if len(w.Days) == 0 {
				fe.Add("working_hours.days", "required: at least one of mon, tue, wed, thu, fri, sat, sun")
			}
			for _, d := range w.Days {
				i := slices.Index(weekdayNames, d)
				if i < 0 {
					fe.Add("working_hours.days", "must each be one of mon, tue, wed, thu, fri, sat, sun")
					break
				}
				if slices.Contains(hours.Days, time.Weekday(i)) {
					fe.Add("working_hours.days", "must not repeat a day")
					break
				}
				hours.Days = append(hours.Days, time.Weekday(i))
			}
			hours.StartMinute, hours.EndMinute = start, end
		}
		if err := fe.Err(); err != nil {
			return err
		}
		slices.Sort(hours.Days)
		st := *principal(c).Staff
		if err := s.StaffSettings.SetStaffSettings(c.UserContext(), st.ID, &hours, !*req.EmailDigest); err != nil {
			return err
		}
		st.WorkingHours, st.DigestOff = &hours, !*req.EmailDigest
		return c.JSON(toStaffSettingsDTO(&st))
	}
}

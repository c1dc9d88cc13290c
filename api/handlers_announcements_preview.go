package api

import (
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// The preview is a dry run of an announcement: the same body and checks as
// creating one, and nothing stored or queued. It answers who would be
// reached on which channel, in which language, what the SMS would cost per
// language, and whether the school's SMS budget left this month covers it
// (the budget is applied again at send, message by message).

type previewLanguageDTO struct {
	Language    string `json:"language"`
	Recipients  int    `json:"recipients"`
	SMS         int    `json:"sms"`
	Email       int    `json:"email"`
	Push        int    `json:"push"`
	SMSSegments int    `json:"sms_segments"`
	SMSEncoding string `json:"sms_encoding"`
	// SMSFullText is false when the SMS carries the title and a link
	// instead of the whole text.
	SMSFullText  bool  `json:"sms_full_text"`
	SMSCostPence int64 `json:"sms_cost_pence"`
}

type previewChannelsDTO struct {
	SMS   int `json:"sms"`
	Email int `json:"email"`
	Push  int `json:"push"`
}

type announcementPreviewDTO struct {
	Recipients  int                  `json:"recipients"`
	Unreachable int                  `json:"unreachable"`
	Channels    previewChannelsDTO   `json:"channels"`
	Languages   []previewLanguageDTO `json:"languages"`
	// SMS cost of the whole send, and the school's budget this month.
	SMSCostPence    int64 `json:"sms_cost_pence"`
	SMSPricePence   int64 `json:"sms_price_pence"`
	SMSBudgetPence  int64 `json:"sms_budget_pence"`
	SMSSpentPence   int64 `json:"sms_spent_pence"`
	SMSBudgetCovers bool  `json:"sms_budget_covers"`
}

func (s *server) previewAnnouncement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		a, err := s.readAnnouncement(c, sc)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		out := announcementPreviewDTO{Languages: []previewLanguageDTO{}, SMSPricePence: int64(s.SMSPrice),
			SMSBudgetPence: sc.SMSBudgetPence}
		byLang := map[string]*previewLanguageDTO{}
		count := func(pc content.ParentContact) {
			if pc.State == content.ParentClosed || pc.State == content.ParentErased {
				return
			}
			lang := pc.Language
			if l := pc.Prefs[content.CategoryNews].Language; l != "" {
				lang = l
			}
			_, _, lang = a.Version(lang)
			mobile := false
			if pc.Phone != "" {
				_, mobile, _ = s.Phones.Normalize(pc.Phone, sc.Country)
			}
			ch := previewChannel(pc, mobile)
			if ch == "" {
				out.Unreachable++
				return
			}
			l := byLang[lang]
			if l == nil {
				l = &previewLanguageDTO{Language: lang}
				byLang[lang] = l
			}
			out.Recipients++
			l.Recipients++
			switch ch {
			case notify.ChannelSMS:
				l.SMS++
				out.Channels.SMS++
			case notify.ChannelEmail:
				l.Email++
				out.Channels.Email++
			case notify.ChannelPush:
				l.Push++
				out.Channels.Push++
			}
		}
		if err := s.eachAnnouncementParent(c, sc, a, count); err != nil {
			return err
		}
		for _, lang := range a.Languages() {
			l := byLang[lang]
			if l == nil {
				continue
			}
			title, body, _ := a.Version(lang)
			// The link's length is what counts: any token of this shape.
			link := s.announcementLink("ann_xxxxxxxxxxxxxxxx", lang, a.SendAt.Add(content.AnnouncementLinkTTL))
			sms, full := notify.AnnouncementSMS(notify.Announcement{SchoolName: sc.Name, Title: title, Body: body, Link: link})
			seg := notify.CountSegments(sms)
			l.SMSSegments, l.SMSEncoding, l.SMSFullText = seg.Segments, string(seg.Encoding), full
			l.SMSCostPence = int64(l.SMS) * s.SMSPrice.Cost(seg.Segments)
			out.SMSCostPence += l.SMSCostPence
			out.Languages = append(out.Languages, *l)
		}
		loc, err := time.LoadLocation(sc.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		m, err := s.Budgets.SMSBudgetMonth(ctx, sc.ID, a.SendAt.In(loc).Format("2006-01"))
		if err != nil {
			return err
		}
		out.SMSSpentPence = m.SpentPence
		out.SMSBudgetCovers = out.SMSSpentPence+out.SMSCostPence <= sc.SMSBudgetPence
		return c.JSON(out)
	}
}

// eachAnnouncementParent hands fn every parent an announcement would reach
// now, once each: linked to a child on the school's roll (in the
// audience's classes, when it names classes or year groups).
func (s *server) eachAnnouncementParent(c *fiber.Ctx, sc *content.School, a *content.Announcement, fn func(content.ParentContact)) error {
	ctx := c.UserContext()
	aud := a.Audience
	if aud.WholeSchool {
		return s.Roster.EachParentOfSchool(ctx, sc.ID, func(pc content.ParentContact) error { fn(pc); return nil })
	}
	classIDs := slices.Clone(aud.ClassIDs)
	if len(aud.YearGroups) > 0 {
		classes, err := s.Roster.ClassesOfSchool(ctx, sc.ID)
		if err != nil {
			return err
		}
		for _, cl := range classes {
			if slices.Contains(aud.YearGroups, cl.YearGroup) {
				classIDs = append(classIDs, cl.ID)
			}
		}
	}
	ids := slices.Clone(aud.ParentIDs)
	for _, id := range classIDs {
		kids, err := s.Roster.ChildrenOfClass(ctx, id)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if k.SchoolID != sc.ID || k.SchoolLink.State != content.LinkLinked {
				continue
			}
			for _, l := range k.Parents {
				if l.State == content.LinkLinked {
					ids = append(ids, l.ParentID)
				}
			}
		}
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		p, err := s.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if !linkedAt(p, sc.ID) {
			continue
		}
		fn(content.ParentContact{ID: p.ID, Phone: p.Phone, Email: p.Email, Language: p.Language, State: p.State,
			Devices: len(p.Devices), Prefs: p.Preferences})
	}
	return nil
}

// previewChannel is how the worker's expansion picks a parent's channel for
// a news message: their preference for news when it can be honoured ("none"
// sends nothing), else push with the app, else SMS to a mobile, else email.
// The worker decides again at send time; this is the estimate.
func previewChannel(p content.ParentContact, mobile bool) notify.Channel {
	switch p.Prefs[content.CategoryNews].Channel {
	case content.ChannelNone:
		return ""
	case content.ChannelPush:
		if p.Devices > 0 {
			return notify.ChannelPush
		}
	case content.ChannelSMS:
		if mobile {
			return notify.ChannelSMS
		}
	case content.ChannelEmail:
		if p.Email != "" {
			return notify.ChannelEmail
		}
	}
	switch {
	case p.Devices > 0:
		return notify.ChannelPush
	case mobile:
		return notify.ChannelSMS
	case p.Email != "":
		return notify.ChannelEmail
	}
	return ""
}

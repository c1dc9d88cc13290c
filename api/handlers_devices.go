package api

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Push devices and notification preferences: a parent's own, kept on the
// parent document. A device is named by the keyed hash of its token; the
// token is never in a URL, a response or a log.

type deviceRequest struct {
	Platform string `json:"platform"`
	Token    string `json:"token"`
}

type deviceDTO struct {
	ID       string    `json:"id"`
	Platform string    `json:"platform"`
	LastSeen time.Time `json:"last_seen"`
}

// registerDevice registers or refreshes the caller's push token: a
// parent's on the parent, a staff member's on the staff member (the staff
// app gets pushes about families' messages and submissions). The same
// token again refreshes it (200); a token another account registered on
// the same phone moves to the caller.
func (s *server) registerDevice() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req deviceRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		platform := content.Platform(req.Platform)
		if platform != content.PlatformIOS && platform != content.PlatformAndroid {
			fe.Add("platform", "must be ios or android")
		}
		switch {
		case req.Token == "":
			fe.Add("token", "required")
		case len(req.Token) > content.DeviceTokenMax:
			fe.Add("token", "too long")
		case strings.ContainsFunc(req.Token, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
			fe.Add("token", "must be a push token")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		p := principal(c)
		now := s.Clock.Now()
		d := content.Device{ID: content.DeviceID(s.HashKey, req.Token), Platform: platform, Token: req.Token,
			LastSeen: now, Created: now}
		status := fiber.StatusCreated
		if slices.ContainsFunc(devicesOf(p), func(x content.Device) bool { return x.ID == d.ID }) {
			status = fiber.StatusOK
		}
		var err error
		if p.Staff != nil {
			err = s.StaffSettings.PutStaffDevice(c.UserContext(), p.ID(), d)
		} else {
			err = s.Devices.PutDevice(c.UserContext(), p.ID(), d)
		}
		if err != nil {
			return err
		}
		return c.Status(status).JSON(deviceDTO{ID: d.ID, Platform: string(d.Platform), LastSeen: now})
	}
}

// devicesOf is the signed-in account's devices, parent or staff.
func devicesOf(p *content.Principal) []content.Device {
	if p.Staff != nil {
		return p.Staff.Devices
	}
	return p.Parent.Devices
}

func (s *server) removeDevice() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		id := c.Params("deviceId")
		if !slices.ContainsFunc(devicesOf(p), func(x content.Device) bool { return x.ID == id }) {
			return content.Errorf(content.CodeNotFound, "no such device")
		}
		var err error
		if p.Staff != nil {
			err = s.StaffSettings.RemoveStaffDevice(c.UserContext(), p.ID(), id)
		} else {
			err = s.Devices.RemoveDevice(c.UserContext(), p.ID(), id)
		}
		if err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// Channel values in JSON: "auto" is the default (push when the app is
// installed, else SMS to a mobile, else email).
const channelAutoJSON = "auto"

type preferenceDTO struct {
	Channel  string  `json:"channel"`
	Language *string `json:"language"`
}

type preferencesDTO struct {
	Activities preferenceDTO `json:"activities"`
	Replies    preferenceDTO `json:"replies"`
	Awards     preferenceDTO `json:"awards"`
	News       preferenceDTO `json:"news"`
	// Digest: non-urgent pushes wait for one daily summary push.
	Digest bool `json:"digest"`
}

func (d *preferencesDTO) byCategory() map[string]*preferenceDTO {
	return map[string]*preferenceDTO{content.CategoryActivities: &d.Activities, content.CategoryReplies: &d.Replies,
		content.CategoryAwards: &d.Awards, content.CategoryNews: &d.News}
}

func toPreferencesDTO(prefs map[string]content.ChannelPreference, digest bool) preferencesDTO {
	out := preferencesDTO{Digest: digest}
	for cat, d := range out.byCategory() {
		p := prefs[cat]
		d.Channel = p.Channel
		if d.Channel == content.ChannelAuto {
			d.Channel = channelAutoJSON
		}
		if p.Language != "" {
			lang := p.Language
			d.Language = &lang
		}
	}
	return out
}

func (s *server) getPreferences() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c).Parent
		return c.JSON(toPreferencesDTO(p.Preferences, p.Digest))
	}
}

// putPreferences replaces every category's preference. SMS needs a mobile
// number and email an address on the account, so a choice that could
// never be honoured is refused rather than silently ignored. The digest
// needs content.DigestMinChildren linked children (it bundles what is
// sent about several); left out, it stays as it is, so an app that does
// not know it yet never turns it off.
func (s *server) putPreferences() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req struct {
			Activities *preferenceDTO `json:"activities"`
			Replies    *preferenceDTO `json:"replies"`
			Awards     *preferenceDTO `json:"awards"`
			News       *preferenceDTO `json:"news"`
			Digest     *bool          `json:"digest"`
		}
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p := principal(c).Parent
		fe := content.FieldErrors{}
		prefs := map[string]content.ChannelPreference{}
		for cat, d := range map[string]*preferenceDTO{content.CategoryActivities: req.Activities,
			content.CategoryReplies: req.Replies, content.CategoryAwards: req.Awards, content.CategoryNews: req.News} {
			if d == nil {
				fe.Add(cat, "required")
				continue
			}
			var cp content.ChannelPreference
			switch d.Channel {
			case channelAutoJSON:
			case content.ChannelPush, content.ChannelNone:
				cp.Channel = d.Channel
			case content.ChannelSMS:
				if p.Phone == "" {
					fe.Add(cat+".channel", "add a mobile number to your account first")
				}
				cp.Channel = d.Channel
			case content.ChannelEmail:
				if p.Email == "" {
					fe.Add(cat+".channel", "add an email address to your account first")
				}
				cp.Channel = d.Channel
			default:
				fe.Add(cat+".channel", "must be one of auto, push, sms, email, none")
			}
			if d.Language != nil {
				if !slices.Contains(content.MessageLanguages, *d.Language) {
					fe.Add(cat+".language", "must be one of "+strings.Join(content.MessageLanguages, ", ")+", or null")
				}
				cp.Language = *d.Language
			}
			if cp != (content.ChannelPreference{}) {
				prefs[cat] = cp
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		digest := p.Digest
		if req.Digest != nil {
			digest = *req.Digest
		}
		if req.Digest != nil && *req.Digest && p.LinkedChildren() < content.DigestMinChildren {
			return &content.Error{Code: content.CodeUnprocessable, Message: "the daily digest is for families with several children",
				Fields: map[string]string{"digest": fmt.Sprintf("needs at least %d linked children", content.DigestMinChildren)}}
		}
		if err := s.Devices.SetPreferences(c.UserContext(), p.ID, prefs, digest); err != nil {
			return err
		}
		return c.JSON(toPreferencesDTO(prefs, digest))
	}
}

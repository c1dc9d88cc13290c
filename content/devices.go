package content

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Platform is the operating system a push token belongs to.
type Platform string

const (
	PlatformIOS     Platform = "ios"
	PlatformAndroid Platform = "android"
)

// Platforms lists every push platform.
var Platforms = []Platform{PlatformIOS, PlatformAndroid}

// DeviceTokenMax bounds a push token's length (FCM tokens are ~160 bytes).
const DeviceTokenMax = 4096

// DeviceStaleAfter is how long a token may go without a refresh from the
// app before it is dropped: the app refreshes on every start.
const DeviceStaleAfter = 270 * 24 * time.Hour

// Device is one app installation that can receive push messages.
type Device struct {
	ID       string // DeviceID of the token: never the token itself
	Platform Platform
	Token    string
	LastSeen time.Time
	Created  time.Time
}

// DeviceID names a token by its keyed hash, so URLs, logs and the owner
// index never hold the token.
func DeviceID(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("device-token\x00"))
	m.Write([]byte(token))
	return "dev_" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Notification categories a parent sets preferences for. Account messages
// (password reset, inactivity notice, closure, export ready) and invites
// are not among them: they always go, by the channel they need.
const (
	CategoryActivities = "activities"
	CategoryReplies    = "replies"
	CategoryAwards     = "awards"
	CategoryNews       = "news"
)

// CategoryAccount is the category of account messages (and of the notice
// that a child left the school): not a preference, they always go.
const CategoryAccount = "account"

// PreferenceCategories lists the categories in the order settings show them.
var PreferenceCategories = []string{CategoryActivities, CategoryReplies, CategoryAwards, CategoryNews}

// Channel preference values. ChannelAuto ("") is the default: push when
// the parent has the app, else SMS to a mobile, else email.
const (
	ChannelAuto  = ""
	ChannelPush  = "push"
	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelNone  = "none" // no message for the category; the feed still shows it
)

// MessageLanguages are the languages system messages are written in.
var MessageLanguages = []string{"en", "cy", "pl", "ur", "es", "ro", "ar"}

// ChannelPreference is how a parent wants one category of message.
type ChannelPreference struct {
	Channel  string // one of the Channel values
	Language string // one of MessageLanguages, or "" for the parent's language
}

// Devices keeps parents' push tokens on the parent document, with an owner
// index by device ID so a token moves when another parent signs in on the
// same phone. Every write is by _id.
type Devices interface {
	// PutDevice registers or refreshes d for the parent, taking it from any
	// other parent that had it. A parent keeps at most MaxDevicesPerParent:
	// beyond that the least recently seen others are dropped.
	PutDevice(ctx context.Context, parentID string, d Device) error
	// RemoveDevice drops the parent's device; CodeNotFound if the parent
	// has no such device.
	RemoveDevice(ctx context.Context, parentID, deviceID string) error
	// DropStaleDevices removes every device last seen before cutoff and
	// returns how many went.
	DropStaleDevices(ctx context.Context, cutoff time.Time) (int, error)
	// SetPreferences replaces the parent's notification preferences and
	// digest choice.
	SetPreferences(ctx context.Context, parentID string, prefs map[string]ChannelPreference, digest bool) error
}

// MessageLanguage is the language a message of the category should be
// written in for this parent: the category's preference when set, else the
// account's language. Senders render with it.
func (p *Parent) MessageLanguage(category string) string {
	if l := p.Preferences[category].Language; l != "" {
		return l
	}
	return p.Language
}

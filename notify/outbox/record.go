package outbox

import (
	"maps"
	"time"

	"github.com/hometime-edu/hometime/notify"
)

// Record is one recorded message: one JSON line in DIR/<channel>.jsonl and
// one entry of Recent. It holds what the provider would have received.
type Record struct {
	Channel    notify.Channel `json:"channel"`
	Ref        string         `json:"ref"`
	ProviderID string         `json:"provider_id"`
	At         time.Time      `json:"at"`

	To   string `json:"to"`             // E.164 number, email address or device token
	From string `json:"from,omitempty"` // SMS sender, if set

	Subject  string `json:"subject,omitempty"`  // email
	Title    string `json:"title,omitempty"`    // push
	Body     string `json:"body"`               // SMS body, email text or push body
	HTML     string `json:"html,omitempty"`     // email
	Category string `json:"category,omitempty"` // email template name

	Data map[string]string `json:"data,omitempty"` // push

	Segments int             `json:"segments,omitempty"` // SMS
	Encoding notify.Encoding `json:"encoding,omitempty"` // SMS
}

// clone copies r so callers cannot change a remembered record's Data.
func (r Record) clone() Record {
	r.Data = maps.Clone(r.Data)
	return r
}

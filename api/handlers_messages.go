package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// The school message log: what a school has broadcast, newest first. It
// reads broadcast records only — never ledger pages (per-recipient counts
// are on GET …/broadcasts/{id}), message parameters or contacts.

const (
	messageLogDefaultLimit = 20
	messageLogMaxLimit     = 100
	messageLogCursorPrefix = "m1."
)

// schoolMessages answers the school's admins with every broadcast of the
// school, and other staff of the school with those they sent themselves
// (the access broadcastFor gives to one broadcast).
func (s *server) schoolMessages() fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := s.schoolLogQuery(c)
		if err != nil {
			return err
		}
		bs, err := s.Ledger.BroadcastsOfSchool(c.UserContext(), q.school.ID, q.createdBy, q.after, q.limit+1)
		if err != nil {
			return err
		}
		out := messageLogDTO{}
		out.Items, out.NextCursor = logPage(bs, q.limit, toMessageLogItemDTO, content.CursorAfter)
		return c.JSON(out)
	}
}

// schoolLogQuery is what a school's newest-first log asks for: the school
// (any of its staff), how many rows, after which one, and whose — every
// row for the school's admins, else only the caller's own.
type schoolLogQuery struct {
	school    *content.School
	createdBy string
	after     content.BroadcastCursor
	limit     int
}

func (s *server) schoolLogQuery(c *fiber.Ctx) (schoolLogQuery, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return schoolLogQuery{}, err
	}
	q := schoolLogQuery{school: sc}
	fe := content.FieldErrors{}
	q.limit = queryLimit(c, fe, messageLogDefaultLimit, messageLogMaxLimit)
	if v := c.Query("cursor"); v != "" {
		cur, ok := decodeMessageLogCursor(v)
		if !ok {
			fe.Add("cursor", "must be a next_cursor from an earlier page")
		}
		q.after = cur
	}
	if err := fe.Err(); err != nil {
		return schoolLogQuery{}, err
	}
	if p := principal(c); !p.IsSchoolAdmin(sc) {
		q.createdBy = p.ID()
	}
	return q, nil
}

// logPage turns up to limit+1 rows (one more than asked for tells whether
// there is a next page) into the page's items and its next_cursor.
func logPage[R any, D any](rows []R, limit int, dto func(R) D, after func(R) content.BroadcastCursor) ([]D, string) {
	items := make([]D, 0, min(len(rows), limit))
	for i, r := range rows {
		if i == limit {
			return items, encodeMessageLogCursor(after(rows[i-1]))
		}
		items = append(items, dto(r))
	}
	return items, ""
}

// encodeMessageLogCursor makes the cursor opaque: the last row's creation
// time and id, sealed (timeIDCursor). It carries only a broadcast id, which
// the row itself already showed.
func encodeMessageLogCursor(cur content.BroadcastCursor) string {
	return sealTimeIDCursor(messageLogCursorPrefix, cur.CreatedAt, cur.ID)
}

// decodeMessageLogCursor accepts exactly what encodeMessageLogCursor
// makes: anything else (edited, truncated, another endpoint's) is refused.
func decodeMessageLogCursor(v string) (content.BroadcastCursor, bool) {
	at, id, ok := openTimeIDCursor(messageLogCursorPrefix, v)
	return content.BroadcastCursor{CreatedAt: at, ID: id}, ok
}

// sealMessageLogCursor seals any payload as a message-log cursor (tests
// use it to send well-sealed but meaningless payloads).
func sealMessageLogCursor(payload string) string {
	return sealCursorPayload(messageLogCursorPrefix, payload)
}

// sealTimeIDCursor makes a list's cursor opaque: the last row's time
// (milliseconds, the store's precision) and id, with a checksum so a
// cursor cut short or garbled in transit is refused rather than read as
// another place, base64url-encoded behind the list's own prefix, so one
// list's cursor is refused by another.
func sealTimeIDCursor(prefix string, at time.Time, id string) string {
	return sealCursorPayload(prefix, strconv.FormatInt(at.UnixMilli(), 10)+"|"+id)
}

func sealCursorPayload(prefix, payload string) string {
	raw := fmt.Sprintf("%s|%08x", payload, crc32.ChecksumIEEE([]byte(payload)))
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// openTimeIDCursor accepts exactly what sealTimeIDCursor makes with the
// same prefix: anything else (edited, truncated, another list's) is refused.
func openTimeIDCursor(prefix, v string) (time.Time, string, bool) {
	enc, ok := strings.CutPrefix(v, prefix)
	if !ok || len(v) > 200 {
		return time.Time{}, "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return time.Time{}, "", false
	}
	i := bytes.LastIndexByte(raw, '|')
	if i < 0 || fmt.Sprintf("%08x", crc32.ChecksumIEEE(raw[:i])) != string(raw[i+1:]) {
		return time.Time{}, "", false
	}
	ms, id, ok := strings.Cut(string(raw[:i]), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n < 0 || id == "" || len(id) > 64 || strings.ContainsFunc(id, notIDRune) {
		return time.Time{}, "", false
	}
	at := time.UnixMilli(n).UTC()
	if sealTimeIDCursor(prefix, at, id) != v {
		return time.Time{}, "", false
	}
	return at, id, true
}

// notIDRune is true for runes no content.NewID id contains.
func notIDRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

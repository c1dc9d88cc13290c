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
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		fe := content.FieldErrors{}
		limit := messageLogDefaultLimit
		if v := c.Query("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > messageLogMaxLimit || strconv.Itoa(n) != v {
				fe.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(messageLogMaxLimit))
			}
			limit = n
		}
		var after content.BroadcastCursor
		if v := c.Query("cursor"); v != "" {
			cur, ok := decodeMessageLogCursor(v)
			if !ok {
				fe.Add("cursor", "must be a next_cursor from an earlier page")
			}
			after = cur
		}
		if err := fe.Err(); err != nil {
			return err
		}
		p := principal(c)
		createdBy := ""
		if !p.IsSchoolAdmin(sc) {
			createdBy = p.ID()
		}
		// One more than asked for tells whether there is a next page.
		bs, err := s.Ledger.BroadcastsOfSchool(c.UserContext(), sc.ID, createdBy, after, limit+1)
		if err != nil {
			return err
		}
		out := messageLogDTO{Items: make([]messageLogItemDTO, 0, min(len(bs), limit))}
		for i, b := range bs {
			if i == limit {
				out.NextCursor = encodeMessageLogCursor(content.CursorAfter(bs[i-1]))
				break
			}
			out.Items = append(out.Items, toMessageLogItemDTO(b))
		}
		return c.JSON(out)
	}
}

// encodeMessageLogCursor makes the cursor opaque: the last row's creation
// time (milliseconds, the store's precision) and id, with a checksum so a
// cursor cut short or garbled in transit is refused rather than read as
// another place, base64url-encoded. It carries only a broadcast id, which
// the row itself already showed.
func encodeMessageLogCursor(cur content.BroadcastCursor) string {
	return sealMessageLogCursor(strconv.FormatInt(cur.CreatedAt.UnixMilli(), 10) + "|" + cur.ID)
}

func sealMessageLogCursor(payload string) string {
	raw := fmt.Sprintf("%s|%08x", payload, crc32.ChecksumIEEE([]byte(payload)))
	return messageLogCursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeMessageLogCursor accepts exactly what encodeMessageLogCursor
// makes: anything else (edited, truncated, another endpoint's) is refused.
func decodeMessageLogCursor(v string) (content.BroadcastCursor, bool) {
	enc, ok := strings.CutPrefix(v, messageLogCursorPrefix)
	if !ok || len(v) > 200 {
		return content.BroadcastCursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return content.BroadcastCursor{}, false
	}
	i := bytes.LastIndexByte(raw, '|')
	if i < 0 || fmt.Sprintf("%08x", crc32.ChecksumIEEE(raw[:i])) != string(raw[i+1:]) {
		return content.BroadcastCursor{}, false
	}
	ms, id, ok := strings.Cut(string(raw[:i]), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n < 0 || id == "" || len(id) > 64 || strings.ContainsFunc(id, notIDRune) {
		return content.BroadcastCursor{}, false
	}
	cur := content.BroadcastCursor{CreatedAt: time.UnixMilli(n).UTC(), ID: id}
	if encodeMessageLogCursor(cur) != v {
		return content.BroadcastCursor{}, false
	}
	return cur, true
}

// notIDRune is true for runes no content.NewID id contains.
func notIDRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

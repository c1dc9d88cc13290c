package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Media URLs: /v1/media/{token}, where the token is
// base64url(photoId|variant|expiryUnix) "." base64url(HMAC-SHA256). Only
// callers allowed to see a photo are given one (photoURL), it lasts
// mediaURLTTL, and it names one picture, so it can sit in an <img> tag
// without the bearer token. An announcement attachment's token has the
// variant "attachment" and is given only to a parent opening an
// announcement that names it (openInboxItem).

const mediaURLTTL = 5 * time.Minute

// mediaAttachment is the variant of a token naming an announcement
// attachment (photos' variants are full and thumb).
const mediaAttachment = "attachment"

func (s *server) mediaMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.MediaKey)
	m.Write([]byte("media|" + payload))
	return m.Sum(nil)
}

func (s *server) mediaToken(photoID, variant string, exp time.Time) string {
	payload := photoID + "|" + variant + "|" + strconv.FormatInt(exp.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mediaMAC(payload))
}

// openMediaToken checks the signature and expiry and returns what it names.
func (s *server) openMediaToken(tok string) (photoID, variant string, ok bool) {
	if len(s.MediaKey) == 0 || len(tok) > 512 {
		return "", "", false
	}
	enc := base64.RawURLEncoding
	p64, m64, found := strings.Cut(tok, ".")
	if !found {
		return "", "", false
	}
	payload, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mediaMAC(string(payload))) {
		return "", "", false
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 || !(content.ValidPhotoVariant(parts[1]) || parts[1] == mediaAttachment) {
		return "", "", false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !s.Clock.Now().Before(time.Unix(exp, 0)) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// media streams a picture named by a valid token. Bad, expired and unknown
// tokens all get the same 404.
func (s *server) media() fiber.Handler {
	return func(c *fiber.Ctx) error {
		notFound := content.Errorf(content.CodeNotFound, "no such media, or the link has expired")
		photoID, variant, ok := s.openMediaToken(c.Params("token"))
		if !ok {
			return notFound
		}
		if variant == mediaAttachment {
			return s.serveAttachment(c, photoID)
		}
		ctx := c.UserContext()
		ph, err := s.Submissions.Photo(ctx, photoID)
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		b, err := s.Submissions.PhotoBytes(ctx, ph.ID, variant)
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		ct := ph.ContentType
		if ct != "image/jpeg" && ct != "image/png" && ct != "image/webp" {
			ct = "image/jpeg" // what Process writes; never a type a browser would run
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderCacheControl, "private, max-age=300")
		c.Set(fiber.HeaderContentDisposition, "inline")
		return c.Send(b)
	}
}

package api

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/media"
)

// Announcement attachments: staff of a school upload a PDF or an image
// (multipart field "file", or the raw body with the name in ?name=). The
// type is judged by the bytes alone; an image is re-encoded like a photo
// so no EXIF or GPS survives; a PDF is kept as sent. Nothing lists
// attachments: a parent gets a short-lived signed URL to one only by
// opening an announcement in their own inbox that names it.

// AttachmentMaxBytes is the largest attachment accepted.
const AttachmentMaxBytes = 10 << 20

// attachmentUploadRoute is the upload's route under /v1; its body may
// exceed BodyLimit (body.go).
const attachmentUploadRoute = "/schools/:schoolId/attachments"

// attachmentUploadsPerAccount bounds one account's uploads in flight.
const attachmentUploadsPerAccount = 2

// attachmentNameMax is the longest file name kept, in characters.
const attachmentNameMax = 120

var (
	errAttachmentType = &content.Error{Code: content.CodeUnprocessable,
		Message: "attachments must be a PDF or a JPEG, PNG or WebP image", Fields: map[string]string{"file": "must be a PDF or an image"}}
	errAttachmentMissing = &content.Error{Code: content.CodeInvalid, Message: "send the file as multipart/form-data (field \"file\") or as the raw body",
		Fields: map[string]string{"file": "required: one file"}}
)

type attachmentDTO struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

func (s *server) uploadAttachment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		// Only now, for staff of the school, is the body read.
		body, release, err := s.takeUpload(c, "attachment", attachmentUploadsPerAccount)
		if err != nil {
			return err
		}
		defer release()
		name, data, err := attachmentFromRequest(c, body)
		if err != nil {
			return err
		}
		return s.idempotent(c, sc.ID, func() string { return content.NewID("att") }, func(id string) error {
			ctx := c.UserContext()
			stored, ct, err := s.prepareAttachment(c, data)
			if err != nil {
				return err
			}
			a := &content.Attachment{ID: id, SchoolID: sc.ID, Name: cleanAttachmentName(name, ct), ContentType: ct,
				Size: int64(len(stored)), CreatedBy: principal(c).ID(), CreatedAt: s.Clock.Now()}
			if err := s.Attachments.StoreAttachment(ctx, a, stored); err != nil {
				return err
			}
			s.audit(c, principal(c).Kind, principal(c).ID(), "attachment.upload", sc.ID, "attachment:"+a.ID)
			s.Log.Info("attachment stored", "request_id", requestID(c), "attachment_id", a.ID, "school_id", sc.ID, "bytes", a.Size)
			return c.Status(fiber.StatusCreated).JSON(attachmentDTO{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size})
		})
	}
}

// prepareAttachment judges the bytes: a PDF is kept as it is; an image is
// re-encoded without metadata (under a processing slot, like photos).
func (s *server) prepareAttachment(c *fiber.Ctx, data []byte) ([]byte, string, error) {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return data, content.AttachmentPDF, nil
	}
	if _, err := media.Sniff(data); err != nil {
		s.Log.Info("attachment refused", "request_id", requestID(c), "err", err)
		return nil, "", errAttachmentType
	}
	out, err := s.processPhoto(c.UserContext(), data)
	if err != nil {
		if errors.Is(err, media.ErrUnsupportedFormat) || errors.Is(err, media.ErrUnreadable) {
			s.Log.Info("attachment refused", "request_id", requestID(c), "err", err)
			return nil, "", errAttachmentType
		}
		return nil, "", err
	}
	return out.Photo.Data, out.Photo.ContentType, nil
}

// attachmentFromRequest is the file and its name: the "file" part of a
// multipart form, or the whole raw body (name from ?name=).
func attachmentFromRequest(c *fiber.Ctx, body []byte) (string, []byte, error) {
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		if len(body) == 0 {
			return "", nil, errAttachmentMissing
		}
		if len(body) > AttachmentMaxBytes {
			return "", nil, tooLarge(AttachmentMaxBytes)
		}
		return c.Query("name"), body, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for i := 0; i < photoFormParts; i++ {
		part, err := mr.NextPart()
		if err != nil {
			return "", nil, errAttachmentMissing
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(part, AttachmentMaxBytes+1)); err != nil {
			return "", nil, errAttachmentMissing
		}
		if buf.Len() > AttachmentMaxBytes {
			return "", nil, tooLarge(AttachmentMaxBytes)
		}
		if buf.Len() == 0 {
			return "", nil, errAttachmentMissing
		}
		return part.FileName(), buf.Bytes(), nil
	}
	return "", nil, errAttachmentMissing
}

// cleanAttachmentName keeps a safe, short display name: no path, no
// control characters, an extension that matches the stored type.
func cleanAttachmentName(name, contentType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == ';' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if !utf8.ValidString(name) {
		name = ""
	}
	ext := map[string]string{content.AttachmentPDF: ".pdf", content.AttachmentJPEG: ".jpg",
		content.AttachmentPNG: ".png", content.AttachmentWebP: ".webp"}[contentType]
	var base string
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base = name[:i]
	} else {
		base = name
	}
	if base == "" {
		base = "attachment"
	}
	if r := []rune(base); len(r) > attachmentNameMax {
		base = string(r[:attachmentNameMax])
	}
	return base + ext
}

// serveAttachment streams an attachment named by a valid media token.
func (s *server) serveAttachment(c *fiber.Ctx, id string) error {
	notFound := content.Errorf(content.CodeNotFound, "no such media, or the link has expired")
	ctx := c.UserContext()
	a, err := s.Attachments.Attachment(ctx, id)
	if content.IsCode(err, content.CodeNotFound) {
		return notFound
	} else if err != nil {
		return err
	}
	b, err := s.Attachments.AttachmentBytes(ctx, a.ID)
	if content.IsCode(err, content.CodeNotFound) {
		return notFound
	} else if err != nil {
		return err
	}
	disposition := "inline"
	ct := a.ContentType
	switch ct {
	case content.AttachmentJPEG, content.AttachmentPNG, content.AttachmentWebP:
	default:
		// A PDF (or anything unexpected) is downloaded, never rendered in
		// the API's origin.
		ct, disposition = content.AttachmentPDF, "attachment"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, max-age="+strconv.Itoa(int(mediaURLTTL/time.Second)))
	c.Set(fiber.HeaderContentDisposition, disposition+`; filename="`+asciiName(a.Name)+`"`)
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Send(b)
}

// asciiName is the name with anything outside printable ASCII replaced,
// for a quoted header parameter.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}

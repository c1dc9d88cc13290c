package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/media"
)

// Photos: a parent uploads one photo at a time (multipart field "photo")
// with their submission. It is judged by its bytes, its pixel count is
// checked from the header before decoding, and it is re-encoded with a
// thumbnail so no EXIF or GPS survives (content/media). The pictures go to
// GridFS; callers get short-lived signed URLs (handlers_media.go).

// PhotoMaxBytes is the largest photo accepted. The upload route's request
// body may be this plus multipart framing; it is read only once the
// parent is known to be allowed to send it, and a body declaring more is
// refused from the Content-Length header before any of it is read
// (body.go).
const PhotoMaxBytes = 10 << 20

// photoFormParts bounds the parts of an upload form looked through for
// the photo: the app sends one.
const photoFormParts = 8

// photoUploadOverhead is room for the multipart framing around the file.
const photoUploadOverhead = 64 << 10

// photoSlotWait is how long an upload waits for a processing slot before
// it is told to retry: a 12 MP photo needs 50–70 MB while it is processed,
// so only a few are processed at once.
const photoSlotWait = 20 * time.Second

type photoDTO struct {
	ID                 string     `json:"id"`
	SubmissionID       string     `json:"submission_id"`
	ChildID            string     `json:"child_id"`
	Width              int        `json:"width"`
	Height             int        `json:"height"`
	PromotionConsent   bool       `json:"promotion_consent"`
	PromotionConsentAt *time.Time `json:"promotion_consent_at,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
}

type photoURLDTO struct {
	PhotoID   string    `json:"photo_id"`
	Variant   string    `json:"variant"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

type consentRequest struct {
	Promotion *bool `json:"promotion"`
}

func toPhotoDTO(p *content.Photo) photoDTO {
	out := photoDTO{ID: p.ID, SubmissionID: p.SubmissionID, ChildID: p.ChildID, Width: p.Width, Height: p.Height,
		PromotionConsent: p.Promotion.Granted, CreatedAt: p.CreatedAt}
	if p.Promotion.Granted {
		out.PromotionConsentAt = timePtr(p.Promotion.At)
	}
	return out
}

// photoSlots bounds how many photos the API processes at once.
type photoSlots chan struct{}

func newPhotoSlots(n int) photoSlots {
	if n <= 0 {
		n = 2
	}
	return make(photoSlots, n)
}

func (p photoSlots) acquire(ctx context.Context) (release func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, photoSlotWait)
	defer cancel()
	select {
	case p <- struct{}{}:
		return func() { <-p }, nil
	case <-ctx.Done():
		return nil, content.Errorf(content.CodeUnavailable, "too many photos are being processed; try again shortly")
	}
}

func (s *server) uploadPhoto() fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, a, err := s.parentAssignment(c)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		sub, err := s.Submissions.Submission(ctx, content.SubmissionID(a.ID, k.ID, p.ID()))
		if err == nil && len(sub.PhotoIDs) >= content.SubmissionPhotosMax {
			return content.Errorf(content.CodeConflict, "this submission already has the most photos allowed")
		} else if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		// Only now, for a parent of the child with the assignment set, is
		// the body read: at most photoUploadsPerAccount at once per parent.
		body, release, err := s.takeUpload(c, "photo", photoUploadsPerAccount)
		if err != nil {
			return err
		}
		defer release()
		photo, err := photoFromForm(c, body)
		if err != nil {
			return err
		}
		return s.idempotent(c, k.SchoolID, func() string { return content.NewID("pho") }, func(photoID string) error {
			out, err := s.processPhoto(ctx, photo)
			if err != nil {
				if errors.Is(err, media.ErrUnsupportedFormat) || errors.Is(err, media.ErrUnreadable) ||
					errors.Is(err, media.ErrTooLarge) || errors.Is(err, media.ErrTooManyPixels) || errors.Is(err, media.ErrTooMuchMemory) {
					s.Log.Info("photo refused", "request_id", requestID(c), "err", err)
				}
				return err
			}
			base := &content.Submission{ID: content.SubmissionID(a.ID, k.ID, p.ID()), SchoolID: k.SchoolID, AssignmentID: a.ID,
				ChildID: k.ID, ParentID: p.ID()}
			photo := &content.Photo{ID: photoID, SubmissionID: base.ID, SchoolID: k.SchoolID, ChildID: k.ID, ParentID: p.ID(),
				ContentType: out.Photo.ContentType, SourceFormat: string(out.Source), Width: out.Photo.Width,
				Height: out.Photo.Height, CreatedAt: s.Clock.Now()}
			if err := s.Submissions.PutPhoto(ctx, base, photo, out.Photo.Data, out.Thumb.Data); err != nil {
				return err
			}
			stored, err := s.Submissions.Photo(ctx, photoID)
			if err != nil {
				return err
			}
			s.countEngagement(c, content.EngagePhoto, k, photo.CreatedAt)
			s.Log.Info("photo stored", "request_id", requestID(c), "photo_id", photoID, "submission_id", base.ID)
			return c.Status(fiber.StatusCreated).JSON(toPhotoDTO(stored))
		})
	}
}

// photoFromForm is the file in the upload form's "photo" field (the first,
// if several), read from the body already in memory.
func photoFromForm(c *fiber.Ctx, body []byte) ([]byte, error) {
	missing := func(err error) error {
		return &content.Error{Code: content.CodeInvalid, Message: "send the photo as multipart/form-data",
			Fields: map[string]string{"photo": "required: one file"}, Err: err}
	}
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		return nil, missing(nil)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for i := 0; i < photoFormParts; i++ {
		part, err := mr.NextPart()
		if err != nil {
			return nil, missing(err)
		}
		if part.FormName() != "photo" || part.FileName() == "" {
			continue
		}
		var buf bytes.Buffer
		buf.Grow(min(len(body), PhotoMaxBytes+1))
		if _, err := buf.ReadFrom(io.LimitReader(part, PhotoMaxBytes+1)); err != nil {
			return nil, missing(err)
		}
		if buf.Len() > PhotoMaxBytes {
			return nil, media.ErrTooLarge
		}
		return buf.Bytes(), nil
	}
	return nil, missing(nil)
}

// processPhoto runs media.ProcessBytes under a processing slot.
func (s *server) processPhoto(ctx context.Context, photo []byte) (media.Processed, error) {
	release, err := s.photoSlots.acquire(ctx)
	if err != nil {
		return media.Processed{}, err
	}
	defer release()
	l := media.DefaultLimits()
	l.MaxBytes = PhotoMaxBytes
	return media.ProcessBytes(photo, l)
}

// photoFor loads :photoId for someone allowed to see it: the parent who
// sent it while they may still read the child's data (linked, or the child
// left the school; a co-parent's photos are theirs alone), the teachers of
// the child's classes and the school's admins.
// Anyone else is told it does not exist.
func (s *server) photoFor(c *fiber.Ctx) (*content.Photo, error) {
	ctx := c.UserContext()
	notFound := content.Errorf(content.CodeNotFound, "no such photo")
	ph, err := s.Submissions.Photo(ctx, c.Params("photoId"))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	p := principal(c)
	if p.Parent != nil {
		if ph.ParentID == p.ID() && p.CanReadChild(ph.ChildID) {
			return ph, nil
		}
		return nil, notFound
	}
	if ph.Hidden != nil {
		return nil, notFound // hidden from the class: its author's alone
	}
	sc, err := s.Roster.School(ctx, ph.SchoolID)
	if err != nil {
		if content.IsCode(err, content.CodeNotFound) {
			return nil, notFound
		}
		return nil, err
	}
	if p.IsSchoolAdmin(sc) {
		return ph, nil
	}
	k, err := s.Roster.Child(ctx, ph.ChildID)
	if err != nil {
		if content.IsCode(err, content.CodeNotFound) {
			return nil, notFound
		}
		return nil, err
	}
	var classes []*content.Class
	for _, id := range k.ClassIDs {
		if cl, err := s.Roster.Class(ctx, id); err == nil {
			classes = append(classes, cl)
		}
	}
	if p.CanSeeChildAsStaff(sc, k, classes) {
		return ph, nil
	}
	return nil, notFound
}

// photoURL answers a signed URL to the photo (or its thumbnail) valid for
// mediaURLTTL.
func (s *server) photoURL() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ph, err := s.photoFor(c)
		if err != nil {
			return err
		}
		variant := c.Query("variant", content.PhotoFull)
		if !content.ValidPhotoVariant(variant) {
			return &content.Error{Code: content.CodeInvalid, Message: "unknown variant",
				Fields: map[string]string{"variant": "must be full or thumb"}}
		}
		exp := s.Clock.Now().Add(mediaURLTTL).Truncate(time.Second)
		tok := s.mediaToken(ph.ID, variant, exp)
		return c.JSON(photoURLDTO{PhotoID: ph.ID, Variant: variant, URL: "/v1/media/" + tok, ExpiresAt: exp.UTC()})
	}
}

// setPhotoConsent records the uploading parent's opt-in (or opt-out) to the
// school using the photo in its promotion, with who and when.
func (s *server) setPhotoConsent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ph, err := s.photoFor(c)
		if err != nil {
			return err
		}
		p := principal(c)
		if ph.ParentID != p.ID() {
			return content.Errorf(content.CodeForbidden, "only the parent who sent the photo can decide this")
		}
		var req consentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if req.Promotion == nil {
			return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"promotion": "required"}}
		}
		ph, err = s.Submissions.SetPhotoConsent(c.UserContext(), ph.ID,
			content.PhotoConsent{Granted: *req.Promotion, By: p.ID(), At: s.Clock.Now()})
		if err != nil {
			return err
		}
		action := "photo.consent.withdraw"
		if *req.Promotion {
			action = "photo.consent.grant"
		}
		s.audit(c, p.Kind, p.ID(), action, ph.SchoolID, "photo:"+ph.ID)
		return c.JSON(toPhotoDTO(ph))
	}
}

// photoUploadRoute is the photo upload's route under /v1; its body may
// exceed BodyLimit (body.go).
const photoUploadRoute = "/children/:childId/assignments/:assignmentId/submission/photos"

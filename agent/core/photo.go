package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/schema"
)

// Photos of mediation sessions: taken only after the parties present agreed
// on screen, sent to the township as a governance record, never kept on the
// kiosk but in the sealed outbox until delivered.
const (
	// PhotoMaxSide bounds the photo's longer side: enough to see who sat at
	// the table, small enough (tens of KiB) for the township broker's
	// packet limit and a village uplink.
	PhotoMaxSide = 800
	// photoQuality is the JPEG quality of the photo sent.
	photoQuality = 75
)

// ErrNoPhoto means the kiosk has no camera that takes consent photos, or it
// is not working.
var ErrNoPhoto = errors.New("core: no camera for consent photos on this kiosk")

// Photo takes the photo of a session the parties agreed to and commits it
// for the township.
func (c *Core) Photo(ctx context.Context, m apitype.Mediator, caseID string, req apitype.PhotoRequest) (apitype.Photo, error) {
	if !req.Consent {
		return apitype.Photo{}, &booking.FieldError{Field: "consent", Code: apitype.CodeConsentRequired,
			Msg: "a photo is taken only after the parties present agreed on screen"}
	}
	if c.cases == nil {
		return apitype.Photo{}, ErrNoCaseBook
	}
	k, err := c.cases.Get(caseID)
	if err != nil {
		return apitype.Photo{}, err
	}
	if req.Session == "" {
		return apitype.Photo{}, &booking.FieldError{Field: "session", Code: apitype.CodeRequired, Msg: "is required"}
	}
	found := false
	for _, s := range k.Sessions {
		found = found || s.ID == req.Session
	}
	if !found {
		return apitype.Photo{}, &booking.FieldError{Field: "session", Code: apitype.CodeInvalid, Msg: "is not a session of this case"}
	}
	if c.hardware == nil {
		return apitype.Photo{}, ErrNoPhoto
	}
	raw, err := c.hardware.Photo(ctx)
	if err != nil {
		return apitype.Photo{}, fmt.Errorf("%w: %v", ErrNoPhoto, err)
	}
	small, w, h, err := shrinkJPEG(raw, PhotoMaxSide)
	if err != nil {
		return apitype.Photo{}, fmt.Errorf("%w: %v", ErrNoPhoto, err)
	}
	body := schema.MediationPhotoV1{Case: k.ID, CaseNumber: k.Number, Session: req.Session, Mediator: mediatorV1(m),
		Width: w, Height: h, JPEG: small, Consent: "the parties present agreed on the kiosk's screen"}
	env, err := c.newRecord(body, c.now())
	if err != nil {
		return apitype.Photo{}, err
	}
	if env, err = c.outbox.Enqueue(ctx, env); err != nil {
		return apitype.Photo{}, err
	}
	c.log.Info("mediation photo committed", "id", env.ID, "case", k.ID, "session", req.Session, "bytes", len(small))
	return apitype.Photo{ID: env.ID, Width: w, Height: h, Bytes: len(small)}, nil
}

// shrinkJPEG scales a JPEG so its longer side is at most maxSide and encodes
// it again, which also drops whatever metadata the camera wrote.
func shrinkJPEG(data []byte, maxSide int) ([]byte, int, int, error) {
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("the camera's frame does not decode: %w", err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if long := max(w, h); long > maxSide {
		w, h = w*maxSide/long, h*maxSide/long
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: photoQuality}); err != nil {
		return nil, 0, 0, err
	}
	return out.Bytes(), w, h, nil
}

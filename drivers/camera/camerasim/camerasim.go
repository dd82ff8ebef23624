// Package camerasim owns the dev board's simulated camera: the
// camera.Camera kioskd runs for a board profile's camera with driver
// simulated, so status, telemetry and consent photos work on a laptop or
// in CI with no camera attached.
//
// It is a run-time part of kioskd, not a test double: it cannot be made to
// fail, hang or be unplugged. Tests that need that use
// drivers/camera/cameratest, which kioskd must never link.
package camerasim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// Defaults of Options: a VGA frame in a muted green that no one takes for
// a real room.
const (
	DefaultWidth  = 640
	DefaultHeight = 480
)

// DefaultColor is the frame's colour when Options leaves it out.
func DefaultColor() color.Color { return color.RGBA{R: 0x4a, G: 0x7a, B: 0x5c, A: 0xff} }

// Options configure a simulated camera.
type Options struct {
	// Name prefixes errors, as a real camera's name does.
	Name string
	// Width and Height are the frame's size; zero takes the defaults.
	Width, Height int
	// Color fills the frame; nil takes DefaultColor.
	Color color.Color
	// Now stamps frames; nil uses time.Now.
	Now func() time.Time
}

// Camera is a simulated camera. It is safe for concurrent use.
type Camera struct {
	name   string
	jpeg   []byte
	width  int
	height int
	now    func() time.Time
}

var _ camera.Camera = (*Camera)(nil)

// ErrSize is returned by New for a frame size JPEG cannot hold.
var ErrSize = errors.New("camerasim: frame size out of range")

// New returns a simulated camera whose every snapshot is the same frame.
// The frame is encoded once here: a camera checked every minute for
// months should not spend a JPEG encode on each check.
func New(opts Options) (*Camera, error) {
	w, h := opts.Width, opts.Height
	if w == 0 && h == 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	if w <= 0 || h <= 0 || w > 65535 || h > 65535 {
		return nil, fmt.Errorf("%w: camera %s: %dx%d", ErrSize, opts.Name, w, h)
	}
	c := opts.Color
	if c == nil {
		c = DefaultColor()
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("camerasim: camera %s: %w", opts.Name, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Camera{name: opts.Name, jpeg: buf.Bytes(), width: w, height: h, now: now}, nil
}

// Snapshot returns the frame stamped now, or the context's error wrapped
// with the camera's name as a real camera would.
func (c *Camera) Snapshot(ctx context.Context) (camera.Frame, error) {
	if err := ctx.Err(); err != nil {
		return camera.Frame{}, fmt.Errorf("camera: %s: %w", c.name, err)
	}
	// A copy: a real camera hands each caller a frame of its own, and
	// callers rely on that.
	return camera.Frame{JPEG: bytes.Clone(c.jpeg), Width: c.width, Height: c.height, Time: c.now()}, nil
}

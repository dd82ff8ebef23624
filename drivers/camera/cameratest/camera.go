// Package cameratest owns a fake camera.Camera for tests of code that takes
// snapshots (the agent's camera loop, telemetry), in the style of periph's
// gpiotest: a struct whose fields say what the next Snapshot does, frames
// that are real JPEGs, and errors that wrap the package's sentinels the way
// the real cameras do.
package cameratest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// Camera is a fake camera. Set its fields before sharing it, or under its
// lock (or with the setters) while Snapshots run; it is safe for concurrent
// use.
//
// Snapshot, in order of precedence: waits for ctx to be done when Hang is
// set; fails with ErrAbsent when Absent is set; returns Err when it is set;
// returns the next of Queue; returns Frame.
type Camera struct {
	sync.Mutex

	// Name prefixes errors, as the real cameras' names do.
	Name string
	// Frame is returned when Queue is empty. A zero Time is stamped
	// from Now.
	Frame camera.Frame
	// Queue is returned first, one frame per Snapshot.
	Queue []camera.Frame
	// Err, when set, is returned (wrapped with Name).
	Err error
	// Absent makes Snapshot report the camera not present.
	Absent bool
	// Hang makes Snapshot block until its context is done, like a
	// camera that stopped answering; it then returns an error wrapping
	// camera.ErrTimeout (for a deadline) or the context's error.
	Hang bool
	// Now stamps frames with a zero Time; nil uses time.Now.
	Now func() time.Time

	// Calls counts Snapshots.
	Calls int
}

var _ camera.Camera = (*Camera)(nil)

// New returns a fake camera whose every Snapshot is a w×h frame of one
// colour.
func New(name string, w, h int, c color.Color) *Camera {
	return &Camera{Name: name, Frame: NewFrame(w, h, c, time.Time{})}
}

// Snapshot does what the fields say.
func (c *Camera) Snapshot(ctx context.Context) (camera.Frame, error) {
	c.Lock()
	c.Calls++
	hang := c.Hang
	c.Unlock()
	if hang {
		<-ctx.Done()
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", camera.ErrTimeout, err)
		}
		return camera.Frame{}, c.errorf(err)
	}
	if err := ctx.Err(); err != nil {
		return camera.Frame{}, c.errorf(err)
	}
	c.Lock()
	defer c.Unlock()
	switch {
	case c.Absent:
		return camera.Frame{}, c.errorf(camera.ErrAbsent)
	case c.Err != nil:
		return camera.Frame{}, c.errorf(c.Err)
	}
	f := c.Frame
	if len(c.Queue) > 0 {
		f, c.Queue = c.Queue[0], c.Queue[1:]
	}
	f.JPEG = bytes.Clone(f.JPEG)
	if f.Time.IsZero() {
		if c.Now != nil {
			f.Time = c.Now()
		} else {
			f.Time = time.Now()
		}
	}
	return f, nil
}

func (c *Camera) errorf(err error) error { return fmt.Errorf("camera: %s: %w", c.Name, err) }

// SetFrame sets the frame returned when the queue is empty.
func (c *Camera) SetFrame(f camera.Frame) {
	c.Lock()
	defer c.Unlock()
	c.Frame = f
}

// Push queues frames to be returned before Frame.
func (c *Camera) Push(f ...camera.Frame) {
	c.Lock()
	defer c.Unlock()
	c.Queue = append(c.Queue, f...)
}

// SetErr makes Snapshots fail with err (nil: work again).
func (c *Camera) SetErr(err error) {
	c.Lock()
	defer c.Unlock()
	c.Err = err
}

// SetAbsent unplugs (true) or plugs in (false) the camera.
func (c *Camera) SetAbsent(absent bool) {
	c.Lock()
	defer c.Unlock()
	c.Absent = absent
}

// SetHang makes Snapshots block until their context is done (false: answer
// again).
func (c *Camera) SetHang(hang bool) {
	c.Lock()
	defer c.Unlock()
	c.Hang = hang
}

// Snapshots returns how many Snapshots were taken.
func (c *Camera) Snapshots() int {
	c.Lock()
	defer c.Unlock()
	return c.Calls
}

// NewFrame returns a w×h frame of one colour taken at t.
func NewFrame(w, h int, c color.Color, t time.Time) camera.Frame {
	return camera.Frame{JPEG: JPEG(w, h, c), Width: w, Height: h, Time: t}
}

// JPEG encodes a w×h image of one colour. It panics for a size image/jpeg
// cannot encode (not positive, or above 65535), a mistake in the test.
func JPEG(w, h int, c color.Color) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(fmt.Sprintf("cameratest: JPEG(%d, %d): %v", w, h, err))
	}
	return buf.Bytes()
}

//go:build linux

package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/blackjack/webcam"
)

// This file is the only code that touches a V4L2 device. It stays thin:
// everything that can be got wrong with a frame is in decodeRaw and tested
// on recorded frames.

// webcamBuffers is the number of mmap buffers asked for. blackjack/webcam
// asks for 256 by default; a snapshot needs a few, and each is a whole
// frame of the kiosk's scarce memory.
const webcamBuffers = 4

// webcamPoll is how long NextFrame sleeps between polls. blackjack/webcam
// polls in whole seconds, too coarse for a Snapshot's deadline, so the
// adapter polls without waiting and sleeps itself, watching ctx.
const webcamPoll = 10 * time.Millisecond

// OpenDevice opens the V4L2 capture device at path through
// github.com/blackjack/webcam (pure Go, ioctl and mmap). The error wraps
// ErrAbsent when there is no device there (no such node, or unplugged).
func OpenDevice(path string) (Device, error) {
	w, err := webcam.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, deviceError(err))
	}
	return &webcamDevice{w: w}, nil
}

type webcamDevice struct {
	w *webcam.Webcam
}

// deviceError marks the errnos of a missing or vanished device as ErrAbsent.
func deviceError(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOENT, syscall.ENODEV, syscall.ENXIO:
			return fmt.Errorf("%w: %w", ErrAbsent, err)
		}
	}
	return err
}

func (d *webcamDevice) Formats() []PixelFormat {
	var out []PixelFormat
	for f := range d.w.GetSupportedFormats() {
		out = append(out, PixelFormat(f))
	}
	slices.Sort(out)
	return out
}

// commonSizes are offered for a device that lists a range of sizes rather
// than discrete ones (CSI bridges, some capture cards).
func commonSizes() []Size {
	return []Size{{640, 480}, {800, 600}, {1280, 720}, {1280, 960}, {1600, 1200}, {1920, 1080}}
}

func (d *webcamDevice) FrameSizes(f PixelFormat) []Size {
	var out []Size
	for _, fs := range d.w.GetSupportedFrameSizes(webcam.PixelFormat(f)) {
		if fs.MaxWidth == 0 || fs.MaxHeight == 0 {
			continue // v0.6.1 leaves continuous ranges empty
		}
		if fs.StepWidth == 0 && fs.StepHeight == 0 {
			out = append(out, Size{int(fs.MaxWidth), int(fs.MaxHeight)})
			continue
		}
		for _, s := range commonSizes() {
			if inStep(s.Width, fs.MinWidth, fs.MaxWidth, fs.StepWidth) && inStep(s.Height, fs.MinHeight, fs.MaxHeight, fs.StepHeight) {
				out = append(out, s)
			}
		}
		out = append(out, Size{int(fs.MaxWidth), int(fs.MaxHeight)})
	}
	return out
}

func inStep(v int, lo, hi, step uint32) bool {
	if v < int(lo) || v > int(hi) {
		return false
	}
	return step <= 1 || (v-int(lo))%int(step) == 0
}

func (d *webcamDevice) SetFormat(f PixelFormat, s Size) (PixelFormat, Size, error) {
	got, w, h, err := d.w.SetImageFormat(webcam.PixelFormat(f), uint32(s.Width), uint32(s.Height))
	if err != nil {
		return 0, Size{}, deviceError(err)
	}
	return PixelFormat(got), Size{int(w), int(h)}, nil
}

func (d *webcamDevice) Start() error {
	if err := d.w.SetBufferCount(webcamBuffers); err != nil {
		return err
	}
	return d.w.StartStreaming()
}

func (d *webcamDevice) NextFrame(ctx context.Context) ([]byte, error) {
	var timeout *webcam.Timeout
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := d.w.WaitForFrame(0)
		if errors.As(err, &timeout) {
			t := time.NewTimer(webcamPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll: %w", deviceError(err))
		}
		buf, index, err := d.w.GetFrame()
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dequeue: %w", deviceError(err))
		}
		// buf is the driver's mmap buffer, reused once requeued and
		// unmapped on Close: copy it out first.
		frame := bytes.Clone(buf)
		if err := d.w.ReleaseFrame(index); err != nil {
			return nil, fmt.Errorf("requeue: %w", deviceError(err))
		}
		return frame, nil
	}
}

func (d *webcamDevice) Close() error { return d.w.Close() }

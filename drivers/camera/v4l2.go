package camera

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// PixelFormat is a V4L2 pixel format, a little-endian four-character code.
type PixelFormat uint32

// FourCC makes a PixelFormat from its four characters.
func FourCC(a, b, c, d byte) PixelFormat {
	return PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// The pixel formats this package reads, in the order it prefers them: a
// frame that is already compressed needs no encoding on the kiosk's small
// CPU, and USB 2 carries MJPEG at sizes YUYV cannot reach.
const (
	FormatMJPEG PixelFormat = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
	FormatJPEG  PixelFormat = 'J' | 'P'<<8 | 'E'<<16 | 'G'<<24
	FormatYUYV  PixelFormat = 'Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24
)

// String gives the four characters, or the number when they are not
// printable.
func (f PixelFormat) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("PixelFormat(0x%08X)", uint32(f))
		}
	}
	return string(b)
}

// Size is a frame size in pixels.
type Size struct {
	Width, Height int
}

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }

// Device is an opened V4L2 capture device, as much of it as taking one
// snapshot needs. OpenDevice gives the real one; tests give a fake.
type Device interface {
	// Formats lists the pixel formats the device offers.
	Formats() []PixelFormat
	// FrameSizes lists the sizes it offers in format f.
	FrameSizes(f PixelFormat) []Size
	// SetFormat asks for format f at size s and returns what the device
	// says it settled on (the size may be the requested one whatever
	// the driver chose; see yuyvGeometry).
	SetFormat(f PixelFormat, s Size) (PixelFormat, Size, error)
	// Start starts streaming.
	Start() error
	// NextFrame waits for the next frame and returns a copy of it that
	// the caller owns. It returns ctx's error once ctx is done.
	NextFrame(ctx context.Context) ([]byte, error)
	// Close stops streaming and releases the device.
	Close() error
}

// Defaults of V4L2Config.
const (
	DefaultV4L2Timeout = 5 * time.Second
	DefaultWarmup      = 3
	DefaultQuality     = 85
	// DefaultWidth and DefaultHeight are the size asked for when
	// V4L2Config gives none: enough to read a document held up to the
	// kiosk, small enough for YUYV over USB 2.
	DefaultWidth  = 1280
	DefaultHeight = 720
)

// badFrameRetries is how many malformed frames past the warm-up a snapshot
// tolerates: UVC cameras drop or cut a frame now and then on a busy bus.
const badFrameRetries = 3

// V4L2Config configures a V4L2 camera.
type V4L2Config struct {
	// Name names the camera in errors and Status; empty uses Path.
	Name string
	// Path is the device node, such as /dev/video0 or a stable
	// /dev/v4l/by-id/… link.
	Path string
	// Size is the size to ask for; the device's largest size not above
	// it is taken (its smallest when all are larger). Zero uses
	// DefaultWidth×DefaultHeight.
	Size Size
	// Warmup is the number of frames dropped after streaming starts:
	// the first frames of a UVC camera are often dark or cut while its
	// auto exposure settles. Zero uses DefaultWarmup; negative drops none.
	Warmup int
	// Quality is the JPEG quality for frames encoded here (YUYV). Zero
	// uses DefaultQuality.
	Quality int
	// FullRangeYUV says the camera's YUYV is full range (0–255) rather
	// than the usual limited range.
	FullRangeYUV bool
	// Timeout bounds one Snapshot when ctx has no earlier deadline. Zero
	// uses DefaultV4L2Timeout.
	Timeout time.Duration
	// MaxFrameBytes caps a frame; zero uses MaxFrameBytes.
	MaxFrameBytes int
	// Now stamps frames; nil uses time.Now.
	Now func() time.Time
	// Open opens the device at a path; nil uses OpenDevice. It should
	// return an error wrapping ErrAbsent (or fs.ErrNotExist) when there
	// is no device there.
	Open func(path string) (Device, error)
}

// V4L2 is a USB (UVC) or CSI camera read through V4L2. It opens the device
// for each Snapshot and closes it after, so an unplugged and replugged camera
// comes back by itself and the device is free between snapshots.
type V4L2 struct {
	cfg  V4L2Config
	name string
	// sem lets one Snapshot use the device at a time (a second open
	// would fail with EBUSY), while a waiting caller still honours its
	// context.
	sem chan struct{}
}

var _ Camera = (*V4L2)(nil)

// NewV4L2 checks cfg and returns the camera. It does not touch the device:
// Probe does.
func NewV4L2(cfg V4L2Config) (*V4L2, error) {
	name := cfg.Name
	if name == "" {
		name = cfg.Path
	}
	if cfg.Path == "" {
		return nil, fmt.Errorf("camera: %s: %w: no device path", name, ErrConfig)
	}
	switch {
	case cfg.Size == Size{}:
		cfg.Size = Size{Width: DefaultWidth, Height: DefaultHeight}
	case cfg.Size.Width <= 0 || cfg.Size.Height <= 0:
		return nil, fmt.Errorf("camera: %s: %w: size %v", name, ErrConfig, cfg.Size)
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = DefaultWarmup
	}
	cfg.Warmup = max(cfg.Warmup, 0)
	if cfg.Quality == 0 {
		cfg.Quality = DefaultQuality
	}
	if cfg.Quality < 1 || cfg.Quality > 100 {
		return nil, fmt.Errorf("camera: %s: %w: JPEG quality %d", name, ErrConfig, cfg.Quality)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultV4L2Timeout
	}
	if cfg.MaxFrameBytes == 0 {
		cfg.MaxFrameBytes = MaxFrameBytes
	}
	if cfg.Timeout < 0 || cfg.MaxFrameBytes < 0 {
		return nil, fmt.Errorf("camera: %s: %w: negative timeout or frame cap", name, ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Open == nil {
		cfg.Open = OpenDevice
	}
	return &V4L2{cfg: cfg, name: name, sem: make(chan struct{}, 1)}, nil
}

// Name is the camera's name in errors and Status.
func (c *V4L2) Name() string { return c.name }

// String names the camera and its device.
func (c *V4L2) String() string { return fmt.Sprintf("camera %s (V4L2 %s)", c.name, c.cfg.Path) }

// Probe tells whether the device is there and is a capture device with a
// format this package reads, the way periph's drivers report themselves at
// start-up: (false, nil) when it is absent, so the caller skips it; an error
// when it is there but unusable.
func (c *V4L2) Probe(ctx context.Context) (bool, error) {
	dev, err := c.open(ctx)
	if err != nil {
		if errors.Is(err, ErrAbsent) {
			return false, nil
		}
		return false, c.fail(err)
	}
	defer c.release(dev)
	if _, err := chooseFormat(dev.Formats()); err != nil {
		return true, c.fail(err)
	}
	return true, nil
}

// Snapshot opens the device, streams until it has one good frame past the
// warm-up, and closes it. The frame is an MJPEG frame made whole (default
// Huffman tables, trailing padding cut) or a YUYV frame encoded as JPEG.
func (c *V4L2) Snapshot(ctx context.Context) (Frame, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	dev, err := c.open(ctx)
	if err != nil {
		return Frame{}, c.fail(err)
	}
	defer c.release(dev)
	f, err := c.capture(ctx, dev)
	if err != nil {
		return Frame{}, c.fail(err)
	}
	return f, nil
}

// open waits for the device to be free and opens it.
func (c *V4L2) open(ctx context.Context) (Device, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	dev, err := c.cfg.Open(c.cfg.Path)
	if err != nil {
		<-c.sem
		if errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrAbsent) {
			err = fmt.Errorf("%w: %w", ErrAbsent, err)
		}
		return nil, err
	}
	return dev, nil
}

func (c *V4L2) release(dev Device) {
	// A close error cannot spoil a frame already copied out, and the
	// next open reports a device that is really gone.
	_ = dev.Close()
	<-c.sem
}

// fail adds the camera's name, and ErrTimeout to a deadline's error.
func (c *V4L2) fail(err error) error { return fmt.Errorf("camera: %s: %w", c.name, withTimeout(err)) }

// capture negotiates a format and reads frames until one is good.
func (c *V4L2) capture(ctx context.Context, dev Device) (Frame, error) {
	format, err := chooseFormat(dev.Formats())
	if err != nil {
		return Frame{}, err
	}
	offered := dev.FrameSizes(format)
	want := chooseSize(offered, c.cfg.Size)
	got, size, err := dev.SetFormat(format, want)
	if err != nil {
		return Frame{}, fmt.Errorf("set format %v %v: %w", format, want, err)
	}
	if !slices.Contains(supportedFormats(), got) {
		return Frame{}, fmt.Errorf("%w: asked for %v, device set %v", ErrNoFormat, format, got)
	}
	if got != format {
		offered = dev.FrameSizes(got)
	}
	if err := dev.Start(); err != nil {
		return Frame{}, fmt.Errorf("start streaming: %w", err)
	}
	var lastErr error
	for i := 0; i < c.cfg.Warmup+badFrameRetries; i++ {
		raw, err := dev.NextFrame(ctx)
		if err != nil {
			return Frame{}, fmt.Errorf("read frame: %w", err)
		}
		at := c.cfg.Now()
		if i < c.cfg.Warmup {
			continue
		}
		f, err := decodeRaw(got, size, offered, raw, c.cfg)
		if err != nil {
			lastErr = err
			continue
		}
		f.Time = at
		return f, nil
	}
	return Frame{}, lastErr
}

// supportedFormats lists what decodeRaw reads, most preferred first.
func supportedFormats() []PixelFormat { return []PixelFormat{FormatMJPEG, FormatJPEG, FormatYUYV} }

// chooseFormat picks the most preferred format that the device offers.
func chooseFormat(offered []PixelFormat) (PixelFormat, error) {
	for _, f := range supportedFormats() {
		if slices.Contains(offered, f) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: device offers %v", ErrNoFormat, offered)
}

// chooseSize picks the largest offered size that fits within want, or the
// smallest offered when none does; with no list it asks for want and lets
// the driver adjust.
func chooseSize(offered []Size, want Size) Size {
	var best, smallest Size
	area := func(s Size) int { return s.Width * s.Height }
	for _, s := range offered {
		if s.Width <= 0 || s.Height <= 0 {
			continue
		}
		if s.Width <= want.Width && s.Height <= want.Height && area(s) > area(best) {
			best = s
		}
		if smallest == (Size{}) || area(s) < area(smallest) {
			smallest = s
		}
	}
	switch {
	case best != Size{}:
		return best
	case smallest != Size{}:
		return smallest
	}
	return want
}

// decodeRaw turns one raw frame in format into a Frame (without its Time).
// It is the whole of the buffer handling, kept apart from the device so that
// recorded frames test it.
func decodeRaw(format PixelFormat, size Size, offered []Size, raw []byte, cfg V4L2Config) (Frame, error) {
	if len(raw) == 0 {
		return Frame{}, fmt.Errorf("%w: empty buffer", ErrBadFrame)
	}
	if cfg.MaxFrameBytes > 0 && len(raw) > cfg.MaxFrameBytes {
		return Frame{}, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(raw))
	}
	switch format {
	case FormatMJPEG, FormatJPEG:
		b, ic, err := normalizeJPEG(raw)
		if err != nil {
			return Frame{}, err
		}
		return Frame{JPEG: b, Width: ic.Width, Height: ic.Height}, nil
	case FormatYUYV:
		s, stride, err := yuyvGeometry(len(raw), size, offered)
		if err != nil {
			return Frame{}, err
		}
		img, err := yuyvToYCbCr(raw, s, stride, cfg.FullRangeYUV)
		if err != nil {
			return Frame{}, err
		}
		quality := cfg.Quality
		if quality == 0 {
			quality = DefaultQuality
		}
		b, err := encodeJPEG(img, quality)
		if err != nil {
			return Frame{}, err
		}
		return Frame{JPEG: b, Width: s.Width, Height: s.Height}, nil
	}
	return Frame{}, fmt.Errorf("%w: %v", ErrNoFormat, format)
}

// withTimeout makes an error that came from a deadline wrap ErrTimeout too,
// as Snapshot promises; a cancellation by the caller stays context.Canceled
// alone.
func withTimeout(err error) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

package camera_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
)

var (
	vga      = camera.Size{Width: 640, Height: 480}
	hd       = camera.Size{Width: 1280, Height: 720}
	fhd      = camera.Size{Width: 1920, Height: 1080}
	barsSize = camera.Size{Width: 64, Height: 48}
)

func TestV4L2MJPEGWithoutDHT(t *testing.T) {
	uvc := mustReadFile(t, "bars_64x48_uvc_no_dht.mjpeg")
	dev := &fakeDevice{
		formats: []camera.PixelFormat{camera.FormatYUYV, camera.FormatMJPEG},
		sizes:   map[camera.PixelFormat][]camera.Size{camera.FormatMJPEG: {vga, hd, fhd}, camera.FormatYUYV: {vga}},
		// Three warm-up frames (dropped whatever they are), then the frame.
		frames: [][]byte{[]byte("dark"), []byte("darker"), {0xFF, 0xD8}, uvc},
	}
	at, now := fixedClock()
	c := mustV4L2(t, dev, camera.V4L2Config{Now: now})
	f, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Width != 64 || f.Height != 48 || !f.Time.Equal(at) {
		t.Errorf("frame %dx%d at %v, want 64x48 at %v", f.Width, f.Height, f.Time, at)
	}
	checkBars(t, mustDecodeJPEG(t, f.JPEG), 12)
	if want := []setCall{{camera.FormatMJPEG, hd}}; fmt.Sprint(dev.sets) != fmt.Sprint(want) {
		t.Errorf("SetFormat calls %v, want %v", dev.sets, want)
	}
	if !dev.started || dev.openNow() != 0 {
		t.Errorf("started %v, %d devices left open", dev.started, dev.openNow())
	}
}

func TestV4L2YUYV(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		offered []camera.Size
	}{
		{"packed", "bars_64x48.yuyv", []camera.Size{barsSize}},
		{"padded rows", "bars_64x48_stride160.yuyv", []camera.Size{barsSize}},
		{"driver chose the size", "bars_64x48.yuyv", []camera.Size{vga, barsSize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &fakeDevice{
				formats: []camera.PixelFormat{camera.FourCC('H', '2', '6', '4'), camera.FormatYUYV},
				sizes:   map[camera.PixelFormat][]camera.Size{camera.FormatYUYV: tt.offered},
				frames:  [][]byte{mustReadFile(t, tt.file)},
			}
			want := barsSize
			if len(tt.offered) > 1 {
				want = vga // asks for VGA; the frame says 64x48
			}
			c := mustV4L2(t, dev, camera.V4L2Config{Size: want, Warmup: -1})
			f, err := c.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 64 || f.Height != 48 {
				t.Errorf("frame %dx%d, want 64x48", f.Width, f.Height)
			}
			checkBars(t, mustDecodeJPEG(t, f.JPEG), 12)
		})
	}
}

// TestV4L2BadFrames: a cut frame now and then is skipped; a camera that
// sends nothing good is an error naming the last problem.
func TestV4L2BadFrames(t *testing.T) {
	uvc := mustReadFile(t, "bars_64x48_uvc_no_dht.mjpeg")
	cut := uvc[:200]
	tests := []struct {
		name   string
		format camera.PixelFormat
		frames [][]byte
		cfg    camera.V4L2Config
		want   error // nil: a frame
	}{
		{"one cut frame", camera.FormatMJPEG, [][]byte{cut, uvc}, camera.V4L2Config{}, nil},
		{"two cut frames", camera.FormatMJPEG, [][]byte{cut, nil, uvc}, camera.V4L2Config{}, nil},
		{"only cut frames", camera.FormatMJPEG, [][]byte{cut, cut, cut, uvc}, camera.V4L2Config{}, camera.ErrNotJPEG},
		{"YUYV of the wrong size", camera.FormatYUYV, [][]byte{make([]byte, 1000), make([]byte, 1000), make([]byte, 1000)}, camera.V4L2Config{}, camera.ErrBadFrame},
		{"over the cap", camera.FormatMJPEG, [][]byte{uvc, uvc, uvc}, camera.V4L2Config{MaxFrameBytes: 100}, camera.ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &fakeDevice{formats: []camera.PixelFormat{tt.format}, frames: tt.frames}
			cfg := tt.cfg
			cfg.Warmup = -1
			c := mustV4L2(t, dev, cfg)
			_, err := c.Snapshot(context.Background())
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestV4L2NoFormat(t *testing.T) {
	dev := &fakeDevice{formats: []camera.PixelFormat{camera.FourCC('H', '2', '6', '4'), camera.FourCC('R', 'G', 'G', 'B')}}
	c := mustV4L2(t, dev, camera.V4L2Config{})
	if _, err := c.Snapshot(context.Background()); !errors.Is(err, camera.ErrNoFormat) {
		t.Errorf("Snapshot err = %v, want ErrNoFormat", err)
	}
	present, err := c.Probe(context.Background())
	if !present || !errors.Is(err, camera.ErrNoFormat) {
		t.Errorf("Probe = %v, %v; want true, ErrNoFormat", present, err)
	}
	// The device settling on a format it was not asked for.
	dev = &fakeDevice{formats: []camera.PixelFormat{camera.FormatMJPEG}, setTo: camera.FourCC('H', '2', '6', '4')}
	c = mustV4L2(t, dev, camera.V4L2Config{})
	if _, err := c.Snapshot(context.Background()); !errors.Is(err, camera.ErrNoFormat) {
		t.Errorf("Snapshot err = %v, want ErrNoFormat", err)
	}
}

// TestV4L2Absent: no device is "not present", told apart from a failure.
func TestV4L2Absent(t *testing.T) {
	tests := []struct {
		name    string
		openErr error
		absent  bool
	}{
		{"no such node", fmt.Errorf("open /dev/video0: %w", fs.ErrNotExist), true},
		{"adapter says absent", fmt.Errorf("open /dev/video0: %w", camera.ErrAbsent), true},
		{"permission denied", fmt.Errorf("open /dev/video0: %w", fs.ErrPermission), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustV4L2(t, &fakeDevice{openErr: tt.openErr}, camera.V4L2Config{})
			_, err := c.Snapshot(context.Background())
			if err == nil || errors.Is(err, camera.ErrAbsent) != tt.absent {
				t.Errorf("Snapshot err = %v, absent %v", err, tt.absent)
			}
			present, err := c.Probe(context.Background())
			if tt.absent && (present || err != nil) {
				t.Errorf("Probe = %v, %v; want false, nil", present, err)
			}
			if !tt.absent && (present || err == nil) {
				t.Errorf("Probe = %v, %v; want false and the error", present, err)
			}
		})
	}
}

// TestV4L2Unplugged: a camera pulled out mid-snapshot is absent too.
func TestV4L2Unplugged(t *testing.T) {
	dev := &fakeDevice{formats: []camera.PixelFormat{camera.FormatMJPEG}, nextErr: fmt.Errorf("dequeue: %w", camera.ErrAbsent)}
	c := mustV4L2(t, dev, camera.V4L2Config{})
	if _, err := c.Snapshot(context.Background()); !errors.Is(err, camera.ErrAbsent) {
		t.Errorf("err = %v, want ErrAbsent", err)
	}
	if dev.openNow() != 0 {
		t.Error("device left open")
	}
}

func TestV4L2Timeout(t *testing.T) {
	silent := func() *fakeDevice { return &fakeDevice{formats: []camera.PixelFormat{camera.FormatMJPEG}} }
	t.Run("own timeout", func(t *testing.T) {
		c := mustV4L2(t, silent(), camera.V4L2Config{Timeout: 50 * time.Millisecond})
		start := time.Now()
		_, err := c.Snapshot(context.Background())
		if !errors.Is(err, camera.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("caller's deadline", func(t *testing.T) {
		c := mustV4L2(t, silent(), camera.V4L2Config{Timeout: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.Snapshot(ctx); !errors.Is(err, camera.ErrTimeout) {
			t.Errorf("err = %v, want ErrTimeout", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		c := mustV4L2(t, silent(), camera.V4L2Config{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := c.Snapshot(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, camera.ErrTimeout) {
			t.Errorf("err = %v, want context.Canceled alone", err)
		}
	})
}

// TestV4L2OneAtATime: concurrent Snapshots take turns with the device (a
// second open of a streaming UVC camera fails with EBUSY).
func TestV4L2OneAtATime(t *testing.T) {
	uvc := mustReadFile(t, "bars_64x48_uvc_no_dht.mjpeg")
	const n = 8
	dev := &fakeDevice{formats: []camera.PixelFormat{camera.FormatMJPEG}}
	for range n {
		dev.frames = append(dev.frames, uvc)
	}
	c := mustV4L2(t, dev, camera.V4L2Config{Warmup: -1})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.Snapshot(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if dev.opens != n || dev.maxInUse != 1 {
		t.Errorf("%d opens, %d at once; want %d, 1", dev.opens, dev.maxInUse, n)
	}
}

func TestNewV4L2(t *testing.T) {
	for _, cfg := range []camera.V4L2Config{
		{},
		{Path: "/dev/video0", Size: camera.Size{Width: -1, Height: 480}},
		{Path: "/dev/video0", Quality: 101},
		{Path: "/dev/video0", Timeout: -time.Second},
	} {
		if _, err := camera.NewV4L2(cfg); !errors.Is(err, camera.ErrConfig) {
			t.Errorf("NewV4L2(%+v) err = %v, want ErrConfig", cfg, err)
		}
	}
	c, err := camera.NewV4L2(camera.V4L2Config{Path: "/dev/video0"})
	if err != nil || c.Name() != "/dev/video0" {
		t.Errorf("NewV4L2 = %v, %v", c, err)
	}
}

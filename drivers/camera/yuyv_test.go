package camera_test

import (
	"errors"
	"testing"

	"github.com/fengqiao/kiosk/drivers/camera"
)

func TestDecodeRawYUYV(t *testing.T) {
	bars := camera.Size{Width: 64, Height: 48}
	tests := []struct {
		name    string
		file    string
		size    camera.Size   // what SetFormat reported
		offered []camera.Size // what the device lists
	}{
		{"packed", "bars_64x48.yuyv", bars, nil},
		{"padded rows", "bars_64x48_stride160.yuyv", bars, nil},
		// blackjack/webcam reports the requested size; the driver
		// chose 64x48 from its list.
		{"driver chose another size", "bars_64x48.yuyv", camera.Size{Width: 640, Height: 480}, []camera.Size{{Width: 640, Height: 480}, bars}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := mustReadFile(t, tt.file)
			f, err := camera.DecodeRaw(camera.FormatYUYV, tt.size, tt.offered, raw, camera.V4L2Config{Quality: 90})
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 64 || f.Height != 48 {
				t.Errorf("frame is %dx%d, want 64x48", f.Width, f.Height)
			}
			// Bar centres keep their colour within 12 (they are off
			// by 5 here; left in limited range, by 25).
			checkBars(t, mustDecodeJPEG(t, f.JPEG), 12)
		})
	}
}

// TestYUYVRange checks that limited-range values are stretched: black
// (Y 16) must come out black, not dark grey, and white (Y 235) white.
func TestYUYVRange(t *testing.T) {
	raw := []byte{16, 128, 16, 128, 235, 128, 235, 128}
	img, err := camera.YUYVToYCbCr(raw, camera.Size{Width: 4, Height: 1}, 8, false)
	if err != nil {
		t.Fatal(err)
	}
	if img.Y[0] != 0 || img.Y[3] != 255 || img.Cb[0] != 128 || img.Cr[1] != 128 {
		t.Errorf("Y %v Cb %v Cr %v, want Y 0 0 255 255 and neutral chroma", img.Y, img.Cb, img.Cr)
	}
	img, err = camera.YUYVToYCbCr(raw, camera.Size{Width: 4, Height: 1}, 8, true)
	if err != nil {
		t.Fatal(err)
	}
	if img.Y[0] != 16 || img.Y[3] != 235 {
		t.Errorf("full range changed Y to %v", img.Y)
	}
}

func TestYUYVGeometry(t *testing.T) {
	vga := camera.Size{Width: 640, Height: 480}
	qvga := camera.Size{Width: 320, Height: 240}
	tests := []struct {
		name     string
		n        int
		want     camera.Size
		offered  []camera.Size
		size     camera.Size
		stride   int
		badFrame bool
	}{
		{"exact", 640 * 480 * 2, vga, nil, vga, 1280, false},
		{"from the offered list", 320 * 240 * 2, vga, []camera.Size{vga, qvga}, qvga, 640, false},
		{"padded rows", 1344 * 480, vga, nil, vga, 1344, false},
		{"short", 640*480*2 - 1, vga, []camera.Size{vga}, camera.Size{}, 0, true},
		{"too long", 640*480*2 + 7, vga, []camera.Size{vga}, camera.Size{}, 0, true},
		{"odd width", 3 * 2 * 2, camera.Size{Width: 3, Height: 2}, nil, camera.Size{}, 0, true},
		{"nothing", 0, vga, nil, camera.Size{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, stride, err := camera.YUYVGeometry(tt.n, tt.want, tt.offered)
			if tt.badFrame {
				if !errors.Is(err, camera.ErrBadFrame) {
					t.Errorf("err = %v, want ErrBadFrame", err)
				}
				return
			}
			if err != nil || size != tt.size || stride != tt.stride {
				t.Errorf("= %v, %d, %v; want %v, %d", size, stride, err, tt.size, tt.stride)
			}
		})
	}
}

func TestDecodeRawRejects(t *testing.T) {
	vga := camera.Size{Width: 640, Height: 480}
	tests := []struct {
		name   string
		format camera.PixelFormat
		raw    []byte
		cfg    camera.V4L2Config
		want   error
	}{
		{"empty buffer", camera.FormatMJPEG, nil, camera.V4L2Config{}, camera.ErrBadFrame},
		{"cut MJPEG", camera.FormatMJPEG, []byte{0xFF, 0xD8, 0xFF, 0xDB, 0x00}, camera.V4L2Config{}, camera.ErrNotJPEG},
		{"short YUYV", camera.FormatYUYV, make([]byte, 100), camera.V4L2Config{}, camera.ErrBadFrame},
		{"over the cap", camera.FormatYUYV, make([]byte, 640*480*2), camera.V4L2Config{MaxFrameBytes: 1000}, camera.ErrFrameTooLarge},
		{"H.264", camera.FourCC('H', '2', '6', '4'), []byte{0, 0, 0, 1}, camera.V4L2Config{}, camera.ErrNoFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := camera.DecodeRaw(tt.format, vga, nil, tt.raw, tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChooseFormatAndSize(t *testing.T) {
	h264 := camera.FourCC('H', '2', '6', '4')
	for _, tt := range []struct {
		offered []camera.PixelFormat
		want    camera.PixelFormat
	}{
		{[]camera.PixelFormat{camera.FormatYUYV, camera.FormatMJPEG, h264}, camera.FormatMJPEG},
		{[]camera.PixelFormat{h264, camera.FormatYUYV}, camera.FormatYUYV},
		{[]camera.PixelFormat{camera.FormatJPEG, camera.FormatYUYV}, camera.FormatJPEG},
	} {
		if got, err := camera.ChooseFormat(tt.offered); got != tt.want || err != nil {
			t.Errorf("ChooseFormat(%v) = %v, %v; want %v", tt.offered, got, err, tt.want)
		}
	}
	if _, err := camera.ChooseFormat([]camera.PixelFormat{h264}); !errors.Is(err, camera.ErrNoFormat) {
		t.Errorf("ChooseFormat(H264) err = %v, want ErrNoFormat", err)
	}

	s := func(w, h int) camera.Size { return camera.Size{Width: w, Height: h} }
	hd := s(1280, 720)
	for _, tt := range []struct {
		name    string
		offered []camera.Size
		want    camera.Size
	}{
		{"exact", []camera.Size{s(640, 480), hd, s(1920, 1080)}, hd},
		{"largest below", []camera.Size{s(320, 240), s(800, 600), s(1920, 1080)}, s(800, 600)},
		{"all larger: smallest", []camera.Size{s(2592, 1944), s(1920, 1080)}, s(1920, 1080)},
		{"no list: as asked", nil, hd},
	} {
		if got := camera.ChooseSize(tt.offered, hd); got != tt.want {
			t.Errorf("%s: ChooseSize = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := camera.FormatMJPEG.String(); got != "MJPG" {
		t.Errorf("FormatMJPEG.String() = %q", got)
	}
	if got := camera.PixelFormat(1).String(); got != "PixelFormat(0x00000001)" {
		t.Errorf("PixelFormat(1).String() = %q", got)
	}
}

package camera_test

import (
	"bytes"
	"errors"
	"image"
	"testing"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// TestDefaultDHTIsTheStandardOne compares the inserted tables with the
// segment image/jpeg's encoder writes, which uses the same Annex K tables.
func TestDefaultDHTIsTheStandardOne(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	dht := camera.DefaultDHT()
	if len(dht) != 420 {
		t.Errorf("DHT segment is %d bytes, want 420", len(dht))
	}
	if !bytes.Contains(jpg, dht) {
		t.Errorf("image/jpeg's output does not contain the default DHT segment")
	}
}

func TestNormalizeUVCFrameWithoutDHT(t *testing.T) {
	raw := mustReadFile(t, "bars_64x48_uvc_no_dht.mjpeg")
	if bytes.Contains(raw, []byte{0xFF, 0xC4}) {
		t.Fatal("testdata frame has a DHT segment")
	}
	if _, err := decodeJPEG(raw); err == nil {
		t.Fatal("image/jpeg decodes the frame without tables: the test proves nothing")
	}
	out, cfg, err := camera.NormalizeJPEG(raw)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 64 || cfg.Height != 48 {
		t.Errorf("config %dx%d, want 64x48", cfg.Width, cfg.Height)
	}
	if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
		t.Errorf("padding after EOI kept")
	}
	img := mustDecodeJPEG(t, out)
	checkBars(t, img, 12)
	// Same tables, same scan: the pixels are exactly the encoder's.
	want := mustDecodeJPEG(t, mustReadFile(t, "bars_64x48.jpg"))
	if !sameImage(img, want) {
		t.Errorf("frame with inserted tables differs from the original")
	}
}

func TestNormalizeKeepsAWholeJPEG(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	padded := append(bytes.Clone(jpg), 0, 0, 0, '\r', '\n')
	out, _, err := camera.NormalizeJPEG(padded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, jpg) {
		t.Errorf("a JPEG with tables was changed beyond trimming")
	}
}

func TestNormalizeRejects(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"html", []byte("<html><body>login</body></html>")},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
		{"soi only", []byte{0xFF, 0xD8}},
		{"soi eoi", []byte{0xFF, 0xD8, 0xFF, 0xD9}},
		{"truncated", jpg[:len(jpg)/2]},
		{"no marker after soi", []byte{0xFF, 0xD8, 0x00, 0x00, 0xFF, 0xD9}},
		{"segment past the end", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x7F, 0xFF, 0xFF, 0xD9}},
		{"scan before frame header", []byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x00, 0xFF, 0xD9}},
		{"zero size", zeroSize(t, jpg)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := camera.NormalizeJPEG(tt.b)
			if !errors.Is(err, camera.ErrNotJPEG) {
				t.Errorf("err = %v, want ErrNotJPEG", err)
			}
		})
	}
}

// zeroSize sets the SOF0 height of jpg to 0.
func zeroSize(t *testing.T, jpg []byte) []byte {
	t.Helper()
	b := bytes.Clone(jpg)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	b[i+5], b[i+6] = 0, 0
	return b
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

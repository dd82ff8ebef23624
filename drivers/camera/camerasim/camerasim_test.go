package camerasim_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera/camerasim"
)

func TestSnapshot(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	cam, err := camerasim.New(camerasim.Options{Name: "kiosk-front", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	f, err := cam.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Width != camerasim.DefaultWidth || f.Height != camerasim.DefaultHeight || !f.Time.Equal(at) {
		t.Errorf("frame %dx%d at %v", f.Width, f.Height, f.Time)
	}
	img, err := jpeg.Decode(bytes.NewReader(f.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != f.Width || b.Dy() != f.Height {
		t.Errorf("JPEG is %v, frame says %dx%d", b, f.Width, f.Height)
	}
	f.JPEG[0] = 0
	if g, _ := cam.Snapshot(context.Background()); g.JPEG[0] != 0xFF {
		t.Error("a caller's change to its frame reached the next snapshot")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cam.Snapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot on a done context = %v", err)
	}
}

func TestNewRefusesSize(t *testing.T) {
	for _, size := range [][2]int{{-1, 480}, {640, 0}, {70000, 480}} {
		if _, err := camerasim.New(camerasim.Options{Name: "x", Width: size[0], Height: size[1]}); !errors.Is(err, camerasim.ErrSize) {
			t.Errorf("New(%dx%d) = %v, want ErrSize", size[0], size[1], err)
		}
	}
}

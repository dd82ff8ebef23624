package cameratest_test

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
	"github.com/fengqiao/kiosk/drivers/camera/cameratest"
)

func TestCamera(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	c := cameratest.New("door", 40, 30, color.RGBA{200, 30, 30, 255})
	c.Now = func() time.Time { return at }

	f, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(f.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 30 || f.Width != 40 || f.Height != 30 || !f.Time.Equal(at) {
		t.Errorf("frame %v (%dx%d) at %v", b, f.Width, f.Height, f.Time)
	}
	if r, _, _, _ := img.At(20, 15).RGBA(); r>>8 < 180 {
		t.Errorf("colour lost: red %d", r>>8)
	}
	f.JPEG[0] = 0 // the caller owns its copy
	if again, _ := c.Snapshot(ctx); again.JPEG[0] != 0xFF {
		t.Error("Snapshot shares its frame's bytes")
	}

	queued := cameratest.NewFrame(8, 8, color.White, at.Add(time.Hour))
	c.Push(queued)
	if f, _ := c.Snapshot(ctx); f.Width != 8 || !f.Time.Equal(queued.Time) {
		t.Errorf("queued frame not returned first: %dx%d at %v", f.Width, f.Height, f.Time)
	}
	if f, _ := c.Snapshot(ctx); f.Width != 40 {
		t.Errorf("queue not emptied: %dx%d", f.Width, f.Height)
	}

	boom := errors.New("sensor fault")
	c.SetErr(boom)
	if _, err := c.Snapshot(ctx); !errors.Is(err, boom) || err.Error() != "camera: door: sensor fault" {
		t.Errorf("err = %v", err)
	}
	c.SetAbsent(true)
	if _, err := c.Snapshot(ctx); !errors.Is(err, camera.ErrAbsent) {
		t.Errorf("absent: err = %v", err)
	}
	c.SetAbsent(false)
	c.SetErr(nil)
	c.SetHang(true)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := c.Snapshot(tctx); !errors.Is(err, camera.ErrTimeout) {
		t.Errorf("hang: err = %v", err)
	}
	if n := c.Snapshots(); n != 7 {
		t.Errorf("%d snapshots counted, want 7", n)
	}
}

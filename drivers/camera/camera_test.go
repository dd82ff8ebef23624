package camera_test

import (
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
	"github.com/fengqiao/kiosk/drivers/camera/cameratest"
)

// TestMonitor follows a camera through the states telemetry reports.
func TestMonitor(t *testing.T) {
	clock := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	fake := cameratest.New("front", 32, 16, color.Gray{128})
	fake.Now = now
	m := camera.NewMonitor("front", fake, now)
	if st := m.Status(); st.Present || st.Online || !st.Checked.IsZero() || st.Name != "front" {
		t.Errorf("before any snapshot: %+v", st)
	}
	ctx := context.Background()

	steps := []struct {
		name    string
		set     func()
		present bool
		online  bool
		fails   int
		lastErr string
	}{
		{"frame", func() {}, true, true, 0, ""},
		{"failure", func() { fake.SetErr(errors.New("usb reset")) }, true, false, 1, "camera: front: usb reset"},
		{"another failure", func() {}, true, false, 2, "camera: front: usb reset"},
		{"unplugged", func() { fake.SetErr(nil); fake.SetAbsent(true) }, false, false, 0, "camera: front: usb reset"},
		{"back", func() { fake.SetAbsent(false) }, true, true, 0, "camera: front: usb reset"},
	}
	for i, s := range steps {
		clock = clock.Add(time.Minute)
		s.set()
		_, err := m.Snapshot(ctx)
		if (err == nil) != s.online {
			t.Fatalf("%s: err = %v", s.name, err)
		}
		st := m.Status()
		if st.Present != s.present || st.Online != s.online || st.Failures != s.fails || st.LastError != s.lastErr || !st.Checked.Equal(clock) {
			t.Errorf("step %d %s: %+v", i, s.name, st)
		}
		if s.online && (!st.LastFrame.Equal(clock) || st.Width != 32 || st.Height != 16) {
			t.Errorf("step %d %s: last frame %v %dx%d", i, s.name, st.LastFrame, st.Width, st.Height)
		}
	}

	// A snapshot the caller cancels says nothing about the camera.
	before := m.Status()
	fake.SetHang(true)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Snapshot(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if m.Status() != before {
		t.Errorf("cancelled snapshot changed the status: %+v", m.Status())
	}
	// One that hangs until its deadline is a failure.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := m.Snapshot(tctx); !errors.Is(err, camera.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if st := m.Status(); st.Online || st.Failures != 1 {
		t.Errorf("after a timeout: %+v", st)
	}
}

func TestStatusJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 29, 55, 0, time.UTC)
	st := camera.Status{Name: "gate", Present: true, Online: true, Checked: at, LastFrame: at, Width: 1280, Height: 720}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"gate","present":true,"online":true,"checked":"2026-11-25T08:29:55Z","last_frame":"2026-11-25T08:29:55Z","width":1280,"height":720,"failures":0}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	b, _ = json.Marshal(camera.Status{Name: "door"})
	if strings.Contains(string(b), "0001-01-01") {
		t.Errorf("zero times in %s", b)
	}
}

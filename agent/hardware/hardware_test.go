package hardware

import (
	"context"
	"errors"
	"image/color"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/camera"
	"github.com/fengqiao/kiosk/drivers/camera/cameratest"
	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type alerts struct {
	mu    sync.Mutex
	kinds []string
}

func (a *alerts) add(_ context.Context, kind, _, _ string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.kinds = append(a.kinds, kind)
	return nil
}

func (a *alerts) get() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.kinds...)
}

func newPin(name string) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level, 4)}
}

// eventually polls cond for up to 5 s: the inputs run on real time here
// (drivers/gpio's own tests run theirs in testing/synctest bubbles).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustRun(t *testing.T, opts Options) *Hardware {
	t.Helper()
	opts.Log = discard
	opts.MinRetry, opts.MaxRetry = 10*time.Millisecond, 20*time.Millisecond
	h := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return h
}

// TestTamperAndPresence: the enclosure opening raises an alert and puts
// the LED on fault; closing raises another; a PIR edge wakes a waiting
// screen.
func TestTamperAndPresence(t *testing.T) {
	// In a bubble, so that "the screen is already waiting" is a fact
	// (synctest.Wait) rather than a sleep that is usually long enough.
	synctest.Test(t, func(t *testing.T) {
		pins := map[string]*gpiotest.Pin{"P": newPin("P"), "T": newPin("T"), "L": newPin("L")}
		var al alerts
		h := mustRun(t, Options{
			PIR: PinSpec{Pin: "P", Debounce: 5 * time.Millisecond}, Tamper: PinSpec{Pin: "T", Debounce: 5 * time.Millisecond},
			LED:   PinSpec{Pin: "L"},
			Pin:   func(name string) (gpio.PinIO, error) { return pins[name], nil },
			Alert: al.add, Online: func() bool { return true },
		})
		eventually(t, "inputs and LED ready", func() bool {
			s := h.Status()
			return s.PIR.State == apitype.DeviceReady && s.Tamper.State == apitype.DeviceReady && s.LED.Pattern == "online"
		})

		woke := make(chan uint64)
		go func() { seq, _ := h.WaitPresence(context.Background(), 0, 5*time.Second); woke <- seq }()
		synctest.Wait() // the screen is waiting: the edge must wake it, not be found on arrival
		pins["P"].EdgesChan <- gpio.High
		if seq := <-woke; seq != 1 {
			t.Errorf("presence seq %d, want 1", seq)
		}

		pins["T"].EdgesChan <- gpio.High
		eventually(t, "tamper alert", func() bool { k := al.get(); return len(k) == 1 && k[0] == AlertTamperOpen })
		eventually(t, "fault pattern", func() bool { s := h.Status(); return s.Tamper.Active && s.LED.Pattern == "fault" })
		pins["T"].EdgesChan <- gpio.Low
		eventually(t, "closed alert", func() bool { k := al.get(); return len(k) == 2 && k[1] == AlertTamperClosed })
		eventually(t, "online pattern", func() bool { return h.Status().LED.Pattern == "online" })
	})
}

// TestAbsentAndFailing: a line not fitted is absent, not an error; one
// that fails to open is failed and is opened again until it works.
func TestAbsentAndFailing(t *testing.T) {
	var mu sync.Mutex
	tries := 0
	tamper := newPin("T")
	h := mustRun(t, Options{
		PIR:    PinSpec{Pin: "absent"},
		Tamper: PinSpec{Pin: "T"},
		Pin: func(name string) (gpio.PinIO, error) {
			if name == "absent" {
				return nil, kgpio.ErrAbsent
			}
			mu.Lock()
			defer mu.Unlock()
			if tries++; tries <= 2 {
				return nil, errors.New("gpiochip0: device or resource busy")
			}
			return tamper, nil
		},
	})
	eventually(t, "tamper failed", func() bool { return h.Status().Tamper.State == apitype.DeviceFailed })
	if s := h.Status().Tamper; s.LastError == "" {
		t.Errorf("failed without a reason: %+v", s)
	}
	eventually(t, "tamper ready after retries", func() bool { return h.Status().Tamper.State == apitype.DeviceReady })
	if s := h.Status(); s.PIR.State != apitype.DeviceAbsent || s.LED.State != apitype.DeviceAbsent {
		t.Errorf("status %+v", s)
	}
}

// TestCameras: each camera's health as telemetry reports it.
func TestCameras(t *testing.T) {
	ok := cameratest.New("front", 640, 480, color.White)
	gone := cameratest.New("gone", 640, 480, color.White)
	gone.SetAbsent(true)
	broken := cameratest.New("broken", 640, 480, color.White)
	broken.SetErr(errors.New("camera: broken: HTTP 503"))
	h := mustRun(t, Options{Cameras: []CameraSpec{
		{Name: "front", Camera: ok, Interval: time.Hour, Consent: true},
		{Name: "gone", Camera: gone, Interval: time.Hour},
		{Name: "broken", Camera: broken, Interval: time.Hour},
	}})
	eventually(t, "cameras checked", func() bool {
		for _, c := range h.Status().Cameras {
			if c.State == apitype.DeviceUnchecked {
				return false
			}
		}
		return true
	})
	want := map[string]string{"front": apitype.DeviceReady, "gone": apitype.DeviceAbsent, "broken": apitype.DeviceFailed}
	for _, c := range h.Status().Cameras {
		if c.State != want[c.Name] {
			t.Errorf("camera %s: %+v, want %s", c.Name, c, want[c.Name])
		}
	}
	if c := h.Status().Cameras[0]; c.Width != 640 || c.Height != 480 || c.LastFrame == nil {
		t.Errorf("front: %+v", c)
	}
	jpg, err := h.Photo(context.Background())
	if err != nil || len(jpg) < 100 || jpg[0] != 0xff || jpg[1] != 0xd8 {
		t.Errorf("photo of %d bytes, %v", len(jpg), err)
	}
	if st := h.PhotoCamera(); st.State != apitype.DeviceReady {
		t.Errorf("photo camera %+v", st)
	}
	if _, err := New(Options{}).Photo(context.Background()); !errors.Is(err, camera.ErrAbsent) {
		t.Errorf("photo without a consent camera: %v", err)
	}
}

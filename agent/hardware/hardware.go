// Package hardware owns the kiosk's sensors, status LED and cameras while
// kioskd runs: it reads the presence sensor and the enclosure's tamper
// switch (drivers/gpio), turns a tamper into an alert record for the
// township, shows the kiosk's state on the LED, checks every camera
// (drivers/camera) on a schedule, and keeps the health of each for
// /v1/status and telemetry.
//
// Each device is absent (the board has none: fine, and said so), ready, or
// failed (present but not working). A device that fails is opened again
// with jittered backoff, so a loose connector or a camera that reboots does
// not need a technician; kioskd itself never stops for a device.
package hardware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/fengqiao/kiosk/agent/internal/retry"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/camera"
	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// Input names, in events, alerts and status.
const (
	PIR    = "pir"
	Tamper = "tamper"
)

// Alert kinds raised for the township (alert/v1, governance class).
const (
	AlertTamperOpen   = "tamper_open"
	AlertTamperClosed = "tamper_closed"
)

// PinSpec says which line an input or the LED is on.
type PinSpec struct {
	Pin       string // empty: not fitted
	ActiveLow bool
	Debounce  time.Duration
}

// CameraSpec is one camera to watch.
type CameraSpec struct {
	Name     string
	Camera   camera.Camera
	Interval time.Duration
	// Consent: the camera that takes mediation photos the parties agreed to.
	Consent bool
}

// Options configure Hardware.
type Options struct {
	PIR, Tamper, LED PinSpec
	// Pin resolves a line name to a pin (gpiohost.Pin on a real board,
	// simulated pins on the dev board, gpiotest pins in tests). Nil: the
	// board has no GPIO.
	Pin     func(name string) (gpio.PinIO, error)
	Cameras []CameraSpec
	// Alert queues an alert record for the township.
	Alert func(ctx context.Context, kind, message, detail string) error
	// Online says whether the township link is up, for the LED.
	Online func() bool
	// Retry bounds the wait before a failed device is opened again
	// (defaults 1 s to 1 min).
	MinRetry, MaxRetry time.Duration
	Log                *slog.Logger
	Now                func() time.Time
}

// Hardware runs the devices. Its methods are safe for concurrent use.
type Hardware struct {
	opts     Options
	monitors []*camera.Monitor
	led      *kgpio.LED // nil until opened

	mu       sync.Mutex
	inputs   map[string]*apitype.InputStatus
	ledState apitype.LEDStatus
	presence presence
}

// presence is the last time someone was seen, for the screen to wake on.
type presence struct {
	seq  uint64
	at   time.Time
	wake chan struct{} // closed and replaced at each sighting
}

// New returns the devices of opts; Run starts them.
func New(opts Options) *Hardware {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MinRetry <= 0 {
		opts.MinRetry = time.Second
	}
	if opts.MaxRetry <= 0 {
		opts.MaxRetry = time.Minute
	}
	h := &Hardware{opts: opts, inputs: map[string]*apitype.InputStatus{},
		presence: presence{wake: make(chan struct{})}}
	for _, name := range []string{PIR, Tamper} {
		h.inputs[name] = &apitype.InputStatus{State: apitype.DeviceAbsent}
	}
	h.ledState = apitype.LEDStatus{State: apitype.DeviceAbsent}
	for _, c := range opts.Cameras {
		h.monitors = append(h.monitors, camera.NewMonitor(c.Name, c.Camera, opts.Now))
	}
	return h
}

// Run runs every device until ctx is done. It returns ctx.Err().
func (h *Hardware) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	events := make(chan kgpio.Event, 16)
	for name, spec := range map[string]PinSpec{PIR: h.opts.PIR, Tamper: h.opts.Tamper} {
		if spec.Pin == "" || h.opts.Pin == nil {
			continue
		}
		wg.Go(func() { h.runInput(ctx, name, spec, events) })
	}
	if h.opts.LED.Pin != "" && h.opts.Pin != nil {
		wg.Go(func() { h.runLED(ctx) })
	}
	for i, c := range h.opts.Cameras {
		wg.Go(func() { h.watchCamera(ctx, h.monitors[i], c.Interval) })
	}
	wg.Go(func() { h.handleEvents(ctx, events) })
	wg.Wait()
	return ctx.Err()
}

// retry runs open-and-run until ctx ends, waiting out a jittered backoff
// after each failure. run returns nil when the device is absent (nothing to
// retry) or ctx ended.
func (h *Hardware) retry(ctx context.Context, what string, run func() error) {
	bo := retry.New(h.opts.MinRetry, h.opts.MaxRetry)
	log := h.opts.Log.With("device", what)
	for {
		err := run()
		if err == nil || ctx.Err() != nil {
			return
		}
		if bo.Wait(ctx, log, "device failed; opening it again", err) != nil {
			return
		}
	}
}

func (h *Hardware) runInput(ctx context.Context, name string, spec PinSpec, events chan<- kgpio.Event) {
	h.retry(ctx, name, func() error {
		pin, err := h.opts.Pin(spec.Pin)
		var in *kgpio.Input
		if err == nil {
			in, err = kgpio.NewInput(pin, kgpio.InputOptions{Name: name, ActiveLow: spec.ActiveLow, Debounce: spec.Debounce})
		}
		switch {
		case errors.Is(err, kgpio.ErrAbsent):
			h.setInput(name, func(s *apitype.InputStatus) { *s = apitype.InputStatus{State: apitype.DeviceAbsent} })
			return nil
		case err != nil:
			h.inputFailed(name, err)
			return err
		}
		h.setInput(name, func(s *apitype.InputStatus) {
			s.State, s.LastError, s.Polling, s.Since = apitype.DeviceReady, "", in.Polling(), h.opts.Now()
		})
		err = in.Run(ctx, events)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("input stopped")
		}
		h.inputFailed(name, err)
		return err
	})
}

func (h *Hardware) inputFailed(name string, err error) {
	h.setInput(name, func(s *apitype.InputStatus) {
		s.State, s.LastError, s.Since = apitype.DeviceFailed, err.Error(), h.opts.Now()
	})
}

func (h *Hardware) setInput(name string, f func(*apitype.InputStatus)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h.inputs[name])
}

// handleEvents turns debounced edges into what they mean.
func (h *Hardware) handleEvents(ctx context.Context, events <-chan kgpio.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-events:
			h.setInput(e.Input, func(s *apitype.InputStatus) { s.Active, s.Changed = e.Active, e.At })
			switch e.Input {
			case PIR:
				if e.Active {
					h.sighted(e.At)
				}
			case Tamper:
				h.tamper(ctx, e)
			}
			h.updateLED()
		}
	}
}

// tamper raises the alert. The record is governance class: it is never
// evicted, and it waits in the outbox if the township is unreachable.
func (h *Hardware) tamper(ctx context.Context, e kgpio.Event) {
	kind, msg := AlertTamperClosed, "the kiosk's enclosure was closed again"
	if e.Active {
		kind, msg = AlertTamperOpen, "the kiosk's enclosure was opened"
		h.opts.Log.Warn("enclosure opened", "at", e.At)
	} else {
		h.opts.Log.Info("enclosure closed", "at", e.At)
	}
	if h.opts.Alert == nil {
		return
	}
	if err := h.opts.Alert(ctx, kind, msg, "tamper switch at "+e.At.UTC().Format(time.RFC3339)); err != nil && ctx.Err() == nil {
		h.opts.Log.Error("tamper alert not queued", "kind", kind, "err", err)
	}
}

func (h *Hardware) sighted(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presence.seq++
	h.presence.at = at
	close(h.presence.wake)
	h.presence.wake = make(chan struct{})
}

// WaitPresence returns the last sighting with a seq above after, waiting up
// to wait for one; seq is after and at zero when none came.
func (h *Hardware) WaitPresence(ctx context.Context, after uint64, wait time.Duration) (seq uint64, at time.Time) {
	h.mu.Lock()
	p := h.presence
	h.mu.Unlock()
	if p.seq > after || after > p.seq {
		// after > seq: a screen that asked a kioskd before this one
		// restarted; answer at once so it starts over from our count.
		return p.seq, p.at
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.wake:
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.presence.seq, h.presence.at
	case <-t.C:
	case <-ctx.Done():
	}
	return after, time.Time{}
}

// Sighted records a sighting that did not come from the PIR sensor: a
// touch on the screen, a card on the reader.
func (h *Hardware) Sighted() { h.sighted(h.opts.Now()) }

func (h *Hardware) runLED(ctx context.Context) {
	h.retry(ctx, "led", func() error {
		pin, err := h.opts.Pin(h.opts.LED.Pin)
		var led *kgpio.LED
		if err == nil {
			led, err = kgpio.NewLED(pin, kgpio.LEDOptions{ActiveLow: h.opts.LED.ActiveLow})
		}
		switch {
		case errors.Is(err, kgpio.ErrAbsent):
			return nil
		case err != nil:
			h.ledFailed(err)
			return err
		}
		h.mu.Lock()
		h.led = led
		h.ledState = apitype.LEDStatus{State: apitype.DeviceReady}
		h.mu.Unlock()
		h.updateLED()
		// The LED follows the link: check it once a second.
		stop := make(chan struct{})
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					h.updateLED()
				}
			}
		}()
		err = led.Run(ctx)
		close(stop)
		h.mu.Lock()
		h.led = nil
		h.mu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
		h.ledFailed(err)
		return err
	})
}

func (h *Hardware) ledFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ledState = apitype.LEDStatus{State: apitype.DeviceFailed, LastError: err.Error()}
}

// Pattern is what the LED should show: fault when the enclosure is open or
// a sensor fails, else online or offline as the township link is.
func (h *Hardware) pattern() kgpio.Pattern {
	for _, s := range h.inputs {
		if s.State == apitype.DeviceFailed {
			return kgpio.Fault
		}
	}
	if t := h.inputs[Tamper]; t.State == apitype.DeviceReady && t.Active {
		return kgpio.Fault
	}
	if h.opts.Online != nil && h.opts.Online() {
		return kgpio.Online
	}
	return kgpio.Offline
}

func (h *Hardware) updateLED() {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.pattern()
	if h.led != nil {
		h.led.Set(p)
		h.ledState.Pattern = p.String()
	}
}

// watchCamera takes a snapshot every interval (jittered, so a village's
// kiosks do not all hit a shared IP camera at once) to keep its health.
func (h *Hardware) watchCamera(ctx context.Context, m *camera.Monitor, interval time.Duration) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := m.Snapshot(cctx)
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, camera.ErrAbsent) {
			h.opts.Log.Warn("camera check failed", "camera", m.Status().Name, "err", err)
		}
		wait := interval - interval/10 + time.Duration(float64(interval/5)*jitter())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Status is every device's health.
func (h *Hardware) Status() apitype.Hardware {
	h.mu.Lock()
	out := apitype.Hardware{PIR: *h.inputs[PIR], Tamper: *h.inputs[Tamper], LED: h.ledState}
	h.mu.Unlock()
	out.Cameras = []apitype.CameraStatus{}
	for _, m := range h.monitors {
		out.Cameras = append(out.Cameras, cameraStatus(m.Status()))
	}
	return out
}

func cameraStatus(s camera.Status) apitype.CameraStatus {
	state := apitype.DeviceReady
	switch {
	case s.Checked.IsZero():
		state = apitype.DeviceUnchecked
	case !s.Present:
		state = apitype.DeviceAbsent
	case !s.Online:
		state = apitype.DeviceFailed
	}
	out := apitype.CameraStatus{Name: s.Name, State: state, Width: s.Width, Height: s.Height,
		LastError: s.LastError, Failures: s.Failures}
	if !s.Checked.IsZero() {
		out.Checked = &s.Checked
	}
	if !s.LastFrame.IsZero() {
		out.LastFrame = &s.LastFrame
	}
	return out
}

// Photo takes a photo with the consent camera, for a mediation session
// whose parties agreed on screen, and returns its JPEG.
func (h *Hardware) Photo(ctx context.Context) ([]byte, error) {
	m := h.consentMonitor()
	if m == nil {
		return nil, fmt.Errorf("hardware: %w: no camera takes consent photos on this kiosk", camera.ErrAbsent)
	}
	f, err := m.Snapshot(ctx)
	return f.JPEG, err
}

// PhotoCamera is the consent camera's state, as GET /v1/devices shows it:
// the screen offers a photo only when it is ready.
func (h *Hardware) PhotoCamera() apitype.DeviceStatus {
	m := h.consentMonitor()
	if m == nil {
		return apitype.DeviceStatus{State: apitype.DeviceAbsent}
	}
	s := cameraStatus(m.Status())
	if s.State == apitype.DeviceUnchecked {
		// Not checked yet: let the screen offer it; a failure then says why.
		s.State = apitype.DeviceReady
	}
	return apitype.DeviceStatus{State: s.State, LastError: s.LastError}
}

func (h *Hardware) consentMonitor() *camera.Monitor {
	for i, c := range h.opts.Cameras {
		if c.Consent {
			return h.monitors[i]
		}
	}
	return nil
}

package kioskd

import (
	"context"
	"fmt"
	"image/color"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/hardware"
	"github.com/fengqiao/kiosk/drivers/camera"
	"github.com/fengqiao/kiosk/drivers/camera/cameratest"
	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiohost"
)

// Line names of the dev board's simulated GPIO.
const (
	SimPIRPin    = "SIM_PIR"
	SimTamperPin = "SIM_TAMPER"
	SimLEDPin    = "SIM_LED"
)

// PinResolver turns a board profile's line name into a pin.
type PinResolver func(name string) (gpio.PinIO, error)

// SimulatedPins are the dev board's GPIO lines: a presence sensor and a
// tamper switch that nothing moves (tests and tools send edges on their
// EdgesChan) and an LED whose level anyone may read.
func SimulatedPins() map[string]*gpiotest.Pin {
	pins := map[string]*gpiotest.Pin{}
	for i, n := range []string{SimPIRPin, SimTamperPin, SimLEDPin} {
		pins[n] = &gpiotest.Pin{N: n, Num: i, EdgesChan: make(chan gpio.Level, 8)}
	}
	return pins
}

// hardwareOptions builds the sensors, LED and cameras of the board profile
// and the site file. pins overrides how line names are resolved (tests);
// nil picks by gpio.driver.
func hardwareOptions(cfg *config.Config, pins PinResolver, agent *core.Core, online func() bool, log *slog.Logger, now func() time.Time) (hardware.Options, error) {
	g := cfg.Board.GPIO
	opts := hardware.Options{
		Online: online, Log: log, Now: now,
		Alert: func(ctx context.Context, kind, message, detail string) error {
			return agent.Alert(ctx, core.AlertBody{Kind: kind, Message: message, Detail: detail})
		},
	}
	spec := func(in config.GPIOInput) hardware.PinSpec {
		return hardware.PinSpec{Pin: in.Pin, ActiveLow: in.ActiveLow, Debounce: in.Debounce.Duration}
	}
	switch g.Driver {
	case config.GPIOHost:
		opts.PIR, opts.Tamper = spec(g.PIR), spec(g.Tamper)
		opts.LED = hardware.PinSpec{Pin: g.LED.Pin, ActiveLow: g.LED.ActiveLow}
		opts.Pin = gpiohost.Pin
	case config.GPIOSimulated:
		opts.PIR = hardware.PinSpec{Pin: SimPIRPin, Debounce: g.PIR.Debounce.Duration}
		opts.Tamper = hardware.PinSpec{Pin: SimTamperPin, Debounce: g.Tamper.Debounce.Duration}
		opts.LED = hardware.PinSpec{Pin: SimLEDPin}
		sim := SimulatedPins()
		opts.Pin = func(name string) (gpio.PinIO, error) {
			if p, ok := sim[name]; ok {
				return p, nil
			}
			return nil, fmt.Errorf("%w: %s", kgpio.ErrAbsent, name)
		}
	}
	if pins != nil {
		opts.Pin = pins
	}
	client := &http.Client{Timeout: camera.DefaultHTTPTimeout}
	for _, c := range append(append([]config.Camera{}, cfg.Board.Cameras...), cfg.Site.Cameras...) {
		cam, err := openCamera(cfg, c, client, now)
		if err != nil {
			return opts, fmt.Errorf("kioskd: camera %s: %w", c.Name, err)
		}
		opts.Cameras = append(opts.Cameras, hardware.CameraSpec{Name: c.Name, Camera: cam, Interval: c.CheckInterval.Duration, Consent: c.Consent})
	}
	return opts, nil
}

func openCamera(cfg *config.Config, c config.Camera, client *http.Client, now func() time.Time) (camera.Camera, error) {
	switch c.Driver {
	case config.CameraV4L2:
		return camera.NewV4L2(camera.V4L2Config{Name: c.Name, Path: c.Device,
			Size: camera.Size{Width: c.Width, Height: c.Height}, Now: now})
	case config.CameraHTTP:
		var password string
		if f := cfg.CameraPasswordFile(c); f != "" {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("password_file: %w", err)
			}
			password = strings.TrimSpace(string(data))
		}
		auth := map[string]camera.Auth{"auto": camera.AuthAuto, "basic": camera.AuthBasic, "digest": camera.AuthDigest}[c.Auth]
		return camera.NewHTTP(camera.HTTPConfig{Name: c.Name, URL: c.URL, Username: c.Username, Password: password,
			Auth: auth, Client: client, Now: now})
	}
	sim := cameratest.New(c.Name, 640, 480, color.RGBA{R: 0x4a, G: 0x7a, B: 0x5c, A: 0xff})
	sim.Now = now
	return sim, nil
}

package kioskd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/hardware"
	"github.com/fengqiao/kiosk/drivers/camera"
	"github.com/fengqiao/kiosk/drivers/camera/camerasim"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiohost"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiosim"
)

// ErrUnknownDriver: the configuration names a driver kioskd cannot open.
// config.Load refuses such a file with its name and line; Run checks again
// so that a driver name the loader learns before kioskd does is a failure
// at start, never a silent fall back to a simulator.
var ErrUnknownDriver = errors.New("kioskd: unknown driver")

// unknownDriver says which field of which file names the driver.
func unknownDriver(file, field, driver string) error {
	return fmt.Errorf("%w %q: %s: %s", ErrUnknownDriver, driver, file, field)
}

// PinResolver turns a board profile's line name into a pin.
type PinResolver func(name string) (gpio.PinIO, error)

// hardwareOptions builds the sensors, LED and cameras of the board profile
// and the site file. pins overrides how line names are resolved (tests);
// nil picks by gpio.driver. alert raises an alert for the township.
func hardwareOptions(cfg *config.Config, pins PinResolver, alert func(ctx context.Context, kind, message, detail string) error,
	online func() bool, log *slog.Logger, now func() time.Time) (hardware.Options, error) {
	g := cfg.Board.GPIO
	opts := hardware.Options{Online: online, Log: log, Now: now, Alert: alert}
	spec := func(in config.GPIOInput) hardware.PinSpec {
		return hardware.PinSpec{Pin: in.Pin, ActiveLow: in.ActiveLow, Debounce: in.Debounce.Duration}
	}
	switch g.Driver {
	case config.GPIONone:
	case config.GPIOHost:
		opts.PIR, opts.Tamper = spec(g.PIR), spec(g.Tamper)
		opts.LED = hardware.PinSpec{Pin: g.LED.Pin, ActiveLow: g.LED.ActiveLow}
		opts.Pin = gpiohost.Pin
	case config.GPIOSimulated:
		opts.PIR = hardware.PinSpec{Pin: gpiosim.PIR, Debounce: g.PIR.Debounce.Duration}
		opts.Tamper = hardware.PinSpec{Pin: gpiosim.Tamper, Debounce: g.Tamper.Debounce.Duration}
		opts.LED = hardware.PinSpec{Pin: gpiosim.LED}
		opts.Pin = gpiosim.NewBoard().Pin
	default:
		return opts, unknownDriver(cfg.BoardPath, "gpio.driver", g.Driver)
	}
	if pins != nil {
		opts.Pin = pins
	}
	client := &http.Client{Timeout: camera.DefaultHTTPTimeout}
	for i, c := range cfg.Board.Cameras {
		if err := addCamera(&opts, cfg, c, client, now, cfg.BoardPath, fmt.Sprintf("cameras[%d].driver", i)); err != nil {
			return opts, err
		}
	}
	for i, c := range cfg.Site.Cameras {
		if err := addCamera(&opts, cfg, c, client, now, cfg.SitePath, fmt.Sprintf("cameras[%d].driver", i)); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// addCamera opens c and adds it to opts; file and field say where c's
// driver is named, for an unknown one.
func addCamera(opts *hardware.Options, cfg *config.Config, c config.Camera, client *http.Client, now func() time.Time, file, field string) error {
	cam, err := openCamera(cfg, c, client, now)
	if errors.Is(err, ErrUnknownDriver) {
		return unknownDriver(file, field, c.Driver)
	}
	if err != nil {
		return fmt.Errorf("kioskd: camera %s: %w", c.Name, err)
	}
	opts.Cameras = append(opts.Cameras, hardware.CameraSpec{Name: c.Name, Camera: cam, Interval: c.CheckInterval.Duration, Consent: c.Consent})
	return nil
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
	case config.CameraSimulated:
		return camerasim.New(camerasim.Options{Name: c.Name, Now: now})
	}
	return nil, ErrUnknownDriver
}

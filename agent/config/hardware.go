package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"time"
)

// GPIO drivers of a board profile.
const (
	GPIONone      = "none"      // no GPIO lines wired: no presence wake, tamper switch or LED
	GPIOHost      = "host"      // the board's GPIO lines through periph's host drivers (gpiochip)
	GPIOSimulated = "simulated" // simulated lines inside kioskd (the dev board)
)

// GPIODrivers are the driver names a board profile may give its GPIO.
func GPIODrivers() []string { return []string{GPIONone, GPIOHost, GPIOSimulated} }

// GPIO says which GPIO lines of the board carry the kiosk's sensors and
// its status LED. A line left without a pin is not fitted.
type GPIO struct {
	Driver string `yaml:"driver"`
	// PIR is the presence sensor: someone in front of the kiosk wakes its
	// dimmed screen.
	PIR GPIOInput `yaml:"pir"`
	// Tamper is the enclosure switch: open raises an alert for the township.
	Tamper GPIOInput `yaml:"tamper"`
	// LED shows online, offline and fault at a glance, for a technician.
	LED GPIOOutput `yaml:"led"`
}

// GPIOInput is one debounced input line.
type GPIOInput struct {
	// Pin is the line's name as periph knows it on the board ("GPIO17" on
	// a Raspberry Pi, "GPIO3_B4" on an RK3568); empty: not fitted.
	Pin string `yaml:"pin"`
	// ActiveLow: the line reads low when the sensor is active (motion seen,
	// enclosure open).
	ActiveLow bool `yaml:"active_low"`
	// Debounce is how long a level must hold to count (default 50ms).
	Debounce Duration `yaml:"debounce"`
}

// GPIOOutput is one output line.
type GPIOOutput struct {
	Pin       string `yaml:"pin"`
	ActiveLow bool   `yaml:"active_low"`
}

// Camera drivers.
const (
	CameraV4L2      = "v4l2"      // a USB or CSI camera at device (/dev/video0)
	CameraHTTP      = "http"      // an IP camera's JPEG snapshot or MJPEG URL
	CameraSimulated = "simulated" // a generated picture (the dev board)
)

// BoardCameraDrivers are the driver names of a board profile's own
// cameras; SiteCameraDrivers those of a site's village cameras.
func BoardCameraDrivers() []string { return []string{CameraV4L2, CameraSimulated} }

// SiteCameraDrivers: see BoardCameraDrivers.
func SiteCameraDrivers() []string { return []string{CameraHTTP, CameraSimulated} }

// Camera is one camera the kiosk watches: its own (board profile) or the
// village's IP cameras (site file). Each is checked every CheckInterval and
// reported in telemetry, so the township can count cameras online.
type Camera struct {
	// Name identifies it in status and telemetry.
	Name   string `yaml:"name"`
	Driver string `yaml:"driver"`
	// Device, Width and Height are for v4l2.
	Device string `yaml:"device"`
	Width  int    `yaml:"width"`
	Height int    `yaml:"height"`
	// URL, Username and PasswordFile are for http. The password lives in
	// its own file (relative paths are relative to the site file), so the
	// site file can be shown and shipped without it.
	URL          string `yaml:"url"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// Auth is auto (what the camera asks for), basic or digest.
	Auth string `yaml:"auth"`
	// CheckInterval is how often a snapshot is taken to check the camera
	// (default 5m).
	CheckInterval Duration `yaml:"check_interval"`
	// Consent: this camera may take the photo of a mediation session the
	// parties agreed to on screen. At most one camera says so.
	Consent bool `yaml:"consent_photos"`
}

// pinPattern is what a periph pin name looks like.
var pinPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

func (g *GPIO) applyDefaults() {
	if g.Driver == "" {
		g.Driver = GPIONone
	}
	for _, in := range []*GPIOInput{&g.PIR, &g.Tamper} {
		if in.Debounce.Duration == 0 {
			in.Debounce.Duration = 50 * time.Millisecond
		}
	}
}

func (g *GPIO) validate(c *checker) {
	c.oneOf("gpio.driver", g.Driver, GPIODrivers()...)
	if g.Driver != GPIOHost {
		return
	}
	pins := c.unique()
	for _, l := range []struct {
		field, pin string
		debounce   time.Duration
	}{
		{"gpio.pir", g.PIR.Pin, g.PIR.Debounce.Duration},
		{"gpio.tamper", g.Tamper.Pin, g.Tamper.Debounce.Duration},
		{"gpio.led", g.LED.Pin, 0},
	} {
		if l.pin == "" {
			continue
		}
		if !pinPattern.MatchString(l.pin) {
			c.fail(l.field+".pin", "%q is not a GPIO line name (e.g. GPIO17)", l.pin)
		}
		pins.check(l.field+".pin", l.pin)
		if l.field != "gpio.led" && (l.debounce < time.Millisecond || l.debounce > time.Second) {
			c.fail(l.field+".debounce", "%s is out of range [1ms, 1s]", l.debounce)
		}
	}
	if g.PIR.Pin == "" && g.Tamper.Pin == "" && g.LED.Pin == "" {
		c.fail("gpio", "driver host names no pin: use driver none")
	}
}

func applyCameraDefaults(cams []Camera) {
	for i := range cams {
		if cams[i].CheckInterval.Duration == 0 {
			cams[i].CheckInterval.Duration = 5 * time.Minute
		}
		if cams[i].Driver == CameraHTTP && cams[i].Auth == "" {
			cams[i].Auth = "auto"
		}
	}
}

// validateCameras checks one file's cameras; names must be unique across
// the board and the site together (seen).
func validateCameras(c *checker, cams []Camera, seen *unique, drivers ...string) {
	for i, cam := range cams {
		f := fmt.Sprintf("cameras[%d]", i)
		c.id(f+".name", cam.Name)
		seen.check(f+".name", cam.Name)
		c.oneOf(f+".driver", cam.Driver, drivers...)
		if d := cam.CheckInterval.Duration; d < 10*time.Second || d > 24*time.Hour {
			c.fail(f+".check_interval", "%s is out of range [10s, 24h]", d)
		}
		switch cam.Driver {
		case CameraV4L2:
			if !filepath.IsAbs(cam.Device) {
				c.fail(f+".device", "%q must be an absolute device path, e.g. /dev/video0", cam.Device)
			}
			if cam.Width != 0 || cam.Height != 0 {
				c.between(f+".width", cam.Width, 160, 4096)
				c.between(f+".height", cam.Height, 120, 3072)
			}
		case CameraHTTP:
			u, err := url.Parse(cam.URL)
			switch {
			case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
				c.fail(f+".url", "is not an http:// or https:// URL of a snapshot or MJPEG stream")
			case u.User != nil:
				c.fail(f+".url", "carries credentials: put the user in username and the password in password_file")
			}
			c.oneOf(f+".auth", cam.Auth, "auto", "basic", "digest")
			if cam.PasswordFile != "" && cam.Username == "" {
				c.fail(f+".username", "is required with password_file")
			}
		}
	}
}

func validateConsentCamera(c *checker, board, site []Camera) {
	n := 0
	for _, cam := range append(append([]Camera{}, board...), site...) {
		if cam.Consent {
			n++
		}
	}
	if n > 1 {
		c.fail("cameras", "%d cameras take consent photos; at most one may", n)
	}
}

// crossCheckCameras checks the site's cameras against the board's: one
// namespace for status and telemetry, and one consent camera at most.
func (s *Site) crossCheckCameras(doc *document, board []Camera) []Problem {
	c := &checker{doc: doc}
	names := map[string]bool{}
	for _, cam := range board {
		names[cam.Name] = true
	}
	for i, cam := range s.Cameras {
		if names[cam.Name] {
			c.fail(fmt.Sprintf("cameras[%d].name", i), "%q is also a camera of the board profile", cam.Name)
		}
	}
	validateConsentCamera(c, board, s.Cameras)
	return c.problems
}

// CameraPasswordFile resolves a camera's password_file against the site
// file's directory.
func (c *Config) CameraPasswordFile(cam Camera) string {
	if cam.PasswordFile == "" || filepath.IsAbs(cam.PasswordFile) {
		return cam.PasswordFile
	}
	return filepath.Join(filepath.Dir(c.SitePath), cam.PasswordFile)
}

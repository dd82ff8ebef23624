package kioskd

import (
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
)

// TestEveryConfiguredDriverOpens: every driver name config.Load accepts is
// one kioskd knows, so a name the loader learns first fails this test
// rather than falling through to a simulator on a kiosk.
func TestEveryConfiguredDriverOpens(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, d := range config.IDCardDrivers() {
		if _, err := idcardOpener(config.IDCard{Driver: d, Device: "/dev/null", Baud: 115200}, "board.yaml", log); err != nil {
			t.Errorf("idcard driver %s: %v", d, err)
		}
	}
	for _, d := range config.PrinterDrivers() {
		if _, err := printerOpener(config.Printer{Driver: d, Device: "/dev/null", Baud: 9600}, "board.yaml", t.TempDir(), log); err != nil {
			t.Errorf("printer driver %s: %v", d, err)
		}
	}
	for _, d := range config.GPIODrivers() {
		cfg := &config.Config{BoardPath: "board.yaml"}
		cfg.Board.GPIO.Driver = d
		if _, err := hardwareOptions(cfg, nil, nil, nil, log, time.Now); err != nil {
			t.Errorf("gpio driver %s: %v", d, err)
		}
	}
	cams := map[string]bool{}
	for _, d := range append(config.BoardCameraDrivers(), config.SiteCameraDrivers()...) {
		cams[d] = true
	}
	for d := range cams {
		c := config.Camera{Name: "cam", Driver: d, Device: "/dev/no-such-video", URL: "http://127.0.0.1:1/snap.jpg", Auth: "auto"}
		// Opening may fail for want of the device; it must not fail for
		// want of the driver.
		if _, err := openCamera(&config.Config{}, c, http.DefaultClient, time.Now); errors.Is(err, ErrUnknownDriver) {
			t.Errorf("camera driver %s: %v", d, err)
		}
	}
}

// TestUnknownDriverRefused: a driver name kioskd does not know stops it
// with an error naming the file and field, for each kind of device.
func TestUnknownDriverRefused(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cfg := func(edit func(*config.Config)) *config.Config {
		c := &config.Config{SitePath: "sites/site.yaml", BoardPath: "boards/board.yaml"}
		c.Board.GPIO.Driver = config.GPIONone
		edit(c)
		return c
	}
	hw := func(c *config.Config) error {
		_, err := hardwareOptions(c, nil, nil, nil, log, time.Now)
		return err
	}
	tests := []struct {
		name string
		open func() error
		want string
	}{
		{"idcard", func() error {
			_, err := idcardOpener(config.IDCard{Driver: "usb"}, "boards/board.yaml", log)
			return err
		}, `kioskd: unknown driver "usb": boards/board.yaml: idcard.driver`},
		{"printer", func() error {
			_, err := printerOpener(config.Printer{Driver: "usb"}, "boards/board.yaml", t.TempDir(), log)
			return err
		}, `kioskd: unknown driver "usb": boards/board.yaml: printer.driver`},
		{"gpio", func() error {
			return hw(cfg(func(c *config.Config) { c.Board.GPIO.Driver = "sysfs" }))
		}, `kioskd: unknown driver "sysfs": boards/board.yaml: gpio.driver`},
		{"board camera", func() error {
			return hw(cfg(func(c *config.Config) {
				c.Board.Cameras = []config.Camera{{Name: "front", Driver: config.CameraSimulated}, {Name: "side", Driver: "rtsp"}}
			}))
		}, `kioskd: unknown driver "rtsp": boards/board.yaml: cameras[1].driver`},
		{"site camera", func() error {
			return hw(cfg(func(c *config.Config) { c.Site.Cameras = []config.Camera{{Name: "gate", Driver: "onvif"}} }))
		}, `kioskd: unknown driver "onvif": sites/site.yaml: cameras[0].driver`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.open()
			if !errors.Is(err, ErrUnknownDriver) || err.Error() != tt.want {
				t.Errorf("error %v\nwant  %s", err, tt.want)
			}
		})
	}
}

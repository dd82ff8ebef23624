package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownDriverNamesFileAndLine: a driver name kioskd has no driver for
// is refused when the configuration loads, at kioskd's start, with the
// file, the line and the names that would do — never run as a simulator.
func TestUnknownDriverNamesFileAndLine(t *testing.T) {
	site, board := mustReadDev(t)
	tests := []struct {
		name    string
		site    bool   // the edit is in the site file, not the board profile
		section string // the driver: line edited is the first after this
		driver  string
		field   string
		allowed string
	}{
		{"idcard", false, "\nidcard:", "usb", "idcard.driver", "none, simulated, serial"},
		{"printer", false, "\nprinter:", "usb", "printer.driver", "none, simulated, serial"},
		{"gpio", false, "\ngpio:", "sysfs", "gpio.driver", "none, host, simulated"},
		{"board camera", false, "\ncameras:", "rtsp", "cameras[0].driver", "v4l2, simulated"},
		{"site camera", true, "\n  - name: village-gate", "onvif", "cameras[0].driver", "http, simulated"},
		{"misspelt", false, "\ngpio:", "simulted", "gpio.driver", "none, host, simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := board
			if tt.site {
				text = site
			}
			edited, line := replaceDriver(t, text, tt.section, tt.driver)
			var path, file string
			if tt.site {
				path = mustWriteConfig(t, edited, board)
				file = path
			} else {
				path = mustWriteConfig(t, site, edited)
				file = filepath.Join(filepath.Dir(path), "../boards/dev-sim.yaml")
			}
			_, err := Load(path)
			want := fmt.Sprintf("invalid configuration:\n  %s:%d: %s: %q is not one of %s", file, line, tt.field, tt.driver, tt.allowed)
			if err == nil || err.Error() != want {
				t.Errorf("Load:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

// replaceDriver sets the value of the first "driver:" key after section,
// and returns the text and that key's line.
func replaceDriver(t *testing.T, text, section, driver string) (string, int) {
	t.Helper()
	i := strings.Index(text, section)
	if i < 0 {
		t.Fatalf("no %q in the file", section)
	}
	j := strings.Index(text[i:], "driver: ")
	if j < 0 {
		t.Fatalf("no driver after %q", section)
	}
	start := i + j + len("driver: ")
	end := start + strings.IndexByte(text[start:], '\n')
	return text[:start] + driver + text[end:], strings.Count(text[:start], "\n") + 1
}

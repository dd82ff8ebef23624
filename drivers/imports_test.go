package drivers_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// adapters: each library that opens real hardware is imported by exactly
// one adapter package. Replacing one (go.bug.st/serial for tarm/serial, a
// newer V4L2 binding) then touches one package, and every driver stays
// testable over the io.ReadWriter, camera.Device or gpio pin it is given.
var adapters = map[string]string{
	"github.com/tarm/serial":      "github.com/fengqiao/kiosk/drivers/serialport",
	"github.com/blackjack/webcam": "github.com/fengqiao/kiosk/drivers/camera",
	"periph.io/x/host/v3":         "github.com/fengqiao/kiosk/drivers/gpio/gpiohost",
}

func TestHardwareLibrariesHaveOneAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/fengqiao/kiosk/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	importers := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			for lib := range adapters {
				if imp == lib || strings.HasPrefix(imp, lib+"/") {
					importers[lib] = append(importers[lib], fields[0])
				}
			}
		}
	}
	for lib, adapter := range adapters {
		got := slices.Compact(slices.Sorted(slices.Values(importers[lib])))
		if len(got) != 1 || got[0] != adapter {
			t.Errorf("%s is imported by %v; only %s may", lib, got, adapter)
		}
	}
}

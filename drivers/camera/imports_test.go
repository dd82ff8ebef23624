package camera_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestWebcamLibraryStaysHere keeps github.com/blackjack/webcam behind
// OpenDevice, as drivers/serialport keeps tarm/serial: replacing it (a
// newer V4L2 binding) then touches one file, and other code takes a Device.
func TestWebcamLibraryStaysHere(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/fengqiao/kiosk/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var importers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if imp == "github.com/blackjack/webcam" {
				importers = append(importers, fields[0])
			}
		}
	}
	if len(importers) != 1 || importers[0] != "github.com/fengqiao/kiosk/drivers/camera" {
		t.Errorf("github.com/blackjack/webcam is imported by %v; only drivers/camera may", importers)
	}
}

package drivers_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSerialLibraryHasOneAdapter keeps github.com/tarm/serial behind
// drivers/serialport, so that replacing it (go.bug.st/serial, say) touches one
// package and drivers stay testable over any io.ReadWriter.
func TestSerialLibraryHasOneAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/fengqiao/kiosk/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var importers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if imp == "github.com/tarm/serial" {
				importers = append(importers, fields[0])
			}
		}
	}
	if len(importers) != 1 || importers[0] != "github.com/fengqiao/kiosk/drivers/serialport" {
		t.Errorf("github.com/tarm/serial is imported by %v; only drivers/serialport may", importers)
	}
}

package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPureGoWithoutFyne keeps kioskd's package graph free of Fyne. kioskd
// shares one module with kiosk-ui, so Fyne, cgo and all, is in the module
// graph; only the packages kioskd imports decide what it links, and one
// stray import from agent/ into kiosk-ui would pull in Fyne and a C
// toolchain. It lists them as the boards' builds see them, for each
// architecture we ship and with cgo off, so that go list also fails on any
// package that cannot build without cgo.
func TestPureGoWithoutFyne(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "arm"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOARM=7")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("go list -deps kioskd, CGO_ENABLED=0 GOARCH=%s: %v: %s", arch, err, ee.Stderr)
			}
			t.Fatalf("go list -deps kioskd, GOARCH=%s: %v", arch, err)
		}
		var fyne []string
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "fyne.io/") {
				fyne = append(fyne, pkg)
			}
		}
		if len(fyne) > 0 {
			t.Errorf("kioskd (GOARCH=%s) depends on Fyne (%s); find the import with go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./agent/cmd/kioskd", arch, strings.Join(fyne, ", "))
		}
	}
}

// TestLinksNoTestCode keeps test fakes out of the daemon: what the dev
// board simulates at run time lives in …sim packages, fakes for tests in
// …test packages (periph's layout), and only the first may reach kioskd.
// A fake in the daemon is code no one reviewed as production code, and
// periph's gpiotest brought a test clock library (clockwork) with it.
func TestLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}",
		"github.com/fengqiao/kiosk/agent/cmd/kioskd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		path, std, _ := strings.Cut(strings.TrimSpace(line), " ")
		n++
		if why := testCode(path, std == "true"); why != "" {
			t.Errorf("kioskd links %s: %s", path, why)
		}
	}
	if n < 100 {
		t.Fatalf("go list named only %d packages; the check saw too little to mean anything:\n%s", n, out)
	}
}

// testCode says why a package is test code kioskd must not link, or "".
func testCode(path string, std bool) string {
	if std {
		// The runtime's own internal/synctest is not the testing package.
		switch {
		case path == "testing" || strings.HasPrefix(path, "testing/"):
			return "the testing package"
		case strings.HasSuffix(path, "test") && !strings.HasPrefix(path, "internal/") && !strings.Contains(path, "/internal/"):
			return "a standard library test helper"
		}
		return ""
	}
	if path == "github.com/jonboulle/clockwork" || strings.HasPrefix(path, "github.com/jonboulle/clockwork/") {
		return "a fake clock library, which only tests need"
	}
	internal := false
	for _, elem := range strings.Split(path, "/") {
		switch {
		case strings.HasSuffix(elem, "test"):
			return "a …test package of fakes for tests"
		case internal && strings.HasPrefix(elem, "test"):
			return "an internal test harness"
		}
		internal = internal || elem == "internal"
	}
	return ""
}

func TestTestCode(t *testing.T) {
	for path, bad := range map[string]bool{
		"github.com/fengqiao/kiosk/drivers/camera/cameratest":        true,
		"github.com/fengqiao/kiosk/agent/internal/mosquittotest":     true,
		"github.com/fengqiao/kiosk/agent/internal/testpki":           true,
		"github.com/fengqiao/kiosk/agent/internal/mosquittotest/sub": true,
		"periph.io/x/conn/v3/gpio/gpiotest":                          true,
		"github.com/jonboulle/clockwork":                             true,
		"github.com/fengqiao/kiosk/drivers/camera/camerasim":         false,
		"github.com/fengqiao/kiosk/agent/internal/phone":             false,
		"github.com/fengqiao/kiosk/agent/testimony":                  false,
	} {
		if got := testCode(path, false) != ""; got != bad {
			t.Errorf("testCode(%s) = %v, want %v", path, got, bad)
		}
	}
	for path, bad := range map[string]bool{"testing": true, "testing/fstest": true, "net/http/httptest": true,
		"internal/synctest": false, "net/http": false} {
		if got := testCode(path, true) != ""; got != bad {
			t.Errorf("testCode(%s, std) = %v, want %v", path, got, bad)
		}
	}
}

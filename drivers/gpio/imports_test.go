package gpio_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHostStaysInGpiohost keeps periph.io/x/host, which loads drivers for
// real boards, out of every package under drivers/gpio but gpiohost, so
// that the core package and the dev board's simulator, and their tests,
// build and run on any machine. It lists the packages rather than naming
// them, so that one added later is held to the same rule.
func TestHostStaysInGpiohost(t *testing.T) {
	const (
		tree = "github.com/fengqiao/kiosk/drivers/gpio"
		host = tree + "/gpiohost"
	)
	pkgs := strings.Fields(mustGo(t, "list", tree+"/..."))
	if len(pkgs) < 3 {
		t.Fatalf("go list %s/... = %q, want gpio, gpiohost, gpiosim and any newer", tree, pkgs)
	}
	for _, pkg := range pkgs {
		if pkg == host {
			continue
		}
		for _, dep := range strings.Fields(mustGo(t, "list", "-deps", "-test", pkg)) {
			if strings.HasPrefix(dep, "periph.io/x/host/") {
				t.Errorf("%s depends on %s; only %s may", pkg, dep, host)
			}
		}
	}
}

// mustGo runs the go command and returns its output.
func mustGo(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

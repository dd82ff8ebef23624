package gpio_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHostStaysInGpiohost keeps periph.io/x/host, which loads drivers for
// real boards, out of the core package and its fake clock, so that they
// and their tests build and run on any machine.
func TestHostStaysInGpiohost(t *testing.T) {
	for _, pkg := range []string{"github.com/fengqiao/kiosk/drivers/gpio", "github.com/fengqiao/kiosk/drivers/gpio/fakeclock"} {
		out, err := exec.Command("go", "list", "-deps", "-test", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "periph.io/x/host/") {
				t.Errorf("%s depends on %s; only drivers/gpio/gpiohost may", pkg, dep)
			}
		}
	}
}

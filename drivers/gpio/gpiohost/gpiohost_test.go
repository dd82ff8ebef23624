package gpiohost_test

import (
	"errors"
	"testing"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiohost"
)

// TestPinAbsentOrFailed: an empty name is a board without the device; a
// name no driver knows is a failure, never "absent". The second case loads
// periph's host drivers, which on a machine without GPIO find no pins.
func TestPinAbsentOrFailed(t *testing.T) {
	tests := []struct {
		name    string
		pin     string
		want    []error // any of them
		notWant error
	}{
		{"no pin configured", "", []error{kgpio.ErrAbsent}, gpiohost.ErrNoSuchPin},
		{"no such pin", "FENGQIAO_NO_SUCH_PIN", []error{gpiohost.ErrNoSuchPin, gpiohost.ErrHost}, kgpio.ErrAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gpiohost.Pin(tt.pin)
			if p != nil {
				t.Errorf("Pin(%q) = %v, want none", tt.pin, p)
			}
			matched := false
			for _, w := range tt.want {
				matched = matched || errors.Is(err, w)
			}
			if !matched || errors.Is(err, tt.notWant) {
				t.Errorf("Pin(%q): %v, want one of %v and not %v", tt.pin, err, tt.want, tt.notWant)
			}
		})
	}
}

// Package gpiohost owns finding the kiosk's GPIO pins on a real board: it
// loads periph's host drivers (host.Init) and looks up the pin names that a
// board profile gives (gpioreg.ByName). It is the only package that imports
// periph.io/x/host, so drivers/gpio and its tests never touch /sys or /dev
// and build without the host drivers.
package gpiohost

import (
	"errors"
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// Errors returned by Pin, besides those wrapping kgpio.ErrAbsent. Every
// error it returns wraps one of them, so callers test with errors.Is.
var (
	// ErrHost: periph's host drivers failed to load.
	ErrHost = errors.New("gpiohost: host drivers failed")
	// ErrNoSuchPin: no loaded driver knows the name. The board profile
	// names a pin this board does not have, or the driver that has it
	// failed (the error then says which, with its reason).
	ErrNoSuchPin = errors.New("gpiohost: no such pin")
)

// Pin returns the pin named name, as periph names it ("GPIO17", "PA7", or a
// number). An empty name means the board has no such device: the error
// wraps kgpio.ErrAbsent and host drivers are not loaded for it.
//
// host.Init runs once per process however often Pin is called (periph keeps
// its result), so each device's pin can be looked up on its own.
func Pin(name string) (gpio.PinIO, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no pin name configured", kgpio.ErrAbsent)
	}
	state, err := host.Init()
	if err != nil {
		return nil, fmt.Errorf("%w: looking up pin %q: %w", ErrHost, name, err)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	// A pin missing because its driver failed (no permission on
	// /dev/gpiochip0, say) needs another fix than a typo in the board
	// profile: say which it is.
	var failed []string
	for _, f := range state.Failed {
		failed = append(failed, f.String())
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("%w: %q (drivers that failed: %s)", ErrNoSuchPin, name, strings.Join(failed, "; "))
	}
	return nil, fmt.Errorf("%w: %q", ErrNoSuchPin, name)
}

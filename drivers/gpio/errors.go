package gpio

import "errors"

// Errors returned by this package. Every error it returns wraps one of them,
// so callers test with errors.Is.
var (
	// ErrAbsent: the board has no such device, because no pin was given (nil
	// or periph's gpio.INVALID). It is not a failure: boards without a PIR
	// sensor or an LED are built that way.
	ErrAbsent = errors.New("gpio: device not present")
	// ErrPin: the pin refused a configuration (In) or a level (Out); the
	// device is present but failed.
	ErrPin = errors.New("gpio: pin failed")
	// ErrOptions: the options cannot work (a negative duration, no events
	// channel).
	ErrOptions = errors.New("gpio: invalid options")
	// ErrRunning: Run was called while another Run of the same device was
	// still going; two loops on one pin would fight over it.
	ErrRunning = errors.New("gpio: already running")
)

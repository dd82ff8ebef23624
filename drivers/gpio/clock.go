package gpio

import "time"

// Clock is the time an Input debounces and an LED blinks on. It is a small
// subset of what time offers so that a test clock (drivers/gpio/fakeclock)
// can move time by hand; nil in the options means the system clock.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now; d <= 0 fires at
	// once.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C receives the time once the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// systemClock is the time package. It carries no state, so a zero value
// per user replaces a package-level default.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time { return s.t.C }
func (s systemTimer) Stop() bool          { return s.t.Stop() }

func orSystem(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}

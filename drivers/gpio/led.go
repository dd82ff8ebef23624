package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Pattern is what the status LED shows.
type Pattern int

// Patterns. They differ in rhythm, not only in speed, because a technician
// sees one kiosk at a time and has no second LED to compare a rate with.
const (
	Off     Pattern = iota // dark
	Online                 // steady on: the township link is up
	Offline                // slow blink, 1 s on and 1 s off: records wait in the outbox
	Fault                  // double flash every 1.5 s: a device or the store failed
)

// String names the pattern for logs and the device status.
func (p Pattern) String() string {
	switch p {
	case Off:
		return "off"
	case Online:
		return "online"
	case Offline:
		return "offline"
	case Fault:
		return "fault"
	}
	return fmt.Sprintf("Pattern(%d)", int(p))
}

// step is one stretch of a pattern with the LED on or off.
type step struct {
	on bool
	d  time.Duration
}

// refresh is the step of the steady patterns: the level is written again
// this often, so an LED line that something reset (another process, a
// glitch on an I/O expander) comes back within a second.
const refresh = time.Second

// steps gives one cycle of the pattern; it repeats. Unknown patterns are
// dark.
func (p Pattern) steps() []step {
	switch p {
	case Online:
		return []step{{true, refresh}}
	case Offline:
		return []step{{true, time.Second}, {false, time.Second}}
	case Fault:
		return []step{
			{true, 150 * time.Millisecond}, {false, 150 * time.Millisecond},
			{true, 150 * time.Millisecond}, {false, 1050 * time.Millisecond},
		}
	}
	return []step{{false, refresh}}
}

// LEDOptions configure an LED.
type LEDOptions struct {
	// ActiveLow: the LED lights when the pin is Low (wired from the supply
	// to the pin, the pin sinking the current).
	ActiveLow bool
}

// LED is the status LED. Its methods are safe for concurrent use; Run runs
// one at a time.
type LED struct {
	pin     gpio.PinOut
	on, off gpio.Level

	mu      sync.Mutex
	pattern Pattern
	kick    chan struct{} // holds one "pattern changed" for Run

	running atomic.Bool
}

// NewLED turns the LED off and returns it showing Off; Run makes it blink.
// A nil pin (or gpio.INVALID) gives an error wrapping ErrAbsent; a pin that
// refuses the level, one wrapping ErrPin, so a broken line shows up at start
// rather than at the first blink.
func NewLED(pin gpio.PinOut, opts LEDOptions) (*LED, error) {
	if pin == nil || pin == gpio.INVALID {
		return nil, fmt.Errorf("%w: status LED: no pin", ErrAbsent)
	}
	l := &LED{pin: pin, on: gpio.Level(!opts.ActiveLow), off: gpio.Level(opts.ActiveLow), kick: make(chan struct{}, 1)}
	if err := l.write(false); err != nil {
		return nil, err
	}
	return l, nil
}

// Set changes the pattern; a running LED shows it at once, from its first
// step. Setting the pattern already shown changes nothing, so a caller that
// re-asserts its state on every heartbeat does not make the LED stutter.
func (l *LED) Set(p Pattern) {
	l.mu.Lock()
	changed := l.pattern != p
	l.pattern = p
	l.mu.Unlock()
	if changed {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Pattern is the pattern last set.
func (l *LED) Pattern() Pattern {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pattern
}

// Run shows the pattern, and each one Set after it, until ctx ends; then it
// turns the LED off and returns ctx.Err(). If the pin refuses a level, Run
// returns at once with an error wrapping ErrPin, having tried to turn the
// LED off.
func (l *LED) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: status LED", ErrRunning)
	}
	defer l.running.Store(false)

	shown := l.Pattern()
	steps, i := shown.steps(), 0
	for {
		if err := l.write(steps[i].on); err != nil {
			return errors.Join(err, l.write(false))
		}
		t := time.NewTimer(steps[i].d)
		for next := false; !next; {
			select {
			case <-ctx.Done():
				t.Stop()
				if err := l.write(false); err != nil {
					return err
				}
				return ctx.Err()
			case <-l.kick:
				// A kick can be stale (Set before Run, or Set back and
				// forth): only a pattern other than the one shown restarts
				// the cycle; otherwise the current step runs on.
				if p := l.Pattern(); p != shown {
					t.Stop()
					shown, steps, i, next = p, p.steps(), 0, true
				}
			case <-t.C:
				i, next = (i+1)%len(steps), true
			}
		}
	}
}

func (l *LED) write(on bool) error {
	level := l.off
	if on {
		level = l.on
	}
	if err := l.pin.Out(level); err != nil {
		return fmt.Errorf("%w: status LED: %s to %s: %w", ErrPin, l.pin, level, err)
	}
	return nil
}

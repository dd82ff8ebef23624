// Package gpiosim owns the dev board's simulated GPIO lines: a presence
// sensor, an enclosure switch and a status LED that kioskd drives for a
// board profile with gpio.driver simulated, so the whole kiosk runs on a
// laptop or in CI.
//
// Nothing on the dev board moves the inputs: whoever holds the Board (a
// test, a tool) drives them with Pin.Set, and anyone may Read the LED.
// Tests of drivers/gpio itself use periph's gpiotest pins instead; this
// package must not import them, because they bring a test clock library
// into the daemon.
package gpiosim

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// Line names of the dev board, as a board profile's pins would name them.
const (
	PIR    = "SIM_PIR"
	Tamper = "SIM_TAMPER"
	LED    = "SIM_LED"
)

// Board is the dev board's set of lines.
type Board struct {
	pins map[string]*Pin
}

// NewBoard returns the dev board with every line low.
func NewBoard() *Board {
	b := &Board{pins: map[string]*Pin{}}
	for i, name := range []string{PIR, Tamper, LED} {
		b.pins[name] = &Pin{name: name, num: i}
	}
	return b
}

// Pin resolves a line name the way drivers/gpio/gpiohost does on a real
// board: an unknown name is absent, not a failure.
func (b *Board) Pin(name string) (gpio.PinIO, error) {
	if p, ok := b.pins[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w: gpiosim: no line %q on the dev board", kgpio.ErrAbsent, name)
}

// Line returns the named line for a test or tool to drive or read, or nil.
func (b *Board) Line(name string) *Pin { return b.pins[name] }

// Pin is one simulated line. It is safe for concurrent use.
type Pin struct {
	name string
	num  int

	mu    sync.Mutex
	level gpio.Level
	pull  gpio.Pull
	out   bool
	// edges holds one pending edge while the line is an input with edge
	// detection; nil otherwise. One is enough: a reader re-reads the level.
	edges chan struct{}
}

var _ gpio.PinIO = (*Pin)(nil)

// Set drives the line to l from outside, as the sensor or switch wired to
// it would. A change signals an edge to a WaitForEdge; setting the level
// it already has does not.
func (p *Pin) Set(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l == p.level {
		return
	}
	p.level = l
	if p.edges != nil {
		select {
		case p.edges <- struct{}{}:
		default:
		}
	}
}

// String implements conn.Resource.
func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource; a simulated line has nothing to stop.
func (p *Pin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *Pin) Function() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out {
		return string(gpio.OUT)
	}
	return string(gpio.IN)
}

// In makes the line an input. A pull resistor sets the level of a line
// nothing drives, as on a real board; edge detection on either edge is
// kept, whichever is asked for, since the sensors here only ever need both.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out, p.pull = false, pull
	switch pull {
	case gpio.PullDown:
		p.level = gpio.Low
	case gpio.PullUp:
		p.level = gpio.High
	}
	if edge == gpio.NoEdge {
		p.edges = nil
	} else {
		p.edges = make(chan struct{}, 1) // edges from before In are not reported
	}
	return nil
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge waits up to timeout (negative: for ever) for Set to change
// the level. The timeout runs on the system clock, as a real line's does in
// the kernel: drivers/gpio measures it to tell a line that cannot wait for
// edges from one that can. A line without edge detection returns false at
// once, as periph's drivers do.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	p.mu.Lock()
	edges := p.edges
	p.mu.Unlock()
	if edges == nil {
		return false
	}
	if timeout < 0 {
		<-edges
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-edges:
		return true
	case <-t.C:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn: the dev board has no resistors.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.Float }

// Out makes the line an output at level l.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out, p.level, p.edges = true, l, nil
	return nil
}

// ErrNoPWM is returned by PWM: the status LED only switches on and off.
var ErrNoPWM = fmt.Errorf("%w: gpiosim: no PWM on the dev board", kgpio.ErrPin)

// PWM implements gpio.PinOut; no line of the dev board has it.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error { return ErrNoPWM }

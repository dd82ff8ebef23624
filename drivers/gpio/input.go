package gpio

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Defaults of InputOptions.
const (
	// DefaultDebounce outlasts a microswitch's bounce (a few ms, 20 ms for a
	// worn one) and is still too short for anyone to notice on a wake-up.
	DefaultDebounce = 50 * time.Millisecond
	// DefaultPollInterval, for pins without edge detection, samples a
	// bouncing contact a few times per window at a cost a kiosk SoC does
	// not notice.
	DefaultPollInterval = 20 * time.Millisecond
	// DefaultResync bounds how long an edge the kernel dropped goes
	// unnoticed: with edges the level is re-read this often anyway, so an
	// opened enclosure is never missed for good.
	DefaultResync = time.Second
)

// edgeWait is how long one WaitForEdge call blocks. It bounds how long Run
// takes to return once its context ends, since no periph pin promises that
// anything but a timeout interrupts WaitForEdge.
const edgeWait = 200 * time.Millisecond

// A pin that comes back from WaitForEdge without an edge in well under the
// timeout, this many times in a row, cannot wait for edges (some periph
// drivers accept In with edges and then fail every wait at once): the input
// falls back to polling rather than spin.
const (
	quickReturn       = edgeWait / 4
	quickReturnsLimit = 3
)

// InputOptions configure an Input.
type InputOptions struct {
	// Name identifies the input in events and errors ("pir", "tamper");
	// default the pin's name.
	Name string
	// ActiveLow: the input is active (motion seen, enclosure open) when the
	// pin reads Low. A PIR module drives its output High on motion. A tamper
	// switch is best wired closed-to-ground while the door is shut, with a
	// pull-up, so that the door opening and a cut wire both read High.
	ActiveLow bool
	// Pull is the pull resistor asked of the pin. The zero value,
	// gpio.PullNoChange, leaves the pin as the board set it up and every
	// periph driver takes it; sysfs refuses PullUp and PullDown, so boards
	// on it need external resistors.
	Pull gpio.Pull
	// Debounce is how long the line must be quiet before a level counts;
	// default DefaultDebounce.
	Debounce time.Duration
	// PollInterval is how often the level is read when the pin has no edge
	// detection; default DefaultPollInterval.
	PollInterval time.Duration
	// Resync is how often the level is re-read when the pin has edges;
	// default DefaultResync.
	Resync time.Duration
}

// Event is a settled change of an input.
type Event struct {
	Input  string     // InputOptions.Name
	Active bool       // motion seen, enclosure open
	Level  gpio.Level // the pin's level
	// At is when the new level began: the last edge (or the poll that
	// first saw it) before the line went quiet, not when the debounce
	// window ran out.
	At time.Time
}

// Input is a debounced digital input. Its methods are safe for concurrent
// use; Run runs one at a time.
type Input struct {
	pin      gpio.PinIn
	name     string
	inactive gpio.Level
	debounce time.Duration
	poll     time.Duration
	resync   time.Duration

	polling atomic.Bool
	running atomic.Bool
}

// NewInput configures pin as an input with edge detection on both edges or,
// when the pin refuses edges, as a plain input to be polled. A nil pin (or
// gpio.INVALID) gives an error wrapping ErrAbsent; a pin that refuses to be
// an input at all, one wrapping ErrPin.
func NewInput(pin gpio.PinIn, opts InputOptions) (*Input, error) {
	if pin == nil || pin == gpio.INVALID {
		return nil, fmt.Errorf("%w: input %q: no pin", ErrAbsent, opts.Name)
	}
	if opts.Name == "" {
		opts.Name = pin.Name()
	}
	if opts.Debounce < 0 || opts.PollInterval < 0 || opts.Resync < 0 {
		return nil, fmt.Errorf("%w: input %s: negative duration (debounce %s, poll %s, resync %s)",
			ErrOptions, opts.Name, opts.Debounce, opts.PollInterval, opts.Resync)
	}
	in := &Input{
		pin:      pin,
		name:     opts.Name,
		inactive: gpio.Level(opts.ActiveLow),
		debounce: orDefault(opts.Debounce, DefaultDebounce),
		poll:     orDefault(opts.PollInterval, DefaultPollInterval),
		resync:   orDefault(opts.Resync, DefaultResync),
	}
	edgeErr := pin.In(opts.Pull, gpio.BothEdges)
	if edgeErr != nil {
		// periph drivers say "no edges here" only through this error
		// (gpiotest without EdgesChan, a sysfs line without an edge file),
		// so any error is worth one try without edges.
		if err := pin.In(opts.Pull, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("%w: input %s: %s as input with %s: %w (with edges: %v)",
				ErrPin, in.name, pin, opts.Pull, err, edgeErr)
		}
		in.polling.Store(true)
	}
	return in, nil
}

// Name is InputOptions.Name.
func (in *Input) Name() string { return in.name }

// Polling reports whether the input is polled because the pin cannot wait
// for edges, for the device status and the log.
func (in *Input) Polling() bool { return in.polling.Load() }

// Run watches the input until ctx ends and sends each settled change to
// events; it returns ctx.Err() once every goroutine it started has ended.
//
// The level found at start is debounced like a change and reported only if
// active, so an enclosure already open when kioskd starts still raises its
// alert, and a closed one says nothing.
func (in *Input) Run(ctx context.Context, events chan<- Event) error {
	if events == nil {
		return fmt.Errorf("%w: input %s: nil events channel", ErrOptions, in.name)
	}
	if !in.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: input %s", ErrRunning, in.name)
	}
	defer in.running.Store(false)

	ctx, cancel := context.WithCancel(ctx)
	var edges, broken <-chan struct{}
	if !in.polling.Load() {
		e, b, done := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go in.waitEdges(ctx, e, b, done)
		defer func() { cancel(); <-done }()
		edges, broken = e, b
	} else {
		defer cancel()
	}

	d := debouncer{window: in.debounce, stable: in.inactive, last: in.inactive}
	d.edge(time.Now(), in.pin.Read())
	for {
		wait := in.poll
		if edges != nil {
			wait = in.resync
			if due, ok := d.due(); ok {
				wait = time.Until(due)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-edges:
			t.Stop()
			d.edge(time.Now(), in.pin.Read())
			continue
		case <-broken:
			t.Stop()
			edges, broken = nil, nil
			in.polling.Store(true)
			continue
		case <-t.C:
		}
		level, at, ok := d.sample(time.Now(), in.pin.Read())
		if !ok {
			continue
		}
		ev := Event{Input: in.name, Active: level != in.inactive, Level: level, At: at}
		select {
		case events <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitEdges turns the pin's blocking WaitForEdge into sends on edges, which
// holds one: Run reads the level itself, so edges that come while it is busy
// need not queue. It closes broken and returns when the pin turns out unable
// to wait, and closes done when it returns.
func (in *Input) waitEdges(ctx context.Context, edges, broken chan<- struct{}, done chan<- struct{}) {
	defer close(done)
	quick := 0
	for ctx.Err() == nil {
		start := time.Now()
		if in.pin.WaitForEdge(edgeWait) {
			quick = 0
			select {
			case edges <- struct{}{}:
			default:
			}
			continue
		}
		if time.Since(start) >= quickReturn {
			quick = 0
			continue
		}
		if quick++; quick >= quickReturnsLimit && ctx.Err() == nil {
			close(broken)
			return
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/fakeclock"
)

// inputRig runs an Input on a gpiotest pin and a fake clock, and keeps
// track of the one timer the input's loop waits on, so that every step of
// a test ends with the loop idle and its events sent.
type inputRig struct {
	t      *testing.T
	clock  *fakeclock.Clock
	pin    *gpiotest.Pin
	input  *kgpio.Input
	events chan kgpio.Event
	run    *running
	next   time.Time // deadline of the timer the loop waits on
}

func mustInputRig(t *testing.T, pin *gpiotest.Pin, opts kgpio.InputOptions) *inputRig {
	t.Helper()
	r := &inputRig{t: t, clock: fakeclock.New(start()), pin: pin, events: make(chan kgpio.Event, 16)}
	opts.Clock = r.clock
	r.input = mustNewInput(t, pin, opts)
	r.run = mustStart(t, func(ctx context.Context) error { return r.input.Run(ctx, r.events) })
	r.next = mustNextTimer(t, r.clock)
	return r
}

func mustNewInput(t *testing.T, pin gpio.PinIn, opts kgpio.InputOptions) *kgpio.Input {
	t.Helper()
	in, err := kgpio.NewInput(pin, opts)
	if err != nil {
		t.Fatalf("NewInput: %v", err)
	}
	return in
}

// edge changes the line: with edges, through EdgesChan, and waits for the
// loop to re-arm; without, it only sets the level for the next poll to see.
func (r *inputRig) edge(level gpio.Level) {
	r.t.Helper()
	if r.pin.EdgesChan == nil {
		_ = r.pin.Out(level)
		return
	}
	mustEdge(r.t, r.pin, level)
	r.next = mustNextTimer(r.t, r.clock)
}

// advance moves the clock on by d, stopping at each timer of the loop's to
// let it take its turn.
func (r *inputRig) advance(d time.Duration) {
	r.t.Helper()
	end := r.clock.Now().Add(d)
	for !r.next.After(end) {
		r.clock.AdvanceTo(r.next)
		r.next = mustNextTimer(r.t, r.clock)
	}
	r.clock.AdvanceTo(end)
}

// got drains the events sent so far: after a step the loop is idle, so
// these are all there are.
func (r *inputRig) got() []kgpio.Event {
	var evs []kgpio.Event
	for {
		select {
		case ev := <-r.events:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// op is one step of a scenario: an edge to a level, a silent change of the
// level (an edge the kernel dropped), or a wait in ms.
type op struct {
	kind  byte // 'e' edge, 's' silent, 'w' wait
	level gpio.Level
	ms    int
}

func edge(l gpio.Level) op   { return op{kind: 'e', level: l} }
func silent(l gpio.Level) op { return op{kind: 's', level: l} }
func wait(ms int) op         { return op{kind: 'w', ms: ms} }

// fmtEvents prints events as "active@ms/Level", times from start.
func fmtEvents(evs []kgpio.Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(" ")
		}
		state := "inactive"
		if ev.Active {
			state = "active"
		}
		fmt.Fprintf(&b, "%s@%d/%s", state, ev.At.Sub(start()).Milliseconds(), ev.Level)
	}
	return b.String()
}

// TestInputDebounce runs the debounce scenarios on both kinds of pin: one
// that waits for edges, one that must be polled (gpiotest without
// EdgesChan). Debounce 50 ms, poll 20 ms, resync 1 s.
func TestInputDebounce(t *testing.T) {
	H, L := gpio.High, gpio.Low
	tests := []struct {
		name      string
		polled    bool
		activeLow bool
		initial   gpio.Level
		ops       []op
		want      string
	}{
		{name: "edges: bounces inside the window are one event", initial: L,
			ops:  []op{wait(100), edge(H), wait(10), edge(L), wait(10), edge(H), wait(500)},
			want: "active@120/High"},
		{name: "edges: a change that lasts is one event", initial: L,
			ops:  []op{edge(H), wait(5000)},
			want: "active@0/High"},
		{name: "edges: tamper open then closed is two events", initial: L,
			ops:  []op{edge(H), wait(3000), edge(L), wait(3000)},
			want: "active@0/High inactive@3000/Low"},
		{name: "edges: a glitch back to the start is none", initial: L,
			ops: []op{wait(100), edge(H), wait(10), edge(L), wait(3000)}},
		{name: "edges: active at start is reported once", initial: H,
			ops:  []op{wait(3000)},
			want: "active@0/High"},
		{name: "edges: inactive at start says nothing", initial: L,
			ops: []op{wait(3000)}},
		{name: "edges: a dropped edge is caught by the resync", initial: L,
			ops:  []op{wait(100), silent(H), wait(3000)},
			want: "active@1050/High"},
		{name: "edges: active low", activeLow: true, initial: H,
			ops:  []op{edge(L), wait(100), edge(H), wait(100)},
			want: "active@0/Low inactive@100/High"},
		{name: "polled: bounces between polls are one event", polled: true, initial: L,
			ops:  []op{wait(100), edge(H), wait(20), edge(L), wait(20), edge(H), wait(500)},
			want: "active@160/High"},
		{name: "polled: a change that lasts is one event", polled: true, initial: L,
			ops:  []op{edge(H), wait(5000)},
			want: "active@20/High"},
		{name: "polled: tamper open then closed is two events", polled: true, initial: L,
			ops:  []op{edge(H), wait(3000), edge(L), wait(3000)},
			want: "active@20/High inactive@3020/Low"},
		{name: "polled: a glitch between polls is not seen", polled: true, initial: L,
			ops: []op{wait(105), edge(H), wait(5), edge(L), wait(1000)}},
		{name: "polled: active at start is reported once", polled: true, initial: H,
			ops:  []op{wait(3000)},
			want: "active@0/High"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pin := edgePin(tt.initial)
			if tt.polled {
				pin = pollPin(tt.initial)
			}
			r := mustInputRig(t, pin, kgpio.InputOptions{Name: "tamper", ActiveLow: tt.activeLow,
				Debounce: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond, Resync: time.Second})
			if r.input.Polling() != tt.polled {
				t.Fatalf("Polling() = %v, want %v", r.input.Polling(), tt.polled)
			}
			for _, o := range tt.ops {
				switch o.kind {
				case 'e':
					r.edge(o.level)
				case 's':
					_ = r.pin.Out(o.level)
				case 'w':
					r.advance(time.Duration(o.ms) * time.Millisecond)
				}
			}
			evs := r.got()
			if got := fmtEvents(evs); got != tt.want {
				t.Errorf("events %q, want %q", got, tt.want)
			}
			for _, ev := range evs {
				if ev.Input != "tamper" {
					t.Errorf("event from %q, want tamper", ev.Input)
				}
			}
			r.run.mustStop(t)
		})
	}
}

// TestInputFallsBackWhenWaitFails: a pin that takes edges in In but fails
// every WaitForEdge at once is polled instead of spun on.
func TestInputFallsBackWhenWaitFails(t *testing.T) {
	t.Parallel()
	pin := noWaitPin{edgePin(gpio.Low)}
	clock := fakeclock.New(start())
	in := mustNewInput(t, pin, kgpio.InputOptions{Name: "pir", Clock: clock,
		Debounce: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	if in.Polling() {
		t.Fatal("Polling() before Run; the pin took edges")
	}
	events := make(chan kgpio.Event, 4)
	run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, events) })

	// Run arms its settling timer first; the switch to polling replaces it
	// with a poll, due 20 ms after start.
	if at := mustNextTimer(t, clock); !at.Equal(start().Add(50 * time.Millisecond)) {
		t.Fatalf("first timer at %v, want start+50ms", at.Sub(start()))
	}
	next := mustNextTimer(t, clock)
	if !next.Equal(start().Add(20 * time.Millisecond)) {
		t.Fatalf("timer after the fallback at %v, want start+20ms (a poll)", next.Sub(start()))
	}
	if !in.Polling() {
		t.Fatal("Polling() = false after the fallback")
	}
	_ = pin.Out(gpio.High)
	for range 5 {
		clock.AdvanceTo(next)
		next = mustNextTimer(t, clock)
	}
	select {
	case ev := <-events:
		if !ev.Active || !ev.At.Equal(start().Add(20*time.Millisecond)) {
			t.Errorf("event %+v, want active at start+20ms (the first poll)", ev)
		}
	default:
		t.Fatal("no event after the line went high and stayed")
	}
	run.mustStop(t)
}

// TestNewInputAbsentOrFailed: no pin is "absent", a pin that refuses to be
// an input is "failed", and the two never look alike.
func TestNewInputAbsentOrFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pin     gpio.PinIn
		opts    kgpio.InputOptions
		want    error
		polling bool
	}{
		{name: "no pin configured", pin: nil, want: kgpio.ErrAbsent},
		{name: "periph's invalid pin", pin: gpio.INVALID, want: kgpio.ErrAbsent},
		{name: "pin refuses input", pin: &failingPin{Pin: edgePin(gpio.Low), failIn: true}, want: kgpio.ErrPin},
		{name: "negative debounce", pin: edgePin(gpio.Low), opts: kgpio.InputOptions{Debounce: -time.Millisecond}, want: kgpio.ErrOptions},
		{name: "edges", pin: edgePin(gpio.Low)},
		{name: "no edges: polled, not failed", pin: pollPin(gpio.Low), polling: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := kgpio.NewInput(tt.pin, tt.opts)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("NewInput: %v, want %v", err, tt.want)
			}
			if err != nil {
				for _, other := range []error{kgpio.ErrAbsent, kgpio.ErrPin, kgpio.ErrOptions} {
					if other != tt.want && errors.Is(err, other) {
						t.Errorf("NewInput: %v also matches %v", err, other)
					}
				}
				if tt.want == kgpio.ErrPin && !errors.Is(err, errBroken) {
					t.Errorf("NewInput: %v does not wrap the pin's error", err)
				}
				return
			}
			if in.Polling() != tt.polling {
				t.Errorf("Polling() = %v, want %v", in.Polling(), tt.polling)
			}
			if in.Name() != tt.pin.Name() {
				t.Errorf("Name() = %q, want the pin's name %q", in.Name(), tt.pin.Name())
			}
		})
	}
}

func TestNewInputAsksForPull(t *testing.T) {
	t.Parallel()
	pin := edgePin(gpio.Low)
	mustNewInput(t, pin, kgpio.InputOptions{Name: "tamper", Pull: gpio.PullUp})
	pin.Lock()
	defer pin.Unlock()
	if pin.P != gpio.PullUp {
		t.Errorf("pin pull %s, want PullUp", pin.P)
	}
}

func TestInputRunMisuse(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(start())
	in := mustNewInput(t, pollPin(gpio.Low), kgpio.InputOptions{Name: "pir", Clock: clock})
	if err := in.Run(context.Background(), nil); !errors.Is(err, kgpio.ErrOptions) {
		t.Errorf("Run with no channel: %v, want ErrOptions", err)
	}
	run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, make(chan kgpio.Event)) })
	mustNextTimer(t, clock) // the first Run is going
	if err := in.Run(context.Background(), make(chan kgpio.Event)); !errors.Is(err, kgpio.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	run.mustStop(t)
}

// TestInputStopsWhileSending: a Run blocked on a full events channel still
// ends with its context.
func TestInputStopsWhileSending(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(start())
	in := mustNewInput(t, edgePin(gpio.High), kgpio.InputOptions{Name: "pir", Clock: clock})
	run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, make(chan kgpio.Event)) })
	clock.AdvanceTo(mustNextTimer(t, clock)) // active at start: Run now waits to send
	run.mustStop(t)
}

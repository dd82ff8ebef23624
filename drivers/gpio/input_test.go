package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// inputRig runs an Input on a gpiotest pin inside a synctest bubble.
type inputRig struct {
	t     *testing.T
	t0    time.Time // when the rig started; event times are given from it
	pin   *gpiotest.Pin
	input *kgpio.Input
	run   *running
	log   *eventLog
}

func mustInputRig(t *testing.T, pin *gpiotest.Pin, opts kgpio.InputOptions) *inputRig {
	t.Helper()
	r := &inputRig{t: t, t0: time.Now(), pin: pin}
	r.input = mustNewInput(t, pin, opts)
	r.run, r.log = mustRunInput(t, r.input)
	return r
}

// eventLog holds the events an input sent, each stamped with the bubble
// time it was sent at, so the tests see when an event went out as well as
// what it says.
type eventLog struct {
	mu   sync.Mutex
	sent []sentEvent
}

type sentEvent struct {
	kgpio.Event
	sentAt time.Time
}

// got is the events sent so far.
func (l *eventLog) got() []sentEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentEvent(nil), l.sent...)
}

// mustRunInput starts in.Run with a reader that logs each event the
// instant Run sends it.
func mustRunInput(t *testing.T, in *kgpio.Input) (*running, *eventLog) {
	t.Helper()
	events := make(chan kgpio.Event) // unbuffered: the send and the read are one instant
	log := &eventLog{}
	run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, events) })
	go func() {
		for {
			select {
			case ev := <-events:
				log.mu.Lock()
				log.sent = append(log.sent, sentEvent{ev, time.Now()})
				log.mu.Unlock()
			case <-run.done:
				return
			}
		}
	}()
	synctest.Wait()
	return run, log
}

func mustNewInput(t *testing.T, pin gpio.PinIn, opts kgpio.InputOptions) *kgpio.Input {
	t.Helper()
	in, err := kgpio.NewInput(pin, opts)
	if err != nil {
		t.Fatalf("NewInput: %v", err)
	}
	return in
}

// edge changes the line: with edges, through EdgesChan, returning once the
// input has acted on it; without, it only sets the level for the next poll
// to see.
func (r *inputRig) edge(level gpio.Level) {
	r.t.Helper()
	if r.pin.EdgesChan == nil {
		_ = r.pin.Out(level)
		return
	}
	mustEdge(r.t, r.pin, level)
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

// fmtEvents prints events as "active@ms/Level sent ms", times from t0: when
// the new level began, and when the input reported it.
func fmtEvents(t0 time.Time, evs []sentEvent) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		state := "inactive"
		if ev.Active {
			state = "active"
		}
		fmt.Fprintf(&b, "%s@%d/%s sent %d", state, ev.At.Sub(t0).Milliseconds(), ev.Level, ev.sentAt.Sub(t0).Milliseconds())
	}
	return b.String()
}

// TestInputDebounce runs the debounce scenarios on both kinds of pin: one
// that waits for edges, one that must be polled (gpiotest without
// EdgesChan). Debounce 50 ms, poll 20 ms, resync 1 s. With edges an event
// goes out the moment its window ends; polled, at the first poll after.
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
			want: "active@120/High sent 170"},
		{name: "edges: a change that lasts is one event", initial: L,
			ops:  []op{edge(H), wait(5000)},
			want: "active@0/High sent 50"},
		{name: "edges: tamper open then closed is two events", initial: L,
			ops:  []op{edge(H), wait(3000), edge(L), wait(3000)},
			want: "active@0/High sent 50, inactive@3000/Low sent 3050"},
		{name: "edges: a glitch back to the start is none", initial: L,
			ops: []op{wait(100), edge(H), wait(10), edge(L), wait(3000)}},
		{name: "edges: active at start is reported once", initial: H,
			ops:  []op{wait(3000)},
			want: "active@0/High sent 50"},
		{name: "edges: inactive at start says nothing", initial: L,
			ops: []op{wait(3000)}},
		{name: "edges: a dropped edge is caught by the resync", initial: L,
			ops:  []op{wait(100), silent(H), wait(3000)},
			want: "active@1050/High sent 1100"},
		{name: "edges: active low", activeLow: true, initial: H,
			ops:  []op{edge(L), wait(100), edge(H), wait(100)},
			want: "active@0/Low sent 50, inactive@100/High sent 150"},
		{name: "polled: bounces between polls are one event", polled: true, initial: L,
			ops:  []op{wait(100), edge(H), wait(20), edge(L), wait(20), edge(H), wait(500)},
			want: "active@160/High sent 220"},
		{name: "polled: a change that lasts is one event", polled: true, initial: L,
			ops:  []op{edge(H), wait(5000)},
			want: "active@20/High sent 80"},
		{name: "polled: tamper open then closed is two events", polled: true, initial: L,
			ops:  []op{edge(H), wait(3000), edge(L), wait(3000)},
			want: "active@20/High sent 80, inactive@3020/Low sent 3080"},
		{name: "polled: a glitch between polls is not seen", polled: true, initial: L,
			ops: []op{wait(105), edge(H), wait(5), edge(L), wait(1000)}},
		{name: "polled: active at start is reported once", polled: true, initial: H,
			ops:  []op{wait(3000)},
			want: "active@0/High sent 60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
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
						advance(time.Duration(o.ms) * time.Millisecond)
					}
				}
				evs := r.log.got()
				if got := fmtEvents(r.t0, evs); got != tt.want {
					t.Errorf("events %q, want %q", got, tt.want)
				}
				for _, ev := range evs {
					if ev.Input != "tamper" {
						t.Errorf("event from %q, want tamper", ev.Input)
					}
				}
				r.run.mustStop(t)
			})
		})
	}
}

// TestInputFallsBackWhenWaitFails: a pin that takes edges in In but fails
// every WaitForEdge at once is polled instead of spun on.
func TestInputFallsBackWhenWaitFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		pin := &noWaitPin{Pin: edgePin(gpio.Low)}
		in := mustNewInput(t, pin, kgpio.InputOptions{Name: "pir",
			Debounce: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
		if in.Polling() {
			t.Fatal("Polling() before Run; the pin took edges")
		}
		run, log := mustRunInput(t, in)

		// Three waits that come back at once are enough to give up on
		// edges, and none of them takes any time.
		if !in.Polling() {
			t.Fatal("Polling() = false after the fallback")
		}
		if took := time.Since(t0); took != 0 {
			t.Errorf("fallback after %s, want at once", took)
		}
		if n := pin.waits.Load(); n != 3 {
			t.Errorf("%d WaitForEdge calls before the fallback, want 3", n)
		}

		// Polls every 20 ms from the start: the line goes high at once, the
		// first poll sees it, and the poll after its window ends reports
		// it.
		_ = pin.Out(gpio.High)
		advance(100 * time.Millisecond)
		if got, want := fmtEvents(t0, log.got()), "active@20/High sent 80"; got != want {
			t.Errorf("events %q, want %q (the first poll, reported by the fourth)", got, want)
		}
		if n := pin.waits.Load(); n != 3 {
			t.Errorf("%d WaitForEdge calls after the fallback, want still 3", n)
		}
		run.mustStop(t)
	})
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
	synctest.Test(t, func(t *testing.T) {
		in := mustNewInput(t, pollPin(gpio.Low), kgpio.InputOptions{Name: "pir"})
		if err := in.Run(context.Background(), nil); !errors.Is(err, kgpio.ErrOptions) {
			t.Errorf("Run with no channel: %v, want ErrOptions", err)
		}
		run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, make(chan kgpio.Event)) })
		if err := in.Run(context.Background(), make(chan kgpio.Event)); !errors.Is(err, kgpio.ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
		run.mustStop(t)
	})
}

// TestInputStopsWhileSending: a Run blocked on a full events channel still
// ends with its context.
func TestInputStopsWhileSending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		in := mustNewInput(t, edgePin(gpio.High), kgpio.InputOptions{Name: "pir"})
		run := mustStart(t, func(ctx context.Context) error { return in.Run(ctx, make(chan kgpio.Event)) })
		advance(kgpio.DefaultDebounce) // active at start: Run now waits to send
		select {
		case <-run.done:
			t.Fatalf("Run returned %v before its context ended", run.err)
		default:
		}
		run.mustStop(t)
	})
}

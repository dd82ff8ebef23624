package gpiosim_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/gpiosim"
)

func TestBoardResolvesItsLinesOnly(t *testing.T) {
	b := gpiosim.NewBoard()
	for _, name := range []string{gpiosim.PIR, gpiosim.Tamper, gpiosim.LED} {
		if p, err := b.Pin(name); err != nil || p.Name() != name {
			t.Errorf("Pin(%s) = %v, %v", name, p, err)
		}
	}
	if _, err := b.Pin("GPIO17"); !errors.Is(err, kgpio.ErrAbsent) {
		t.Errorf("Pin(GPIO17) = %v, want ErrAbsent", err)
	}
}

// TestSetSignalsAnEdgeOnChangeOnly runs in a synctest bubble, made there
// with its line, so WaitForEdge's timeout is bubble time: exact, and free.
func TestSetSignalsAnEdgeOnChangeOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := gpiosim.NewBoard().Line(gpiosim.Tamper)
		if p.WaitForEdge(0) {
			t.Error("a line without edge detection reported an edge")
		}
		if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
		p.Set(gpio.High)
		start := time.Now()
		if !p.WaitForEdge(time.Second) || p.Read() != gpio.High {
			t.Errorf("after Set(High): no edge, or level %v", p.Read())
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("WaitForEdge took %s for an edge already there", took)
		}
		p.Set(gpio.High)
		start = time.Now()
		if p.WaitForEdge(time.Millisecond) {
			t.Error("Set to the level the line had reported an edge")
		}
		if took := time.Since(start); took != time.Millisecond {
			t.Errorf("WaitForEdge(1ms) with no edge returned after %s", took)
		}
		if err := p.In(gpio.PullDown, gpio.BothEdges); err != nil || p.Read() != gpio.Low {
			t.Errorf("PullDown: level %v, %v", p.Read(), err)
		}
	})
}

func TestOutIsReadBack(t *testing.T) {
	p := gpiosim.NewBoard().Line(gpiosim.LED)
	if err := p.Out(gpio.High); err != nil || p.Read() != gpio.High || p.Function() != string(gpio.OUT) {
		t.Errorf("Out(High): %v, level %v, function %s", err, p.Read(), p.Function())
	}
	if err := p.PWM(gpio.DutyHalf, 0); !errors.Is(err, kgpio.ErrPin) {
		t.Errorf("PWM = %v, want ErrPin", err)
	}
}

// TestDrivesAnInput: drivers/gpio's debounced input takes a simulated line
// with edge detection, and a Set becomes one settled event, reported one
// debounce window after it. Board, input and Run all live in the bubble,
// so the edges channel that In makes and each WaitForEdge's timer are the
// bubble's, and the goroutine waiting for an edge counts as blocked.
func TestDrivesAnInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := gpiosim.NewBoard().Line(gpiosim.Tamper)
		in, err := kgpio.NewInput(p, kgpio.InputOptions{Name: "tamper", Debounce: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if in.Polling() {
			t.Error("the input polls a line that has edges")
		}
		ctx, cancel := context.WithCancel(t.Context())
		events, done := make(chan kgpio.Event, 1), make(chan error, 1)
		go func() { done <- in.Run(ctx, events) }()
		defer func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v", err)
			}
		}()
		synctest.Wait() // Run waits for an edge
		set := time.Now()
		p.Set(gpio.High)
		select {
		case ev := <-events:
			if !ev.Active || ev.Level != gpio.High || !ev.At.Equal(set) {
				t.Errorf("event %+v, want active, High, at the Set", ev)
			}
			if took := time.Since(set); took != time.Millisecond {
				t.Errorf("event %s after the Set, want 1ms (the debounce)", took)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event for the line going high")
		}
	})
}

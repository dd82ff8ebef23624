package gpio_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/fakeclock"
)

// TestNoGoroutineLeftAfterStop runs an input with edges (two goroutines), a
// polled one and the LED, stops them all, and checks that the goroutine
// count comes back. It is not parallel so that other tests do not move the
// count.
func TestNoGoroutineLeftAfterStop(t *testing.T) {
	before := runtime.NumGoroutine()

	clock := fakeclock.New(start())
	pin := edgePin(gpio.Low)
	edged := mustNewInput(t, pin, kgpio.InputOptions{Name: "pir", Clock: clock})
	polled := mustNewInput(t, pollPin(gpio.Low), kgpio.InputOptions{Name: "tamper", Clock: clock})
	led := mustNewLED(t, pollPin(gpio.Low), kgpio.LEDOptions{Clock: clock})
	led.Set(kgpio.Fault)
	events := make(chan kgpio.Event) // nobody reads: a Run may be stopped mid-send
	runs := []*running{
		mustStart(t, func(ctx context.Context) error { return edged.Run(ctx, events) }),
		mustStart(t, func(ctx context.Context) error { return polled.Run(ctx, events) }),
		mustStart(t, led.Run),
	}
	for range runs {
		mustNextTimer(t, clock)
	}
	mustEdge(t, pin, gpio.High) // the edge-waiting goroutine is up
	mustNextTimer(t, clock)
	// Three Runs and the edge-waiting goroutine must be gone. The count
	// before can include goroutines of earlier tests still on their way
	// out, so the count while running, less ours, is a bound too.
	want := min(before, runtime.NumGoroutine()-len(runs)-1)
	for _, r := range runs {
		r.mustStop(t)
	}

	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Stop, want at most %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

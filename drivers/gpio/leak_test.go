package gpio_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"periph.io/x/conn/v3/gpio"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// TestNoGoroutineLeftAfterStop runs an input with edges (two goroutines), a
// polled one and the LED, stops them all, and checks that exactly the
// goroutines they started are gone. It counts its bubble's goroutines only,
// so other tests cannot move the count and it may run in parallel.
func TestNoGoroutineLeftAfterStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines(t)

		pin := edgePin(gpio.Low)
		edged := mustNewInput(t, pin, kgpio.InputOptions{Name: "pir"})
		polled := mustNewInput(t, pollPin(gpio.Low), kgpio.InputOptions{Name: "tamper"})
		led := mustNewLED(t, pollPin(gpio.Low), kgpio.LEDOptions{})
		led.Set(kgpio.Fault)
		events := make(chan kgpio.Event) // nobody reads: a Run may be stopped mid-send
		runs := []*running{
			mustStart(t, func(ctx context.Context) error { return edged.Run(ctx, events) }),
			mustStart(t, func(ctx context.Context) error { return polled.Run(ctx, events) }),
			mustStart(t, led.Run),
		}
		mustEdge(t, pin, gpio.High) // the edge-waiting goroutine is up
		// One goroutine per Run, and the one waiting for edges.
		if got, want := len(bubbleGoroutines(t)), len(before)+len(runs)+1; got != want {
			t.Fatalf("%d goroutines while running, want %d", got, want)
		}
		for _, r := range runs {
			r.mustStop(t)
		}

		synctest.Wait() // the goroutines that ran them are on their way out
		if after := bubbleGoroutines(t); len(after) != len(before) {
			t.Fatalf("%d goroutines after Stop, want %d:\n%s", len(after), len(before), strings.Join(after, "\n\n"))
		}
	})
}

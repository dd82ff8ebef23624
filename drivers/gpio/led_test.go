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

// ledRig runs an LED on a gpiotest pin and a fake clock; next is the
// deadline of the step the LED is showing.
type ledRig struct {
	t         *testing.T
	clock     *fakeclock.Clock
	pin       *gpiotest.Pin
	activeLow bool
	led       *kgpio.LED
	run       *running
	next      time.Time
}

func mustLEDRig(t *testing.T, p kgpio.Pattern, activeLow bool) *ledRig {
	t.Helper()
	r := &ledRig{t: t, clock: fakeclock.New(start()), pin: &gpiotest.Pin{N: "GPIO22", Num: 22}, activeLow: activeLow}
	r.led = mustNewLED(t, r.pin, kgpio.LEDOptions{ActiveLow: activeLow, Clock: r.clock})
	r.led.Set(p)
	r.run = mustStart(t, r.led.Run)
	r.next = mustNextTimer(t, r.clock)
	return r
}

func mustNewLED(t *testing.T, pin gpio.PinOut, opts kgpio.LEDOptions) *kgpio.LED {
	t.Helper()
	l, err := kgpio.NewLED(pin, opts)
	if err != nil {
		t.Fatalf("NewLED: %v", err)
	}
	return l
}

// lit reads the LED from the pin's level.
func (r *ledRig) lit() bool { return bool(r.pin.Read()) != r.activeLow }

// step lets the current step end and waits for the next one to show.
func (r *ledRig) step() {
	r.t.Helper()
	r.clock.AdvanceTo(r.next)
	r.next = mustNextTimer(r.t, r.clock)
}

// set changes the pattern and waits for it to show.
func (r *ledRig) set(p kgpio.Pattern) {
	r.t.Helper()
	r.led.Set(p)
	r.next = mustNextTimer(r.t, r.clock)
}

// state prints "ms:on" or "ms:off", time from start.
func (r *ledRig) state() string {
	s := "off"
	if r.lit() {
		s = "on"
	}
	return fmt.Sprintf("%d:%s", r.clock.Now().Sub(start()).Milliseconds(), s)
}

// TestLEDPatterns steps the fake clock through each pattern and reads the
// pin at each step, for an LED on either polarity.
func TestLEDPatterns(t *testing.T) {
	tests := []struct {
		p    kgpio.Pattern
		want string
	}{
		{kgpio.Off, "0:off 1000:off 2000:off"},
		{kgpio.Online, "0:on 1000:on 2000:on"},
		{kgpio.Offline, "0:on 1000:off 2000:on 3000:off 4000:on"},
		{kgpio.Fault, "0:on 150:off 300:on 450:off 1500:on 1650:off 1800:on 1950:off 3000:on"},
	}
	for _, tt := range tests {
		for _, activeLow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/activeLow=%v", tt.p, activeLow), func(t *testing.T) {
				t.Parallel()
				r := mustLEDRig(t, tt.p, activeLow)
				var got []string
				for i := range len(strings.Fields(tt.want)) {
					if i > 0 {
						r.step()
					}
					got = append(got, r.state())
				}
				if g := strings.Join(got, " "); g != tt.want {
					t.Errorf("shows %s, want %s", g, tt.want)
				}
				r.run.mustStop(t)
			})
		}
	}
}

// TestLEDSwitchesPromptly: a new pattern shows at once from its first step,
// mid-step of the old one; setting the pattern shown changes nothing.
func TestLEDSwitchesPromptly(t *testing.T) {
	t.Parallel()
	r := mustLEDRig(t, kgpio.Offline, false)
	var got []string
	r.clock.Advance(300 * time.Millisecond) // inside Offline's first second on
	r.set(kgpio.Fault)
	got = append(got, r.state())
	r.step()
	got = append(got, r.state())
	r.set(kgpio.Online)
	got = append(got, r.state())
	r.clock.Advance(100 * time.Millisecond)
	r.led.Set(kgpio.Online) // shown already: no new timer, or the next one would be at 1550
	r.set(kgpio.Fault)
	got = append(got, r.state(), fmt.Sprint(r.next.Sub(start()).Milliseconds()))
	r.step()
	got = append(got, r.state())
	if g, want := strings.Join(got, " "), "300:on 450:off 450:on 550:on 700 700:off"; g != want {
		t.Errorf("shows %s, want %s", g, want)
	}
	if p := r.led.Pattern(); p != kgpio.Fault {
		t.Errorf("Pattern() = %v, want fault", p)
	}
	r.run.mustStop(t)
}

// TestLEDStopLeavesItOff: whatever it showed, an LED whose Run has ended is
// dark, on either polarity.
func TestLEDStopLeavesItOff(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("activeLow=%v", activeLow), func(t *testing.T) {
			t.Parallel()
			r := mustLEDRig(t, kgpio.Online, activeLow)
			if !r.lit() {
				t.Fatal("online LED is dark")
			}
			r.run.mustStop(t)
			if r.lit() {
				t.Errorf("LED lit after Run returned (pin %s)", r.pin.Read())
			}
		})
	}
}

func TestNewLEDAbsentOrFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pin  gpio.PinOut
		want error
	}{
		{"no pin configured", nil, kgpio.ErrAbsent},
		{"periph's invalid pin", gpio.INVALID, kgpio.ErrAbsent},
		{"pin refuses a level", &failingPin{Pin: &gpiotest.Pin{N: "GPIO22"}, failOutFrom: 1}, kgpio.ErrPin},
		{"present", &gpiotest.Pin{N: "GPIO22", L: gpio.High}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kgpio.NewLED(tt.pin, kgpio.LEDOptions{})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("NewLED: %v, want %v", err, tt.want)
			}
			if tt.want == kgpio.ErrPin && errors.Is(err, kgpio.ErrAbsent) {
				t.Errorf("NewLED: failed pin %v looks absent", err)
			}
			if p, ok := tt.pin.(*gpiotest.Pin); ok && p.Read() != gpio.Low {
				t.Errorf("new LED pin at %s, want Low (off)", p.Read())
			}
		})
	}
}

// TestLEDRunFailsOnPinError: a pin that stops taking levels ends Run with
// ErrPin instead of blinking on in silence.
func TestLEDRunFailsOnPinError(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(start())
	// Out 1 is NewLED's off, 2 Run's first on; 3 fails.
	pin := &failingPin{Pin: &gpiotest.Pin{N: "GPIO22"}, failOutFrom: 3}
	led := mustNewLED(t, pin, kgpio.LEDOptions{Clock: clock})
	led.Set(kgpio.Offline)
	run := mustStart(t, led.Run)
	clock.AdvanceTo(mustNextTimer(t, clock))
	select {
	case <-run.done:
		if !errors.Is(run.err, kgpio.ErrPin) || !errors.Is(run.err, errBroken) {
			t.Errorf("Run: %v, want ErrPin wrapping the pin's error", run.err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after the pin failed")
	}
}

func TestLEDRunTwice(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(start())
	led := mustNewLED(t, &gpiotest.Pin{N: "GPIO22"}, kgpio.LEDOptions{Clock: clock})
	run := mustStart(t, led.Run)
	mustNextTimer(t, clock)
	if err := led.Run(context.Background()); !errors.Is(err, kgpio.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	run.mustStop(t)
}

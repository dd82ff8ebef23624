package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// ledRig runs an LED inside a synctest bubble on a pin that logs every
// level written, so a test reads the pattern shown and when each step came.
type ledRig struct {
	pin       *outLog
	activeLow bool
	led       *kgpio.LED
	run       *running
	fromRun   int // writes before Run's first (NewLED's off) are not the pattern
}

func mustLEDRig(t *testing.T, p kgpio.Pattern, activeLow bool) *ledRig {
	t.Helper()
	r := &ledRig{pin: newOutLog(), activeLow: activeLow}
	r.led = mustNewLED(t, r.pin, kgpio.LEDOptions{ActiveLow: activeLow})
	r.fromRun = len(r.pin.written())
	r.led.Set(p)
	r.run = mustStart(t, r.led.Run)
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

// set changes the pattern and waits for Run to act on it.
func (r *ledRig) set(p kgpio.Pattern) {
	r.led.Set(p)
	synctest.Wait()
}

// shown is what Run has written, as "ms:on" or "ms:off", time from the
// rig's start.
func (r *ledRig) shown() string {
	var got []string
	for _, w := range r.pin.written()[r.fromRun:] {
		s := "off"
		if bool(w.level) != r.activeLow {
			s = "on"
		}
		got = append(got, fmt.Sprintf("%d:%s", w.at.Milliseconds(), s))
	}
	return strings.Join(got, " ")
}

// TestLEDPatterns runs each pattern on an LED of either polarity and reads
// every level written and when: each step comes exactly on time, and
// nothing else is written.
func TestLEDPatterns(t *testing.T) {
	tests := []struct {
		p     kgpio.Pattern
		until time.Duration // how long the LED runs
		want  string
	}{
		{kgpio.Off, 2 * time.Second, "0:off 1000:off 2000:off"},
		{kgpio.Online, 2 * time.Second, "0:on 1000:on 2000:on"},
		{kgpio.Offline, 4 * time.Second, "0:on 1000:off 2000:on 3000:off 4000:on"},
		{kgpio.Fault, 3 * time.Second, "0:on 150:off 300:on 450:off 1500:on 1650:off 1800:on 1950:off 3000:on"},
	}
	for _, tt := range tests {
		for _, activeLow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/activeLow=%v", tt.p, activeLow), func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					r := mustLEDRig(t, tt.p, activeLow)
					advance(tt.until)
					if g := r.shown(); g != tt.want {
						t.Errorf("shows %s, want %s", g, tt.want)
					}
					r.run.mustStop(t)
				})
			})
		}
	}
}

// TestLEDSwitchesPromptly: a new pattern shows at once from its first step,
// mid-step of the old one; setting the pattern shown changes nothing.
func TestLEDSwitchesPromptly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := mustLEDRig(t, kgpio.Offline, false)
		advance(300 * time.Millisecond) // inside Offline's first second on
		r.set(kgpio.Fault)
		advance(150 * time.Millisecond)
		r.set(kgpio.Online)
		advance(100 * time.Millisecond)
		r.set(kgpio.Online) // shown already: no write now, nor a step restarted to end at 1550
		r.set(kgpio.Fault)
		advance(150 * time.Millisecond)
		if g, want := r.shown(), "0:on 300:on 450:off 450:on 550:on 700:off"; g != want {
			t.Errorf("shows %s, want %s", g, want)
		}
		if p := r.led.Pattern(); p != kgpio.Fault {
			t.Errorf("Pattern() = %v, want fault", p)
		}
		r.run.mustStop(t)
	})
}

// TestLEDStopLeavesItOff: whatever it showed, an LED whose Run has ended is
// dark, on either polarity.
func TestLEDStopLeavesItOff(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("activeLow=%v", activeLow), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := mustLEDRig(t, kgpio.Online, activeLow)
				if !r.lit() {
					t.Fatal("online LED is dark")
				}
				r.run.mustStop(t)
				if r.lit() {
					t.Errorf("LED lit after Run returned (pin %s)", r.pin.Read())
				}
			})
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
// ErrPin instead of blinking on in silence, at the step it failed on.
func TestLEDRunFailsOnPinError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		// Out 1 is NewLED's off, 2 Run's first on; 3, Offline's off a
		// second later, fails.
		pin := &failingPin{Pin: &gpiotest.Pin{N: "GPIO22"}, failOutFrom: 3}
		led := mustNewLED(t, pin, kgpio.LEDOptions{})
		led.Set(kgpio.Offline)
		run := mustStart(t, led.Run)
		select {
		case <-run.done:
			if !errors.Is(run.err, kgpio.ErrPin) || !errors.Is(run.err, errBroken) {
				t.Errorf("Run: %v, want ErrPin wrapping the pin's error", run.err)
			}
			if took := time.Since(t0); took != time.Second {
				t.Errorf("Run returned after %s, want 1s (the first write that failed)", took)
			}
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after the pin failed")
		}
	})
}

func TestLEDRunTwice(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		led := mustNewLED(t, &gpiotest.Pin{N: "GPIO22"}, kgpio.LEDOptions{})
		run := mustStart(t, led.Run)
		if err := led.Run(context.Background()); !errors.Is(err, kgpio.ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
		run.mustStop(t)
	})
}

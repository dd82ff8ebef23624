package fakeclock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/gpio"
	"github.com/fengqiao/kiosk/drivers/gpio/fakeclock"
)

var _ gpio.Clock = (*fakeclock.Clock)(nil)

func start() time.Time { return time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC) }

func mustNextTimer(t *testing.T, c *fakeclock.Clock) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at, err := c.NextTimer(ctx)
	if err != nil {
		t.Fatalf("NextTimer: %v", err)
	}
	return at
}

// fired reports whether the timer has fired, and when, without waiting.
func fired(tm gpio.Timer) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestTimers(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration // the timer's duration
		stop    bool          // stopped before the advance
		advance time.Duration
		fires   bool
	}{
		{name: "not yet due", after: time.Second, advance: 999 * time.Millisecond},
		{name: "due exactly", after: time.Second, advance: time.Second, fires: true},
		{name: "overdue", after: time.Second, advance: time.Hour, fires: true},
		{name: "stopped", after: time.Second, stop: true, advance: time.Hour},
		{name: "zero fires at once", after: 0, fires: true},
		{name: "negative fires at once", after: -time.Second, fires: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeclock.New(start())
			tm := c.NewTimer(tt.after)
			if at := mustNextTimer(t, c); !at.Equal(start().Add(tt.after)) {
				t.Errorf("NextTimer = %v, want %v", at, start().Add(tt.after))
			}
			if tt.stop && !tm.Stop() {
				t.Error("Stop of an armed timer = false")
			}
			c.Advance(tt.advance)
			if !c.Now().Equal(start().Add(tt.advance)) {
				t.Errorf("Now = %v after Advance(%s)", c.Now(), tt.advance)
			}
			at, ok := fired(tm)
			if ok != tt.fires {
				t.Fatalf("fired = %v, want %v", ok, tt.fires)
			}
			if ok && tt.after > 0 && !at.Equal(start().Add(tt.after)) {
				t.Errorf("fired with %v, want its deadline %v", at, start().Add(tt.after))
			}
			armed := !tt.fires && !tt.stop
			if n, want := c.Pending(), map[bool]int{true: 1}[armed]; n != want {
				t.Errorf("Pending = %d, want %d", n, want)
			}
			if stopped := tm.Stop(); stopped != armed {
				t.Errorf("Stop = %v, want %v (true only for a timer still armed)", stopped, armed)
			}
		})
	}
}

func TestAdvanceFiresInOrderAndOnce(t *testing.T) {
	c := fakeclock.New(start())
	late, early := c.NewTimer(3*time.Second), c.NewTimer(time.Second)
	c.Advance(2 * time.Second)
	if _, ok := fired(early); !ok {
		t.Error("early timer did not fire")
	}
	if _, ok := fired(late); ok {
		t.Error("late timer fired early")
	}
	c.AdvanceTo(start().Add(3 * time.Second))
	c.AdvanceTo(start()) // never back
	if _, ok := fired(late); !ok {
		t.Error("late timer did not fire")
	}
	c.Advance(time.Hour)
	if _, ok := fired(early); ok {
		t.Error("a timer fired twice")
	}
	if got := []time.Time{mustNextTimer(t, c), mustNextTimer(t, c)}; !got[0].Equal(start().Add(3*time.Second)) || !got[1].Equal(start().Add(time.Second)) {
		t.Errorf("NextTimer gave %v, want the deadlines in the order armed", got)
	}
}

func TestNextTimerWaits(t *testing.T) {
	c := fakeclock.New(start())
	got := make(chan time.Time, 1)
	go func() {
		at, _ := c.NextTimer(context.Background())
		got <- at
	}()
	c.NewTimer(time.Minute)
	select {
	case at := <-got:
		if !at.Equal(start().Add(time.Minute)) {
			t.Errorf("NextTimer = %v, want start+1m", at)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NextTimer did not see the timer armed while it waited")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.NextTimer(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("NextTimer with no timer and an ended context: %v", err)
	}
}

// Package fakeclock owns a gpio.Clock for tests whose time moves only when
// the test says so.
//
// Besides moving time, a test needs to know when the code under test has
// acted on it, without sleeping. Both drivers/gpio loops end every turn by
// arming one timer, so NextTimer, which waits for the next timer armed and
// gives its deadline, tells the test that the loop has finished the turn
// (written the LED, sent the event) and is waiting again.
package fakeclock

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/drivers/gpio"
)

// Clock is a manually advanced gpio.Clock. Its methods are safe for
// concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*timer      // armed and neither fired nor stopped
	armed   []time.Time   // deadlines of timers armed, not yet taken by NextTimer
	wake    chan struct{} // closed and replaced when armed grows
}

// New returns a clock that reads start until it is advanced.
func New(start time.Time) *Clock {
	return &Clock{now: start, wake: make(chan struct{})}
}

// Now implements gpio.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer implements gpio.Clock. A timer for d <= 0 fires at once.
func (c *Clock) NewTimer(d time.Duration) gpio.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.armed = append(c.armed, t.at)
	close(c.wake)
	c.wake = make(chan struct{})
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.pending = append(c.pending, t)
	return t
}

// Advance moves time on by d and fires, in deadline order, every timer due
// by then. Each timer receives its own deadline, as a real timer receives
// the time it fired at.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	slices.SortStableFunc(c.pending, func(a, b *timer) int { return a.at.Compare(b.at) })
	n := 0
	for _, t := range c.pending {
		if t.at.After(c.now) {
			break
		}
		t.c <- t.at
		n++
	}
	c.pending = slices.Delete(c.pending, 0, n)
}

// AdvanceTo moves time on to t (never back).
func (c *Clock) AdvanceTo(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

// NextTimer waits for the next timer armed, in the order they were armed,
// and returns its deadline; it returns ctx.Err() if ctx ends first. Every
// timer armed is given out once, including those that fired at once.
func (c *Clock) NextTimer(ctx context.Context) (time.Time, error) {
	for {
		c.mu.Lock()
		if len(c.armed) > 0 {
			at := c.armed[0]
			c.armed = c.armed[1:]
			c.mu.Unlock()
			return at, nil
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// Pending is the number of timers armed that have neither fired nor been
// stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

type timer struct {
	clock *Clock
	c     chan time.Time
	at    time.Time
}

func (t *timer) C() <-chan time.Time { return t.c }

func (t *timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.pending, t)
	if i < 0 {
		return false
	}
	c.pending = slices.Delete(c.pending, i, i+1)
	return true
}

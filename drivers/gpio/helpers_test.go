package gpio_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/fengqiao/kiosk/drivers/gpio/fakeclock"
)

// waitLimit bounds every wait on the code under test, so that a bug fails
// the test instead of hanging it. Nothing waits this long when all is well.
const waitLimit = 10 * time.Second

func start() time.Time { return time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC) }

// mustNextTimer waits for the loop under test to arm its next timer, which
// it does at the end of every turn, and returns the timer's deadline.
func mustNextTimer(t *testing.T, c *fakeclock.Clock) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	at, err := c.NextTimer(ctx)
	if err != nil {
		t.Fatalf("no timer armed within %s: the loop is stuck or has returned", waitLimit)
	}
	return at
}

// mustEdge makes an edge on a gpiotest pin: its WaitForEdge takes the level
// from EdgesChan and sets the pin to it. EdgesChan is unbuffered, so the
// send returns once the input's waiting goroutine has the edge.
func mustEdge(t *testing.T, p *gpiotest.Pin, level gpio.Level) {
	t.Helper()
	select {
	case p.EdgesChan <- level:
	case <-time.After(waitLimit):
		t.Fatalf("%s: nobody waited for an edge within %s", p, waitLimit)
	}
}

// edgePin is a gpiotest pin that can wait for edges; its Clock stays nil,
// the real clock, as it only times WaitForEdge's timeout, which the input
// uses to notice that its context ended.
func edgePin(level gpio.Level) *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO17", Num: 17, L: level, EdgesChan: make(chan gpio.Level)}
}

// pollPin is a gpiotest pin without EdgesChan: its In refuses edges, so an
// input on it polls.
func pollPin(level gpio.Level) *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO27", Num: 27, L: level}
}

// running is a Run going in its own goroutine; done is closed when it has
// returned err.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func mustStart(t *testing.T, run func(ctx context.Context) error) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(waitLimit):
			t.Errorf("Run did not return within %s of its context ending", waitLimit)
		}
	})
	return r
}

// mustStop cancels the Run and waits for it to return; a Run that ends by
// its context returns context.Canceled.
func (r *running) mustStop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", r.err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %s of its context ending", waitLimit)
	}
}

// failingPin is a pin that refuses to be an input, or refuses levels from
// its failOutFrom-th Out on (0: never).
type failingPin struct {
	*gpiotest.Pin
	failIn      bool
	failOutFrom int32
	outs        atomic.Int32
}

var errBroken = errors.New("line broken")

func (p *failingPin) In(pull gpio.Pull, edge gpio.Edge) error {
	if p.failIn {
		return errBroken
	}
	return p.Pin.In(pull, edge)
}

func (p *failingPin) Out(l gpio.Level) error {
	if n := p.outs.Add(1); p.failOutFrom > 0 && n >= p.failOutFrom {
		return errBroken
	}
	return p.Pin.Out(l)
}

// noWaitPin accepts edges in In but fails every WaitForEdge at once, as some
// periph drivers do on a line they cannot watch.
type noWaitPin struct{ *gpiotest.Pin }

func (noWaitPin) WaitForEdge(time.Duration) bool { return false }

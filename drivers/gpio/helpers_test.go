package gpio_test

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	kgpio "github.com/fengqiao/kiosk/drivers/gpio"
)

// The tests that run an Input or an LED do so in a testing/synctest
// bubble: time there is virtual, so debounce windows and blink steps are
// exact and cost no real time, and synctest.Wait tells when every loop has
// finished acting on an edge or a tick. Pins must be made inside the
// bubble: a gpiotest pin's EdgesChan belongs to the bubble it is made in,
// and WaitForEdge's select on it and on its timer counts as durably blocked
// only if both are the bubble's. With a pin made outside, the goroutine
// waiting for edges never counts as blocked, time stands still and
// synctest.Wait never returns.

// waitLimit bounds every wait on the code under test, so that a bug fails
// the test with a message instead of a bubble deadlock. It is bubble time:
// reaching it costs nothing, and nothing waits this long when all is well.
const waitLimit = 10 * time.Second

// advance lets d of bubble time pass. Every timer due by then, one due at
// the very end included, has fired and been acted on when it returns, as on
// a board where whatever the test does next comes a moment later.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// mustEdge makes an edge on a gpiotest pin: its WaitForEdge takes the level
// from EdgesChan and sets the pin to it. EdgesChan is unbuffered, so the
// send returns once the input's waiting goroutine has the edge; the
// synctest.Wait after it returns once the input has acted on it.
func mustEdge(t *testing.T, p *gpiotest.Pin, level gpio.Level) {
	t.Helper()
	select {
	case p.EdgesChan <- level:
	case <-time.After(waitLimit):
		t.Fatalf("%s: nobody waited for an edge within %s", p, waitLimit)
	}
	synctest.Wait()
}

// edgePin is a gpiotest pin that can wait for edges. Its Clock stays nil:
// periph then times WaitForEdge with the time package, which is the
// bubble's clock.
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

// mustStart starts run and waits until every goroutine in the bubble is
// blocked, so the Run has taken its first turn when it returns.
func mustStart(t *testing.T, run func(ctx context.Context) error) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
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
	synctest.Wait()
	return r
}

// mustStop cancels the Run and waits for it to return. A Run that ends by
// its context returns context.Canceled, and within kgpio.EdgeWait: that
// long is what an input's pending WaitForEdge may hold it up.
func (r *running) mustStop(t *testing.T) {
	t.Helper()
	stopped := time.Now()
	r.cancel()
	select {
	case <-r.done:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", r.err)
		}
		if took := time.Since(stopped); took > kgpio.EdgeWait {
			t.Fatalf("Run returned %s after its context ended, want at most %s", took, kgpio.EdgeWait)
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
// periph drivers do on a line they cannot watch; waits counts the calls.
type noWaitPin struct {
	*gpiotest.Pin
	waits atomic.Int32
}

func (p *noWaitPin) WaitForEdge(time.Duration) bool {
	p.waits.Add(1)
	return false
}

// outLog is a gpiotest pin that logs each level written to it with the
// bubble time since t0, which is how the LED tests see every step of a
// pattern and when it came.
type outLog struct {
	*gpiotest.Pin
	t0 time.Time

	mu     sync.Mutex
	writes []write
}

type write struct {
	at    time.Duration // since t0
	level gpio.Level
}

func newOutLog() *outLog {
	return &outLog{Pin: &gpiotest.Pin{N: "GPIO22", Num: 22}, t0: time.Now()}
}

func (p *outLog) Out(l gpio.Level) error {
	p.mu.Lock()
	p.writes = append(p.writes, write{time.Since(p.t0), l})
	p.mu.Unlock()
	return p.Pin.Out(l)
}

// written is the levels written so far, oldest first.
func (p *outLog) written() []write {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]write(nil), p.writes...)
}

// bubbleHeader matches a goroutine's header in a stack dump and captures
// its synctest bubble, if any ("goroutine 7 [chan receive (durable),
// synctest bubble 1]:", with labels possibly after the bubble).
var bubbleHeader = regexp.MustCompile(`(?m)^goroutine \d+ \[[^\n]*, synctest bubble (\d+)[\] ]`)

// bubbleGoroutines returns the goroutines of the caller's bubble, as the
// runtime dumps them: counting only these keeps other tests, and goroutines
// of earlier ones still on their way out, from moving a leak check.
func bubbleGoroutines(t *testing.T) []string {
	t.Helper()
	self := make([]byte, 1<<10)
	m := bubbleHeader.FindSubmatch(self[:runtime.Stack(self, false)])
	if m == nil {
		t.Fatalf("no synctest bubble in this goroutine's stack header (not in a bubble, or the runtime's format changed):\n%s", self)
	}
	var all []byte
	for n := 1 << 16; ; n *= 2 {
		all = make([]byte, n)
		if k := runtime.Stack(all, true); k < n {
			all = all[:k]
			break
		}
	}
	var mine []string
	for _, g := range strings.Split(string(all), "\n\n") {
		if b := bubbleHeader.FindStringSubmatch(g); b != nil && b[1] == string(m[1]) {
			mine = append(mine, g)
		}
	}
	return mine
}

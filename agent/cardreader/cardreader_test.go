package cardreader

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/idcard"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// simPort connects a Reader to a simulator over an in-memory pipe; each open
// makes a fresh pipe, as replugging a USB reader makes a fresh port.
type simPort struct {
	sim *idcardsim.Sim

	mu       sync.Mutex
	opens    int
	failNext int // opens that fail, as while the reader is unplugged
	conns    []net.Conn
}

func (p *simPort) open(ctx context.Context) (Driver, io.Closer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opens++
	if p.failNext > 0 {
		p.failNext--
		return nil, nil, errors.New("open /dev/ttyUSB0: no such file or directory")
	}
	a, b := net.Pipe()
	p.conns = append(p.conns, b)
	go p.sim.Serve(ctx, b)
	r := idcard.NewReader(a, idcard.Options{Timeout: 500 * time.Millisecond})
	return r, r, nil
}

// unplug breaks the current connection.
func (p *simPort) unplug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func mustLoop(t *testing.T, port *simPort, tweak func(*Options)) *Loop {
	t.Helper()
	opts := Options{Open: port.open, Device: "/dev/sim", Interval: MinInterval, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	l := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("reader loop did not stop")
		}
		port.unplug()
	})
	return l
}

func mustState(t *testing.T, l *Loop, state string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for l.Status().State != state {
		if time.Now().After(deadline) {
			t.Fatalf("reader state = %+v, want %s within %s", l.Status(), state, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustEvent(t *testing.T, l *Loop, after uint64) apitype.CardEvent {
	t.Helper()
	evs := l.Events(context.Background(), after, 3*time.Second)
	if len(evs.Events) == 0 {
		t.Fatalf("no card event after %d within 3 s (reader %+v)", after, l.Status())
	}
	return evs.Events[0]
}

// TestCardReadOnceWhileOnReader: a card is read when placed, not again while
// it stays, and its removal is an event; placed again it is read again.
func TestCardReadOnceWhileOnReader(t *testing.T) {
	sim := idcardsim.New(idcardsim.Options{})
	l := mustLoop(t, &simPort{sim: sim}, nil)
	mustState(t, l, apitype.ReaderReady, 3*time.Second)
	start := l.Events(context.Background(), 0, 0).Next

	card := idcardsim.Fixtures()[0]
	sim.PlaceCard(card)
	ev := mustEvent(t, l, start)
	if ev.Kind != apitype.CardRead || ev.Card == nil || ev.Card.Name != card.Name || ev.Card.Type != "resident" ||
		ev.Card.IDMasked != idcard.Mask(card.IDNumber) || ev.Card.Token == "" {
		t.Fatalf("event = %+v", ev)
	}
	if strings.Contains(ev.Card.IDMasked, card.IDNumber[6:16]) {
		t.Error("event shows the middle of the ID number")
	}
	// Several polls with the card still there: the event is the reader's
	// requests, not a time that usually holds several.
	polled := sim.Stats().Requests
	for deadline := time.Now().Add(5 * time.Second); sim.Stats().Requests < polled+4; {
		if time.Now().After(deadline) {
			t.Fatalf("the loop stopped polling: %d requests since the read", sim.Stats().Requests-polled)
		}
		time.Sleep(MinInterval / 4)
	}
	if r := l.Status().Reads; r != 1 {
		t.Errorf("reads while the card stayed = %d, want 1", r)
	}
	sim.RemoveCard()
	removed := mustEvent(t, l, ev.Seq)
	if removed.Kind != apitype.CardRemoved || removed.Card != nil {
		t.Errorf("removal event = %+v", removed)
	}
	sim.PlaceCard(card)
	if again := mustEvent(t, l, removed.Seq); again.Kind != apitype.CardRead || again.Card.Token == ev.Card.Token {
		t.Errorf("second placing = %+v", again)
	}
}

// TestTokenGivesIdentityUntilUsedOrExpired: only the latest card's token
// works, once Forget is called it does not, and it expires on its own.
func TestTokenGivesIdentityUntilUsedOrExpired(t *testing.T) {
	sim := idcardsim.New(idcardsim.Options{})
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := mustLoop(t, &simPort{sim: sim}, func(o *Options) { o.Now = clock; o.TokenTTL = time.Minute })
	mustState(t, l, apitype.ReaderReady, 3*time.Second)
	// Every card type reaches the screen as a summary with a name and a mask.
	for _, card := range idcardsim.Fixtures() {
		start := l.Events(context.Background(), 0, 0).Next
		sim.PlaceCard(card)
		ev := mustEvent(t, l, start)
		if ev.Card == nil || ev.Card.Name == "" || ev.Card.Type == "unknown" || !strings.Contains(ev.Card.IDMasked, "*") {
			t.Errorf("%c card: event %+v", card.Type, ev)
		}
		sim.RemoveCard()
		mustEvent(t, l, ev.Seq)
	}
	card := idcardsim.Fixtures()[1]
	sim.PlaceCard(card)
	var ev apitype.CardEvent
	for ev.Kind != apitype.CardRead || ev.Card.Name != strings.TrimSpace(card.Name) {
		ev = mustEvent(t, l, ev.Seq)
	}
	id, ok := l.Lookup(ev.Card.Token)
	if !ok || id.IDNumber != card.IDNumber || id.Name == "" || id.IDMasked != ev.Card.IDMasked {
		t.Fatalf("Lookup = %+v, %v", id, ok)
	}
	if _, ok := l.Lookup("not-a-token"); ok {
		t.Error("an unknown token found a card")
	}
	l.Forget(ev.Card.Token)
	if _, ok := l.Lookup(ev.Card.Token); ok {
		t.Error("a used token still works")
	}
	sim.RemoveCard()
	removed := mustEvent(t, l, ev.Seq)
	sim.PlaceCard(card)
	ev = mustEvent(t, l, removed.Seq)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, ok := l.Lookup(ev.Card.Token); ok {
		t.Error("an expired token still works")
	}
}

// TestEventsFromNow: a poller that starts with after=0 is not shown a card
// tapped before it asked, and a long-poll returns when a card comes.
func TestEventsFromNow(t *testing.T) {
	sim := idcardsim.New(idcardsim.Options{})
	l := mustLoop(t, &simPort{sim: sim}, nil)
	mustState(t, l, apitype.ReaderReady, 3*time.Second)
	start := l.Events(context.Background(), 0, 0).Next
	sim.PlaceCard(idcardsim.Fixtures()[0])
	mustEvent(t, l, start)
	if evs := l.Events(context.Background(), 0, 100*time.Millisecond); len(evs.Events) != 0 {
		t.Errorf("after=0 replayed %+v", evs.Events)
	}
	began := time.Now()
	go func() { time.Sleep(200 * time.Millisecond); sim.RemoveCard() }()
	evs := l.Events(context.Background(), 0, 5*time.Second)
	if len(evs.Events) != 1 || evs.Events[0].Kind != apitype.CardRemoved || time.Since(began) > 2*time.Second {
		t.Errorf("long-poll = %+v after %s", evs, time.Since(began))
	}
}

// TestUnpluggedReaderIsReopened: a reader that is gone at start and one that
// disappears while running both come back without a restart of kioskd.
func TestUnpluggedReaderIsReopened(t *testing.T) {
	sim := idcardsim.New(idcardsim.Options{})
	port := &simPort{sim: sim, failNext: 3}
	l := mustLoop(t, port, nil)
	mustState(t, l, apitype.ReaderFailed, 3*time.Second)
	if st := l.Status(); !strings.Contains(st.LastError, "no such file") || st.Device != "/dev/sim" {
		t.Errorf("status while unplugged = %+v", st)
	}
	mustState(t, l, apitype.ReaderReady, 5*time.Second)

	port.unplug()
	mustState(t, l, apitype.ReaderFailed, 5*time.Second)
	mustState(t, l, apitype.ReaderReady, 5*time.Second)
	start := l.Events(context.Background(), 0, 0).Next
	sim.PlaceCard(idcardsim.Fixtures()[2])
	if ev := mustEvent(t, l, start); ev.Kind != apitype.CardRead {
		t.Errorf("after replug: %+v", ev)
	}
	port.mu.Lock()
	opens := port.opens
	port.mu.Unlock()
	if opens < 5 {
		t.Errorf("opens = %d, want the failed ones retried and one reopen after the unplug", opens)
	}
}

func TestDisabledReader(t *testing.T) {
	l := New(Options{})
	if st := l.Status(); st.State != apitype.ReaderDisabled {
		t.Errorf("status = %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v", err)
	}
}

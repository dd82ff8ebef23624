// Package cardreader owns the kiosk's ID-card reader loop: it opens the reader,
// polls for a card at a fixed interval, reads a card once when it is placed
// (not again while it stays on the reader), reopens the port with backoff when
// a USB-serial reader is unplugged, and reports the reader's health.
//
// A read card becomes an event for the screen carrying only what a screen may
// show (name, masked number) and a short-lived token. The full card stays in
// this package's memory until a record that needs it claims it by token, the
// token expires, or another card is read; it is never logged.
package cardreader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/internal/retry"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/drivers/idcard"
)

// Driver is the reader as the loop uses it; *idcard.Reader satisfies it.
type Driver interface {
	FindCard(ctx context.Context) (bool, error)
	SelectCard(ctx context.Context) error
	ReadBaseInfo(ctx context.Context) (*idcard.Card, error)
}

// Opener opens the reader's port and driver. The closer releases both.
type Opener func(ctx context.Context) (Driver, io.Closer, error)

// Options configure a Loop.
type Options struct {
	Open   Opener
	Device string // for status only
	// Interval between find-card polls; at least MinInterval. A SAM that is
	// polled faster heats up and, on some modules, stops answering.
	Interval time.Duration
	// TokenTTL bounds how long a read card can be claimed by its token.
	TokenTTL time.Duration
	// FailuresBeforeReopen: consecutive failed polls that make the loop close
	// and reopen the port (a USB-serial reader that was unplugged).
	FailuresBeforeReopen   int
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger
	Now                    func() time.Time
}

// MinInterval is the shortest polling interval the loop accepts.
const MinInterval = 300 * time.Millisecond

// eventsKept bounds the events a late poller can still fetch.
const eventsKept = 16

// Loop is the reader loop. Its methods are safe for concurrent use.
type Loop struct {
	opts Options

	mu      sync.Mutex
	status  apitype.ReaderStatus
	events  []apitype.CardEvent
	seq     uint64
	changed chan struct{} // closed and replaced on every event
	held    *heldCard
}

// heldCard is the one card whose full data the loop keeps.
type heldCard struct {
	token    string
	identity core.Identity
	expires  time.Time
}

// New returns a loop; Run starts it. With a nil Open the reader is disabled.
func New(opts Options) *Loop {
	if opts.Interval < MinInterval {
		opts.Interval = MinInterval
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 5 * time.Minute
	}
	if opts.FailuresBeforeReopen <= 0 {
		opts.FailuresBeforeReopen = 3
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	l := &Loop{opts: opts, changed: make(chan struct{})}
	l.status = apitype.ReaderStatus{State: apitype.ReaderDisabled, Device: opts.Device, Since: opts.Now()}
	if opts.Open != nil {
		l.status.State = apitype.ReaderConnecting
	}
	return l
}

// Status is the reader's health for /v1/status.
func (l *Loop) Status() apitype.ReaderStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *Loop) setState(state string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.status.LastError = err.Error()
	}
	if l.status.State != state {
		l.status.State, l.status.Since = state, l.opts.Now()
	}
}

// Run polls the reader until ctx ends. It returns ctx.Err().
func (l *Loop) Run(ctx context.Context) error {
	if l.opts.Open == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	bo := retry.New(l.opts.MinBackoff, l.opts.MaxBackoff)
	log := l.opts.Log.With("device", l.opts.Device)
	for {
		l.setState(apitype.ReaderConnecting, nil)
		drv, closer, err := l.opts.Open(ctx)
		if err == nil {
			err = l.poll(ctx, drv, bo)
			closer.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.setState(apitype.ReaderFailed, err)
		if err := bo.Wait(ctx, log, "ID-card reader not answering", err); err != nil {
			return err
		}
	}
}

// poll runs find-card at the interval until the reader fails repeatedly.
func (l *Loop) poll(ctx context.Context, drv Driver, bo *retry.Backoff) error {
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	onReader := false // the card there has been read already
	failed := 0
	var lastErr error
	for {
		found, err := drv.FindCard(ctx)
		if err == nil && found && !onReader {
			err = l.read(ctx, drv)
			onReader = err == nil
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && isCardError(err):
			// The card moved mid-read or cannot be read: the reader is fine.
			// Poll again; a card still there is read again.
			l.opts.Log.Info("card could not be read; waiting for it to be placed again", "err", err)
			failed = 0
		case err != nil:
			failed++
			lastErr = err
			if failed >= l.opts.FailuresBeforeReopen {
				return lastErr
			}
		default:
			failed = 0
			if l.Status().State != apitype.ReaderReady {
				l.setState(apitype.ReaderReady, nil)
				bo.Succeeded()
			}
			if !found && onReader {
				onReader = false
				l.emit(apitype.CardEvent{Kind: apitype.CardRemoved})
			}
		}
		l.dropExpired()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// dropExpired wipes a card nobody claimed in time from memory.
func (l *Loop) dropExpired() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held != nil && !l.opts.Now().Before(l.held.expires) {
		l.held = nil
	}
}

// isCardError tells a problem with the card (moved away, unreadable) from a
// problem with the reader.
func isCardError(err error) bool {
	var se *idcard.StatusError
	return errors.As(err, &se)
}

func (l *Loop) read(ctx context.Context, drv Driver) error {
	if err := drv.SelectCard(ctx); err != nil {
		return err
	}
	card, err := drv.ReadBaseInfo(ctx)
	if err != nil {
		return err
	}
	now := l.opts.Now()
	sum, id := summarize(card, now)
	sum.Token = newToken()
	l.mu.Lock()
	l.held = &heldCard{token: sum.Token, identity: id, expires: now.Add(l.opts.TokenTTL)}
	l.status.Reads++
	l.mu.Unlock()
	l.opts.Log.Info("ID card read", "type", sum.Type, "expired", sum.Expired) // never the name or number
	l.emit(apitype.CardEvent{Kind: apitype.CardRead, Card: &sum})
	return nil
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *Loop) emit(ev apitype.CardEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	ev.Seq, ev.At = l.seq, l.opts.Now()
	l.events = append(l.events, ev)
	if len(l.events) > eventsKept {
		l.events = l.events[len(l.events)-eventsKept:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// Events returns the events after seq after, waiting up to wait for one. An
// after of 0 means "from now": a screen that (re)starts is not shown a card
// tapped before it was there.
func (l *Loop) Events(ctx context.Context, after uint64, wait time.Duration) apitype.CardEvents {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	l.mu.Lock()
	if after == 0 || after > l.seq {
		after = l.seq
	}
	for {
		var out []apitype.CardEvent
		for _, ev := range l.events {
			if ev.Seq > after {
				out = append(out, ev)
			}
		}
		if len(out) > 0 {
			l.mu.Unlock()
			return apitype.CardEvents{Events: out, Next: out[len(out)-1].Seq}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return apitype.CardEvents{Events: []apitype.CardEvent{}, Next: after}
		case <-ctx.Done():
			return apitype.CardEvents{Events: []apitype.CardEvent{}, Next: after}
		}
		l.mu.Lock()
	}
}

// Lookup implements core.Cards: the identity of the card read last, if token
// is its token and it has not expired.
func (l *Loop) Lookup(token string) (core.Identity, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held
	if h == nil || h.token != token || !l.opts.Now().Before(h.expires) {
		return core.Identity{}, false
	}
	return h.identity, true
}

// Forget implements core.Cards: the card's data is dropped once used.
func (l *Loop) Forget(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held != nil && l.held.token == token {
		l.held = nil
	}
}

// Package mqttlink owns the kiosk's connection to the township broker: it keeps
// one MQTT 3.1.1 session alive with jittered backoff, keeps the retained status
// topic truthful (online while connected, "offline" by last will), and drains the
// outbox in order, acknowledging a record only when the broker has PUBACKed it.
//
// It manages reconnection itself instead of using paho's auto-reconnect: each
// connection is a fresh paho client, so a publish token can only complete on
// the connection that carried it, and a token failed by a lost connection leaves
// its record in the outbox to be sent again on the next one.
package mqttlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

// Connection states reported in /v1/status.
const (
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
)

// Queue is what the link needs from the outbox.
type Queue interface {
	Peek(max int) ([]outbox.Item, error)
	Ack(seq uint64) error
	Ready() <-chan struct{}
}

// Options configure a Link.
type Options struct {
	Broker         string // e.g. tcp://127.0.0.1:1883
	Source         record.Source
	Version        string
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
	// PublishTimeout bounds the wait for one PUBACK; past it the connection is
	// treated as dead, because a half-open TCP link can swallow packets silently.
	PublishTimeout time.Duration
	Log            *slog.Logger
	Now            func() time.Time
}

// Link is the kiosk's side of the township connection.
type Link struct {
	opts Options
	q    Queue

	mu        sync.Mutex
	state     string
	since     time.Time
	lastError string
}

// New returns a link that will drain q once Run is called.
func New(opts Options, q Queue) *Link {
	if opts.PublishTimeout == 0 {
		opts.PublishTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Link{opts: opts, q: q, state: StateDisconnected, since: opts.Now()}
}

// State returns the connection state, since when, and the last connection error.
func (l *Link) State() (state string, since time.Time, lastError string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state, l.since, l.lastError
}

func (l *Link) setState(state string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.lastError = err.Error()
	}
	if state != l.state {
		l.state, l.since = state, l.opts.Now()
	}
}

// Run connects, drains and reconnects until ctx is done. It returns ctx.Err().
func (l *Link) Run(ctx context.Context) error {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     500 * time.Millisecond,
		RandomizationFactor: 0.5, // jitter: a township's kiosks must not reconnect in lockstep
		Multiplier:          2,
		MaxInterval:         60 * time.Second,
	}
	bo.Reset()
	log := l.opts.Log.With("broker", l.opts.Broker)
	failures := 0
	for {
		l.setState(StateConnecting, nil)
		lost := make(chan error, 1)
		client := mqtt.NewClient(l.clientOptions(lost))
		err := wait(ctx, client.Connect(), l.opts.ConnectTimeout+time.Second)
		if err == nil {
			failures = 0
			bo.Reset()
			l.setState(StateConnected, nil)
			log.Info("connected to township broker")
			err = l.session(ctx, client, lost)
		}
		if ctx.Err() != nil {
			l.goodbye(client)
			l.setState(StateDisconnected, nil)
			return ctx.Err()
		}
		client.Disconnect(0)
		l.setState(StateDisconnected, err)
		failures++
		delay := bo.NextBackOff()
		// The first failure is news; the hundredth of a days-long outage is not.
		level := slog.LevelDebug
		if failures == 1 {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "township broker unreachable", "err", err, "attempt", failures, "retry_in", delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (l *Link) clientOptions(lost chan<- error) *mqtt.ClientOptions {
	src := l.opts.Source
	will, _ := json.Marshal(l.status("offline"))
	return mqtt.NewClientOptions().
		AddBroker(l.opts.Broker).
		SetClientID(src.Kiosk).
		SetCleanSession(true). // the outbox, not the broker session, holds what is undelivered
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetKeepAlive(l.opts.KeepAlive).
		SetPingTimeout(l.opts.KeepAlive/2+time.Second).
		SetConnectTimeout(l.opts.ConnectTimeout).
		SetWriteTimeout(l.opts.PublishTimeout).
		SetBinaryWill(mqtttopic.Status(src.Township, src.Kiosk), will, 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
}

// Status is the payload of the retained status topic.
type Status struct {
	ID       string    `json:"id"`
	Kiosk    string    `json:"kiosk"`
	Township string    `json:"township"`
	Village  string    `json:"village"`
	State    string    `json:"state"` // online | offline
	Version  string    `json:"version"`
	TS       time.Time `json:"ts"`
}

func (l *Link) status(state string) Status {
	src := l.opts.Source
	return Status{
		ID: uuid.Must(uuid.NewV7()).String(), Kiosk: src.Kiosk, Township: src.Township, Village: src.Village,
		State: state, Version: l.opts.Version, TS: l.opts.Now().UTC(),
	}
}

func (l *Link) publishStatus(ctx context.Context, client mqtt.Client, state string) error {
	payload, _ := json.Marshal(l.status(state))
	src := l.opts.Source
	return wait(ctx, client.Publish(mqtttopic.Status(src.Township, src.Kiosk), 1, true, payload), l.opts.PublishTimeout)
}

// batch bounds one read of the outbox; records are still published one at a time.
const batch = 64

// session publishes the status and then drains the queue until the connection
// is lost or ctx is done.
func (l *Link) session(ctx context.Context, client mqtt.Client, lost <-chan error) error {
	if err := l.publishStatus(ctx, client, "online"); err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	src := l.opts.Source
	for {
		items, err := l.q.Peek(batch)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			select {
			case <-l.q.Ready():
				continue
			case err := <-lost:
				return fmt.Errorf("connection lost: %w", err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, it := range items {
			tok := client.Publish(mqtttopic.Record(src.Township, src.Kiosk, it.Type), 1, false, it.Payload)
			if err := wait(ctx, tok, l.opts.PublishTimeout); err != nil {
				return fmt.Errorf("publish record %d: %w", it.Seq, err)
			}
			if err := l.q.Ack(it.Seq); err != nil {
				return err
			}
		}
	}
}

// goodbye marks the kiosk offline on purpose: a clean DISCONNECT does not fire
// the last will, so without this the retained status would say online forever.
func (l *Link) goodbye(client mqtt.Client) {
	if client.IsConnectionOpen() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.publishStatus(ctx, client, "offline"); err != nil {
			l.opts.Log.Warn("could not publish offline status", "err", err)
		}
	}
	client.Disconnect(250)
}

var errTimeout = errors.New("timed out waiting for the broker")

func wait(ctx context.Context, tok mqtt.Token, timeout time.Duration) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(timeout):
		return errTimeout
	}
}

// Package mqttlink owns the kiosk's connection to the township broker: it keeps
// one MQTT 3.1.1 session alive with jittered backoff, keeps the retained status
// topic truthful (online while connected, "offline" by last will), and drains the
// outbox in order, acknowledging a record only when the broker has PUBACKed it.
//
// It manages reconnection itself instead of using paho's auto-reconnect: each
// connection is a fresh paho client, so a publish token can only complete on
// the connection that carried it, and a token failed by a lost connection leaves
// its record in the outbox to be sent again on the next one. Even a token that
// completes without error is not trusted on its own: the record is acked in
// the outbox only if that connection really received a PUBACK for its message
// id (see pubackStore), because paho has completed tokens without delivery
// before (a reused message id completes the old token silently).
//
// Records are pipelined: up to Window publishes are in flight, PUBACKs are
// confirmed in order, and their acks are committed to the outbox in batches.
package mqttlink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
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
	Peek(after uint64, max int) ([]outbox.Item, error)
	Ack(seqs ...uint64) error
	Fail(seq uint64, reason string, permanent bool) (dead bool, err error)
	Ready() <-chan struct{}
}

// Defaults for Options. The window is the records published and not yet
// PUBACKed; each costs paho's token and our in-flight entry, about 220 bytes
// (kioskd's heap profile at a drain's peak). At 4096, kioskd's RSS rose
// 3.3–4.4 MiB over a 100,000-record drain (goal 10 MiB), and 8192 and 16384
// gave no rate that stood out of the runs' noise in outboxbench, where the
// two CPUs, not the window, bound the rate. 4096 records also cover a
// 100 ms round trip at 40,000 records/s, more than a village uplink carries.
const (
	DefaultWindow     = 4096
	DefaultMaxPayload = 256 << 10
)

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
	// MinBackoff and MaxBackoff bound the wait between connection attempts
	// (defaults 500 ms and 60 s); each wait is jittered.
	MinBackoff, MaxBackoff time.Duration
	// ProbeInterval is how often the broker's port is probed while waiting,
	// to notice the network's return (default 1 s).
	ProbeInterval time.Duration
	// Window is how many records may await their PUBACK at once.
	Window int
	// MaxPayload is the largest record the township broker accepts; a larger
	// one is dead-lettered at once instead of costing the link a disconnect.
	MaxPayload int
	// TLS configures an ssl:// broker's connection: the roots that check
	// the broker's certificate and the kiosk's client certificate
	// (config.Config.TLSConfig). The broker's certificate is always verified,
	// against the broker URL's host unless TLS.ServerName says otherwise;
	// nil means the system roots and no client certificate.
	TLS *tls.Config
	// Control, if set, is the township's channel back to the kiosk.
	Control Control
	// Updates, if set, is a second such channel, for software updates
	// (agent/updater): its own topics in, its own reported state out. A
	// topic both list (the key rotation topic) is subscribed once and
	// delivered to both.
	Updates Control
	// Requests, if set, is a third: the township's answers to villagers'
	// requests (docs/requests.md) in, the kiosk's report on them out.
	Requests Control
	// Points, if set, is a fourth: the village's points ledger
	// (docs/points.md) in, the kiosk's report on it out.
	Points Control
	Log    *slog.Logger
	Now    func() time.Time
}

// Control is what the link carries for township control (agent/control):
// bundles in on Topics, the reported state out. The link subscribes on
// every connection (its sessions are clean) and publishes the reported
// state, retained, on connecting and whenever ReportChanged fires.
type Control interface {
	Topics() []string
	// Deliver takes a message from one of Topics. It must not block: it
	// runs on paho's dispatch goroutine.
	Deliver(payload []byte)
	Report() (topic string, payload []byte, ok bool)
	ReportChanged() <-chan struct{}
}

// Link is the kiosk's side of the township connection.
type Link struct {
	opts Options
	q    Queue

	nudge chan struct{}
	// probeFailed: the last probe of the broker's port failed. It outlives a
	// single backoff wait, since the link may return during a later, longer one.
	probeFailed bool

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
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 60 * time.Second
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = time.Second
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	return &Link{opts: opts, q: q, state: StateDisconnected, since: opts.Now(), nudge: make(chan struct{}, 1)}
}

// Nudge ends a backoff wait at once: the network is known to be back (a link
// came up, a technician asked). The backoff starts again from its shortest step.
func (l *Link) Nudge() {
	select {
	case l.nudge <- struct{}{}:
	default:
	}
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
		InitialInterval:     l.opts.MinBackoff,
		RandomizationFactor: 0.5, // jitter: a township's kiosks must not reconnect in lockstep
		Multiplier:          2,
		MaxInterval:         l.opts.MaxBackoff,
	}
	bo.Reset()
	log := l.opts.Log.With("broker", l.opts.Broker)
	failures := 0
	for {
		l.setState(StateConnecting, nil)
		lost := make(chan error, 1)
		store := newPubackStore()
		client := mqtt.NewClient(l.clientOptions(lost).SetStore(store))
		err := wait(ctx, client.Connect(), l.opts.ConnectTimeout+time.Second)
		if err == nil {
			failures = 0
			l.probeFailed = false
			bo.Reset()
			l.setState(StateConnected, nil)
			log.Info("connected to township broker")
			err = l.session(ctx, client, lost, store)
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
		if l.waitToRetry(ctx, delay) {
			bo.Reset()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// waitToRetry sleeps out one backoff step, ending it early when the network
// comes back: on a Nudge, or when a cheap TCP probe of the broker, which was
// failing, starts to succeed. Backoff protects a broker that is up but
// struggling; a village whose uplink has just returned should not wait up to
// a minute to send what it kept while it was down. It reports whether it
// ended early, so that the backoff starts again from its shortest step.
func (l *Link) waitToRetry(ctx context.Context, delay time.Duration) bool {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	probe := time.NewTimer(jitter(l.opts.ProbeInterval))
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-l.nudge:
			return true
		case <-timer.C:
			return false
		case <-probe.C:
			reachable := l.reachable(ctx)
			if reachable && l.probeFailed {
				l.probeFailed = false
				l.opts.Log.Info("township broker reachable again; reconnecting now")
				return true
			}
			l.probeFailed = !reachable
			probe.Reset(jitter(l.opts.ProbeInterval))
		}
	}
}

// reachable dials the broker's TCP port and hangs up.
func (l *Link) reachable(ctx context.Context) bool {
	u, err := url.Parse(l.opts.Broker)
	if err != nil {
		return false
	}
	d := net.Dialer{Timeout: l.opts.ProbeInterval}
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// jitter spreads d by ±25% so that a township's kiosks do not probe in step.
func jitter(d time.Duration) time.Duration {
	return d - d/4 + rand.N(d/2+1)
}

func (l *Link) clientOptions(lost chan<- error) *mqtt.ClientOptions {
	src := l.opts.Source
	will, _ := json.Marshal(l.status("offline"))
	return mqtt.NewClientOptions().
		AddBroker(l.opts.Broker).
		SetCustomOpenConnectionFn(dialBroker).
		SetTLSConfig(l.opts.TLS).
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
	tok := client.Publish(mqtttopic.Status(src.Township, src.Kiosk), 1, true, payload)
	return wait(ctx, tok, l.opts.PublishTimeout)
}

// subscribeControl subscribes to the topics of ctls, each topic once, in
// the order listed (a key rotation's topic comes first), and delivers its
// messages to every control that lists it: paho keeps one handler per
// topic, so a second Subscribe would take the first control's messages.
func (l *Link) subscribeControl(ctx context.Context, client mqtt.Client, ctls []Control) error {
	var topics []string
	to := map[string][]Control{}
	for _, ctl := range ctls {
		for _, topic := range ctl.Topics() {
			if to[topic] == nil {
				topics = append(topics, topic)
			}
			to[topic] = append(to[topic], ctl)
		}
	}
	for _, topic := range topics {
		deliver := to[topic]
		tok := client.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
			for _, ctl := range deliver {
				ctl.Deliver(m.Payload())
			}
		})
		if err := wait(ctx, tok, l.opts.PublishTimeout); err != nil {
			return fmt.Errorf("subscribe %s: %w", topic, err)
		}
	}
	return nil
}

// reportLoop publishes the reported state now and after every change,
// until the session ends. A failed publish is tried again on the next
// change or connection; the state is retained, so only the latest counts.
func (l *Link) reportLoop(ctx context.Context, client mqtt.Client, ctl Control) {
	for {
		if topic, payload, ok := ctl.Report(); ok {
			tok := client.Publish(topic, 1, true, payload)
			if err := wait(ctx, tok, l.opts.PublishTimeout); err != nil {
				l.opts.Log.Warn("reported state not published", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ctl.ReportChanged():
		}
	}
}

// inflight is a record published on this connection and not yet confirmed.
// A window holds thousands of them, so it is kept small: the token is paho's
// concrete type and the publish time a monotonic offset from the start of the
// session.
type inflight struct {
	seq       uint64
	tok       *mqtt.PublishToken
	published time.Duration // since the session started
}

// session publishes the status and then drains the queue until the connection
// is lost or ctx is done. Publishing runs ahead of confirmation by up to
// Window records; the confirmer acks them in order as their PUBACKs arrive.
func (l *Link) session(ctx context.Context, client mqtt.Client, lost <-chan error, store *pubackStore) error {
	if err := l.publishStatus(ctx, client, "online"); err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	var ctls []Control
	for _, ctl := range []Control{l.opts.Control, l.opts.Updates, l.opts.Requests, l.opts.Points} {
		if ctl != nil {
			ctls = append(ctls, ctl)
		}
	}
	if len(ctls) > 0 {
		if err := l.subscribeControl(ctx, client, ctls); err != nil {
			return err
		}
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		for _, ctl := range ctls {
			go l.reportLoop(rctx, client, ctl)
		}
	}
	src := l.opts.Source
	pending := make(chan inflight, l.opts.Window)
	confirmed := make(chan error, 1)
	start := time.Now()
	go func() { confirmed <- l.confirm(ctx, pending, store, start) }()
	end := func(err error) error {
		close(pending)
		cerr := <-confirmed
		if errors.Is(err, errSessionOver) && cerr != nil {
			err = cerr
		}
		return err
	}
	var after uint64              // highest seq handed to this connection
	topics := map[string]string{} // by record type: built once, not per record
	for {
		items, err := l.q.Peek(after, min(peekBatch, l.opts.Window))
		if err != nil {
			return end(err)
		}
		if len(items) == 0 {
			select {
			case <-l.q.Ready():
				continue
			case err := <-lost:
				return end(fmt.Errorf("connection lost: %w", err))
			case err := <-confirmed:
				confirmed <- err // end() reads it again
				return end(errSessionOver)
			case <-ctx.Done():
				return end(ctx.Err())
			}
		}
		for _, it := range items {
			after = it.Seq
			if reason := l.undeliverable(it); reason != "" {
				if _, err := l.q.Fail(it.Seq, reason, true); err != nil && !errors.Is(err, outbox.ErrNotFound) {
					return end(err)
				}
				continue
			}
			topic, ok := topics[it.Type]
			if !ok {
				topic = mqtttopic.Record(src.Township, src.Kiosk, it.Type)
				topics[it.Type] = topic
			}
			tok := client.Publish(topic, 1, false, it.Payload).(*mqtt.PublishToken)
			select {
			case pending <- inflight{seq: it.Seq, tok: tok, published: time.Since(start)}:
			case err := <-lost:
				return end(fmt.Errorf("connection lost: %w", err))
			case err := <-confirmed:
				confirmed <- err
				return end(errSessionOver)
			case <-ctx.Done():
				return end(ctx.Err())
			}
		}
	}
}

// peekBatch is how many records the link reads from the store at a time:
// enough to amortise a read transaction, few enough that the decrypted
// copies it holds stay small next to the window's.
const peekBatch = 256

// errSessionOver means the confirmer stopped first; its error is the cause.
var errSessionOver = errors.New("session over")

// undeliverable says why a record can never be published, or "".
func (l *Link) undeliverable(it outbox.Item) string {
	switch {
	case it.Err != nil:
		return "unreadable in the store: " + it.Err.Error()
	case len(it.Payload) > l.opts.MaxPayload:
		return fmt.Sprintf("too large to publish: %d bytes, the township broker takes at most %d", len(it.Payload), l.opts.MaxPayload)
	}
	return ""
}

// ackBatch bounds how many confirmed records wait for one outbox commit.
const ackBatch = 256

// confirm waits for each in-flight record's PUBACK in publish order and acks
// confirmed records in batches. It returns when pending is closed and drained
// (the session is over) or at the first record that was not delivered; acks
// of everything confirmed before that are committed either way.
func (l *Link) confirm(ctx context.Context, pending <-chan inflight, store *pubackStore, start time.Time) error {
	waiter := &graceWaiter{ctx: ctx}
	defer waiter.stop()
	acks := newAcker(l.q)
	var seqs []uint64
	flush := func() {
		if len(seqs) > 0 {
			acks.add(seqs)
			seqs = nil
		}
	}
	for {
		var p inflight
		var ok bool
		select {
		case p, ok = <-pending:
		default:
			// Nothing more confirmed right now: hand over what we have
			// before blocking, so acks never wait on the next publish.
			flush()
			p, ok = <-pending
		}
		if !ok {
			flush()
			return acks.close()
		}
		err := waiter.wait(p.tok, l.opts.PublishTimeout)
		if err == nil && !store.confirm(p.tok.MessageID()) {
			err = errors.New("publish token completed without a PUBACK on this connection")
		}
		if err != nil {
			flush()
			ferr := acks.close()
			l.blame(p, time.Since(start)-p.published, err)
			// Drain the rest so the publisher never blocks on a full window.
			go func() {
				for range pending {
				}
			}()
			return errors.Join(fmt.Errorf("record %d not delivered: %w", p.seq, err), ferr)
		}
		seqs = append(seqs, p.seq)
		if len(seqs) >= ackBatch {
			flush()
		}
	}
}

// ackGather is how long the acker collects acks before committing them.
const ackGather = 20 * time.Millisecond

// acker commits acks on its own goroutine, merging whatever batches arrive
// while the previous commit is on its way to disk: confirming PUBACKs never
// waits for an fsync.
type acker struct {
	in   chan []uint64
	done chan error
}

func newAcker(q Queue) *acker {
	a := &acker{in: make(chan []uint64, 64), done: make(chan error, 1)}
	go func() {
		var firstErr error
		for seqs := range a.in {
			// Gather for a moment before committing: an ack is not urgent
			// (a lost one costs a duplicate the township drops), and every
			// commit is two fdatasyncs the drain would otherwise pay for.
			gather := time.NewTimer(ackGather)
		merge:
			for {
				select {
				case more, ok := <-a.in:
					if !ok {
						break merge
					}
					seqs = append(seqs, more...)
				case <-gather.C:
					break merge
				}
			}
			gather.Stop()
			if err := q.Ack(seqs...); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		a.done <- firstErr
	}()
	return a
}

func (a *acker) add(seqs []uint64) { a.in <- seqs }

// close waits until every ack handed over is committed.
func (a *acker) close() error {
	close(a.in)
	return <-a.done
}

// poisonWindow: a broker that closes the connection this soon after receiving
// a record most likely closed it because of that record (too large for its
// max_packet_size, refused by an ACL that disconnects). After MaxAttempts such
// closes the record is dead-lettered so it cannot block the queue forever.
// Timeouts and closes long after the publish are the network's fault and do
// not count.
const poisonWindow = 2 * time.Second

func (l *Link) blame(p inflight, sincePublished time.Duration, err error) {
	if !brokerClosed(err) || sincePublished > poisonWindow {
		return
	}
	if dead, ferr := l.q.Fail(p.seq, "broker closed the connection on it: "+err.Error(), false); ferr == nil && dead {
		l.opts.Log.Warn("record dead-lettered after repeated broker disconnects", "seq", p.seq)
	}
}

func brokerClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection lost before Publish completed")
}

// pubackStore is the paho store of one connection, which keeps no packets,
// only a tally of PUBACKs. paho deletes an outbound message from its store
// when (and, with a clean session, only when) the PUBACK for its message id
// arrives, before it completes the token; the tally lets confirm tell a real
// delivery from a token completed for another reason.
//
// paho reads a store back only to resume a session, which a clean session
// without paho's auto-reconnect never does (each connection is a fresh
// client): holding the packets, as its MemoryStore does, would cost a
// window of payloads and, with the parsing of keys back into ids, 8 %
// of kioskd's CPU while draining (perf record).
//
// Both tables are indexed by message id, not maps: maps keyed by id grew to
// every id a long drain cycles through (65,535) and never shrank, 3 MiB of
// the heap at a window's peak, and their hashing was 4 % of kioskd's CPU.
type pubackStore struct {
	mu sync.Mutex
	// records marks the message ids whose stored packet is a record's
	// PUBLISH. Only such a PUBLISH leaving the store is a PUBACK the tally
	// counts: paho deletes an outbound SUBSCRIBE on its SUBACK the same way,
	// and the status and reported-state publishes are waited for by their
	// own tokens. Counted, a late PUBACK of one of them (its wait timed out)
	// would stand for the delivery of a record that later reuses its message
	// id, and that record would be acked unsent.
	records [1 << 16]bool
	// pubacks counts the PUBACKs of each id not yet consumed by confirm;
	// paho gives an id to one message at a time, so it is 0 or 1 but for a
	// broker that acks twice.
	pubacks [1 << 16]uint8
}

func newPubackStore() *pubackStore { return &pubackStore{} }

func (s *pubackStore) Open()  {}
func (s *pubackStore) Close() {}

func (s *pubackStore) Put(key string, m packets.ControlPacket) {
	if p, ok := m.(*packets.PublishPacket); ok && strings.HasPrefix(key, outboundKeyPrefix) && strings.Contains(p.TopicName, "/records/") {
		s.mu.Lock()
		s.records[p.MessageID] = true
		s.mu.Unlock()
	}
}

func (s *pubackStore) Get(string) packets.ControlPacket { return nil }
func (s *pubackStore) All() []string                    { return nil }

func (s *pubackStore) Del(key string) {
	id, ok := outboundID(key)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records[id] {
		s.records[id] = false
		if s.pubacks[id] < math.MaxUint8 {
			s.pubacks[id]++
		}
	}
}

// outboundKeyPrefix starts paho's store key of an outbound packet: "o.<id>".
const outboundKeyPrefix = "o."

// outboundID is the message id in paho's store key of an outbound packet.
func outboundID(key string) (uint16, bool) {
	digits, ok := strings.CutPrefix(key, outboundKeyPrefix)
	if !ok || digits == "" || len(digits) > 5 {
		return 0, false
	}
	var id uint32
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			return 0, false
		}
		id = id*10 + uint32(d)
	}
	if id > math.MaxUint16 {
		return 0, false
	}
	return uint16(id), true
}

// Reset is paho's start of a clean session, before anything is sent on it.
func (s *pubackStore) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.records[:])
	clear(s.pubacks[:])
}

// confirm consumes one PUBACK for message id.
func (s *pubackStore) confirm(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pubacks[id] == 0 {
		return false
	}
	s.pubacks[id]--
	return true
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

// shutdownGrace is how long a stopping link still waits for PUBACKs of
// records already sent: each one confirmed now is one the township will not
// receive twice after the restart.
const shutdownGrace = time.Second

// graceWaiter waits for record tokens; once ctx ends it keeps waiting until
// one shared grace deadline, so that a stopping link spends at most
// shutdownGrace in all, not per record.
type graceWaiter struct {
	ctx    context.Context
	grace  context.Context
	cancel context.CancelFunc
}

func (g *graceWaiter) wait(tok mqtt.Token, timeout time.Duration) error {
	err := wait(g.ctx, tok, timeout)
	if g.ctx.Err() == nil || !errors.Is(err, g.ctx.Err()) {
		return err
	}
	if g.grace == nil {
		g.grace, g.cancel = context.WithTimeout(context.Background(), shutdownGrace)
	}
	if wait(g.grace, tok, shutdownGrace) == nil {
		return nil
	}
	return err
}

func (g *graceWaiter) stop() {
	if g.cancel != nil {
		g.cancel()
	}
}

func wait(ctx context.Context, tok mqtt.Token, timeout time.Duration) error {
	// Draining a backlog, the confirmer mostly finds the token done: no
	// timer for those.
	select {
	case <-tok.Done():
		return tok.Error()
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errTimeout
	}
}

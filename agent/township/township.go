// Package township owns the township end of the record stream as far as the
// kiosk project ships one: a subscriber that receives every record the kiosks
// of a township publish and writes each exactly once, deduplicated by id.
//
// Delivery from a kiosk is at least once (a record whose PUBACK was lost is
// sent again), so deduplication by id here is what turns it into exactly once
// for whoever reads the output.
package township

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// WatchOptions configure Watch.
type WatchOptions struct {
	Broker   string
	TLS      *tls.Config // township IT's client certificate; nil for a dev broker
	Township string      // empty: every township on the broker
	ClientID string
	// Remember is how many ids are kept for deduplication. Redeliveries come
	// soon after the original, so a bounded window is enough.
	Remember int
	// Opener, when set, opens the sealed fields of each record (the
	// township's records keys, old and new during a rotation): the line
	// written has them in clear. A field that does not open stays sealed,
	// and a warning names the record and field, never a number.
	Opener *sealed.Opener
	Log    *slog.Logger
}

// Watch writes each record received to out as one line of JSON until ctx is
// done. It reconnects on its own; it returns ctx.Err() or a first-connect error.
func Watch(ctx context.Context, opts WatchOptions, out io.Writer) error {
	if opts.Remember == 0 {
		opts.Remember = 100_000
	}
	if opts.ClientID == "" {
		opts.ClientID = fmt.Sprintf("kioskctl-watch-%d", time.Now().UnixNano())
	}
	d := newDeduper(opts.Remember)
	var mu sync.Mutex
	handle := func(_ mqtt.Client, m mqtt.Message) {
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(m.Payload(), &head); err != nil || head.ID == "" {
			opts.Log.Warn("ignoring a message that is not a record", "topic", m.Topic(), "bytes", len(m.Payload()))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !d.firstTime(head.ID) {
			return
		}
		var line bytes.Buffer
		if err := json.Compact(&line, m.Payload()); err != nil {
			return
		}
		if opts.Opener != nil {
			opened, errs := opts.Opener.OpenRecord(line.Bytes())
			for _, err := range errs {
				opts.Log.Warn("a sealed field stays sealed", "id", head.ID, "topic", m.Topic(), "err", err)
			}
			line.Reset()
			line.Write(opened)
		}
		line.WriteByte('\n')
		out.Write(line.Bytes())
	}
	filter := mqtttopic.Records(opts.Township)
	copts := mqtt.NewClientOptions().AddBroker(opts.Broker).SetClientID(opts.ClientID).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(30 * time.Second).
		SetOrderMatters(true).SetTLSConfig(opts.TLS).
		SetOnConnectHandler(func(c mqtt.Client) {
			// Resubscribe on every (re)connect: the session is clean.
			tok := c.Subscribe(filter, 1, handle)
			if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
				opts.Log.Error("subscribe failed", "filter", filter, "err", tok.Error())
			}
			opts.Log.Info("watching", "filter", filter)
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			opts.Log.Warn("connection lost; reconnecting", "err", err)
		})
	c := mqtt.NewClient(copts)
	tok := c.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("township: connect %s: %w", opts.Broker, err)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	<-ctx.Done()
	c.Disconnect(250)
	return ctx.Err()
}

// deduper remembers the last n ids seen.
type deduper struct {
	seen map[string]struct{}
	ring []string
	next int
}

func newDeduper(n int) *deduper {
	return &deduper{seen: make(map[string]struct{}, n), ring: make([]string, n)}
}

// firstTime reports whether id is new, and remembers it.
func (d *deduper) firstTime(id string) bool {
	if _, ok := d.seen[id]; ok {
		return false
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.next] = id
	d.next = (d.next + 1) % len(d.ring)
	d.seen[id] = struct{}{}
	return true
}

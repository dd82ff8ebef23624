package township

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

// Conn says how township tools reach the broker: the township IT user's
// client certificate in TLS, on a production broker.
type Conn struct {
	Broker   string
	TLS      *tls.Config // nil for a dev broker on plain TCP
	ClientID string
}

func (c Conn) client() mqtt.Client {
	id := c.ClientID
	if id == "" {
		id = fmt.Sprintf("kioskctl-%d", time.Now().UnixNano())
	}
	o := mqtt.NewClientOptions().AddBroker(c.Broker).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetOrderMatters(true)
	if c.TLS != nil {
		o.SetTLSConfig(c.TLS)
	}
	return mqtt.NewClient(o)
}

func await(ctx context.Context, tok mqtt.Token, what string) error {
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("township: %s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Push publishes a signed bundle, retained, on topic (mqtttopic.ConfigSet,
// TownshipConfig or TownshipKey): kiosks that are offline get it when they
// next connect. It returns once the broker has acknowledged it. A broker
// that refuses the publish by ACL still acknowledges it (MQTT 3.1.1 has no
// way to say no), so check `kioskctl config status` afterwards.
func Push(ctx context.Context, c Conn, topic string, envelope []byte) error {
	cl := c.client()
	if err := await(ctx, cl.Connect(), "connect "+c.Broker); err != nil {
		return err
	}
	defer cl.Disconnect(250)
	return await(ctx, cl.Publish(topic, 1, true, envelope), "publish "+topic)
}

// Retained reads what is retained on each of topics: the broker sends a
// retained message right after the subscription, so wait only has to
// cover its round trip; a topic with nothing retained is absent from the
// result. It returns as soon as every topic has answered.
func Retained(ctx context.Context, c Conn, topics []string, wait time.Duration) (map[string][]byte, error) {
	cl := c.client()
	if err := await(ctx, cl.Connect(), "connect "+c.Broker); err != nil {
		return nil, err
	}
	defer cl.Disconnect(250)
	var mu sync.Mutex
	got := map[string][]byte{}
	all := make(chan struct{})
	for _, topic := range topics {
		h := func(_ mqtt.Client, m mqtt.Message) {
			if !m.Retained() {
				return // published since: not what the push replaces
			}
			mu.Lock()
			defer mu.Unlock()
			if _, seen := got[m.Topic()]; seen {
				return
			}
			got[m.Topic()] = m.Payload()
			if len(got) == len(topics) {
				close(all)
			}
		}
		if err := await(ctx, cl.Subscribe(topic, 1, h), "subscribe "+topic); err != nil {
			return nil, err
		}
	}
	select {
	case <-all:
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(got), nil
}

// KioskState is what the township knows of one kiosk: its presence and its
// reported configuration state (docs/bundles.md). A report from a kiosk
// before config-reported/v2 has no Schema, InForceAt or PublishedAt.
type KioskState struct {
	Kiosk    string            `json:"kiosk"`
	Online   string            `json:"online"` // online | offline | "" (never seen)
	Reported *control.Reported `json:"reported,omitempty"`
}

// ConfigStatus collects the retained status and reported-state messages of
// every kiosk of township for the time wait, and returns them by kiosk id.
// Retained messages arrive right after the subscription; wait only has to
// cover the broker's round trip.
func ConfigStatus(ctx context.Context, c Conn, township string, wait time.Duration) ([]KioskState, error) {
	return retainedByKiosk(ctx, c, wait, func(_, kiosk string) *KioskState { return &KioskState{Kiosk: kiosk} },
		map[string]func([]byte) func(*KioskState){
			mqtttopic.Statuses(township): func(p []byte) func(*KioskState) {
				var st struct {
					State string `json:"state"`
				}
				if json.Unmarshal(p, &st) != nil {
					return nil
				}
				return func(s *KioskState) { s.Online = st.State }
			},
			mqtttopic.ConfigReports(township): func(p []byte) func(*KioskState) {
				return func(s *KioskState) {
					if err := json.Unmarshal(p, &s.Reported); err != nil {
						s.Reported = nil
					}
				}
			},
		})
}

// retainedByKiosk subscribes to handlers' topic filters for the time wait
// and folds the messages of each kiosk (the {township} and {kiosk} levels of
// fengqiao/v1/{township}/{kiosk}/...) into one T, returned in township and
// kiosk order.
// A handler decodes a payload off the lock and returns what to apply to
// that kiosk's T, or nil to ignore the message (the kiosk is then not
// listed for it).
func retainedByKiosk[T any](ctx context.Context, c Conn, wait time.Duration, newState func(township, kiosk string) *T, handlers map[string]func(payload []byte) func(*T)) ([]T, error) {
	var mu sync.Mutex
	states := map[string]*T{}
	cl := c.client()
	if err := await(ctx, cl.Connect(), "connect "+c.Broker); err != nil {
		return nil, err
	}
	defer cl.Disconnect(250)
	for filter, decode := range handlers {
		h := func(_ mqtt.Client, m mqtt.Message) {
			parts := strings.Split(m.Topic(), "/")
			if len(parts) < 4 || parts[3] == mqtttopic.TownshipLevel {
				return
			}
			apply := decode(m.Payload())
			if apply == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			id := parts[2] + "/" + parts[3] // kiosk ids are unique within a township only
			s := states[id]
			if s == nil {
				s = newState(parts[2], parts[3])
				states[id] = s
			}
			apply(s)
		}
		if err := await(ctx, cl.Subscribe(filter, 1, h), "subscribe "+filter); err != nil {
			return nil, err
		}
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	out := make([]T, 0, len(states))
	for _, id := range slices.Sorted(maps.Keys(states)) {
		out = append(out, *states[id])
	}
	return out, nil
}

// SeenKiosks is every kiosk of every township that has a retained status or
// reported configuration state on the broker, collected for the time wait:
// what the broker knows of the kiosks, for an Inventory.
func SeenKiosks(ctx context.Context, c Conn, wait time.Duration) ([]KnownKiosk, error) {
	seen := func([]byte) func(*KnownKiosk) { return func(*KnownKiosk) {} }
	return retainedByKiosk(ctx, c, wait, func(township, kiosk string) *KnownKiosk {
		return &KnownKiosk{Township: township, Kiosk: kiosk, Source: "the broker"}
	}, map[string]func([]byte) func(*KnownKiosk){mqtttopic.Statuses(""): seen, mqtttopic.ConfigReports(""): seen})
}

// ErrNoKiosks means no kiosk of the township has ever connected to the broker.
var ErrNoKiosks = errors.New("township: no kiosk of this township has reported to the broker")

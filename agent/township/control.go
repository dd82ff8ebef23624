package township

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

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

// KioskState is what the township knows of one kiosk: its presence and its
// reported configuration state (docs/mqtt.md).
type KioskState struct {
	Kiosk    string `json:"kiosk"`
	Online   string `json:"online"` // online | offline | "" (never seen)
	Reported *struct {
		Version        uint64    `json:"version"`
		Scope          string    `json:"scope"`
		Kind           string    `json:"kind"`
		Status         string    `json:"status"`
		Reason         string    `json:"reason"`
		Error          string    `json:"error"`
		InForce        string    `json:"in_force"`
		InForceVersion uint64    `json:"in_force_version"`
		At             time.Time `json:"at"`
	} `json:"reported,omitempty"`
}

// ConfigStatus collects the retained status and reported-state messages of
// every kiosk of township for the time wait, and returns them by kiosk id.
// Retained messages arrive right after the subscription; wait only has to
// cover the broker's round trip.
func ConfigStatus(ctx context.Context, c Conn, township string, wait time.Duration) ([]KioskState, error) {
	var mu sync.Mutex
	states := map[string]*KioskState{}
	state := func(topic string) *KioskState {
		// fengqiao/v1/{township}/{kiosk}/...
		parts := strings.Split(topic, "/")
		if len(parts) < 4 || parts[3] == mqtttopic.TownshipLevel {
			return nil
		}
		s := states[parts[3]]
		if s == nil {
			s = &KioskState{Kiosk: parts[3]}
			states[parts[3]] = s
		}
		return s
	}
	cl := c.client()
	if err := await(ctx, cl.Connect(), "connect "+c.Broker); err != nil {
		return nil, err
	}
	defer cl.Disconnect(250)
	subs := map[string]mqtt.MessageHandler{
		mqtttopic.Statuses(township): func(_ mqtt.Client, m mqtt.Message) {
			var st struct {
				State string `json:"state"`
			}
			if json.Unmarshal(m.Payload(), &st) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if s := state(m.Topic()); s != nil {
				s.Online = st.State
			}
		},
		mqtttopic.ConfigReports(township): func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			defer mu.Unlock()
			s := state(m.Topic())
			if s == nil {
				return
			}
			if err := json.Unmarshal(m.Payload(), &s.Reported); err != nil {
				s.Reported = nil
			}
		},
	}
	for filter, h := range subs {
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
	out := make([]KioskState, 0, len(states))
	for _, s := range states {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b KioskState) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out, nil
}

// ErrNoKiosks means no kiosk of the township has ever connected to the broker.
var ErrNoKiosks = errors.New("township: no kiosk of this township has reported to the broker")

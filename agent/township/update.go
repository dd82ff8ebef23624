package township

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/updater"
)

// UpdateState is what the township knows of one kiosk's software update:
// its presence and its retained update report (docs/updates.md).
type UpdateState struct {
	Kiosk    string            `json:"kiosk"`
	Online   string            `json:"online"` // online | offline | "" (never seen)
	Reported *updater.Reported `json:"reported,omitempty"`
}

// UpdateStatus collects, for the time wait, the retained status and update
// report of every kiosk of township, and returns them by kiosk id. A kiosk
// that has never reported an update is listed if it has a status.
func UpdateStatus(ctx context.Context, c Conn, township string, wait time.Duration) ([]UpdateState, error) {
	var mu sync.Mutex
	states := map[string]*UpdateState{}
	state := func(topic string) *UpdateState {
		parts := strings.Split(topic, "/") // fengqiao/v1/{township}/{kiosk}/...
		if len(parts) < 4 || parts[3] == mqtttopic.TownshipLevel {
			return nil
		}
		s := states[parts[3]]
		if s == nil {
			s = &UpdateState{Kiosk: parts[3]}
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
		mqtttopic.UpdateReports(township): func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			defer mu.Unlock()
			s := state(m.Topic())
			if s == nil {
				return
			}
			var r updater.Reported
			if json.Unmarshal(m.Payload(), &r) == nil {
				s.Reported = &r
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
	out := make([]UpdateState, 0, len(states))
	for _, s := range states {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b UpdateState) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out, nil
}

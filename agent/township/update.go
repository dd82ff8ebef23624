package township

import (
	"context"
	"encoding/json"
	"fmt"
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
	Kiosk  string `json:"kiosk"`
	Online string `json:"online"` // online | offline | "" (never seen)
	// Village and Running (the version of kioskd it runs) are from the
	// kiosk's status: a rollout's pilot is a village.
	Village  string            `json:"village,omitempty"`
	Running  string            `json:"running,omitempty"`
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
				State   string `json:"state"`
				Village string `json:"village"`
				Version string `json:"version"`
			}
			if json.Unmarshal(m.Payload(), &st) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if s := state(m.Topic()); s != nil {
				s.Online, s.Village, s.Running = st.State, st.Village, st.Version
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

// VillageKiosks is the ids of the kiosks of township whose retained status
// names village: the target of a rollout's pilot.
func VillageKiosks(ctx context.Context, c Conn, township, village string, wait time.Duration) ([]string, error) {
	states, err := UpdateStatus(ctx, c, township, wait)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range states {
		if s.Village == village {
			ids = append(ids, s.Kiosk)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("township: no kiosk of %s has reported a status in village %q", township, village)
	}
	return ids, nil
}

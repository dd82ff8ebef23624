package township

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	return retainedByKiosk(ctx, c, wait, func(_, kiosk string) *UpdateState { return &UpdateState{Kiosk: kiosk} },
		map[string]func([]byte) func(*UpdateState){
			mqtttopic.Statuses(township): func(p []byte) func(*UpdateState) {
				var st struct {
					State   string `json:"state"`
					Village string `json:"village"`
					Version string `json:"version"`
				}
				if json.Unmarshal(p, &st) != nil {
					return nil
				}
				return func(s *UpdateState) { s.Online, s.Village, s.Running = st.State, st.Village, st.Version }
			},
			mqtttopic.UpdateReports(township): func(p []byte) func(*UpdateState) {
				return func(s *UpdateState) {
					var r updater.Reported
					if json.Unmarshal(p, &r) == nil {
						s.Reported = &r
					}
				}
			},
		})
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

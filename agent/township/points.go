package township

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/points"
)

// PointsState is what the township knows of one kiosk's 美德银行 ledger:
// its presence and its points report (docs/points.md).
type PointsState struct {
	Kiosk    string           `json:"kiosk"`
	Online   string           `json:"online"` // online | offline | "" (never seen)
	Reported *points.Reported `json:"reported,omitempty"`
}

// PointsStatus collects, for the time wait, the retained status and points
// report of every kiosk of township, by kiosk id. A kiosk that has never
// reported on points is listed if it has a status: its village's ledger
// may be the one missing.
func PointsStatus(ctx context.Context, c Conn, township string, wait time.Duration) ([]PointsState, error) {
	return retainedByKiosk(ctx, c, wait, func(_, kiosk string) *PointsState { return &PointsState{Kiosk: kiosk} },
		map[string]func([]byte) func(*PointsState){
			mqtttopic.Statuses(township): func(p []byte) func(*PointsState) {
				var st struct {
					State string `json:"state"`
				}
				if json.Unmarshal(p, &st) != nil {
					return nil
				}
				return func(s *PointsState) { s.Online = st.State }
			},
			mqtttopic.PointsReports(township): func(p []byte) func(*PointsState) {
				var r points.Reported
				if json.Unmarshal(p, &r) != nil || r.Schema != points.ReportedSchema {
					return nil
				}
				return func(s *PointsState) { s.Reported = &r }
			},
		})
}

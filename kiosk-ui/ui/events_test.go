package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// TestLectureAndFairDatesGoHome: each lecture and fair has a button that
// reads its date aloud and one that prints it, for a villager who can
// neither read the screen nor write the date down; a kiosk without speech
// or a printer does not offer them.
func TestLectureAndFairDatesGoHome(t *testing.T) {
	tests := []struct {
		tile, service string
		at            time.Time
		wantSaid      string
	}{
		{"法治讲堂", "legal-lecture", time.Date(2026, 12, 12, 9, 0, 0, 0, cst), "12月12日 周六 09:00，巡回法治讲堂：宅基地那些事，在村文化礼堂"},
		{"法治集市", "legal-fair", time.Date(2026, 12, 5, 8, 30, 0, 0, cst), "12月5日 周六 08:30，法治集市，在星村镇集市"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			agent := newFakeAgent()
			_, w, _ := mustUI(t, agent)
			p := &tapper{t: t, w: w}
			p.tile(tt.tile)
			p.tap(labelSayDate)
			if len(agent.spoken) != 1 || !strings.Contains(agent.spoken[0], tt.wantSaid) {
				t.Errorf("said %q, want %q", agent.spoken, tt.wantSaid)
			}
			p.tap(labelPrintDate)
			want := tt.service + " " + tt.at.Format(time.RFC3339)
			if len(agent.printedEvents) != 1 || agent.printedEvents[0] != want {
				t.Errorf("printed %q, want %q", agent.printedEvents, want)
			}
			mustSee(t, w, labelDatePrinted)
		})
	}

	agent := newFakeAgent()
	agent.devices.Printer.State = apitype.DeviceAbsent
	agent.devices.Speech.State = apitype.DeviceFailed
	_, w, _ := mustUI(t, agent)
	(&tapper{t: t, w: w}).tile("法治集市")
	for _, l := range []string{labelSayDate, labelPrintDate} {
		if findButton(w, l) != nil {
			t.Errorf("%q offered on a kiosk that cannot do it", l)
		}
	}
}

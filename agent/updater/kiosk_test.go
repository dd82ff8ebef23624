package updater

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

func TestSpool(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	spool := filepath.Join(t.TempDir(), "spool")
	env := mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey)
	// The retained bundle delivered at three reconnects is one file.
	for range 3 {
		if err := Spool(spool, env); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(spool); len(entries) != 1 {
		t.Fatalf("%d spooled files", len(entries))
	}
	if err := r.u.ProcessSpool(context.Background(), spool); err != nil {
		t.Fatal(err)
	}
	r.mustStatus(StatusPending, "")
	if entries, _ := os.ReadDir(spool); len(entries) != 0 {
		t.Errorf("%d files left in the spool", len(entries))
	}
	// A missing spool is no error: kioskd has received nothing yet.
	if err := r.u.ProcessSpool(context.Background(), filepath.Join(t.TempDir(), "none")); err != nil {
		t.Error(err)
	}
	// The spool is bounded.
	for i := range MaxSpooled {
		if err := Spool(spool, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := Spool(spool, []byte("one more")); err == nil || !strings.Contains(err.Error(), "fengqiao-updater running") {
		t.Errorf("err = %v", err)
	}
}

type fakeAPI struct {
	status   apitype.Status
	err      error
	presence *time.Time
}

func (a fakeAPI) Status(context.Context) (apitype.Status, error) { return a.status, a.err }
func (a fakeAPI) Presence(context.Context, uint64, time.Duration) (apitype.PresenceEvents, error) {
	return apitype.PresenceEvents{At: a.presence}, a.err
}

func TestKioskHealth(t *testing.T) {
	up := apitype.Status{Broker: apitype.BrokerStatus{State: "connected"}}
	down := apitype.Status{Broker: apitype.BrokerStatus{State: "disconnected", LastError: "dial tcp: no route to host"}}
	uiDown := func(context.Context) error { return errors.New("inactive") }
	tests := []struct {
		name     string
		before   fakeAPI
		after    fakeAPI
		ui       func(context.Context) error
		wantFail string
	}{
		{name: "all well", before: fakeAPI{status: up}, after: fakeAPI{status: up}},
		{name: "API does not answer", before: fakeAPI{status: up}, after: fakeAPI{err: errors.New("connection refused")}, wantFail: "local API"},
		{name: "link lost by the update", before: fakeAPI{status: up}, after: fakeAPI{status: down}, wantFail: "township link"},
		{name: "link down before, down after", before: fakeAPI{status: down}, after: fakeAPI{status: down}},
		{name: "UI not running", before: fakeAPI{status: up}, after: fakeAPI{status: up}, ui: uiDown, wantFail: "UI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := KioskHealth{API: tt.before}.Baseline(context.Background())
			err := KioskHealth{API: tt.after, UIActive: tt.ui}.Check(context.Background(), b)
			if tt.wantFail == "" && err != nil || tt.wantFail != "" && (err == nil || !strings.Contains(err.Error(), tt.wantFail)) {
				t.Errorf("Check = %v, want failure %q", err, tt.wantFail)
			}
		})
	}
}

func TestKioskScreen(t *testing.T) {
	now := t0
	seen := func(ago time.Duration) *time.Time { at := now.Add(-ago); return &at }
	until := now.Add(2 * time.Minute)
	idle := &apitype.ScreenStatus{}
	for _, tt := range []struct {
		name string
		api  fakeAPI
		busy string // what the reason says; "" for not in use
		err  bool
	}{
		{name: "nobody", api: fakeAPI{status: apitype.Status{Screen: idle}}},
		{name: "villager's flow", api: fakeAPI{status: apitype.Status{Screen: &apitype.ScreenStatus{InUse: true, Until: &until}}}, busy: "villager"},
		{name: "mediator signed in", api: fakeAPI{status: apitype.Status{Screen: &apitype.ScreenStatus{InUse: true, MediatorSessions: 1}}}, busy: "mediator"},
		{name: "seen a minute ago", api: fakeAPI{status: apitype.Status{Screen: idle}, presence: seen(time.Minute)}, busy: "someone at the kiosk"},
		{name: "seen 10 minutes ago", api: fakeAPI{status: apitype.Status{Screen: idle}, presence: seen(10 * time.Minute)}},
		// An older kioskd without screen: the sensor alone decides, so
		// the update that brings the newer kioskd can install.
		{name: "old kioskd, nobody seen", api: fakeAPI{}},
		{name: "old kioskd, someone seen", api: fakeAPI{presence: seen(time.Minute)}, busy: "someone at the kiosk"},
		{name: "no kioskd", api: fakeAPI{err: errors.New("no kioskd")}, err: true},
	} {
		busy, what, err := KioskScreen{API: tt.api, Now: func() time.Time { return now }}.InUse(context.Background())
		if busy != (tt.busy != "") || !strings.Contains(what, tt.busy) || (err != nil) != tt.err {
			t.Errorf("%s: busy %v (%q) err %v", tt.name, busy, what, err)
		}
	}
}

package updater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
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
		// kioskd not answering serves nobody: a fix for it may go in.
		{name: "kioskd unavailable", api: fakeAPI{err: fmt.Errorf("%w: connection refused", localclient.ErrUnavailable)}},
		{name: "kioskd errs", api: fakeAPI{err: errors.New("kioskd: 500 internal")}, err: true},
	} {
		busy, what, err := KioskScreen{API: tt.api, Now: func() time.Time { return now }}.InUse(context.Background())
		if busy != (tt.busy != "") || !strings.Contains(what, tt.busy) || (err != nil) != tt.err {
			t.Errorf("%s: busy %v (%q) err %v", tt.name, busy, what, err)
		}
	}
}

// The spool is the unprivileged fengqiao user's: whatever it puts there,
// the updater (root) must act on nothing outside it.
func TestSpoolHostile(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	env := mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey)
	r.mustSubmit(env)
	own := func() map[string]string {
		out := map[string]string{}
		for _, f := range []string{trustFile, stateFile, reportedFile} {
			data, err := os.ReadFile(filepath.Join(r.dir, f))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[f] = string(data)
		}
		return out
	}
	before := own()

	// The spool itself a symlink to the updater's directory.
	link := filepath.Join(t.TempDir(), "spool")
	if err := os.Symlink(r.dir, link); err != nil {
		t.Fatal(err)
	}
	if err := r.u.ProcessSpool(context.Background(), link); err == nil {
		t.Error("a spool that is a symlink was used")
	}

	// Entries that are symlinks to the updater's files, a FIFO that would
	// block an open, a device that never ends, and a file too large.
	spool := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{trustFile, stateFile} {
		if err := os.Symlink(filepath.Join(r.dir, f), filepath.Join(spool, "x"+f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/zero", filepath.Join(spool, "zero.json")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(spool, "fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spool, "big.json"), make([]byte, bundle.MaxEnvelopeSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.u.ProcessSpool(context.Background(), spool) }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ProcessSpool hangs on a FIFO")
	}
	after := own()
	for f := range before {
		if before[f] != after[f] {
			t.Errorf("%s changed through the spool", f)
		}
	}
	r.mustStatus(StatusPending, "")
}

// Once the updater has run, a lost trust file is not seeded again from the
// site file: that would undo key rotations and replay protection.
func TestTrustNotReseeded(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	env := mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey)
	r.mustSubmit(env)
	for _, gone := range [][]string{{trustFile}, {trustFile, stateFile, reportedFile}} {
		for _, f := range gone {
			if err := os.Remove(filepath.Join(r.dir, f)); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		r.reopen()
		if _, err := os.Stat(filepath.Join(r.dir, trustFile)); err == nil {
			t.Fatalf("trust reseeded after %v were lost", gone)
		}
		r.mustSubmit(env) // a replay if the trust were reseeded
		// Refused beside the job under way, or alone.
		if rep := r.reported(); rep.Reason != "trust_state_lost" && (rep.Refused == nil || rep.Refused.Reason != "trust_state_lost") {
			t.Errorf("after %v were lost: reported %+v", gone, rep)
		}
	}
}

// A refusal before the signature check does not copy the envelope's bytes
// into the world-readable report.
func TestRefusalDoesNotQuoteEnvelope(t *testing.T) {
	r := newRig(t, nil)
	const secret = "root:$6$secrethash"
	for _, env := range []string{secret, `{"key_id":"` + secret + `"}`, `{"key_id":"0123456789abcdef","signature":"` + secret + `"}`} {
		r.mustSubmit([]byte(env))
		data, err := os.ReadFile(filepath.Join(r.dir, reportedFile))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "secret") || strings.Contains(string(data), "root:") {
			t.Errorf("report quotes the envelope: %s", data)
		}
		r.mustStatus(StatusRejected, "malformed")
	}
}

// TestKioskHealthBaseline: the check holds kioskd to the version installed
// and to no crash since the update, and the UI to what it was before.
func TestKioskHealthBaseline(t *testing.T) {
	up := apitype.Status{Version: "1.4.0", Broker: apitype.BrokerStatus{State: "connected"}}
	uiDown := func(context.Context) error { return errors.New("fengqiao-kiosk-ui.service is inactive") }
	uiUp := func(context.Context) error { return nil }
	restarts := func(m map[string]int) func(context.Context, string) (int, error) {
		return func(_ context.Context, unit string) (int, error) { return m[unit], nil }
	}
	ctx := context.Background()
	invocations := func(m map[string]string) func(context.Context, string) (string, error) {
		if m == nil {
			return nil
		}
		return func(_ context.Context, unit string) (string, error) { return m[unit], nil }
	}
	tests := []struct {
		name                string
		uiBefore, uiAfter   func(context.Context) error
		before, after       map[string]int
		runBefore, runAfter map[string]string // InvocationIDs; nil: not asked
		version             string
		wantFail            string
	}{
		{name: "all well", uiBefore: uiUp, uiAfter: uiUp, version: "1.4.0-1"},
		{name: "epoch and revision", uiBefore: uiUp, uiAfter: uiUp, version: "1:1.4.0-1"},
		{name: "old kioskd still running", uiBefore: uiUp, uiAfter: uiUp, version: "1.5.0-1", wantFail: "version"},
		{name: "UI broke", uiBefore: uiUp, uiAfter: uiDown, wantFail: "UI"},
		{name: "no UI before, none after", uiBefore: uiDown, uiAfter: uiDown},
		{name: "kioskd crash-loops", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{KioskdUnit: 2}, after: map[string]int{KioskdUnit: 4}, wantFail: "restarted " + KioskdUnit},
		{name: "UI crash-loops", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{UIUnit: 0}, after: map[string]int{UIUnit: 1}, wantFail: "restarted " + UIUnit},
		{name: "restarts before the update", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{KioskdUnit: 7}, after: map[string]int{KioskdUnit: 7}},
		// The postinst restarts kioskd by hand: systemd sets its count back
		// to 0 (seen on the emulated board).
		{name: "restarted by the install, then steady", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{KioskdUnit: 3}, after: map[string]int{KioskdUnit: 0},
			runBefore: map[string]string{KioskdUnit: "a1"}, runAfter: map[string]string{KioskdUnit: "b2"}},
		{name: "restarted by the install, then crashed fewer times than before it", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{KioskdUnit: 3}, after: map[string]int{KioskdUnit: 2},
			runBefore: map[string]string{KioskdUnit: "a1"}, runAfter: map[string]string{KioskdUnit: "c3"}, wantFail: "restarted " + KioskdUnit + " 2 times"},
		{name: "not restarted, crashes before the update", uiBefore: uiUp, uiAfter: uiUp,
			before: map[string]int{KioskdUnit: 3}, after: map[string]int{KioskdUnit: 3},
			runBefore: map[string]string{KioskdUnit: "a1"}, runAfter: map[string]string{KioskdUnit: "a1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := KioskHealth{API: fakeAPI{status: up}, UIActive: tt.uiBefore, Restarts: restarts(tt.before), Invocation: invocations(tt.runBefore)}.Baseline(ctx)
			b.KioskdVersion = tt.version
			err := KioskHealth{API: fakeAPI{status: up}, UIActive: tt.uiAfter, Restarts: restarts(tt.after), Invocation: invocations(tt.runAfter)}.Check(ctx, b)
			if tt.wantFail == "" && err != nil || tt.wantFail != "" && (err == nil || !strings.Contains(err.Error(), tt.wantFail)) {
				t.Errorf("Check = %v, want failure %q", err, tt.wantFail)
			}
		})
	}
}

// TestTrustMarkerAdded: a trust state seeded before the marker existed is
// marked at the next start, so that its loss is noticed even on a kiosk
// that never had an update (no state file).
func TestTrustMarkerAdded(t *testing.T) {
	r := newRig(t, nil)
	if err := os.Remove(filepath.Join(r.dir, seededFile)); err != nil {
		t.Fatal(err)
	}
	r.reopen()
	if err := os.Remove(filepath.Join(r.dir, trustFile)); err != nil {
		t.Fatal(err)
	}
	r.reopen()
	if _, err := os.Stat(filepath.Join(r.dir, trustFile)); err == nil {
		t.Error("trust reseeded")
	}
}

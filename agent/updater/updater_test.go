package updater

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/update"
)

func TestUpdateInstalls(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	p := r.serve("fengqiao-kioskd", "1.4.0-1")
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
	rep := r.mustStatus(StatusPending, "")
	if rep.Version != 10 || rep.Scope != "update:township:dev-township" || rep.Release != "test" {
		t.Errorf("reported %+v", rep)
	}

	r.mustStep() // 14:00: downloads, then waits for the night
	rep = r.mustStatus(StatusWaiting, "")
	if want := time.Date(2026, 12, 7, 2, 0, 0, 0, shanghai(t)); !rep.NextWindow.Equal(want) {
		t.Errorf("next window %v, want %v", rep.NextWindow, want)
	}
	if r.dpkg.installCount() != 0 {
		t.Fatal("installed outside the window")
	}

	r.now = inWindow
	r.mustStep()
	rep = r.mustStatus(StatusInstalled, "")
	if got := r.dpkg.version("fengqiao-kioskd"); got != "1.4.0-1" {
		t.Fatalf("installed %s", got)
	}
	if rep.Packages["fengqiao-kioskd"] != "1.4.0-1" {
		t.Errorf("reported packages %v", rep.Packages)
	}
	// The first update repacked the technician's install as its way back;
	// once it passed, the cache holds the version in force, the way back
	// from the next one, and nothing else.
	if !slices.Equal(r.dpkg.repacks, []string{"fengqiao-kioskd=1.3.0-1"}) {
		t.Errorf("repacks %v", r.dpkg.repacks)
	}
	if got := r.cacheFiles(); !slices.Equal(got, []string{"fengqiao-kioskd_1.4.0-1_arm64.deb"}) {
		t.Errorf("cache %v", got)
	}

	// The retained bundle, delivered again at reconnect: nothing happens.
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	if r.dpkg.installCount() != 1 {
		t.Errorf("%d installs", r.dpkg.installCount())
	}

	// The next update takes its way back from the cache, not dpkg-repack.
	p2 := r.serve("fengqiao-kioskd", "1.5.0-1")
	r.mustSubmit(mustEnvelope(t, 11, manifestOf("arm64", p2), townshipKey))
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	if len(r.dpkg.repacks) != 1 || r.dpkg.version("fengqiao-kioskd") != "1.5.0-1" {
		t.Errorf("repacks %v, installed %s", r.dpkg.repacks, r.dpkg.version("fengqiao-kioskd"))
	}
}

// TestUpdateRefusals: item 4 of issue 18. Nothing refused is installed, and
// the kiosk keeps the version it had.
func TestUpdateRefusals(t *testing.T) {
	good := func(r *rig) update.Package { return r.serve("fengqiao-kioskd", "1.4.0-1") }
	tests := []struct {
		name   string
		before func(r *rig) // e.g. an update already applied
		env    func(t *testing.T, r *rig) []byte
		status string // default rejected
		reason string
	}{
		{name: "unsigned", env: func(t *testing.T, r *rig) []byte {
			content, _ := manifestOf("arm64", good(r)).Marshal()
			payload := `{"format":"bundle/v1","kind":"update","version":10,"target":{"township":"dev-township"},"not_before":"2026-12-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","content":"` + base64.StdEncoding.EncodeToString(content) + `"}`
			return []byte(`{"key_id":"` + bundle.KeyID(townshipKey.Public().(ed25519.PublicKey)) + `","payload":"` + base64.StdEncoding.EncodeToString([]byte(payload)) + `"}`)
		}, reason: "malformed"},
		{name: "signed by an unknown key", env: func(t *testing.T, r *rig) []byte {
			return mustEnvelope(t, 10, manifestOf("arm64", good(r)), strangerKey)
		}, reason: "unknown_key"},
		{name: "signature does not match", env: func(t *testing.T, r *rig) []byte {
			env := mustEnvelope(t, 10, manifestOf("arm64", good(r)), townshipKey)
			var e map[string]string
			json.Unmarshal(env, &e)
			p, _ := base64.StdEncoding.DecodeString(e["payload"])
			p = []byte(strings.Replace(string(p), `"version":10`, `"version":12`, 1))
			e["payload"] = base64.StdEncoding.EncodeToString(p)
			out, _ := json.Marshal(e)
			return out
		}, reason: "bad_signature"},
		{name: "for another kiosk", env: func(t *testing.T, r *rig) []byte {
			return mustEnvelope(t, 10, manifestOf("arm64", good(r)), townshipKey, "dev-kiosk-02")
		}, reason: "wrong_target"},
		{name: "bundle downgraded", before: func(r *rig) {
			r.mustSubmit(mustEnvelope(r.t, 20, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.3.0-1")), townshipKey))
		}, env: func(t *testing.T, r *rig) []byte {
			return mustEnvelope(t, 10, manifestOf("arm64", good(r)), townshipKey)
		}, reason: "downgrade"},
		{name: "wrong architecture", env: func(t *testing.T, r *rig) []byte {
			return mustEnvelope(t, 10, manifestOf("armhf", good(r)), townshipKey)
		}, reason: "wrong_architecture"},
		{name: "package downgraded", env: func(t *testing.T, r *rig) []byte {
			return mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.2.0-1")), townshipKey)
		}, reason: "package_downgrade"},
		{name: "hash mismatch", env: func(t *testing.T, r *rig) []byte {
			p := good(r)
			r.fetch.files[p.URL] = deb("fengqiao-kioskd", "6.6.6-6") // same size, other bytes
			return mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey)
		}, reason: "hash_mismatch"},
		{name: "truncated download", env: func(t *testing.T, r *rig) []byte {
			p := good(r)
			r.fetch.files[p.URL] = r.fetch.files[p.URL][:5]
			return mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey)
		}, reason: "size_mismatch"},
		{name: "not a manifest", env: func(t *testing.T, r *rig) []byte {
			b := bundle.Bundle{Kind: bundle.KindUpdate, Version: 10, Target: bundle.Target{Township: "dev-township"},
				NotBefore: t0.Add(-time.Hour), Expires: t0.Add(time.Hour), Content: []byte(`{"format":"fengqiao.update/v1"}`)}
			env, _ := bundle.Sign(b, townshipKey)
			return env
		}, reason: "schema"},
		{name: "a site bundle", env: func(t *testing.T, r *rig) []byte {
			b := bundle.Bundle{Kind: bundle.KindSite, Version: 10, Target: bundle.Target{Township: "dev-township"},
				NotBefore: t0.Add(-time.Hour), Expires: t0.Add(time.Hour), Content: []byte("mode: dev\n")}
			env, _ := bundle.Sign(b, townshipKey)
			return env
		}, reason: "schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
			if tt.before != nil {
				tt.before(r)
				r.now = inWindow
				r.mustStep()
				r.now = t0
			}
			installs := r.dpkg.installCount()
			r.mustSubmit(tt.env(t, r))
			r.now = inWindow
			r.mustStep()
			r.mustStep()
			rep := r.mustStatus(StatusRejected, tt.reason)
			t.Log(rep.Error)
			if r.dpkg.installCount() != installs || r.dpkg.version("fengqiao-kioskd") != "1.3.0-1" {
				t.Errorf("installed: %v", r.dpkg.installs)
			}
			for _, f := range r.cacheFiles() {
				if strings.Contains(f, "1.4.0-1") {
					t.Errorf("refused package left in the cache: %s", f)
				}
			}
		})
	}
}

func TestUpdateRollsBack(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(r *rig)
		reason string
	}{
		{name: "health check fails", setup: func(r *rig) {
			r.health.err = func(installed map[string]string) error {
				if installed["fengqiao-kioskd"] == "1.4.0-1" {
					return errors.New("kioskd: the local API does not answer")
				}
				return nil
			}
		}, reason: "health_check"},
		{name: "dpkg fails", setup: func(r *rig) {
			r.dpkg.failInstall = func(debs []string) error {
				if slices.Contains(debs, "fengqiao-kioskd=1.4.0-1") {
					return errors.New("dpkg: error processing archive (--install): no space left on device")
				}
				return nil
			}
		}, reason: "install_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
			tt.setup(r)
			p := r.serve("fengqiao-kioskd", "1.4.0-1")
			r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
			r.now = inWindow
			r.mustStep()
			rep := r.mustStatus(StatusRolledBack, tt.reason)
			t.Log(rep.Error)
			if got := r.dpkg.version("fengqiao-kioskd"); got != "1.3.0-1" {
				t.Fatalf("after the rollback %s is installed", got)
			}
			if rep.Packages["fengqiao-kioskd"] != "1.3.0-1" {
				t.Errorf("reported packages %v", rep.Packages)
			}
			// The previous version stays cached, the failed one goes.
			if got := r.cacheFiles(); !slices.Equal(got, []string{"fengqiao-kioskd_1.3.0-1_arm64.deb"}) {
				t.Errorf("cache %v", got)
			}
			// The retained bad bundle is a replay from now on, not a loop.
			r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
			r.mustStep()
			r.mustStatus(StatusRolledBack, tt.reason)
		})
	}
}

// TestUpdateAddsPackage: a package the update adds is removed by a
// rollback.
func TestUpdateAddsPackage(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.health.err = func(installed map[string]string) error {
		if installed["fengqiao-speech"] != "" {
			return errors.New("speech broke the UI")
		}
		return nil
	}
	m := manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1"), r.serve("fengqiao-speech", "1.0.0-1"))
	r.mustSubmit(mustEnvelope(t, 10, m, townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusRolledBack, "health_check")
	if r.dpkg.version("fengqiao-speech") != "" || r.dpkg.version("fengqiao-kioskd") != "1.3.0-1" {
		t.Errorf("after the rollback: %v", r.dpkg.installed)
	}
}

// TestPowerCut: the board loses power while dpkg runs, or while the health
// check waits; at boot the updater finishes the job from its state file.
func TestPowerCut(t *testing.T) {
	t.Run("during dpkg", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
		r.dpkg.failInstall = func(debs []string) error {
			if slices.Contains(debs, "fengqiao-kioskd=1.4.0-1") {
				r.dpkg.mu.Lock()
				r.dpkg.installed["fengqiao-kioskd"] = "1.4.0-1" // half unpacked
				r.dpkg.mu.Unlock()
				panic("power cut")
			}
			return nil
		}
		r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
		r.now = inWindow
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("no power cut")
				}
			}()
			r.u.Step(context.Background())
		}()
		r.mustStatus(StatusInstalling, "")
		r.now = r.now.Add(5 * time.Minute) // the board boots again
		r.reopen()
		r.mustStep()
		r.mustStatus(StatusRolledBack, "interrupted")
		if got := r.dpkg.version("fengqiao-kioskd"); got != "1.3.0-1" {
			t.Fatalf("after the power cut %s is installed", got)
		}
	})
	for _, tt := range []struct {
		name    string
		healthy bool
		off     time.Duration
		want    string
		reason  string
	}{
		{"during the check, healthy after boot", true, 5 * time.Minute, StatusInstalled, ""},
		{"during the check, unwell after boot", false, 5 * time.Minute, StatusRolledBack, "health_check"},
		{"during the check, off for hours", false, 3 * time.Hour, StatusRolledBack, "health_check"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
			ctx, cancel := context.WithCancel(context.Background())
			r.health.err = func(map[string]string) error {
				cancel() // the power goes while the check waits for kioskd
				return errors.New("kioskd not up yet")
			}
			r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
			r.now = inWindow
			if err := r.u.Step(ctx); err != nil {
				t.Fatal(err)
			}
			r.mustStatus(StatusChecking, "")
			r.now = r.now.Add(tt.off)
			r.health.err = func(map[string]string) error {
				if tt.healthy {
					return nil
				}
				return errors.New("kioskd: the store does not open")
			}
			r.reopen()
			r.mustStep()
			r.mustStatus(tt.want, tt.reason)
		})
	}
}

func TestWaitsForScreenAndWindow(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.mustStep()
	r.mustStatus(StatusWaiting, "")

	r.now = inWindow
	r.screen.busy = "mediator session (case 2026-031)"
	r.mustStep()
	if rep := r.mustStatus(StatusWaiting, ""); !strings.Contains(rep.Error, "mediator session") {
		t.Errorf("error %q does not say why it waits", rep.Error)
	}
	r.screen.busy, r.screen.err = "", errors.New("kioskd does not answer")
	r.mustStep()
	r.mustStatus(StatusWaiting, "")
	if r.dpkg.installCount() != 0 {
		t.Fatal("installed while the screen may be in use")
	}
	r.screen.err = nil
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
}

func TestDeadlineLiftsWindow(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	m := manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1"))
	m.Deadline = t0.Add(time.Hour)
	r.mustSubmit(mustEnvelope(t, 10, m, townshipKey))
	r.mustStep()
	r.mustStatus(StatusWaiting, "")
	r.now = m.Deadline // 15:00 in Shanghai: outside the window
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
}

func TestDownloadResumesLater(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.fetch.err = errors.New("dial tcp: connect: network is unreachable")
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.mustStep()
	if rep := r.mustStatus(StatusDownloading, ""); !strings.Contains(rep.Error, "unreachable") {
		t.Errorf("error %q", rep.Error)
	}
	r.mustStep() // before the retry time: no attempt
	if r.fetch.calls != 1 {
		t.Errorf("%d attempts within the backoff", r.fetch.calls)
	}
	r.fetch.err = nil
	r.now = r.now.Add(time.Minute)
	r.mustStep()
	r.mustStatus(StatusWaiting, "")
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 6: 32 * time.Minute, 7: time.Hour, 50: time.Hour} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestStagedRollout: the pilot kiosk got the update by its own scope; when
// township IT widens it to the township, the pilot has nothing to do.
func TestStagedRollout(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	p := r.serve("fengqiao-kioskd", "1.4.0-1")
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey, "dev-kiosk-01"))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	r.mustSubmit(mustEnvelope(t, 11, manifestOf("arm64", p), townshipKey))
	rep := r.mustStatus(StatusInstalled, "")
	if rep.Version != 11 || rep.Scope != "update:township:dev-township" || r.dpkg.installCount() != 1 {
		t.Errorf("reported %+v after %d installs", rep, r.dpkg.installCount())
	}
}

// TestSupersede: a newer bundle replaces an update not yet installed; a
// bundle refused meanwhile is reported beside it.
func TestSupersede(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.mustStep()
	r.mustStatus(StatusWaiting, "")
	r.mustSubmit(mustEnvelope(t, 12, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), strangerKey))
	if rep := r.mustStatus(StatusWaiting, ""); rep.Refused == nil || rep.Refused.Reason != "unknown_key" || rep.Version != 10 {
		t.Errorf("reported %+v", rep)
	}
	r.mustSubmit(mustEnvelope(t, 11, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.5.0-1")), townshipKey))
	r.mustStatus(StatusPending, "")
	r.now = inWindow
	r.mustStep()
	if rep := r.mustStatus(StatusInstalled, ""); rep.Version != 11 || r.dpkg.version("fengqiao-kioskd") != "1.5.0-1" {
		t.Errorf("reported %+v", rep)
	}
	if got := r.cacheFiles(); !slices.Equal(got, []string{"fengqiao-kioskd_1.5.0-1_arm64.deb"}) {
		t.Errorf("cache %v", got)
	}
}

// TestKeyRotation: the updater follows rotations through its own trust
// state, not kioskd's.
func TestKeyRotation(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	rot, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindKeyRotation, Version: 5, Target: bundle.Target{Township: "dev-township"},
		NotBefore: t0.Add(-time.Hour), Expires: t0.Add(time.Hour),
		Rotation: &bundle.Rotation{PublicKey: strangerKey.Public().(ed25519.PublicKey), EffectiveVersion: 6}}, townshipKey)
	if err != nil {
		t.Fatal(err)
	}
	r.mustSubmit(rot)
	p := r.serve("fengqiao-kioskd", "1.4.0-1")
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
	r.mustStatus(StatusRejected, "retired_key")
	r.reopen() // the trust state is on disk
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), strangerKey))
	r.mustStatus(StatusPending, "")
}

func TestNotYetValidIsRetried(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	env := mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey)
	r.now = time.Unix(0, 0) // no RTC, no NTP yet
	r.mustSubmit(env)
	r.mustStatus(StatusRejected, "not_yet_valid")
	if err := r.u.RetryEarly(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mustStatus(StatusRejected, "not_yet_valid")
	r.now = t0
	if err := r.u.RetryEarly(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mustStatus(StatusPending, "")
}

// TestOnlyChangedPackagesDownload: a package already installed at the
// manifest's version costs no bytes and is not reinstalled.
func TestOnlyChangedPackagesDownload(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1", "fengqiao-kiosk-ui": "1.3.0-1"})
	m := manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1"), r.serve("fengqiao-kiosk-ui", "1.3.0-1"))
	r.mustSubmit(mustEnvelope(t, 10, m, townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	if r.fetch.calls != 1 {
		t.Errorf("%d fetches; only kioskd changed", r.fetch.calls)
	}
	if len(r.dpkg.installs) != 1 || !slices.Equal(r.dpkg.installs[0], []string{"fengqiao-kioskd=1.4.0-1"}) {
		t.Errorf("installs %v", r.dpkg.installs)
	}
}

// TestWaitReasonClears: who was at the kiosk in the window is not reported
// all day.
func TestWaitReasonClears(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.screen.busy = "someone at the kiosk"
	r.mustStep()
	if rep := r.mustStatus(StatusWaiting, ""); rep.Error == "" {
		t.Fatal("no reason given for waiting")
	}
	r.now = inWindow.Add(3 * time.Hour) // 06:00: the window has closed
	r.mustStep()
	if rep := r.mustStatus(StatusWaiting, ""); rep.Error != "" {
		t.Errorf("error %q outside the window", rep.Error)
	}
}

// TestRollbackRetried: a rollback whose dpkg fails stays rolling_back and is
// tried again with backoff (not every tick), until it works.
func TestRollbackRetried(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	failing := true
	r.dpkg.failInstall = func(debs []string) error {
		if slices.Contains(debs, "fengqiao-kioskd=1.4.0-1") {
			return errors.New("dpkg: unpack failed")
		}
		if failing {
			return errors.New("dpkg: database locked")
		}
		return nil
	}
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	rep := r.mustStatus(StatusRollingBack, "install_failed")
	if !strings.Contains(rep.Error, "database locked") {
		t.Errorf("error %q", rep.Error)
	}
	installs := r.dpkg.installCount()
	r.mustStep() // within the backoff: no attempt
	if r.dpkg.installCount() != installs {
		t.Error("retried within the backoff")
	}
	failing = false
	r.now = r.now.Add(time.Minute)
	r.mustStep()
	rep = r.mustStatus(StatusRolledBack, "install_failed")
	if strings.Contains(rep.Error, "database locked") || strings.Count(rep.Error, "unpack failed") != 1 {
		t.Errorf("error %q: want the cause once", rep.Error)
	}
	if r.dpkg.version("fengqiao-kioskd") != "1.3.0-1" {
		t.Errorf("installed %s", r.dpkg.version("fengqiao-kioskd"))
	}
}

// TestOlderRolloutIgnored: a pilot kiosk on release 1.5 meets the older
// township-wide bundle of 1.4 (retained for the kiosks that missed it):
// another scope, so no replay, but issued earlier: ignored, not reported
// as a package downgrade.
func TestOlderRolloutIgnored(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	p14, p15 := r.serve("fengqiao-kioskd", "1.4.0-1"), r.serve("fengqiao-kioskd", "1.5.0-1")
	sign := func(version uint64, issued time.Time, m *update.Manifest, kiosks ...string) []byte {
		content, _ := m.Marshal()
		b := bundle.Bundle{Kind: bundle.KindUpdate, Version: version, Target: bundle.Target{Township: "dev-township", Kiosks: kiosks},
			NotBefore: issued, Expires: issued.Add(60 * 24 * time.Hour), Content: content}
		if len(kiosks) == 0 {
			b.Target.Kiosks = nil
		}
		env, err := bundle.Sign(b, townshipKey)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	r.mustSubmit(sign(20, t0.Add(-time.Hour), manifestOf("arm64", p15), "dev-kiosk-01"))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	r.mustSubmit(sign(10, t0.Add(-48*time.Hour), manifestOf("arm64", p14)))
	if rep := r.mustStatus(StatusInstalled, ""); rep.Version != 20 {
		t.Errorf("reported %+v", rep)
	}
	if r.dpkg.version("fengqiao-kioskd") != "1.5.0-1" {
		t.Errorf("installed %s", r.dpkg.version("fengqiao-kioskd"))
	}
	// A replay from then on, after a restart too.
	r.reopen()
	r.mustSubmit(sign(10, t0.Add(-48*time.Hour), manifestOf("arm64", p14)))
	r.mustStatus(StatusInstalled, "")
}

// TestRollbackGivesUp: a rollback that can never work (its dpkg always
// fails) ends in rollback_failed after MaxRollbackAttempts, which a newer
// bundle, the township's fix, may replace. Until then, a newer bundle is
// kept and reported, not dropped.
func TestRollbackGivesUp(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.dpkg.failInstall = func(debs []string) error {
		if slices.Contains(debs, "fengqiao-kioskd=1.5.0-1") {
			return nil
		}
		return errors.New("dpkg: dependency problems - leaving unconfigured")
	}
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusRollingBack, "install_failed")
	fix := mustEnvelope(t, 11, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.5.0-1")), townshipKey)
	r.mustSubmit(fix)
	if rep := r.mustStatus(StatusRollingBack, "install_failed"); rep.Refused == nil || rep.Refused.Version != 11 {
		t.Errorf("newer bundle not reported while the rollback waits: %+v", rep.Refused)
	}
	for range MaxRollbackAttempts * 2 {
		r.now = r.now.Add(2 * time.Hour)
		r.mustStep()
	}
	rep := r.mustStatus(StatusRollbackFailed, "install_failed")
	if !strings.Contains(rep.Error, "dependency problems") {
		t.Errorf("error %q", rep.Error)
	}
	if r.u.Busy() {
		t.Fatal("rollback_failed keeps the updater busy")
	}
	if err := r.u.RetryEarly(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mustStatus(StatusPending, "")
	r.now = inWindow.Add(48 * time.Hour) // the next window
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	if got := r.dpkg.version("fengqiao-kioskd"); got != "1.5.0-1" {
		t.Errorf("installed %s", got)
	}
}

// TestDpkgLockedWaits: another package manager holding dpkg's lock is
// temporary: the update waits and is installed later, not rolled back.
func TestDpkgLockedWaits(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	locked := true
	r.dpkg.failInstall = func([]string) error {
		if locked {
			return fmt.Errorf("%w: dpkg: error: dpkg frontend lock was locked by another process with pid 812", ErrDpkgLocked)
		}
		return nil
	}
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	rep := r.mustStatus(StatusWaiting, "")
	if !strings.Contains(rep.Error, "locked") {
		t.Errorf("error %q", rep.Error)
	}
	locked = false
	r.now = r.now.Add(time.Minute)
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
}

// TestInstalledSavedBeforePrune: the cache loses the previous packages only
// once installed is on disk; a state still saying checking must find them.
func TestInstalledSavedBeforePrune(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.health.err = func(map[string]string) error {
		// The state can no longer be saved (a full disk, a power cut
		// about to happen): renaming a file over a directory fails.
		os.Remove(filepath.Join(r.dir, stateFile))
		os.MkdirAll(filepath.Join(r.dir, stateFile, "x"), 0o700)
		return nil
	}
	r.now = inWindow
	if err := r.u.Step(context.Background()); err == nil {
		t.Fatal("Step saved a state it could not save")
	}
	if !slices.Contains(r.cacheFiles(), "fengqiao-kioskd_1.3.0-1_arm64.deb") {
		t.Errorf("the way back was pruned before installed was saved: cache %v", r.cacheFiles())
	}
}

// TestRollbackVerifiesPrevious: the previous package is checked (SHA-256
// recorded when it was kept, and what the file says it is) before a
// rollback installs it; a cached file that is not the installed version is
// not kept as the way back.
func TestRollbackVerifiesPrevious(t *testing.T) {
	t.Run("changed after it was kept", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
		prev := filepath.Join(r.dir, cacheDir, "fengqiao-kioskd_1.3.0-1_arm64.deb")
		r.health.err = func(installed map[string]string) error {
			if installed["fengqiao-kioskd"] == "1.4.0-1" {
				os.WriteFile(prev, deb("fengqiao-kioskd", "6.6.6-1"), 0o644)
				return errors.New("kioskd does not answer")
			}
			return nil
		}
		r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
		r.now = inWindow
		r.mustStep()
		rep := r.mustStatus(StatusRollingBack, "health_check")
		if !strings.Contains(rep.Error, "changed since it was kept") {
			t.Errorf("error %q", rep.Error)
		}
		if got := r.dpkg.version("fengqiao-kioskd"); got == "6.6.6-1" {
			t.Error("rollback installed a file that was not the one kept")
		}
	})
	t.Run("cached file is not the installed version", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
		os.WriteFile(filepath.Join(r.dir, cacheDir, "fengqiao-kioskd_1.3.0-1_arm64.deb"), []byte("garbage"), 0o644)
		r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
		r.now = inWindow
		r.mustStep()
		r.mustStatus(StatusInstalled, "")
		if len(r.dpkg.repacks) != 1 {
			t.Errorf("repacks %v: a garbage file was kept as the way back", r.dpkg.repacks)
		}
	})
}

// TestHealthMustStayGood: one good poll between two crashes is no pass;
// the check must pass for HealthStable without a break.
func TestHealthMustStayGood(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	polls := 0
	r.health.err = func(installed map[string]string) error {
		if installed["fengqiao-kioskd"] != "1.4.0-1" {
			return nil
		}
		polls++
		if polls%3 == 1 {
			return nil // up for a moment, then down again
		}
		return errors.New("kioskd's local API does not answer")
	}
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusRolledBack, "health_check")

	// Passing without a break: installed once the stable period is over,
	// not before.
	r = newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusInstalled, "")
	if took := r.now.Sub(inWindow); took < 2*time.Minute {
		t.Errorf("installed after %v of checks, want the 2-minute stable period", took)
	}
}

// TestKioskdVersionChecked: the baseline the check gets names the kioskd
// version installed, and the previous one for the rollback's check.
func TestKioskdVersionChecked(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.health.err = func(installed map[string]string) error {
		if installed["fengqiao-kioskd"] == "1.4.0-1" {
			return errors.New("down")
		}
		return nil
	}
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusRolledBack, "health_check")
	if first, last := r.health.seen[0], r.health.seen[len(r.health.seen)-1]; first.KioskdVersion != "1.4.0-1" || last.KioskdVersion != "1.3.0-1" {
		t.Errorf("checks expected kioskd %q then %q", first.KioskdVersion, last.KioskdVersion)
	}
}

// TestPackageMismatch: a .deb whose control fields are not the package,
// version and architecture its manifest entry names is not installed,
// though its hash is the one signed.
func TestPackageMismatch(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	content := deb("fengqiao-kioskd", "1.2.0-1") // an older build, mislabelled
	p := pkgOf("fengqiao-kioskd", "1.4.0-1", content)
	r.fetch.files[p.URL] = content
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
	r.now = inWindow
	r.mustStep()
	r.mustStatus(StatusRejected, "package_mismatch")
	if got := r.dpkg.version("fengqiao-kioskd"); got != "1.3.0-1" {
		t.Errorf("installed %s", got)
	}
}

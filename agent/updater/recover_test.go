package updater

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/update"
)

// damage overwrites the state file, as a failing SD card or a hand edit
// leaves it.
func (r *rig) damage(content string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, stateFile), []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// setAside is the damaged files set aside, by content.
func (r *rig) setAside() []string {
	r.t.Helper()
	paths, _ := filepath.Glob(filepath.Join(r.dir, stateFile+".damaged-*"))
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// A damaged state file with dpkg showing nothing half-done: set aside,
// started afresh, reported, and the next bundle installs as ever.
func TestDamagedStateNothingInFlight(t *testing.T) {
	for name, content := range map[string]string{
		"empty":        "",
		"cut short":    `{"format":"fengqiao-updater-state/v1","status":"insta`,
		"zeroed":       "\x00\x00\x00\x00",
		"other format": `{"format":"fengqiao-updater-state/v9","status":"installed"}`,
		"wrong types":  `{"format":"fengqiao-updater-state/v1","status":7}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1", "fengqiao-kiosk-ui": "1.3.0-1"})
			r.damage(content)
			r.reopen() // no longer fails: no restart loop
			r.mustStatus(StatusRecovering, ReasonStateDamaged)
			if !r.u.Busy() {
				t.Error("not busy before recovering")
			}
			r.mustStep()
			rep := r.mustStatus(StatusRecovered, ReasonStateDamaged)
			if !strings.Contains(rep.Error, "the health check passes") || !strings.Contains(rep.Error, "set aside as state.json.damaged-") {
				t.Errorf("error %q", rep.Error)
			}
			if rep.Packages["fengqiao-kioskd"] != "1.3.0-1" || rep.Packages["fengqiao-kiosk-ui"] != "1.3.0-1" {
				t.Errorf("packages %v", rep.Packages)
			}
			if got := r.setAside(); !slices.Equal(got, []string{content}) {
				t.Errorf("set aside %q, want the damaged file as it was", got)
			}
			if r.u.Busy() {
				t.Error("busy after recovering with nothing in flight")
			}
			r.mustStep() // nothing to do
			if n := r.dpkg.installCount(); n != 0 {
				t.Errorf("%d installs with nothing in flight", n)
			}

			r.mustSubmit(mustEnvelope(t, 20, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
			r.mustStep()
			r.now = inWindow
			r.mustStep()
			r.mustStatus(StatusInstalled, "")
			if v := r.dpkg.version("fengqiao-kioskd"); v != "1.4.0-1" {
				t.Errorf("installed %s", v)
			}
			// A good state file stays good: the next start reads it.
			r.reopen()
			r.mustStatus(StatusInstalled, "")
			if n := len(r.setAside()); n != 1 {
				t.Errorf("%d files set aside", n)
			}
		})
	}
}

// The power goes while dpkg installs, and the state file is lost with
// it: dpkg shows the package half-done, and the version from before,
// still in the cache, goes back.
func TestDamagedStateDuringInstall(t *testing.T) {
	for _, tt := range []struct {
		half    string // dpkg's state after the cut
		healthy bool
	}{
		{"half-installed", true},
		{"unpacked", true},
		{"half-configured", false},
	} {
		t.Run(tt.half, func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
			r.dpkg.failInstall = func(debs []string) error {
				if slices.Contains(debs, "fengqiao-kioskd=1.4.0-1") {
					r.dpkg.mu.Lock()
					r.dpkg.installed["fengqiao-kioskd"] = "1.4.0-1"
					r.dpkg.half = map[string]string{"fengqiao-kioskd": tt.half}
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
			r.dpkg.failInstall = nil
			if !tt.healthy {
				r.health.err = func(map[string]string) error { return errString("kioskd not answering") }
			}
			r.damage(`{"format":"fengqiao-updater-state/v1","job":{"vers`)
			r.now = r.now.Add(5 * time.Minute) // the board boots again
			r.reopen()
			r.mustStatus(StatusRecovering, ReasonStateDamaged)
			if !r.u.Busy() {
				t.Error("not busy while recovering")
			}
			r.mustStep()
			rep := r.mustStatus(StatusRolledBack, ReasonStateDamaged)
			if !strings.Contains(rep.Error, "fengqiao-kioskd 1.4.0-1 ("+tt.half+")") {
				t.Errorf("error %q", rep.Error)
			}
			if v := r.dpkg.version("fengqiao-kioskd"); v != "1.3.0-1" {
				t.Fatalf("after recovering %s is installed", v)
			}
			if !strings.Contains(rep.Error, "reinstalled fengqiao-kioskd 1.3.0-1 from the cache") || rep.Packages["fengqiao-kioskd"] != "1.3.0-1" {
				t.Errorf("reported %+v", rep)
			}
			if got := strings.Contains(rep.Error, "health check still fails"); got == tt.healthy {
				t.Errorf("health in the report: %q", rep.Error)
			}
			// The check does not hold a link that is down against it: what
			// it was before is lost with the state.
			if b := r.health.seen[len(r.health.seen)-1]; b.LinkDown == "" {
				t.Error("the check after recovery required the link")
			}
			if r.u.Busy() {
				t.Error("busy after recovering")
			}
		})
	}
}

// The state is lost while a new version is being checked: dpkg has it
// installed, so the health check decides whether the older version, still
// in the cache, goes back.
func TestDamagedStateDuringCheck(t *testing.T) {
	for _, healthy := range []bool{true, false} {
		t.Run(map[bool]string{true: "healthy", false: "unwell"}[healthy], func(t *testing.T) {
			r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
			ctx, cancel := context.WithCancel(context.Background())
			r.health.err = func(map[string]string) error {
				cancel() // the power goes while the check waits for kioskd
				return errString("kioskd not up yet")
			}
			r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.4.0-1")), townshipKey))
			r.now = inWindow
			if err := r.u.Step(ctx); err != nil {
				t.Fatal(err)
			}
			r.mustStatus(StatusChecking, "")
			r.health.err = nil
			if !healthy {
				r.health.err = func(installed map[string]string) error {
					if installed["fengqiao-kioskd"] == "1.4.0-1" {
						return errString("kioskd's local API does not answer")
					}
					return nil
				}
			}
			r.damage("\x00\x00")
			r.now = r.now.Add(5 * time.Minute)
			r.reopen()
			r.mustStep()
			want, version := StatusRecovered, "1.4.0-1"
			if !healthy {
				want, version = StatusRolledBack, "1.3.0-1"
			}
			rep := r.mustStatus(want, ReasonStateDamaged)
			if v := r.dpkg.version("fengqiao-kioskd"); v != version {
				t.Errorf("installed %s, want %s (%s)", v, version, rep.Error)
			}
			if !healthy && (!strings.Contains(rep.Error, "the health check fails: kioskd's local API") ||
				!strings.Contains(rep.Error, "reinstalled fengqiao-kioskd 1.3.0-1") || strings.Contains(rep.Error, "still fails")) {
				t.Errorf("error %q", rep.Error)
			}
		})
	}
}

// Unwell with nothing older in the cache: nothing to go back to; the
// report says so.
func TestDamagedStateUnwellNothingCached(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
	r.health.err = func(map[string]string) error { return errString("the UI is not running") }
	r.damage("{")
	r.reopen()
	r.mustStep()
	rep := r.mustStatus(StatusRecovered, ReasonStateDamaged)
	if !strings.Contains(rep.Error, "the UI is not running; no older version in the cache") || r.dpkg.installCount() != 0 {
		t.Errorf("reported %+v after %d installs", rep, r.dpkg.installCount())
	}
}

// dpkg only had to finish its own work (no older version in the cache):
// finished with dpkg --configure -a, reported recovered.
func TestDamagedStateDpkgFinishes(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
	r.dpkg.half = map[string]string{"fengqiao-kioskd": "half-configured"}
	r.damage("garbage")
	r.reopen()
	r.mustStatus(StatusRecovering, ReasonStateDamaged)
	r.mustStep()
	rep := r.mustStatus(StatusRecovered, ReasonStateDamaged)
	if !strings.Contains(rep.Error, "dpkg finished it") || r.dpkg.version("fengqiao-kioskd") != "1.4.0-1" {
		t.Errorf("reported %+v", rep)
	}
}

// A package dpkg cannot settle keeps the updater recovering, trying again
// with backoff, and saying why.
func TestDamagedStateUnsettled(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
	r.dpkg.half = map[string]string{"fengqiao-kioskd": "half-installed"} // and nothing in the cache
	r.damage("garbage")
	r.reopen()
	r.mustStep()
	rep := r.mustStatus(StatusRecovering, ReasonStateDamaged)
	if !strings.Contains(rep.Error, "still has fengqiao-kioskd 1.4.0-1 (half-installed) half-done") {
		t.Errorf("error %q", rep.Error)
	}
	n := r.dpkg.installCount()
	r.mustStep() // before the retry time: nothing
	if r.dpkg.installCount() != n {
		t.Error("tried again at once")
	}
	// A bundle meanwhile waits, as during a rollback (install under
	// way): nothing is installed over a half-done dpkg, and the township
	// sees why.
	r.mustSubmit(mustEnvelope(t, 20, manifestOf("arm64", r.serve("fengqiao-kioskd", "1.5.0-1")), townshipKey))
	rep = r.mustStatus(StatusRecovering, ReasonStateDamaged)
	if rep.Refused == nil || rep.Refused.Reason != "install_under_way" || rep.Refused.Version != 20 {
		t.Errorf("refused %+v", rep.Refused)
	}
	r.now = r.now.Add(time.Hour)
	r.dpkg.mu.Lock()
	r.dpkg.half = nil // a technician repaired it
	r.dpkg.mu.Unlock()
	r.mustStep()
	r.mustStatus(StatusRecovered, ReasonStateDamaged)
	// Recovered: the bundle kept is taken now.
	if err := r.u.RetryEarly(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mustStatus(StatusPending, "")
}

type errString string

func (e errString) Error() string { return string(e) }

// cacheFile puts a file in the updater's cache under the name of name's
// version, with content.
func (r *rig) cacheFile(name, version string, content []byte) string {
	r.t.Helper()
	path := filepath.Join(r.dir, cacheDir, update.Package{Name: name, Version: version}.FileName("arm64"))
	if err := os.WriteFile(path, content, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return path
}

// A cached .deb whose control fields are not the version its name says is
// refused, as a rollback refuses it: never installed, and reported.
func TestDamagedStateRefusesMismatchedCache(t *testing.T) {
	t.Run("half-done", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
		r.dpkg.half = map[string]string{"fengqiao-kioskd": "half-configured"}
		r.cacheFile("fengqiao-kioskd", "1.3.0-1", deb("fengqiao-kioskd", "1.2.0-1"))
		r.damage("garbage")
		r.reopen()
		r.mustStep()
		rep := r.mustStatus(StatusRecovered, ReasonStateDamaged)
		// Only dpkg --configure -a ran: the refused file was not given to dpkg.
		r.dpkg.mu.Lock()
		installs := slices.Clone(r.dpkg.installs)
		r.dpkg.mu.Unlock()
		if len(installs) != 1 || len(installs[0]) != 0 {
			t.Errorf("installs %v, want one of nothing (configure only)", installs)
		}
		if !strings.Contains(rep.Error, "refused from the cache") || !strings.Contains(rep.Error, "dpkg finished it") {
			t.Errorf("error %q", rep.Error)
		}
		if v := r.dpkg.version("fengqiao-kioskd"); v != "1.4.0-1" {
			t.Errorf("installed %s", v)
		}
	})
	t.Run("unwell", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
		r.health.err = func(map[string]string) error { return errString("kioskd's local API does not answer") }
		r.cacheFile("fengqiao-kioskd", "1.3.0-1", deb("fengqiao-kiosk-ui", "1.3.0-1")) // another package's
		r.damage("garbage")
		r.reopen()
		r.mustStep()
		rep := r.mustStatus(StatusRecovered, ReasonStateDamaged)
		if n := r.dpkg.installCount(); n != 0 {
			t.Errorf("%d installs of a refused file", n)
		}
		if !strings.Contains(rep.Error, "refused from the cache") || !strings.Contains(rep.Error, "no older version in the cache") {
			t.Errorf("error %q", rep.Error)
		}
	})
	t.Run("not a deb", func(t *testing.T) {
		r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
		r.dpkg.half = map[string]string{"fengqiao-kioskd": "unpacked"}
		r.cacheFile("fengqiao-kioskd", "1.3.0-1", []byte("\x00\x00 zeroed by the SD card"))
		// The recorded version, good, settles it instead.
		r.cacheFile("fengqiao-kioskd", "1.4.0-1", deb("fengqiao-kioskd", "1.4.0-1"))
		r.damage("garbage")
		r.reopen()
		r.mustStep()
		rep := r.mustStatus(StatusRolledBack, ReasonStateDamaged)
		r.dpkg.mu.Lock()
		installs := slices.Clone(r.dpkg.installs)
		r.dpkg.mu.Unlock()
		if len(installs) != 1 || !slices.Equal(installs[0], []string{"fengqiao-kioskd=1.4.0-1"}) {
			t.Errorf("installs %v", installs)
		}
		if !strings.Contains(rep.Error, "refused from the cache") {
			t.Errorf("error %q", rep.Error)
		}
	})
}

// The recovery's health check fills the baseline fields the lost state
// held: kioskd must report the version dpkg has (or was given back), the
// restarts counted are those from now on, and the UI must run when its
// package is installed.
func TestDamagedStateBaseline(t *testing.T) {
	for _, withUI := range []bool{true, false} {
		t.Run(map[bool]string{true: "with UI", false: "without UI"}[withUI], func(t *testing.T) {
			installed := map[string]string{"fengqiao-kioskd": "1.4.0-1"}
			if withUI {
				installed[UIPackage] = "1.4.0-1"
			}
			r := newRig(t, installed)
			restarts := map[string]int{KioskdUnit: 3, UIUnit: 1}
			r.health.baseline = Baseline{UIDown: "inactive", Restarts: restarts}
			r.health.err = func(installed map[string]string) error {
				if installed["fengqiao-kioskd"] == "1.4.0-1" {
					return errString("kioskd crashed")
				}
				return nil
			}
			r.cacheFile("fengqiao-kioskd", "1.3.0-1", deb("fengqiao-kioskd", "1.3.0-1"))
			r.damage("garbage")
			r.reopen()
			r.mustStep()
			rep := r.mustStatus(StatusRolledBack, ReasonStateDamaged)
			if strings.Contains(rep.Error, "still fails") {
				t.Errorf("error %q", rep.Error)
			}
			first, last := r.health.seen[0], r.health.seen[len(r.health.seen)-1]
			if first.KioskdVersion != "1.4.0-1" || last.KioskdVersion != "1.3.0-1" {
				t.Errorf("kioskd versions checked: %q then %q", first.KioskdVersion, last.KioskdVersion)
			}
			for _, b := range []Baseline{first, last} {
				if !maps.Equal(b.Restarts, restarts) || b.LinkDown == "" {
					t.Errorf("baseline %+v", b)
				}
				if wantUIDown := map[bool]string{true: "", false: "inactive"}[withUI]; b.UIDown != wantUIDown {
					t.Errorf("UIDown %q, want %q", b.UIDown, wantUIDown)
				}
			}
		})
	}
}

// The check that decides whether to go back must pass for HealthStable
// without a break: one good answer between two crashes is not health.
func TestDamagedStateStableCheck(t *testing.T) {
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.4.0-1"})
	n := 0
	r.health.err = func(installed map[string]string) error {
		if installed["fengqiao-kioskd"] != "1.4.0-1" {
			return nil
		}
		n++
		if n%3 == 0 {
			return errString("kioskd restarted")
		}
		return nil
	}
	r.cacheFile("fengqiao-kioskd", "1.3.0-1", deb("fengqiao-kioskd", "1.3.0-1"))
	r.damage("garbage")
	r.reopen()
	r.mustStep()
	r.mustStatus(StatusRolledBack, ReasonStateDamaged)
	if v := r.dpkg.version("fengqiao-kioskd"); v != "1.3.0-1" {
		t.Errorf("installed %s", v)
	}
}

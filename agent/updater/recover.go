package updater

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A state file the updater cannot understand (cut short, zeroed by a
// failing SD card, edited by hand) used to stop it from starting: systemd
// restarted it in a loop, the township saw nothing, and the kiosk was never
// updated again. Now the file is set aside under a name with the time, and
// the updater starts from what dpkg says, the one record of what is
// installed that the updater does not keep itself, and from the cache,
// which holds the version from before an install (kept before it starts)
// until the install ends (pruned after it):
//
//   - a fengqiao package left half-done (half-installed, unpacked,
//     half-configured, triggers pending): dpkg was cut off, with the state
//     that said what to go back to. The newest cached version older than
//     the one dpkg records goes back; with none, the recorded one, or only
//     dpkg --configure -a. Then the health check.
//   - every package installed: the health check decides. It passes: no
//     install was in flight, or it finished well. It fails with an older
//     version in the cache: the state was lost while a new version was
//     being checked; the older one goes back. It fails with none: the
//     kiosk is unwell for some other reason, and the report says so.
//
// Reported with the reason state_damaged: recovering until it is done,
// then recovered (nothing put back) or rolled_back. The bundle that was
// being worked on is lost with the state: its version is recorded in the
// trust state, so its retained copy is a replay. The township sees
// state_damaged and signs it again with a new version.

// recoverState sets the damaged state file aside; Step then recovers
// (recoverDpkg).
func (u *Updater) recoverState(ctx context.Context, damaged error) (*state, error) {
	path := filepath.Join(u.opts.Dir, stateFile)
	aside := path + ".damaged-" + u.opts.Now().UTC().Format("20060102T150405.000Z")
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("updater: setting aside the damaged %s: %w (after: %w)", stateFile, err, damaged)
	}
	what := fmt.Sprintf("%v; set aside as %s", damaged, filepath.Base(aside))
	u.log.Error("state file damaged; set aside, starting from what dpkg says", "err", damaged, "aside", aside)
	u.st = &state{Format: stateFormat, Status: StatusRecovering, Reason: ReasonStateDamaged, Cause: what, Error: what}
	if err := u.save(); err != nil {
		return nil, err
	}
	return u.st, nil
}

// recoverDpkg settles what dpkg has half-done and checks the kiosk's
// health, putting back an older cached version if either calls for it.
//
// Each cached .deb is checked before it is installed, as a rollback checks
// its own (verifyKept): its control fields must name the package, version
// and architecture its file name stands for. No SHA-256 is known here: it
// was recorded in the state lost.
func (u *Updater) recoverDpkg(ctx context.Context) error {
	pkgs, err := u.opts.Dpkg.Audit(ctx)
	if err != nil {
		return u.retryRecovery(err)
	}
	errText := u.st.Cause
	var back []string
	// versions is what dpkg has (or will have, once the cached versions
	// are back) of each package: the health check's kioskd version.
	versions := map[string]string{}
	for _, p := range pkgs {
		versions[p.Name] = p.Version
	}
	if half := unsettled(pkgs); len(half) > 0 {
		errText += "; dpkg left " + describe(half) + " half-done: an install was in flight"
		var debs []string
		for _, p := range half {
			path, version, refused := u.cachedFor(ctx, p, true)
			if len(refused) > 0 {
				errText += "; refused from the cache: " + strings.Join(refused, "; ")
			}
			if path != "" {
				debs = append(debs, path)
				back = append(back, p.Name+" "+version)
			}
		}
		u.log.Warn("recovering from a cut-off install", "half_done", describe(half), "reinstalling", back)
		// With nothing to reinstall this only finishes what dpkg left
		// (dpkg --configure -a, and its failure is Install's).
		if err := u.opts.Dpkg.Install(ctx, debs); err != nil {
			return u.retryRecovery(err)
		}
		if pkgs, err = u.opts.Dpkg.Audit(ctx); err != nil {
			return u.retryRecovery(err)
		}
		if half := unsettled(pkgs); len(half) > 0 {
			return u.retryRecovery(fmt.Errorf("dpkg still has %s half-done", describe(half)))
		}
		for _, p := range pkgs {
			versions[p.Name] = p.Version
		}
		if len(back) > 0 {
			errText += "; reinstalled " + strings.Join(back, ", ") + " from the cache"
		} else {
			errText += "; dpkg finished it (dpkg --configure -a)"
		}
	} else {
		errText += "; dpkg has every fengqiao package installed (" + describe(pkgs) + ")"
		// This check decides whether to go back: it must pass for
		// HealthStable without a break, as after an install.
		herr := u.healthAfter(ctx, u.recoveryBaseline(ctx, pkgs, versions[KioskdPackage]), u.opts.HealthStable)
		if ctx.Err() != nil {
			return nil // stopping: recovering stays, and the next start checks again
		}
		if herr == nil {
			errText += "; the health check passes"
			u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
			return u.set(StatusRecovered, ReasonStateDamaged, errText)
		}
		errText += "; the health check fails: " + herr.Error()
		// An older version in the cache: the state was lost while a new
		// one was being checked. Back to it.
		var debs []string
		for _, p := range pkgs {
			path, version, refused := u.cachedFor(ctx, p, false)
			if len(refused) > 0 {
				errText += "; refused from the cache: " + strings.Join(refused, "; ")
			}
			if path != "" {
				debs = append(debs, path)
				back = append(back, p.Name+" "+version)
				versions[p.Name] = version
			}
		}
		if len(debs) == 0 {
			u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
			return u.set(StatusRecovered, ReasonStateDamaged, errText+"; no older version in the cache to go back to")
		}
		u.log.Warn("health check fails after a damaged state; reinstalling the cached versions", "reinstalling", back)
		if err := u.opts.Dpkg.Install(ctx, debs); err != nil {
			return u.retryRecovery(err)
		}
		errText += "; reinstalled " + strings.Join(back, ", ") + " from the cache"
	}
	status := StatusRecovered
	if len(back) > 0 {
		status = StatusRolledBack
	}
	// Taken now, after dpkg: restarts the reinstall caused are not held
	// against the version put back.
	if herr := u.healthAfter(ctx, u.recoveryBaseline(ctx, pkgs, versions[KioskdPackage]), 0); herr != nil {
		errText += "; the health check still fails: " + herr.Error()
	}
	u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
	return u.set(status, ReasonStateDamaged, errText)
}

// UIPackage is the package of the kiosk's UI, which ships UIUnit.
const UIPackage = "fengqiao-kiosk-ui"

// recoveryBaseline is the health check's reference when the baseline taken
// before the install was lost with the state:
//
//   - the township link is not held against the kiosk (LinkDown): whether
//     it was up before is unknown;
//   - the UI's unit must be active if dpkg has the UI's package (UIDown
//     empty), since a UI the lost install broke must not pass; without
//     the package, as the unit is now;
//   - systemd's restart counts are taken now: a restart from here on is a
//     crash;
//   - kioskd must report kioskd, the version dpkg has (or is given back).
func (u *Updater) recoveryBaseline(ctx context.Context, pkgs []PackageState, kioskd string) Baseline {
	now := u.opts.Health.Baseline(ctx)
	b := Baseline{
		LinkDown:      "unknown: the state file was damaged",
		Restarts:      now.Restarts,
		Invocations:   now.Invocations,
		KioskdVersion: kioskd,
	}
	if !slices.ContainsFunc(pkgs, func(p PackageState) bool { return p.Name == UIPackage }) {
		b.UIDown = now.UIDown
	}
	return b
}

func (u *Updater) retryRecovery(err error) error {
	u.st.Error = u.st.Cause + "; recovery: " + err.Error()
	u.st.Failures++
	u.st.RetryAt = u.opts.Now().Add(backoff(u.st.Failures))
	u.log.Error("recovery failed; trying again", "retry_at", u.st.RetryAt, "err", err)
	return u.save()
}

// cachedFor is the .deb in the cache that puts back the version from
// before p's: the newest version older than the one dpkg records (the one
// kept before the install), else, with orSame, the recorded one itself
// (which settles a half-done package all the same).
//
// Each is checked before it is chosen (verifyKept: its control fields);
// one that fails is refused, and said in refused. An older version that
// fails is not replaced by a still older one: the cache held only the
// one kept before the install, and going further back is a downgrade.
func (u *Updater) cachedFor(ctx context.Context, p PackageState, orSame bool) (path, version string, refused []string) {
	entries, err := os.ReadDir(u.cache())
	if err != nil {
		return "", "", nil
	}
	prefix, suffix := p.Name+"_", "_"+u.opts.Arch+".deb"
	var same, older, olderVersion string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, suffix) {
			continue // another package's ('_' is in no package name), or a temporary file
		}
		v := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(n, prefix), suffix), "%3a", ":")
		c, err := u.opts.Dpkg.Compare(ctx, v, p.Version)
		switch {
		case err != nil:
		case c == 0:
			same = n
		case c < 0:
			if olderVersion == "" {
				older, olderVersion = n, v
			} else if newer, err := u.opts.Dpkg.Compare(ctx, v, olderVersion); err == nil && newer > 0 {
				older, olderVersion = n, v
			}
		}
	}
	type candidate struct{ name, version string }
	var candidates []candidate
	if older != "" {
		candidates = append(candidates, candidate{older, olderVersion})
	}
	if same != "" && orSame {
		candidates = append(candidates, candidate{same, p.Version})
	}
	for _, c := range candidates {
		ref := pkgRef{Name: p.Name, Version: c.version, Path: filepath.Join(u.cache(), c.name)}
		if _, err := u.verifyKept(ctx, ref); err != nil {
			u.log.Error("cached package refused for the recovery", "path", ref.Path, "err", err)
			refused = append(refused, err.Error())
			continue
		}
		return ref.Path, c.version, refused
	}
	return "", "", refused
}

// healthAfter runs the health check until it has passed for stable
// without a break (zero: one pass) or its time is up, and returns its
// last failure.
func (u *Updater) healthAfter(ctx context.Context, b Baseline, stable time.Duration) error {
	deadline := u.opts.Now().Add(u.opts.HealthTimeout)
	var passSince time.Time
	for {
		err := u.opts.Health.Check(ctx, b)
		if ctx.Err() != nil {
			return err
		}
		now := u.opts.Now()
		if err == nil {
			if passSince.IsZero() {
				passSince = now
			}
			if now.Sub(passSince) >= stable {
				return nil
			}
		} else {
			passSince = time.Time{}
			if !now.Before(deadline) {
				return err
			}
		}
		if serr := u.opts.Sleep(ctx, u.opts.HealthPoll); serr != nil {
			return err
		}
	}
}

// auditedVersions is every fengqiao package installed, for a report with
// no manifest to name them.
func (u *Updater) auditedVersions(ctx context.Context) map[string]string {
	pkgs, err := u.opts.Dpkg.Audit(ctx)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, p := range pkgs {
		if p.Settled() {
			out[p.Name] = p.Version
		}
	}
	return out
}

func unsettled(pkgs []PackageState) []PackageState {
	var out []PackageState
	for _, p := range pkgs {
		if !p.Settled() {
			out = append(out, p)
		}
	}
	return out
}

func describe(pkgs []PackageState) string {
	if len(pkgs) == 0 {
		return "none"
	}
	var out []string
	for _, p := range pkgs {
		s := p.Name + " " + p.Version
		if !p.Settled() {
			s += " (" + p.Status + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

package updater

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
func (u *Updater) recoverDpkg(ctx context.Context) error {
	pkgs, err := u.opts.Dpkg.Audit(ctx)
	if err != nil {
		return u.retryRecovery(err)
	}
	// What the link was before is lost with the state: the check does
	// not hold a link that is down against the kiosk.
	b := Baseline{LinkDown: "unknown: the state file was damaged"}
	errText := u.st.Cause
	var back []string
	if half := unsettled(pkgs); len(half) > 0 {
		errText += "; dpkg left " + describe(half) + " half-done: an install was in flight"
		var debs []string
		for _, p := range half {
			if path, version := u.cachedFor(ctx, p, true); path != "" {
				debs = append(debs, path)
				back = append(back, p.Name+" "+version)
			}
		}
		u.log.Warn("recovering from a cut-off install", "half_done", describe(half), "reinstalling", back)
		// With nothing to reinstall this only finishes what dpkg left.
		if err := u.opts.Dpkg.Install(ctx, debs); err != nil {
			return u.retryRecovery(err)
		}
		if pkgs, err = u.opts.Dpkg.Audit(ctx); err != nil {
			return u.retryRecovery(err)
		}
		if half := unsettled(pkgs); len(half) > 0 {
			return u.retryRecovery(fmt.Errorf("dpkg still has %s half-done", describe(half)))
		}
		if len(back) > 0 {
			errText += "; reinstalled " + strings.Join(back, ", ") + " from the cache"
		} else {
			errText += "; dpkg finished it (dpkg --configure -a)"
		}
	} else {
		errText += "; dpkg has every fengqiao package installed (" + describe(pkgs) + ")"
		herr := u.healthAfter(ctx, b)
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
			if path, version := u.cachedFor(ctx, p, false); path != "" {
				debs = append(debs, path)
				back = append(back, p.Name+" "+version)
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
	if herr := u.healthAfter(ctx, b); herr != nil {
		errText += "; the health check still fails: " + herr.Error()
	}
	u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
	return u.set(status, ReasonStateDamaged, errText)
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
func (u *Updater) cachedFor(ctx context.Context, p PackageState, orSame bool) (path, version string) {
	entries, err := os.ReadDir(u.cache())
	if err != nil {
		return "", ""
	}
	prefix, suffix := p.Name+"_", "_"+u.opts.Arch+".deb"
	var same string
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
			if version == "" {
				path, version = filepath.Join(u.cache(), n), v
			} else if newer, err := u.opts.Dpkg.Compare(ctx, v, version); err == nil && newer > 0 {
				path, version = filepath.Join(u.cache(), n), v
			}
		}
	}
	if path == "" && same != "" && orSame {
		return filepath.Join(u.cache(), same), p.Version
	}
	return path, version
}

// healthAfter runs the health check until it passes or its time is up,
// and returns its last failure.
func (u *Updater) healthAfter(ctx context.Context, b Baseline) error {
	deadline := u.opts.Now().Add(u.opts.HealthTimeout)
	for {
		err := u.opts.Health.Check(ctx, b)
		if err == nil || ctx.Err() != nil || !u.opts.Now().Before(deadline) {
			return err
		}
		if u.opts.Sleep(ctx, u.opts.HealthPoll) != nil {
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

// Package updater owns installing software updates on a kiosk: it takes
// the township's signed update bundles (agent/bundle, kind "update"),
// verifies them against a trust state of its own, fetches the packages
// (agent/update/download), installs them with dpkg inside the maintenance
// window while nobody is using the screen, runs the health check and rolls
// back to the previous packages, kept in its cache, when the check fails or
// the install was cut off by a power cut. It reports each step for kioskd
// to publish on the kiosk's update/reported topic.
//
// It runs in fengqiao-updater, a process of its own started by its own
// systemd unit, because installing fengqiao-kioskd restarts kioskd: the
// process doing the replacing must not be the one replaced. kioskd hands it
// the bundles as they arrive, unverified, through a spool directory (Spool):
// the updater runs as root and kioskd does not, so the updater trusts
// nothing kioskd says but the township's signature, checked with its own
// copy of the township keys. It follows key rotations the same way.
//
// Everything the updater knows is in one state file, rewritten atomically
// (fsync, rename, fsync of the directory) at each change of status, so what
// it does after a power cut follows from the status alone: installing
// means dpkg was cut off (roll back), checking means the check had not
// passed (check again, within what is left of its timeout), rolling_back
// means roll back again.
//
// Unsent records are never at risk: they live in kioskd's outbox under
// /var/lib/fengqiao, which no package owns and dpkg never touches.
package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/update/download"
)

// Why the updater refuses an update it verified. Bundle refusals are
// bundle's sentinels; Reason maps both to the reported reason.
var (
	// ErrWrongArch means the manifest has no packages for this kiosk's
	// architecture.
	ErrWrongArch = errors.New("updater: no packages for this architecture")
	// ErrPackageDowngrade means a package's version is older than the one
	// installed. A bad release is undone by a newer version, never by
	// going back: an old version may have a known hole.
	ErrPackageDowngrade = errors.New("updater: package older than the one installed")
	// ErrNoRollback means the package installed now could not be kept for
	// a rollback (neither in the cache nor repacked): installing without a
	// way back is refused.
	ErrNoRollback = errors.New("updater: the installed version cannot be kept for a rollback")
	// ErrPackageMismatch means a downloaded .deb is not the package,
	// version or architecture the manifest names (its control fields
	// say otherwise), though its hash is the one signed.
	ErrPackageMismatch = errors.New("updater: the .deb is not the package the manifest names")
	// ErrDpkgLocked means another package manager (a technician's apt)
	// holds dpkg's lock: nothing was done, and a later attempt will do.
	ErrDpkgLocked = errors.New("updater: dpkg is locked by another process")
)

// MaxRollbackAttempts is how many failed rollbacks in a row end in
// rollback_failed: reported, and no longer blocking a newer bundle (the
// township's fix), rather than retried for ever.
const MaxRollbackAttempts = 5

// Dpkg is what the updater needs of the package system: dpkg and
// dpkg-query on a kiosk (NewDpkg), a fake in tests.
type Dpkg interface {
	// Installed is the installed version of package name; "" if it is not
	// installed.
	Installed(ctx context.Context, name string) (string, error)
	// Compare orders two Debian versions as dpkg does: <0, 0 or >0.
	Compare(ctx context.Context, a, b string) (int, error)
	// Repack writes a .deb of the installed package name into dir and
	// returns its path: the way back for the first update after a
	// technician's install, whose .deb the cache never saw.
	Repack(ctx context.Context, name, dir string) (string, error)
	// Install installs the .deb files in one run, then finishes whatever
	// an earlier run left half-done. It may take a version back
	// (rollback). With no files it only finishes (recover.go), and then
	// fails if that fails. An error wrapping ErrDpkgLocked means nothing
	// was done.
	Install(ctx context.Context, debs []string) error
	// Remove removes packages (rolling back an update that added one).
	Remove(ctx context.Context, names []string) error
	// Audit lists the fengqiao- packages dpkg knows as installed or left
	// half-done, with the state dpkg has them in: what the updater goes by
	// when its own state file is lost (recover.go).
	Audit(ctx context.Context) ([]PackageState, error)
}

// DebChecker is a Dpkg that can read a .deb file's control fields
// (dpkg-deb): the updater then makes sure each file it keeps as the way
// back is a .deb of the package and version it stands for, and checks it
// again before a rollback installs it.
type DebChecker interface {
	Control(ctx context.Context, path string) (DebControl, error)
}

// DebControl is what a .deb says it is.
type DebControl struct {
	Package, Version, Architecture string
}

// PackageState is one package as dpkg has it.
type PackageState struct {
	Name    string
	Version string
	// Status is dpkg's: installed, or half-installed, unpacked,
	// half-configured, triggers-awaited, triggers-pending (left by a run
	// that was cut off).
	Status string
}

// Settled reports whether dpkg has the package fully installed.
func (p PackageState) Settled() bool { return p.Status == "installed" }

// Screen says whether someone is using the kiosk: asked of kioskd, which
// knows whether a villager's or a mediator's session is on screen.
type Screen interface {
	// InUse reports whether a session is on screen, and what it is.
	InUse(ctx context.Context) (bool, string, error)
}

// Health is the check after an install.
type Health interface {
	// Baseline is taken before the install.
	Baseline(ctx context.Context) Baseline
	// Check says whether the kiosk works: kioskd's API answers, its store
	// opened, the township link is up (or down for the reason it was
	// already down before the install), the UI answers. It is called
	// until it passes or Options.HealthTimeout has passed.
	Check(ctx context.Context, b Baseline) error
}

// Baseline is the kiosk's health before an install, so that the check
// after it does not blame the update for what predates it.
type Baseline struct {
	// LinkDown is why the township link was down before the install; ""
	// if it was up (then it must be up again after).
	LinkDown string `json:"link_down,omitempty"`
	// UIDown is why the UI's unit was not active before the install (not
	// installed, already failed); "" if it was active (then it must be
	// active after). A kiosk without the UI unit, or with it already
	// failed, does not roll back every update for it.
	UIDown string `json:"ui_down,omitempty"`
	// Restarts is systemd's NRestarts of each unit before the install:
	// more after it means the unit crashed and was restarted.
	Restarts map[string]int `json:"restarts,omitempty"`
	// Invocations is systemd's InvocationID of each unit before the
	// install: a unit started since had its NRestarts set back to 0.
	// Missing from state files written before it (then only a count above
	// the baseline's is a crash).
	Invocations map[string]string `json:"invocations,omitempty"`
	// KioskdVersion is the fengqiao-kioskd version the install (or the
	// rollback) puts in place, which kioskd must report; set by the
	// updater, "" when the update leaves kioskd as it is.
	KioskdVersion string `json:"kioskd_version,omitempty"`
}

// Fetcher fetches one package into the cache (download.Fetcher), calling
// progress as bytes arrive.
type Fetcher interface {
	Fetch(ctx context.Context, dir, arch string, p update.Package, progress func(done, total int64)) (string, error)
}

// Options configure an Updater.
type Options struct {
	// Dir holds the state, the trust state, the report and the cache
	// (root's, 0700; the report 0644 for kioskd).
	Dir string
	// Identity is this kiosk's; Arch its Debian architecture; Location
	// the site's time zone, in which maintenance windows are read.
	Identity bundle.Identity
	Arch     string
	Location *time.Location
	// TownshipKeys seed the trust state at first start (the site file's
	// control.township_keys). After that the trust file is authoritative,
	// as kioskd's is.
	TownshipKeys []string

	Dpkg    Dpkg
	Screen  Screen
	Health  Health
	Fetcher Fetcher

	// HealthTimeout is how long the health check may take to pass after
	// an install; zero means 10 minutes.
	HealthTimeout time.Duration
	// HealthPoll is the pause between checks; zero means 5 s.
	HealthPoll time.Duration
	// HealthStable is how long the check must pass without a break
	// before the update counts as installed: one good poll may be kioskd
	// between two crashes. Zero means 2 minutes.
	HealthStable time.Duration

	Log   *slog.Logger
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error // nil: a timer
}

// Updater works through one update at a time. Not safe for concurrent use:
// fengqiao-updater calls it from one loop.
type Updater struct {
	opts  Options
	log   *slog.Logger
	trust *bundle.TrustState
	st    *state
	// trustLost says why there is no trust state although the updater
	// has run before (loadTrust): every bundle is refused with it.
	trustLost error
	// early is the last bundle refused as not yet valid (the kiosk's
	// clock may be what is wrong) or kept while a rollback waits, tried
	// again by RetryEarly.
	early []byte
}

// Open loads the updater's state and trust state (seeding it from
// opts.TownshipKeys at first start).
func Open(opts Options) (*Updater, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 10 * time.Minute
	}
	if opts.HealthPoll <= 0 {
		opts.HealthPoll = 5 * time.Second
	}
	if opts.HealthStable <= 0 {
		opts.HealthStable = 2 * time.Minute
	}
	if !slices.Contains(update.Architectures, opts.Arch) {
		return nil, fmt.Errorf("updater: architecture %q is not one of %s", opts.Arch, strings.Join(update.Architectures, ", "))
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, cacheDir), 0o700); err != nil {
		return nil, fmt.Errorf("updater: %w", err)
	}
	u := &Updater{opts: opts, log: opts.Log}
	st, err := loadState(opts.Dir)
	var damaged *damagedError
	if errors.As(err, &damaged) {
		// Not a reason to stop: a restart loop would leave the township
		// seeing nothing and the kiosk never updated again.
		st, err = u.recoverState(context.Background(), damaged)
	}
	if err != nil {
		return nil, err
	}
	u.st = st
	if err := u.loadTrust(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *Updater) loadTrust() error {
	path := filepath.Join(u.opts.Dir, trustFile)
	data, err := os.ReadFile(path)
	if err == nil {
		t, err := bundle.UnmarshalTrustState(data)
		if err != nil {
			return fmt.Errorf("updater: %s: %w (move it aside, with %s and %s, to trust the site file's keys again)", path, err, stateFile, seededFile)
		}
		u.trust = t
		// Trust seeded by an updater from before the marker: mark it
		// now, so that its loss is noticed even without a state file.
		marker := filepath.Join(u.opts.Dir, seededFile)
		if _, err := os.Lstat(marker); errors.Is(err, os.ErrNotExist) {
			if err := bundle.WriteFileAtomic(marker, []byte(seededText), 0o600); err != nil {
				u.log.Warn("trust marker not written", "err", err)
			}
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("updater: %w", err)
	}
	// The site file's keys are the first trust only. Once the updater has
	// run, a missing trust file was lost (or removed by someone), and
	// seeding it again would undo every key rotation and the replay
	// protection since: refuse every bundle and say so instead.
	for _, f := range []string{stateFile, seededFile} {
		if _, err := os.Lstat(filepath.Join(u.opts.Dir, f)); err == nil {
			u.trustLost = fmt.Errorf("updater: %s is missing but %s shows the updater has run before; "+
				"not trusting the site file's keys again (restore it, or remove %s and %s to start over)",
				path, f, stateFile, seededFile)
			u.log.Error("trust state lost", "err", u.trustLost)
			return nil
		}
	}
	if len(u.opts.TownshipKeys) == 0 {
		return nil // every bundle is refused as signed by an unknown key
	}
	t, err := bundle.NewTrustState(u.opts.TownshipKeys...)
	if err != nil {
		return fmt.Errorf("updater: township keys: %w", err)
	}
	if err := u.saveTrust(t); err != nil {
		return err
	}
	if err := bundle.WriteFileAtomic(filepath.Join(u.opts.Dir, seededFile), []byte(seededText), 0o600); err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	u.trust = t
	return nil
}

const seededText = "trust seeded from the site file's control.township_keys\n"

func (u *Updater) saveTrust(t *bundle.TrustState) error {
	data, err := t.Marshal()
	if err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	if err := bundle.WriteFileAtomic(filepath.Join(u.opts.Dir, trustFile), data, 0o600); err != nil {
		return fmt.Errorf("updater: save trust state: %w", err)
	}
	return nil
}

// Busy reports whether an update is under way (not installed, rolled back
// or rejected yet).
func (u *Updater) Busy() bool { return u.st.active() }

// Reported is the state as kioskd publishes it.
func (u *Updater) Reported() Reported {
	s := u.st
	r := Reported{Kiosk: u.opts.Identity.Kiosk, Township: u.opts.Identity.Township, Status: s.Status,
		Progress: s.Progress, Reason: s.Reason, Error: s.Error, Refused: s.Refused, At: s.At}
	if s.Job != nil {
		r.Version, r.Scope = s.Job.Version, s.Job.Scope
		if m, err := update.Parse(s.Job.Manifest); err == nil && s.Job.Manifest != nil {
			r.Release = m.Release
			if s.Status == StatusWaiting {
				r.NextWindow = m.Window.Next(u.opts.Now(), u.opts.Location)
			}
		}
	}
	return r
}

// save persists the state (the one thing that must reach the disk) and the
// report kioskd reads (which may lag a power cut: it is made again).
func (u *Updater) save() error {
	u.st.At = u.opts.Now().UTC()
	if err := saveJSON(filepath.Join(u.opts.Dir, stateFile), u.st, 0o600); err != nil {
		return err
	}
	r := u.Reported()
	switch {
	case u.st.Job != nil && u.st.Job.Manifest != nil && (u.st.Status == StatusInstalled || u.st.Status == StatusRolledBack || u.st.Status == StatusRollbackFailed):
		r.Packages = u.installedVersions(context.Background())
	case u.st.Job == nil && u.st.Reason == ReasonStateDamaged:
		// No manifest names the packages: report every one of ours.
		r.Packages = u.auditedVersions(context.Background())
	}
	if err := saveJSON(filepath.Join(u.opts.Dir, reportedFile), r, 0o644); err != nil {
		u.log.Warn("report not saved", "err", err)
	}
	return nil
}

func (u *Updater) installedVersions(ctx context.Context) map[string]string {
	m, err := update.Parse(u.st.Job.Manifest)
	if err != nil {
		return nil
	}
	pkgs, _ := m.For(u.opts.Arch)
	out := map[string]string{}
	for _, p := range pkgs {
		if v, err := u.opts.Dpkg.Installed(ctx, p.Name); err == nil && v != "" {
			out[p.Name] = v
		}
	}
	return out
}

// set moves to status with reason and error, and saves.
func (u *Updater) set(status, reason, errText string) error {
	u.st.Status, u.st.Reason, u.st.Error = status, reason, errText
	if status != StatusDownloading {
		u.st.Progress = 0
	}
	return u.save()
}

// Submit takes one envelope from an update or key topic. A replay of the
// bundle already handled (a retained topic delivers it at every
// reconnect) changes nothing; every other outcome is reported.
func (u *Updater) Submit(ctx context.Context, envelope []byte) error {
	return u.submit(ctx, envelope, false)
}

// RetryEarly submits again the last bundle refused as not yet valid, if
// any: the kiosk's clock may have been what was wrong (a cold boot without
// network). A retry that is still too early changes nothing.
func (u *Updater) RetryEarly(ctx context.Context) error {
	if u.early == nil {
		return nil
	}
	return u.submit(ctx, u.early, true)
}

func (u *Updater) submit(ctx context.Context, envelope []byte, retry bool) error {
	if len(envelope) == 0 {
		return nil
	}
	if u.trustLost != nil {
		return u.refuse(0, "trust_state_lost", u.trustLost)
	}
	if u.trust == nil {
		return u.refuse(0, "unknown_key", errors.New("updater: no township key configured (control.township_keys)"))
	}
	v, err := bundle.Verify(envelope, u.trust, u.opts.Identity, u.opts.Now(), bundle.Options{
		Validate: func([]byte) error { return errors.New("a site bundle; the updater takes update bundles") },
		ValidateUpdate: func(content []byte) error {
			_, err := update.Parse(content)
			return err
		},
	})
	if errors.Is(err, bundle.ErrReplay) || retry && errors.Is(err, bundle.ErrNotYetValid) {
		return nil
	}
	u.early = nil
	if errors.Is(err, bundle.ErrNotYetValid) {
		u.early = envelope
	}
	if err != nil {
		var be *bundle.Error
		var version uint64
		if errors.As(err, &be) {
			version = be.Version
		}
		if version == 0 {
			// Refused before its signature was checked: the error may
			// quote the envelope's bytes, which anyone could have put in
			// the spool, and reported.json is world-readable.
			err = fmt.Errorf("%w: a %d-byte envelope refused before its signature was checked", preSignature(err), len(envelope))
		}
		return u.refuse(version, bundle.Reason(err), err)
	}
	if v.Kind == bundle.KindKeyRotation {
		return u.record(v)
	}
	if v.Kind != bundle.KindUpdate {
		return u.refuse(v.Version, "unsupported", fmt.Errorf("updater: a %s bundle", v.Kind))
	}
	if u.st.active() && slices.Contains([]string{StatusInstalling, StatusChecking, StatusRollingBack, StatusRecovering}, u.st.Status) {
		// A rollback (or a recovery) waiting for its next attempt: the
		// bundle, already taken from the spool, is kept and tried again
		// (RetryEarly), and the township sees why it waits.
		u.early = envelope
		u.st.Refused = &Refusal{Version: v.Version, Reason: "install_under_way",
			Error: fmt.Sprintf("an install is under way (%s); version %d waits", u.st.Status, v.Version)}
		return u.save()
	}
	m, err := update.Parse(v.Content)
	if err != nil {
		return u.refuse(v.Version, "schema", err) // Verify parsed it: not reached
	}
	next := &job{Version: v.Version, Scope: v.Scope, Manifest: v.Content, Issued: v.NotBefore}
	if err := u.record(v); err != nil {
		return err
	}
	if last := u.st.Job; last != nil && v.NotBefore.Before(last.Issued) {
		// Issued before the update handled last, and met after it: a
		// township-wide bundle retained for kiosks that missed it, while
		// this kiosk, a pilot, is already on a newer release. Counting in
		// another scope, it is no replay; the later one decides.
		u.log.Info("update bundle issued before the one handled last; ignored", "version", v.Version, "last", last.Version)
		return nil
	}
	if prev := u.st.Job; u.st.active() && prev != nil {
		u.log.Info("update superseded before it was installed", "version", prev.Version, "by", v.Version)
	}
	*u.st = state{Format: stateFormat, Job: next, Status: StatusPending}
	pkgs, err := m.For(u.opts.Arch)
	if err != nil {
		return u.set(StatusRejected, Reason(ErrWrongArch), fmt.Errorf("%w: %w", ErrWrongArch, err).Error())
	}
	todo, err := u.todo(ctx, pkgs)
	if err != nil {
		return u.set(StatusRejected, Reason(err), err.Error())
	}
	if len(todo) == 0 {
		// The pilot kiosks, when the rollout is widened to the township.
		u.log.Info("update already installed", "version", v.Version, "release", m.Release)
		return u.set(StatusInstalled, "", "")
	}
	u.log.Info("update accepted", "version", v.Version, "release", m.Release, "packages", len(todo))
	return u.set(StatusPending, "", "")
}

// refuse reports a bundle refused. While a job is under way the refusal is
// reported beside it, not instead of it.
func (u *Updater) refuse(version uint64, reason string, err error) error {
	u.log.Warn("update bundle refused", "version", version, "reason", reason, "err", err)
	if u.st.active() {
		u.st.Refused = &Refusal{Version: version, Reason: reason, Error: err.Error()}
		return u.save()
	}
	*u.st = state{Format: stateFormat, Status: StatusRejected, Reason: reason, Error: err.Error()}
	if version != 0 {
		u.st.Job = &job{Version: version} // no manifest: nothing of it is used
	}
	return u.save()
}

// record notes v's version in the trust state: from now on the same
// bundle is a replay, whether it installs or rolls back.
func (u *Updater) record(v *bundle.Verified) error {
	t, err := u.trust.Record(v)
	if err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	if err := u.saveTrust(t); err != nil {
		return err
	}
	u.trust = t
	return nil
}

// todo is the packages that differ from what is installed, refusing any
// that would go back.
func (u *Updater) todo(ctx context.Context, pkgs []update.Package) ([]update.Package, error) {
	var out []update.Package
	for _, p := range pkgs {
		have, err := u.opts.Dpkg.Installed(ctx, p.Name)
		if err != nil {
			return nil, fmt.Errorf("updater: %s: %w", p.Name, err)
		}
		if have == "" {
			out = append(out, p)
			continue
		}
		c, err := u.opts.Dpkg.Compare(ctx, p.Version, have)
		if err != nil {
			return nil, fmt.Errorf("updater: %s: %w", p.Name, err)
		}
		switch {
		case c < 0:
			return nil, fmt.Errorf("%w: %s %s, installed %s", ErrPackageDowngrade, p.Name, p.Version, have)
		case c > 0:
			out = append(out, p)
		}
	}
	return out, nil
}

// Step does the next thing the state calls for, if its time has come:
// fetch, wait for the window, install, check, roll back. fengqiao-updater
// calls it in a loop, and first at boot, where it finishes what a power
// cut interrupted. It returns an error only when the state could not be
// saved.
func (u *Updater) Step(ctx context.Context) error {
	switch u.st.Status {
	case StatusPending, StatusDownloading:
		return u.download(ctx)
	case StatusWaiting:
		return u.maybeInstall(ctx)
	case StatusInstalling:
		// dpkg was cut off (a power cut, a kill): whatever it left is not
		// a version anyone tested. Back to the previous one.
		return u.rollback(ctx, "interrupted", "the install was cut off (power cut or restart)")
	case StatusChecking:
		return u.check(ctx)
	case StatusRollingBack:
		if u.opts.Now().Before(u.st.RetryAt) {
			return nil
		}
		return u.rollback(ctx, u.st.Reason, u.st.Cause)
	case StatusRecovering:
		if u.opts.Now().Before(u.st.RetryAt) {
			return nil
		}
		return u.recoverDpkg(ctx)
	}
	return nil
}

func (u *Updater) manifest() (*update.Manifest, []update.Package, error) {
	m, err := update.Parse(u.st.Job.Manifest)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := m.For(u.opts.Arch)
	return m, pkgs, err
}

func (u *Updater) cache() string { return filepath.Join(u.opts.Dir, cacheDir) }

// download fetches what is missing, one attempt per package per Step.
func (u *Updater) download(ctx context.Context) error {
	now := u.opts.Now()
	if now.Before(u.st.RetryAt) {
		return nil
	}
	_, pkgs, err := u.manifest()
	if err != nil {
		return u.set(StatusRejected, "schema", err.Error())
	}
	// Only what differs from what is installed: a package the kiosk
	// already has at that version costs no bytes.
	pkgs, err = u.todo(ctx, pkgs)
	if err != nil {
		return u.set(StatusRejected, Reason(err), err.Error())
	}
	var total, before int64
	for _, p := range pkgs {
		total += p.Size
	}
	if u.st.Status == StatusPending {
		if err := u.set(StatusDownloading, "", ""); err != nil {
			return err
		}
	}
	for _, p := range pkgs {
		base := before
		progress := func(done, _ int64) {
			pct := int((base + done) * 100 / total)
			if pct != u.st.Progress {
				u.st.Progress = pct
				u.save()
			}
		}
		if _, err := u.opts.Fetcher.Fetch(ctx, u.cache(), u.opts.Arch, p, progress); err != nil {
			if errors.Is(err, download.ErrHashMismatch) || errors.Is(err, download.ErrSizeMismatch) {
				// Nothing is installed, and nothing half-fetched stays.
				// The township fixes the server or the manifest and signs
				// a new version.
				return u.set(StatusRejected, Reason(err), err.Error())
			}
			if ctx.Err() != nil {
				return nil
			}
			u.st.Failures++
			u.st.RetryAt = now.Add(backoff(u.st.Failures))
			u.st.Error = err.Error()
			u.log.Warn("download stopped; resuming later", "package", p.Name, "retry_at", u.st.RetryAt, "err", err)
			return u.save()
		}
		before += p.Size
	}
	u.st.Failures, u.st.RetryAt = 0, time.Time{}
	u.log.Info("update downloaded and verified", "version", u.st.Job.Version)
	if err := u.set(StatusWaiting, "", ""); err != nil {
		return err
	}
	return u.maybeInstall(ctx)
}

// backoff is the pause after n failed download attempts in a row: a
// minute, doubling to an hour.
func backoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// maybeInstall installs if the window (or the deadline) and the screen
// allow it.
func (u *Updater) maybeInstall(ctx context.Context) error {
	m, pkgs, err := u.manifest()
	if err != nil {
		return u.set(StatusRejected, "schema", err.Error())
	}
	now := u.opts.Now()
	if !m.MayInstall(now, u.opts.Location) {
		if u.st.Error != "" {
			// Who was at the kiosk in last night's window is no news
			// during the day.
			u.st.Error = ""
			return u.save()
		}
		return nil
	}
	busy, what, err := u.opts.Screen.InUse(ctx)
	if err != nil || busy {
		// Unknown counts as in use: a villager mid-booking must never see
		// the kiosk go away under the finger.
		why := "a session is on screen: " + what
		if err != nil {
			why = "kioskd did not say whether the screen is in use: " + err.Error()
		}
		if u.st.Error != why {
			u.st.Error = why
			return u.save()
		}
		return nil
	}
	return u.install(ctx, pkgs)
}

// install keeps the way back, records it, then runs dpkg.
func (u *Updater) install(ctx context.Context, pkgs []update.Package) error {
	todo, err := u.todo(ctx, pkgs)
	if err != nil {
		return u.set(StatusRejected, Reason(err), err.Error())
	}
	if len(todo) == 0 {
		return u.set(StatusInstalled, "", "")
	}
	var prev, next []pkgRef
	for _, p := range todo {
		path := download.Path(u.cache(), u.opts.Arch, p)
		// Checked again just before dpkg: the file must be the one signed.
		if err := download.VerifyFile(path, p); err != nil {
			os.Remove(path)
			return u.set(StatusRejected, Reason(err), err.Error())
		}
		// What dpkg will install is what the .deb says, not what the
		// manifest says: a mistake in the release (or its signing)
		// would otherwise install another version than the one checked
		// for downgrades and reported.
		if err := u.matchControl(ctx, path, p); err != nil {
			os.Remove(path)
			return u.set(StatusRejected, Reason(err), err.Error())
		}
		next = append(next, pkgRef{Name: p.Name, Version: p.Version, Path: path})
		ref, err := u.keep(ctx, p.Name)
		if err != nil {
			return u.set(StatusRejected, Reason(ErrNoRollback), fmt.Errorf("%w: %s: %w", ErrNoRollback, p.Name, err).Error())
		}
		prev = append(prev, ref)
	}
	b := u.opts.Health.Baseline(ctx)
	b.KioskdVersion = kioskdVersion(next)
	u.st.Previous, u.st.New, u.st.Baseline = prev, next, &b
	// On disk before dpkg starts: a power cut from here on is rolled back.
	if err := u.set(StatusInstalling, "", ""); err != nil {
		return err
	}
	u.log.Info("installing update", "version", u.st.Job.Version, "packages", names(next))
	if err := u.opts.Dpkg.Install(ctx, paths(next)); err != nil {
		if errors.Is(err, ErrDpkgLocked) {
			// Nothing was installed: wait again, try at the next tick.
			u.log.Warn("dpkg is locked; installing later", "err", err)
			u.st.Previous, u.st.New, u.st.Baseline = nil, nil, nil
			return u.set(StatusWaiting, "", err.Error())
		}
		return u.rollback(ctx, "install_failed", err.Error())
	}
	u.st.CheckSince = u.opts.Now().UTC()
	if err := u.set(StatusChecking, "", ""); err != nil {
		return err
	}
	return u.check(ctx)
}

// keep makes sure the version of name installed now is in the cache, and
// returns it.
func (u *Updater) keep(ctx context.Context, name string) (pkgRef, error) {
	have, err := u.opts.Dpkg.Installed(ctx, name)
	if err != nil {
		return pkgRef{}, err
	}
	if have == "" {
		return pkgRef{Name: name}, nil // new: rolling back removes it
	}
	cached := filepath.Join(u.cache(), update.Package{Name: name, Version: have}.FileName(u.opts.Arch))
	if _, err := os.Stat(cached); err == nil {
		ref := pkgRef{Name: name, Version: have, Path: cached}
		if ref.SHA256, err = u.verifyKept(ctx, ref); err == nil {
			return ref, nil
		}
		u.log.Warn("cached package is not the installed one; repacking it", "path", cached, "err", err)
		os.Remove(cached)
	}
	path, err := u.opts.Dpkg.Repack(ctx, name, u.cache())
	if err != nil {
		return pkgRef{}, err
	}
	ref := pkgRef{Name: name, Version: have, Path: path}
	if ref.SHA256, err = u.verifyKept(ctx, ref); err != nil {
		return pkgRef{}, err
	}
	return ref, nil
}

// verifyKept checks that ref's file is a .deb of ref's package and
// version (when the Dpkg can tell: DebChecker), and, when ref has a
// SHA-256 recorded, that the file is still that one. It returns the
// file's SHA-256.
func (u *Updater) verifyKept(ctx context.Context, ref pkgRef) (string, error) {
	sum, err := fileSHA256(ref.Path)
	if err != nil {
		return "", err
	}
	if ref.SHA256 != "" && sum != ref.SHA256 {
		return "", fmt.Errorf("%s changed since it was kept (SHA-256 %s, kept %s)", ref.Path, sum, ref.SHA256)
	}
	if c, ok := u.opts.Dpkg.(DebChecker); ok {
		ctl, err := c.Control(ctx, ref.Path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref.Path, err)
		}
		if ctl.Package != ref.Name || ctl.Version != ref.Version || ctl.Architecture != u.opts.Arch && ctl.Architecture != "all" {
			return "", fmt.Errorf("%s is %s %s (%s), want %s %s", ref.Path, ctl.Package, ctl.Version, ctl.Architecture, ref.Name, ref.Version)
		}
	}
	return sum, nil
}

// matchControl checks that the .deb at path is p by its control fields,
// when the Dpkg can read them (DebChecker).
func (u *Updater) matchControl(ctx context.Context, path string, p update.Package) error {
	c, ok := u.opts.Dpkg.(DebChecker)
	if !ok {
		return nil
	}
	ctl, err := c.Control(ctx, path)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPackageMismatch, p.Name, err)
	}
	if ctl.Package != p.Name || ctl.Version != p.Version || ctl.Architecture != u.opts.Arch && ctl.Architecture != "all" {
		return fmt.Errorf("%w: the manifest names %s %s (%s), the .deb is %s %s (%s)",
			ErrPackageMismatch, p.Name, p.Version, u.opts.Arch, ctl.Package, ctl.Version, ctl.Architecture)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// check runs the health check until it passes or its time is up.
func (u *Updater) check(ctx context.Context) error {
	b := Baseline{}
	if u.st.Baseline != nil {
		b = *u.st.Baseline
	}
	deadline := u.st.CheckSince.Add(u.opts.HealthTimeout)
	// The check must pass for HealthStable without a break; a failure
	// starts the period again (and, once the timeout is over, rolls back).
	var passSince time.Time
	for {
		err := u.opts.Health.Check(ctx, b)
		if ctx.Err() != nil {
			return nil // stopping: the next start checks again
		}
		now := u.opts.Now()
		if err == nil {
			if passSince.IsZero() {
				passSince = now
			}
			if now.Sub(passSince) >= u.opts.HealthStable {
				break
			}
		} else {
			passSince = time.Time{}
			if !now.Before(deadline) {
				return u.rollback(ctx, "health_check", err.Error())
			}
		}
		if err := u.opts.Sleep(ctx, u.opts.HealthPoll); err != nil {
			return nil
		}
	}
	u.log.Info("update installed", "version", u.st.Job.Version)
	// Saved before the cache is pruned: until installed is on disk, a
	// power cut means checking again, and perhaps rolling back with the
	// previous packages, which must still be there.
	u.st.Previous, u.st.New, u.st.Baseline, u.st.CheckSince = nil, nil, nil, time.Time{}
	if err := u.set(StatusInstalled, "", ""); err != nil {
		return err
	}
	u.pruneCache(ctx)
	return nil
}

// rollback puts the previous packages back.
func (u *Updater) rollback(ctx context.Context, reason, errText string) error {
	u.st.Cause = errText
	if err := u.set(StatusRollingBack, reason, errText); err != nil {
		return err
	}
	u.log.Error("rolling back update", "version", u.st.Job.Version, "reason", reason, "err", errText)
	var debs, added []string
	for _, p := range u.st.Previous {
		if p.Version == "" {
			added = append(added, p.Name)
		} else {
			// Still the file kept, and the version it stands for.
			if _, err := u.verifyKept(ctx, p); err != nil {
				return u.rollbackFailed(reason, errText, fmt.Errorf("the previous package is not usable: %w", err))
			}
			debs = append(debs, p.Path)
		}
	}
	if len(debs) > 0 {
		if err := u.opts.Dpkg.Install(ctx, debs); err != nil {
			return u.rollbackFailed(reason, errText, err)
		}
	}
	if len(added) > 0 {
		if err := u.opts.Dpkg.Remove(ctx, added); err != nil {
			return u.rollbackFailed(reason, errText, err)
		}
	}
	// The previous version ran before; check it anyway, so the report says
	// if the kiosk is still unwell.
	b := Baseline{}
	if u.st.Baseline != nil {
		b = *u.st.Baseline
	}
	// The version going back is the one kioskd must report now, and the
	// restarts the failed release caused are not the rollback's.
	b.KioskdVersion = kioskdVersion(u.st.Previous)
	now := u.opts.Health.Baseline(ctx)
	b.Restarts, b.Invocations = now.Restarts, now.Invocations
	deadline := u.opts.Now().Add(u.opts.HealthTimeout)
	for {
		herr := u.opts.Health.Check(ctx, b)
		if herr == nil {
			break
		}
		if ctx.Err() != nil || !u.opts.Now().Before(deadline) {
			errText += "; after the rollback the health check still fails: " + herr.Error()
			break
		}
		if u.opts.Sleep(ctx, u.opts.HealthPoll) != nil {
			break
		}
	}
	u.st.Previous, u.st.New, u.st.Baseline, u.st.CheckSince = nil, nil, nil, time.Time{}
	u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
	if err := u.set(StatusRolledBack, reason, errText); err != nil {
		return err
	}
	u.pruneCache(ctx)
	return nil
}

// rollbackFailed notes a failed rollback attempt: rolling_back stays, and
// the next Step (or boot) tries again after a backoff, until
// MaxRollbackAttempts failed in a row; then rollback_failed, which a newer
// bundle may replace. A locked dpkg did nothing: it counts for nothing.
func (u *Updater) rollbackFailed(reason, errText string, err error) error {
	u.st.Error = errText + "; rollback: " + err.Error()
	if errors.Is(err, ErrDpkgLocked) {
		u.st.RetryAt = u.opts.Now().Add(time.Minute)
		u.log.Warn("rollback waits for dpkg's lock", "retry_at", u.st.RetryAt, "err", err)
		return u.save()
	}
	u.st.Failures++
	if u.st.Failures >= MaxRollbackAttempts {
		u.log.Error("rollback failed; giving up until a newer update", "attempts", u.st.Failures, "err", err)
		u.st.RetryAt = time.Time{}
		return u.set(StatusRollbackFailed, reason, u.st.Error)
	}
	u.st.RetryAt = u.opts.Now().Add(backoff(u.st.Failures))
	u.log.Error("rollback failed; trying again", "retry_at", u.st.RetryAt, "err", err)
	return u.save()
}

// pruneCache leaves in the cache the .deb files of the update's packages
// at the versions installed now, and deletes everything else: the cache
// holds the packages in force, the way back from the next update, and
// nothing more on a small SD card.
func (u *Updater) pruneCache(ctx context.Context) {
	entries, err := os.ReadDir(u.cache())
	if err != nil {
		return
	}
	want := map[string]bool{}
	if _, pkgs, err := u.manifest(); err == nil {
		for _, p := range pkgs {
			if v, err := u.opts.Dpkg.Installed(ctx, p.Name); err == nil && v != "" {
				want[update.Package{Name: p.Name, Version: v}.FileName(u.opts.Arch)] = true
			}
		}
	}
	for _, e := range entries {
		if !want[e.Name()] {
			os.Remove(filepath.Join(u.cache(), e.Name()))
		}
	}
}

// KioskdPackage is the package of kioskd, whose version the health check
// compares with what kioskd reports.
const KioskdPackage = "fengqiao-kioskd"

// kioskdVersion is the version of kioskd among refs; "" if it is not one
// of them (or is not installed).
func kioskdVersion(refs []pkgRef) string {
	for _, r := range refs {
		if r.Name == KioskdPackage {
			return r.Version
		}
	}
	return ""
}

func paths(refs []pkgRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Path)
	}
	return out
}

func names(refs []pkgRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name+"="+r.Version)
	}
	return out
}

// Reason is the short code reported for an updater error: the bundle's
// reason for a bundle refusal, else one of the updater's and download's.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrWrongArch):
		return "wrong_architecture"
	case errors.Is(err, ErrPackageDowngrade):
		return "package_downgrade"
	case errors.Is(err, ErrNoRollback):
		return "no_rollback_package"
	case errors.Is(err, ErrPackageMismatch):
		return "package_mismatch"
	case errors.Is(err, download.ErrHashMismatch):
		return "hash_mismatch"
	case errors.Is(err, download.ErrSizeMismatch):
		return "size_mismatch"
	}
	return bundle.Reason(err)
}

// preSignature is the bundle sentinel err wraps, without err's text.
func preSignature(err error) error {
	for _, s := range []error{bundle.ErrTooLarge, bundle.ErrMalformed,
		bundle.ErrUnknownKey, bundle.ErrBadSignature, bundle.ErrUnsupported, bundle.ErrRetiredKey, bundle.ErrWrongTarget,
		bundle.ErrNotYetValid, bundle.ErrExpired, bundle.ErrReplay, bundle.ErrDowngrade, bundle.ErrSchema} {
		if errors.Is(err, s) {
			return s
		}
	}
	return errors.New("bundle: refused")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

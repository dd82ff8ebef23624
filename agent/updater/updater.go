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
	"errors"
	"fmt"
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
)

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
	// Install installs the .deb files in one run, first finishing whatever
	// an earlier run left half-done. It may take a version back (rollback).
	Install(ctx context.Context, debs []string) error
	// Remove removes packages (rolling back an update that added one).
	Remove(ctx context.Context, names []string) error
	// Audit lists the fengqiao- packages dpkg knows as installed or left
	// half-done, with the state dpkg has them in: what the updater goes by
	// when its own state file is lost (recover.go).
	Audit(ctx context.Context) ([]PackageState, error)
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
	// early is the last bundle refused as not yet valid, tried again by
	// Submit's caller (the kiosk's clock may be what is wrong).
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
			return fmt.Errorf("updater: %s: %w (move it aside to trust the site file's keys again)", path, err)
		}
		u.trust = t
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("updater: %w", err)
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
	u.trust = t
	return nil
}

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
	case u.st.Job != nil && u.st.Job.Manifest != nil && (u.st.Status == StatusInstalled || u.st.Status == StatusRolledBack):
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
		return u.refuse(version, bundle.Reason(err), err)
	}
	if v.Kind == bundle.KindKeyRotation {
		return u.record(v)
	}
	if v.Kind != bundle.KindUpdate {
		return u.refuse(v.Version, "unsupported", fmt.Errorf("updater: a %s bundle", v.Kind))
	}
	if u.st.active() && slices.Contains([]string{StatusInstalling, StatusChecking, StatusRollingBack, StatusRecovering}, u.st.Status) {
		// Not reached from fengqiao-updater's loop, which finishes an
		// install before it reads the spool; the bundle is retained on
		// the broker and comes again at the next reconnect.
		return fmt.Errorf("updater: an install is under way; version %d waits", v.Version)
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
		next = append(next, pkgRef{Name: p.Name, Version: p.Version, Path: path})
		ref, err := u.keep(ctx, p.Name)
		if err != nil {
			return u.set(StatusRejected, Reason(ErrNoRollback), fmt.Errorf("%w: %s: %w", ErrNoRollback, p.Name, err).Error())
		}
		prev = append(prev, ref)
	}
	b := u.opts.Health.Baseline(ctx)
	u.st.Previous, u.st.New, u.st.Baseline = prev, next, &b
	// On disk before dpkg starts: a power cut from here on is rolled back.
	if err := u.set(StatusInstalling, "", ""); err != nil {
		return err
	}
	u.log.Info("installing update", "version", u.st.Job.Version, "packages", names(next))
	if err := u.opts.Dpkg.Install(ctx, paths(next)); err != nil {
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
		return pkgRef{Name: name, Version: have, Path: cached}, nil
	}
	path, err := u.opts.Dpkg.Repack(ctx, name, u.cache())
	if err != nil {
		return pkgRef{}, err
	}
	return pkgRef{Name: name, Version: have, Path: path}, nil
}

// check runs the health check until it passes or its time is up.
func (u *Updater) check(ctx context.Context) error {
	b := Baseline{}
	if u.st.Baseline != nil {
		b = *u.st.Baseline
	}
	deadline := u.st.CheckSince.Add(u.opts.HealthTimeout)
	for {
		err := u.opts.Health.Check(ctx, b)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil // stopping: the next start checks again
		}
		if !u.opts.Now().Before(deadline) {
			return u.rollback(ctx, "health_check", err.Error())
		}
		if err := u.opts.Sleep(ctx, u.opts.HealthPoll); err != nil {
			return nil
		}
	}
	u.log.Info("update installed", "version", u.st.Job.Version)
	u.pruneCache(ctx)
	u.st.Previous, u.st.New, u.st.Baseline, u.st.CheckSince = nil, nil, nil, time.Time{}
	return u.set(StatusInstalled, "", "")
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
			debs = append(debs, p.Path)
		}
	}
	if len(debs) > 0 {
		if err := u.opts.Dpkg.Install(ctx, debs); err != nil {
			// Stay rolling_back: the next Step (or boot) tries again.
			// Nothing better is left to do than what failed.
			u.st.Error = errText + "; rollback: " + err.Error()
			u.st.Failures++
			u.st.RetryAt = u.opts.Now().Add(backoff(u.st.Failures))
			u.log.Error("rollback failed; trying again", "retry_at", u.st.RetryAt, "err", err)
			return u.save()
		}
	}
	if len(added) > 0 {
		if err := u.opts.Dpkg.Remove(ctx, added); err != nil {
			u.st.Error = errText + "; rollback: " + err.Error()
			u.st.Failures++
			u.st.RetryAt = u.opts.Now().Add(backoff(u.st.Failures))
			return u.save()
		}
	}
	// The previous version ran before; check it anyway, so the report says
	// if the kiosk is still unwell.
	b := Baseline{}
	if u.st.Baseline != nil {
		b = *u.st.Baseline
	}
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
	u.pruneCache(ctx)
	u.st.Previous, u.st.New, u.st.Baseline, u.st.CheckSince = nil, nil, nil, time.Time{}
	u.st.Cause, u.st.Failures, u.st.RetryAt = "", 0, time.Time{}
	return u.set(StatusRolledBack, reason, errText)
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
	case errors.Is(err, download.ErrHashMismatch):
		return "hash_mismatch"
	case errors.Is(err, download.ErrSizeMismatch):
		return "size_mismatch"
	}
	return bundle.Reason(err)
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

package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// The spool is how kioskd hands bundles to the updater: kioskd writes each
// envelope it receives on an update or key topic as a file named by its
// hash (so the retained copy delivered at every reconnect is one file), and
// the updater claims each file by renaming it, submits it, and deletes it.
// kioskd need not know whether the updater runs; the updater need not
// trust kioskd (it verifies every envelope).

// MaxSpooled bounds the files waiting in the spool: more means the updater
// is not running, and the broker keeps every bundle retained anyway.
const MaxSpooled = 16

// Spool writes envelope into dir for the updater (kioskd's side). It does
// nothing when MaxSpooled files already wait.
func Spool(dir string, envelope []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("updater: spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("updater: spool: %w", err)
	}
	if len(entries) >= MaxSpooled {
		return fmt.Errorf("updater: spool: %d bundles already wait in %s (is fengqiao-updater running?)", len(entries), dir)
	}
	sum := sha256.Sum256(envelope)
	name := hex.EncodeToString(sum[:16]) + ".json"
	if err := bundle.WriteFileAtomic(filepath.Join(dir, name), envelope, 0o600); err != nil {
		return fmt.Errorf("updater: spool: %w", err)
	}
	return nil
}

// claimSpool takes every envelope waiting in dir, oldest first, removing
// each from the spool.
//
// The spool belongs to the unprivileged fengqiao user, and the updater is
// root: nothing in it is trusted to be what its name says. The directory
// must be a real directory (not a symlink kioskd put in its place), and
// every operation stays inside it (os.Root); an entry is read only if it is
// a regular file, opened without following symlinks or blocking on a FIFO,
// and at most bundle.MaxEnvelopeSize+1 bytes of it. Otherwise kioskd could
// make root rename and delete the updater's own trust and state files, or
// hang or exhaust it on a device file.
func claimSpool(dir string) ([][]byte, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("updater: spool: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("updater: spool: %s is a %v, not a directory; refused", dir, fi.Mode().Type())
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("updater: spool: %w", err)
	}
	defer root.Close()
	// Swapped for a symlink between the Lstat and the open: not the
	// directory looked at.
	if opened, err := root.Stat("."); err != nil || !os.SameFile(fi, opened) {
		return nil, fmt.Errorf("updater: spool: %s changed while it was opened; refused", dir)
	}
	d, err := root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("updater: spool: %w", err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("updater: spool: %w", err)
	}
	type spooled struct {
		name string
		mod  time.Time
	}
	var files []spooled
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue // a temporary file of WriteFileAtomic, or a claimed one
		}
		if !e.Type().IsRegular() {
			continue // a symlink, a FIFO, a device: never an envelope
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, spooled{e.Name(), info.ModTime()})
	}
	// A key rotation is delivered before the bundles signed with the new
	// key (kioskd subscribes to it first); keep that order.
	slices.SortStableFunc(files, func(a, b spooled) int { return a.mod.Compare(b.mod) })
	var out [][]byte
	for _, f := range files {
		claimed := ".claimed-" + f.name
		if err := root.Rename(f.name, claimed); err != nil {
			continue
		}
		data, err := readSpooled(root, claimed)
		root.Remove(claimed)
		if err == nil && len(data) <= bundle.MaxEnvelopeSize {
			out = append(out, data)
		}
	}
	return out, nil
}

// readSpooled reads one claimed entry of the spool, if it is a regular
// file, and no more than one byte past the largest envelope.
func readSpooled(root *os.Root, name string) ([]byte, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return io.ReadAll(io.LimitReader(f, bundle.MaxEnvelopeSize+1))
}

// ProcessSpool submits every envelope waiting in dir.
func (u *Updater) ProcessSpool(ctx context.Context, dir string) error {
	envs, err := claimSpool(dir)
	if err != nil {
		return err
	}
	// Each envelope is tried: one that fails (the state not saved) must
	// not lose the others, already taken from the spool.
	var errs []error
	for _, env := range envs {
		errs = append(errs, u.Submit(ctx, env))
	}
	return errors.Join(errs...)
}

// StatusSource is kioskd's local API as the health check and the screen
// check read it (localclient.Client).
type StatusSource interface {
	Status(ctx context.Context) (apitype.Status, error)
	Presence(ctx context.Context, after uint64, wait time.Duration) (apitype.PresenceEvents, error)
}

// Units the health check watches.
const (
	KioskdUnit = "fengqiao-kioskd.service"
	UIUnit     = "fengqiao-kiosk-ui.service"
)

// KioskHealth is the health check of a real kiosk, asked of kioskd's local
// API and of systemd.
type KioskHealth struct {
	API StatusSource
	// UIActive says whether the UI's unit is running (systemctl
	// is-active fengqiao-kiosk-ui); nil skips the check (a kiosk without
	// a screen session, or tests).
	UIActive func(ctx context.Context) error
	// Restarts is systemd's NRestarts of a unit (systemctl show -p
	// NRestarts); nil skips the comparison.
	Restarts func(ctx context.Context, unit string) (int, error)
	// Invocation is systemd's InvocationID of a unit, new at every start;
	// nil skips it. systemd sets NRestarts back to 0 when a unit is
	// started by hand, as the postinst's restart of kioskd does (seen on
	// the emulated board, make update-boot-test): after a new invocation
	// every restart counted is a crash, whatever the count before.
	Invocation func(ctx context.Context, unit string) (string, error)
}

// Baseline notes whether the township link is down before the install,
// and why; whether the UI's unit is active; and how often systemd has
// restarted kioskd and the UI so far.
func (h KioskHealth) Baseline(ctx context.Context) Baseline {
	var b Baseline
	st, err := h.API.Status(ctx)
	switch {
	case err != nil:
		b.LinkDown = "kioskd did not answer: " + err.Error()
	case st.Broker.State != "connected":
		why := st.Broker.LastError
		if why == "" {
			why = st.Broker.State
		}
		b.LinkDown = why
	}
	if h.UIActive != nil {
		if err := h.UIActive(ctx); err != nil {
			b.UIDown = err.Error()
		}
	}
	if h.Restarts != nil {
		for _, unit := range []string{KioskdUnit, UIUnit} {
			if n, err := h.Restarts(ctx, unit); err == nil {
				if b.Restarts == nil {
					b.Restarts = map[string]int{}
				}
				b.Restarts[unit] = n
			}
			if h.Invocation == nil {
				continue
			}
			if id, err := h.Invocation(ctx, unit); err == nil && id != "" {
				if b.Invocations == nil {
					b.Invocations = map[string]string{}
				}
				b.Invocations[unit] = id
			}
		}
	}
	return b
}

// Check passes when kioskd answers (it listens only once its store is
// open) with the version installed, its link is up unless it was already
// down before the install, the UI's unit is active unless it was not
// before, and systemd restarted neither since the baseline.
func (h KioskHealth) Check(ctx context.Context, b Baseline) error {
	st, err := h.API.Status(ctx)
	if err != nil {
		return fmt.Errorf("kioskd's local API does not answer: %w", err)
	}
	if b.KioskdVersion != "" && !sameVersion(st.Version, b.KioskdVersion) {
		return fmt.Errorf("kioskd reports version %q, the package installed is %s", st.Version, b.KioskdVersion)
	}
	if st.Broker.State != "connected" && b.LinkDown == "" {
		return fmt.Errorf("the township link is %s (%s); it was up before the update", st.Broker.State, st.Broker.LastError)
	}
	if h.UIActive != nil && b.UIDown == "" {
		if err := h.UIActive(ctx); err != nil {
			return fmt.Errorf("the UI is not running: %w", err)
		}
	}
	if h.Restarts != nil {
		for unit, before := range b.Restarts {
			n, err := h.Restarts(ctx, unit)
			if err != nil {
				continue
			}
			if n > before {
				return fmt.Errorf("systemd restarted %s %d times since the update", unit, n-before)
			}
			if n > 0 && h.Invocation != nil && b.Invocations[unit] != "" {
				// Started again since the baseline: a start by hand set the
				// count back to 0, so each restart counted is a crash.
				if id, err := h.Invocation(ctx, unit); err == nil && id != b.Invocations[unit] {
					return fmt.Errorf("systemd restarted %s %d times since the update", unit, n)
				}
			}
		}
	}
	return nil
}

// sameVersion says whether the version a program reports (the upstream
// version it was built with) is the Debian version of its package: equal,
// or equal without the epoch and the Debian revision.
func sameVersion(reported, deb string) bool {
	if reported == deb {
		return true
	}
	if _, v, ok := strings.Cut(deb, ":"); ok {
		deb = v
	}
	if i := strings.LastIndex(deb, "-"); i > 0 {
		deb = deb[:i]
	}
	return reported == deb
}

// KioskScreen says the screen is in use when kioskd says so (GET
// /v1/status screen: the UI's mark that a villager's flow is on screen, or
// a mediator signed in), or when the presence sensor saw someone in front
// of the kiosk within Recent (a villager reading the menu before touching
// it). A kioskd too old to report the screen leaves the sensor alone to go
// by: counting that as in use would hold back for ever the very update
// that brings the newer kioskd.
type KioskScreen struct {
	API    StatusSource
	Recent time.Duration // zero: 5 minutes
	Now    func() time.Time
}

// InUse asks kioskd whether a session is on screen and when someone was
// last seen.
func (s KioskScreen) InUse(ctx context.Context) (bool, string, error) {
	st, err := s.API.Status(ctx)
	if errors.Is(err, localclient.ErrUnavailable) {
		// kioskd not answering serves nobody: not in use, so that the
		// fix for a broken kioskd can be installed.
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	if sc := st.Screen; sc != nil && sc.InUse {
		switch {
		case sc.MediatorSessions > 0:
			return true, fmt.Sprintf("%d mediator session(s) signed in", sc.MediatorSessions), nil
		case sc.Until != nil:
			return true, "a villager's flow on screen until " + sc.Until.Format(time.RFC3339), nil
		}
		return true, "kioskd says the screen is in use", nil
	}
	p, err := s.API.Presence(ctx, 0, 0)
	if errors.Is(err, localclient.ErrUnavailable) {
		// kioskd not answering serves nobody: not in use, so that the
		// fix for a broken kioskd can be installed.
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	recent := s.Recent
	if recent <= 0 {
		recent = 5 * time.Minute
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if p.At != nil && now().Sub(*p.At) < recent {
		return true, "someone at the kiosk at " + p.At.Format(time.RFC3339), nil
	}
	return false, "", nil
}

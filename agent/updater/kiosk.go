package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
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
func claimSpool(dir string) ([][]byte, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
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
		claimed := filepath.Join(dir, ".claimed-"+f.name)
		if err := os.Rename(filepath.Join(dir, f.name), claimed); err != nil {
			continue
		}
		data, err := os.ReadFile(claimed)
		os.Remove(claimed)
		if err == nil && len(data) <= bundle.MaxEnvelopeSize {
			out = append(out, data)
		}
	}
	return out, nil
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

// KioskHealth is the health check of a real kiosk, asked of kioskd's local
// API and of systemd.
type KioskHealth struct {
	API StatusSource
	// UIActive says whether the UI's unit is running (systemctl
	// is-active fengqiao-kiosk-ui); nil skips the check (a kiosk without
	// a screen session, or tests).
	UIActive func(ctx context.Context) error
}

// Baseline notes whether the township link is down before the install,
// and why.
func (h KioskHealth) Baseline(ctx context.Context) Baseline {
	st, err := h.API.Status(ctx)
	switch {
	case err != nil:
		return Baseline{LinkDown: "kioskd did not answer: " + err.Error()}
	case st.Broker.State != "connected":
		why := st.Broker.LastError
		if why == "" {
			why = st.Broker.State
		}
		return Baseline{LinkDown: why}
	}
	return Baseline{}
}

// Check passes when kioskd answers (it listens only once its store is
// open), its link is up unless it was already down before the install,
// and the UI's unit is active.
func (h KioskHealth) Check(ctx context.Context, b Baseline) error {
	st, err := h.API.Status(ctx)
	if err != nil {
		return fmt.Errorf("kioskd's local API does not answer: %w", err)
	}
	if st.Broker.State != "connected" && b.LinkDown == "" {
		return fmt.Errorf("the township link is %s (%s); it was up before the update", st.Broker.State, st.Broker.LastError)
	}
	if h.UIActive != nil {
		if err := h.UIActive(ctx); err != nil {
			return fmt.Errorf("the UI is not running: %w", err)
		}
	}
	return nil
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

package updater

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
)

// Statuses, in the order an update goes through them. installed,
// rolled_back, rejected, rollback_failed and recovered end a job; a new
// bundle starts the next.
const (
	StatusPending     = "pending"            // verified and accepted; nothing fetched yet
	StatusDownloading = "downloading"        // Progress says how far; Error, if set, why the last attempt stopped
	StatusWaiting     = "waiting_for_window" // every package verified in the cache; NextWindow says when
	StatusInstalling  = "installing"         // dpkg is running (at boot: it was cut off)
	StatusChecking    = "checking"           // installed; the health check has not passed yet
	StatusRollingBack = "rolling_back"       // the previous packages are going back
	StatusInstalled   = "installed"
	StatusRolledBack  = "rolled_back" // Reason says why; the previous version is in force
	StatusRejected    = "rejected"    // refused before anything was installed; Reason says why
	// StatusRollbackFailed: MaxRollbackAttempts rollbacks failed in a row;
	// Reason is why the rollback began, Error what failed. The kiosk
	// needs a newer update (accepted) or a technician.
	StatusRollbackFailed = "rollback_failed"
	// StatusRecovering: the state file was damaged and dpkg shows a
	// fengqiao package left half-done (an install was in flight); the
	// previous version is going back from the cache (recover.go).
	StatusRecovering = "recovering"
	// StatusRecovered: the state file was damaged, set aside and started
	// afresh; dpkg showed nothing in flight. Reason is state_damaged.
	StatusRecovered = "recovered"
)

// ReasonStateDamaged is reported when the state file could not be read
// and was set aside (recover.go).
const ReasonStateDamaged = "state_damaged"

// Reported is what the kiosk says about its update, retained on its
// update/reported topic (docs/updates.md) beside config/reported.
type Reported struct {
	Kiosk    string `json:"kiosk"`
	Township string `json:"township"`
	// Version and Scope are of the update bundle this is about; Version
	// is 0 for a bundle refused before its signature was checked.
	Version uint64 `json:"version"`
	Scope   string `json:"scope,omitempty"`
	Release string `json:"release,omitempty"`
	Status  string `json:"status"`
	// Progress is the percentage of the bytes downloaded.
	Progress int    `json:"progress,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// NextWindow is when a waiting kiosk will next be allowed to install.
	NextWindow time.Time `json:"next_window,omitzero"`
	// Packages are the versions of the update's packages installed now.
	Packages map[string]string `json:"packages,omitempty"`
	// Refused is the last bundle refused while another update was under
	// way, so that the township sees it without losing sight of that one.
	Refused *Refusal  `json:"refused,omitempty"`
	At      time.Time `json:"at"`
}

// Refusal is a bundle refused while a job went on.
type Refusal struct {
	Version uint64 `json:"version"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// pkgRef is one package of an install: what it was, or what it becomes, and
// the .deb in the cache that puts it there. An empty Version means not
// installed (a package the update adds: rolling back removes it).
type pkgRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path,omitempty"`
	// SHA256 is the file's, of a previous package: recorded when it was
	// kept, checked before a rollback installs it.
	SHA256 string `json:"sha256,omitempty"`
}

// job is the update being worked on.
type job struct {
	Version uint64 `json:"version"`
	Scope   string `json:"scope"`
	// Manifest is the manifest's bytes as signed; parsed again at each
	// start, so the state file holds nothing a kiosk did not verify.
	Manifest []byte `json:"manifest"`
	// Issued is the bundle's not_before: of two update bundles, the one
	// issued later decides, whatever order they arrive in.
	Issued time.Time `json:"issued,omitzero"`
}

// stateFormat marks the updater's state file.
const stateFormat = "fengqiao-updater-state/v1"

// state is the updater's file, rewritten atomically at each change of
// status, so a power cut at any moment leaves either the state before or
// the state after it. What the updater does at boot follows from the
// status alone (Updater.Step).
type state struct {
	Format string `json:"format"`
	Job    *job   `json:"job,omitempty"`
	Status string `json:"status"`
	// Progress, Reason and Error are as in Reported.
	Progress int    `json:"progress,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// Previous is what was installed before the install began; New what
	// the install puts in place. Both are set before dpkg runs.
	Previous []pkgRef `json:"previous,omitempty"`
	New      []pkgRef `json:"new,omitempty"`
	// Baseline is the health before the install, the reference after it.
	Baseline *Baseline `json:"baseline,omitempty"`
	// CheckSince is when the health check began (its timeout runs from it,
	// across restarts).
	CheckSince time.Time `json:"check_since,omitzero"`
	// Cause is why a rollback began, kept apart from Error, which a failed
	// rollback extends, so that each retry reports the cause once.
	Cause string `json:"cause,omitempty"`
	// Failures counts failed download or rollback attempts in a row;
	// RetryAt is the earliest next attempt.
	Failures int       `json:"failures,omitempty"`
	RetryAt  time.Time `json:"retry_at,omitzero"`
	Refused  *Refusal  `json:"refused,omitempty"`
	At       time.Time `json:"at"`
}

// active reports whether a job is under way (not ended).
func (s *state) active() bool {
	switch s.Status {
	case "", StatusInstalled, StatusRolledBack, StatusRejected, StatusRollbackFailed, StatusRecovered:
		return false
	}
	return true
}

// Files in Options.Dir.
const (
	stateFile    = "state.json"
	reportedFile = "reported.json" // read by kioskd, which publishes it
	trustFile    = "trust.json"
	// seededFile is written when the trust state is first seeded from the
	// site file: the proof, with the state file, that it was (loadTrust).
	// Not a .json name, unlike the files a spool mishap could reach.
	seededFile = "trust-seeded"
	cacheDir   = "cache"
)

func loadState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return &state{Format: stateFormat}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("updater: %w", err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, &damagedError{fmt.Errorf("updater: %s: %w", stateFile, err)}
	}
	if s.Format != stateFormat {
		return nil, &damagedError{fmt.Errorf("updater: %s: format %q, want %q", stateFile, s.Format, stateFormat)}
	}
	return &s, nil
}

// damagedError is a state file that was read but cannot be understood
// (cut short, zeroed by the SD card, edited by hand), as opposed to one
// that could not be read at all.
type damagedError struct{ err error }

func (e *damagedError) Error() string { return e.err.Error() }
func (e *damagedError) Unwrap() error { return e.err }

func saveJSON(path string, v any, perm os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	if err := bundle.WriteFileAtomic(path, append(data, '\n'), perm); err != nil {
		return fmt.Errorf("updater: %w", err)
	}
	return nil
}

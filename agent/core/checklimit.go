package core

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Limits of the checks by a number and a typed secret (the phone's last
// four digits, an anonymous report's code), docs/requests.md:
//
//   - per number: MaxCheckFailures misses within CheckLockout lock that
//     number's typed checks until the oldest of them is CheckLockout old
//     (a sliding window);
//   - kiosk-wide: MaxKioskCheckFailures misses within CheckLockout, of any
//     numbers, pause every typed check on the kiosk for CheckPause, doubled
//     at each pause that follows within CheckPauseMemory of the last (up to
//     MaxCheckPause). A guesser who tries many numbers gets at most
//     MaxKioskCheckFailures tries per window, then ever longer pauses,
//     instead of MaxCheckFailures per request.
//
// A card check is never limited nor counted: a card is not guessed at the
// keypad, and a lock must not keep a villager from their own request.
// The counts are kept in a small file (Options.CheckLimitsFile), written
// atomically on each miss, so a restart does not reset them.
const (
	MaxCheckFailures      = 5
	CheckLockout          = 15 * time.Minute
	MaxKioskCheckFailures = 20
	CheckPause            = 15 * time.Minute
	MaxCheckPause         = 24 * time.Hour
	CheckPauseMemory      = 24 * time.Hour
)

// checkLimits counts misses of typed checks, per number and kiosk-wide.
// One attempt is counted, under the lock, before its proof is verified
// (begin), and taken back only if it proved right (done): parallel checks
// cannot get more tries than the limit.
type checkLimits struct {
	mu    sync.Mutex
	path  string // "" keeps the counts in memory only
	state checkState
}

// checkState is what the file holds: times of misses, no number but the
// request's own (which is on the receipt, not personal data) and no proof.
type checkState struct {
	V           int                    `json:"v"`
	Numbers     map[string][]time.Time `json:"numbers,omitempty"`
	Kiosk       []time.Time            `json:"kiosk,omitempty"`
	PausedUntil time.Time              `json:"paused_until,omitzero"`
	LastPause   time.Time              `json:"last_pause,omitzero"`
	Pauses      int                    `json:"pauses,omitempty"` // pauses in a row (backoff)
}

// load reads the counts from path; a missing file is no misses, an
// unreadable one also (logged by the caller): a damaged file must not
// lock the kiosk's checks for ever.
func (f *checkLimits) load(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.path = path
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("core: check limits: %w", err)
	}
	var st checkState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("core: check limits: %s: %w", path, err)
	}
	f.state = st
	return nil
}

// window drops the misses older than CheckLockout.
func window(ts []time.Time, now time.Time) []time.Time {
	return slices.DeleteFunc(ts, func(t time.Time) bool { return now.Sub(t) >= CheckLockout || t.After(now.Add(CheckLockout)) })
}

// begin counts an attempt at number's typed check as a miss before it is
// verified; it refuses (ErrCheckLocked) when the number is locked or the
// kiosk paused. The attempt must be settled with done.
func (f *checkLimits) begin(number string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &f.state
	if st.PausedUntil.Sub(now) > MaxCheckPause {
		// The clock went back (a cold boot without network): a pause
		// never lasts longer than MaxCheckPause from now.
		st.PausedUntil = now.Add(MaxCheckPause)
	}
	if now.Before(st.PausedUntil) {
		return ErrCheckLocked
	}
	if st.Numbers == nil {
		st.Numbers = map[string][]time.Time{}
	}
	if len(st.Numbers) > 1000 { // a flood of numbers: keep the map bounded
		for n, ts := range st.Numbers {
			if ts = window(ts, now); len(ts) == 0 {
				delete(st.Numbers, n)
			} else {
				st.Numbers[n] = ts
			}
		}
	}
	ts := window(st.Numbers[number], now)
	if len(ts) >= MaxCheckFailures {
		st.Numbers[number] = ts
		return ErrCheckLocked
	}
	st.Numbers[number] = append(ts, now)
	st.Kiosk = append(window(st.Kiosk, now), now)
	return nil
}

// done settles an attempt begun at now: a right proof takes its miss back
// (and clears the number's misses); a wrong one stays counted, may pause
// the kiosk, and is written to the file.
func (f *checkLimits) done(number string, now time.Time, ok bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &f.state
	if ok {
		delete(st.Numbers, number)
		if i := slices.IndexFunc(st.Kiosk, func(t time.Time) bool { return t.Equal(now) }); i >= 0 {
			st.Kiosk = slices.Delete(st.Kiosk, i, i+1)
		}
		return nil
	}
	if len(window(st.Kiosk, now)) >= MaxKioskCheckFailures && !now.Before(st.PausedUntil) {
		if now.Sub(st.LastPause) >= CheckPauseMemory {
			st.Pauses = 0
		}
		pause := CheckPause
		for i := 0; i < st.Pauses && pause < MaxCheckPause; i++ {
			pause *= 2
		}
		pause = min(pause, MaxCheckPause)
		st.Pauses++
		st.LastPause, st.PausedUntil = now, now.Add(pause)
		st.Kiosk = nil // the pause is the penalty; counting starts again after it
	}
	return f.saveLocked()
}

// cancel takes back an attempt begun at now that was not verified (the
// kiosk could not read the request).
func (f *checkLimits) cancel(number string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &f.state
	if ts := st.Numbers[number]; len(ts) > 0 {
		if i := slices.IndexFunc(ts, func(t time.Time) bool { return t.Equal(now) }); i >= 0 {
			st.Numbers[number] = slices.Delete(ts, i, i+1)
		}
	}
	if i := slices.IndexFunc(st.Kiosk, func(t time.Time) bool { return t.Equal(now) }); i >= 0 {
		st.Kiosk = slices.Delete(st.Kiosk, i, i+1)
	}
}

// paused reports whether typed checks are paused kiosk-wide at now.
func (f *checkLimits) paused(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return now.Before(f.state.PausedUntil)
}

// saveLocked writes the counts atomically (a temporary file synced, then
// renamed): a power cut leaves the old counts or the new.
func (f *checkLimits) saveLocked() error {
	if f.path == "" {
		return nil
	}
	f.state.V = 1
	b, err := json.Marshal(f.state)
	if err != nil {
		return fmt.Errorf("core: check limits: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".check-limits-*")
	if err != nil {
		return fmt.Errorf("core: check limits: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("core: check limits: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("core: check limits: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("core: check limits: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("core: check limits: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("core: check limits: %w", err)
	}
	return nil
}

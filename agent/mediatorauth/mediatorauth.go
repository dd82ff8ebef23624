// Package mediatorauth owns who may use mediator mode on a kiosk and for how
// long: it matches the ID card read at sign-in to the site's roster (by the
// SHA-256 of the ID number, so the config holds no ID numbers), checks the
// mediator's PIN against its bcrypt hash, locks a mediator out after repeated
// wrong PINs, and keeps the in-memory sessions that lapse when idle.
//
// Sessions live in memory only: a kioskd restart signs every mediator out,
// which on a shared public kiosk is the safe direction to fail.
package mediatorauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Errors of sign-in and session checks. Callers compare with errors.Is.
var (
	// ErrNotOnRoster means the card read is not a mediator of this kiosk.
	ErrNotOnRoster = errors.New("mediatorauth: card is not on the mediator roster")
	// ErrWrongPIN means the PIN does not match the roster entry.
	ErrWrongPIN = errors.New("mediatorauth: wrong PIN")
	// ErrLocked means too many wrong PINs: the mediator must wait.
	ErrLocked = errors.New("mediatorauth: too many wrong PINs")
	// ErrNoSession means the token is missing, unknown, signed out or lapsed.
	ErrNoSession = errors.New("mediatorauth: no valid mediator session")
)

// Defaults of the lockout: five wrong PINs lock a mediator for five minutes.
// A four-digit PIN then takes weeks to guess at the kiosk, with the card.
const (
	DefaultMaxFailures = 5
	DefaultLockFor     = 5 * time.Minute
)

// Options configure an Auth.
type Options struct {
	Roster      []config.Mediator
	Idle        time.Duration // sessions lapse after this long without a request
	MaxFailures int           // wrong PINs in a row that lock a mediator (default 5)
	LockFor     time.Duration // how long a lock lasts (default 5m)
	Log         *slog.Logger
	Now         func() time.Time
}

// Auth is the roster and the live sessions. Safe for concurrent use.
type Auth struct {
	opts     Options
	mu       sync.Mutex
	sessions map[string]*session // by token
	failures map[string]*failure // by roster id
}

type session struct {
	mediator apitype.Mediator
	entry    config.Mediator // the roster entry signed in with
	lastSeen time.Time
}

type failure struct {
	count       int
	lockedUntil time.Time
}

// New returns an Auth over a validated roster.
func New(opts Options) *Auth {
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.LockFor == 0 {
		opts.LockFor = DefaultLockFor
	}
	return &Auth{opts: opts, sessions: map[string]*session{}, failures: map[string]*failure{}}
}

// HashIDNumber is the roster's id_sha256 of an ID number: hex SHA-256 of the
// number trimmed and upper-cased (a check digit X may be typed as x).
func HashIDNumber(idNumber string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(strings.TrimSpace(idNumber))))
	return hex.EncodeToString(sum[:])
}

// SetRoster replaces the roster and the idle time (a township bundle
// changed them). A signed-in mediator whose roster entry is gone or
// changed (a new PIN after one leaked, another card) is signed out at once.
func (a *Auth) SetRoster(roster []config.Mediator, idle time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.Roster, a.opts.Idle = roster, idle
	for token, s := range a.sessions {
		if !slices.Contains(roster, s.entry) {
			delete(a.sessions, token)
		}
	}
}

// SignIn opens a session for the roster mediator whose ID number was read
// from the card, if pin is theirs.
func (a *Auth) SignIn(idNumber, pin string) (apitype.MediatorSession, error) {
	want := HashIDNumber(idNumber)
	var m *config.Mediator
	a.mu.Lock()
	roster := a.opts.Roster
	a.mu.Unlock()
	for i := range roster {
		if subtle.ConstantTimeCompare([]byte(roster[i].IDSHA256), []byte(want)) == 1 {
			m = &roster[i]
		}
	}
	if m == nil {
		return apitype.MediatorSession{}, ErrNotOnRoster
	}
	now := a.opts.Now()
	a.mu.Lock()
	f := a.failures[m.ID]
	if f != nil && now.Before(f.lockedUntil) {
		a.mu.Unlock()
		return apitype.MediatorSession{}, fmt.Errorf("%w: try again after %s", ErrLocked, f.lockedUntil.Sub(now).Round(time.Second))
	}
	a.mu.Unlock()

	// bcrypt takes tens of milliseconds on purpose; not under the lock.
	if bcrypt.CompareHashAndPassword([]byte(m.PINBcrypt), []byte(pin)) != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		f := a.failures[m.ID]
		if f == nil || !f.lockedUntil.IsZero() && !now.Before(f.lockedUntil) {
			f = &failure{} // a lock that has run out starts the count afresh
			a.failures[m.ID] = f
		}
		f.count++
		if f.count >= a.opts.MaxFailures {
			f.lockedUntil = now.Add(a.opts.LockFor)
			a.opts.Log.Warn("mediator locked out after wrong PINs", "mediator", m.ID, "for", a.opts.LockFor)
			return apitype.MediatorSession{}, fmt.Errorf("%w: try again after %s", ErrLocked, a.opts.LockFor)
		}
		a.opts.Log.Info("mediator sign-in refused: wrong PIN", "mediator", m.ID, "failures", f.count)
		return apitype.MediatorSession{}, ErrWrongPIN
	}

	token, err := newToken()
	if err != nil {
		return apitype.MediatorSession{}, err
	}
	med := apitype.Mediator{ID: m.ID, Name: m.Name}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.opts.Roster, *m) {
		// The roster changed while bcrypt ran: the entry that matched
		// may be the one township IT just removed.
		return apitype.MediatorSession{}, ErrNotOnRoster
	}
	delete(a.failures, m.ID)
	a.expire(now)
	a.sessions[token] = &session{mediator: med, entry: *m, lastSeen: now}
	a.opts.Log.Info("mediator signed in", "mediator", m.ID)
	return apitype.MediatorSession{Token: token, Mediator: med, Expires: now.Add(a.opts.Idle)}, nil
}

// Check returns the mediator of a live session and slides its idle window.
func (a *Auth) Check(token string) (apitype.Mediator, error) {
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(now)
	s, ok := a.sessions[token]
	if token == "" || !ok {
		return apitype.Mediator{}, ErrNoSession
	}
	s.lastSeen = now
	return s.mediator, nil
}

// SignOut ends a session. Signing out twice is not an error.
func (a *Auth) SignOut(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.sessions[token]; ok {
		a.opts.Log.Info("mediator signed out", "mediator", s.mediator.ID)
		delete(a.sessions, token)
	}
}

// Active is the number of live sessions: signed in, not signed out, not
// lapsed.
func (a *Auth) Active() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(a.opts.Now())
	return len(a.sessions)
}

// expire drops lapsed sessions; the map stays as small as the roster.
func (a *Auth) expire(now time.Time) {
	for t, s := range a.sessions {
		if !now.Before(s.lastSeen.Add(a.opts.Idle)) {
			delete(a.sessions, t)
		}
	}
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mediatorauth: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

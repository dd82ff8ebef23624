package mediatorauth

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fengqiao/kiosk/agent/config"
)

func mustEntry(t *testing.T, id, idNumber, pin string) config.Mediator {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return config.Mediator{ID: id, Name: id, IDSHA256: HashIDNumber(idNumber), PINBcrypt: string(h)}
}

// TestSetRoster: a township bundle that removes a mediator, or changes
// their PIN or card, ends their session at once; one that leaves their
// entry as it was does not.
func TestSetRoster(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a1 := mustEntry(t, "m1", "350782198506151236", "1234")
	a2 := mustEntry(t, "m2", "35078219600301402X", "5678")
	auth := New(Options{Roster: []config.Mediator{a1, a2}, Idle: 5 * time.Minute, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	s1, err := auth.SignIn("350782198506151236", "1234")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := auth.SignIn("35078219600301402X", "5678")
	if err != nil {
		t.Fatal(err)
	}
	newPIN := mustEntry(t, "m1", "350782198506151236", "9999")
	auth.SetRoster([]config.Mediator{newPIN, a2}, 5*time.Minute)
	if _, err := auth.Check(s1.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("m1's PIN changed and the session lives on: %v", err)
	}
	if _, err := auth.Check(s2.Token); err != nil {
		t.Errorf("m2's entry is unchanged and the session ended: %v", err)
	}
	if _, err := auth.SignIn("350782198506151236", "1234"); !errors.Is(err, ErrWrongPIN) {
		t.Errorf("the old PIN still signs in: %v", err)
	}
	auth.SetRoster([]config.Mediator{newPIN}, 5*time.Minute)
	if _, err := auth.Check(s2.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("m2 left the roster and the session lives on: %v", err)
	}
	if _, err := auth.SignIn("35078219600301402X", "5678"); !errors.Is(err, ErrNotOnRoster) {
		t.Errorf("a mediator off the roster signs in: %v", err)
	}
}

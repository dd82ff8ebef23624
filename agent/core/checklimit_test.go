package core

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/request"
)

var t0 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

// miss counts one wrong typed proof for number at now; ErrCheckLocked if
// the attempt was refused.
func miss(f *checkLimits, number string, now time.Time) error {
	if err := f.begin(number, now); err != nil {
		return err
	}
	return f.done(number, now, false)
}

// TestCheckLimitsPerNumber: five misses lock a number (sliding window),
// not the others; a right proof clears the number.
func TestCheckLimitsPerNumber(t *testing.T) {
	var f checkLimits
	for i := range MaxCheckFailures {
		if err := miss(&f, "00001", t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("miss %d: %v", i, err)
		}
	}
	if err := f.begin("00001", t0.Add(time.Minute)); !errors.Is(err, ErrCheckLocked) {
		t.Errorf("after %d misses: %v, want locked", MaxCheckFailures, err)
	}
	if err := f.begin("00002", t0.Add(time.Minute)); err != nil {
		t.Errorf("another number: %v", err)
	}
	f.done("00002", t0.Add(time.Minute), true)
	if err := f.begin("00001", t0.Add(CheckLockout+time.Second)); err != nil {
		t.Errorf("once the oldest misses are CheckLockout old: %v", err)
	}
}

// TestCheckLimitsKioskWide: misses spread over many numbers pause every
// typed check on the kiosk, for longer at each pause that follows.
func TestCheckLimitsKioskWide(t *testing.T) {
	var f checkLimits
	now := t0
	guess := func() error {
		now = now.Add(time.Second)
		return miss(&f, fmt.Sprintf("%05d", now.Unix()%100000), now)
	}
	for i := range MaxKioskCheckFailures {
		if err := guess(); err != nil {
			t.Fatalf("miss %d of many numbers: %v", i, err)
		}
	}
	if !f.paused(now) {
		t.Fatalf("%d misses over as many numbers did not pause the kiosk", MaxKioskCheckFailures)
	}
	if err := guess(); !errors.Is(err, ErrCheckLocked) {
		t.Errorf("during the pause: %v, want locked", err)
	}
	now = f.state.PausedUntil
	if f.paused(now) {
		t.Error("still paused after CheckPause")
	}
	first := CheckPause
	for range MaxKioskCheckFailures {
		if err := guess(); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.state.PausedUntil.Sub(now); got != 2*first {
		t.Errorf("the second pause in a row is %v, want %v (backoff)", got, 2*first)
	}
	// A clock set back by a year does not make the pause last a year.
	back := now.AddDate(-1, 0, 0)
	f.begin("00001", back)
	if got := f.state.PausedUntil.Sub(back); got > MaxCheckPause {
		t.Errorf("after the clock went back a year the pause lasts %v, want at most %v", got, MaxCheckPause)
	}
}

// TestCheckLimitsParallel: parallel attempts at one number get no more
// than MaxCheckFailures tries: each is counted before it is verified.
func TestCheckLimitsParallel(t *testing.T) {
	var f checkLimits
	var tries atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.begin("00007", t0) == nil {
				tries.Add(1)
				time.Sleep(time.Millisecond) // verifying
				f.done("00007", t0, false)
			}
		}()
	}
	wg.Wait()
	if n := tries.Load(); n != MaxCheckFailures {
		t.Errorf("%d parallel tries got through, want %d", n, MaxCheckFailures)
	}
}

// TestCheckLimitsSurviveRestart: the counts are written on each miss and
// read back by a new core, so a restart does not reset them.
func TestCheckLimitsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "check-limits.json")
	var f checkLimits
	if err := f.load(path); err != nil {
		t.Fatal(err)
	}
	for i := range MaxCheckFailures {
		if err := miss(&f, "00001", t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v %v", info, err)
	}
	var g checkLimits
	if err := g.load(path); err != nil {
		t.Fatal(err)
	}
	if err := g.begin("00001", t0.Add(time.Minute)); !errors.Is(err, ErrCheckLocked) {
		t.Errorf("after a restart: %v, want still locked", err)
	}
	// A damaged file counts from zero rather than lock for ever.
	os.WriteFile(path, []byte("{not json"), 0o600)
	var h checkLimits
	if err := h.load(path); err == nil {
		t.Error("a damaged file read without error")
	}
	if err := h.begin("00001", t0.Add(time.Minute)); err != nil {
		t.Errorf("after a damaged file: %v", err)
	}
}

// TestCheckAfterSecretLost: a request made under a lost request secret is
// answered "uncheckable", not counted as a miss (its proofs can never
// match, and its villager would lock it out); later numbers as before.
func TestCheckAfterSecretLost(t *testing.T) {
	c, _ := mustCore(t)
	keys, err := request.NewKeys(make([]byte, request.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	c.reqKeys, c.secretLostBelow = keys, 7
	for range MaxCheckFailures + 1 {
		for _, proof := range []apitype.RequestProof{{Phone4: "1234"}, {Code: "12345678"}} {
			if _, err := c.CheckRequest("00007", proof); !errors.Is(err, ErrRequestSecretLost) {
				t.Fatalf("a check of an old request: %v, want ErrRequestSecretLost", err)
			}
		}
	}
	if len(c.checks.state.Kiosk) != 0 {
		t.Errorf("checks of old requests counted %d misses", len(c.checks.state.Kiosk))
	}
	if _, err := c.CheckRequest("00008", apitype.RequestProof{Phone4: "1234"}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("a later number: %v, want ErrNoMatch", err)
	}
}

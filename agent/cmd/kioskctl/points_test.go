package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/points"
)

var pointsNow = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// mustDevPointsKey is a copy of the dev township's points key with the
// mode a key file must have.
func mustDevPointsKey(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../../packaging/dev/dev-points.key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dev-points.key")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pointsSignArgs(t *testing.T, extra ...string) []string {
	return append([]string{"--key", mustDevKey(t), "--points-key", mustDevPointsKey(t), "--township", "dev-township",
		"--kiosks", "dev-kiosk-01", "--site", devSite, "--entries", "testdata/points-entries.csv",
		"--shop", "testdata/points-shop.yaml", "--version", "77", "--as-of", "2026-12-05T08:00:00Z"}, extra...)
}

// TestPointsSign: the export becomes a ledger the dev kiosk verifies and
// reads: balances summed, entries newest first, accounts keyed by the
// points key, no ID number anywhere in the envelope; and the envelope is
// routed to the kiosk's points topic.
func TestPointsSign(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := pointsSign(context.Background(), pointsSignArgs(t), &stdout, &stderr, func() time.Time { return pointsNow }); code != 0 {
		t.Fatalf("points sign = %d\n%s", code, stderr.String())
	}
	env := bytes.TrimSpace(stdout.Bytes())
	cfg, err := config.Load(devSite)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := bundle.NewTrustState(cfg.Site.Control.TownshipKeys...)
	if err != nil {
		t.Fatal(err)
	}
	var l *points.Ledger
	v, err := bundle.Verify(env, trust, bundle.Identity{Kiosk: "dev-kiosk-01", Township: "dev-township"}, pointsNow,
		bundle.Options{Validate: func([]byte) error { return nil }, ValidatePointsLedger: func(c []byte) error {
			l, err = points.Decode(c)
			return err
		}})
	if err != nil {
		t.Fatalf("the dev kiosk refuses it: %v", err)
	}
	k, err := points.ReadKeyFile("../../../packaging/dev/dev-points.key", false)
	if err != nil {
		t.Fatal(err)
	}
	acc := func(id string) points.Account {
		a, err := k.Account(id)
		if err != nil {
			t.Fatal(err)
		}
		return l.Accounts[a]
	}
	if v.Version != 77 || l.Version != 77 || l.Village != "开发村" || len(l.Accounts) != 3 || l.KeyID != points.DevKeyID {
		t.Fatalf("ledger = %+v", l)
	}
	if a := acc("35078219600301402X"); a.Balance != 85 || len(a.Entries) != 2 || a.Entries[0].Date != "2026-12-01" {
		t.Errorf("villager 1 = %+v", a)
	}
	if a := acc("350782197011224419"); a.Balance != 15 || a.Entries[0].Points != -5 {
		t.Errorf("villager 2 = %+v", a)
	}
	js, _ := l.EncodeJSON()
	for _, id := range []string{"35078219600301402", "350782197011224419", "350782198506073020"} {
		if bytes.Contains(js, []byte(id)) || bytes.Contains(env, []byte(id)) {
			t.Errorf("ID number %s… travels in the ledger", id[:6])
		}
	}
	topics, err := pushTopics(env)
	if err != nil || len(topics) != 1 || topics[0] != mqtttopic.PointsLedger("dev-township", "dev-kiosk-01") {
		t.Errorf("push topics = %v, %v", topics, err)
	}

	// --recent 1 keeps the newest entry only; the balance is every entry's.
	stdout.Reset()
	if code := pointsSign(context.Background(), pointsSignArgs(t, "--recent", "1"), &stdout, &stderr, func() time.Time { return pointsNow }); code != 0 {
		t.Fatalf("--recent 1 = %d\n%s", code, stderr.String())
	}
}

// TestPointsSignRefuses: a bad export is refused naming each line, with
// the ID number masked; an unknown kiosk and an untrusted key are refused
// as config sign refuses them.
func TestPointsSignRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	long := strings.Repeat("好", points.MaxReason+1)
	os.WriteFile(bad, []byte("id_number,date,points,reason\n"+
		"350782196003014021,2026-11-20,80,孝老爱亲\n"+
		"35078219600301402X,2026-13-01,5,参加\n"+
		"35078219600301402X,2026-12-01,five,参加\n"+
		"35078219600301402X,2026-12-01,5,"+long+"\n"+
		"35078219600301402X,2026-12-01,0,参加\n"), 0o600)
	// An export without its header row starts with a villager's number;
	// columns out of place put a number where points or a date belong.
	headless := filepath.Join(dir, "headless.csv")
	os.WriteFile(headless, []byte("35078219600301402X,2026-11-20,80,孝老爱亲\n"), 0o600)
	shifted := filepath.Join(dir, "shifted.csv")
	os.WriteFile(shifted, []byte("id_number,date,points,reason\n"+
		"35078219600301402X,2026-11-20,35078219600301402X,孝老爱亲\n"+
		"35078219600301402X,35078219600301402X,5,孝老爱亲\n"), 0o600)
	otherKey := filepath.Join(dir, "other.key")
	if code := run(context.Background(), []string{"keys", "gen", "--out", otherKey}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatal("keys gen")
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad rows", pointsSignArgs(t, "--entries", bad), []string{"line 2: id_number 350782**********21: ", "check character", "line 3: date", "line 4: points", "line 5: reason is 41 characters", "line 6: points 0"}},
		{"no header row", pointsSignArgs(t, "--entries", headless), []string{"line 1 is not the header", "350782**********2X", "add the header row"}},
		{"ID numbers in other columns", pointsSignArgs(t, "--entries", shifted), []string{"line 2: points is not a whole number", "line 3: date is not YYYY-MM-DD"}},
		{"a version that would block every later ledger", pointsSignArgs(t, "--version", "17650000000"), []string{"--version 17650000000", "a year"}},
		{"unknown kiosk", pointsSignArgs(t, "--kiosks", "dev-kiosk-01,dev-kiosk-99"), []string{"dev-kiosk-99", "--allow-unknown-target"}},
		{"untrusted key", pointsSignArgs(t, "--key", otherKey), []string{"--allow-untrusted-key"}},
		{"no points key", pointsSignArgs(t, "--points-key", filepath.Join(dir, "none.key")), []string{"--points-key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := pointsSign(context.Background(), tt.args, &stdout, &stderr, func() time.Time { return pointsNow })
			if code == 0 || stdout.Len() > 0 {
				t.Fatalf("points sign = %d, %d bytes out", code, stdout.Len())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "35078219600301402") {
				t.Errorf("an ID number printed unmasked:\n%s", stderr.String())
			}
		})
	}
}

// TestKeysGenPoints: keys gen --points writes a key a kiosk reads, mode
// 0600, and never overwrites one.
func TestKeysGenPoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "points.key")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"keys", "gen", "--points", "--out", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("keys gen --points = %d\n%s", code, stderr.String())
	}
	k, err := points.ReadKeyFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), k.ID()) || !strings.Contains(stdout.String(), "key_file: "+path) {
		t.Errorf("keys gen --points says:\n%s", stdout.String())
	}
	if code := run(context.Background(), []string{"keys", "gen", "--points", "--out", path}, &stdout, &stderr); code == 0 {
		t.Error("keys gen --points overwrote a key")
	}
}

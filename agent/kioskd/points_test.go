package kioskd

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/points"
)

var pointsT0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

type pointsFixture struct {
	bridge *pointsBridge
	book   *points.Book
	key    *points.Key
	priv   ed25519.PrivateKey

	mu     *sync.Mutex
	alerts *[]core.AlertBody
}

// mustPointsBridge is the points bridge over a real controller on the dev
// site (which trusts the dev township key) and a real book keyed with the
// dev points key.
func mustPointsBridge(t *testing.T) *pointsFixture {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	now := func() time.Time { return pointsT0 }
	dir := t.TempDir()
	ctl, _, err := control.Open(control.Options{Dir: filepath.Join(dir, "control"), Base: cfg, Log: log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	key, err := points.ReadKeyFile("../../packaging/dev/dev-points.key", false)
	if err != nil {
		t.Fatal(err)
	}
	book, err := points.New(points.Options{Dir: dir, SealKey: make([]byte, 32), Key: key, Log: log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	book.Load()
	pem, err := os.ReadFile("../../packaging/dev/dev-township.key")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "township.key")
	os.WriteFile(keyFile, pem, 0o600)
	priv, err := bundle.ReadPrivateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	f := &pointsFixture{book: book, key: key, priv: priv, mu: &sync.Mutex{}, alerts: &[]core.AlertBody{}}
	f.bridge = newPointsBridge(ctl, book, "dev-township", "dev-kiosk-01", log, now)
	f.bridge.alert = func(_ context.Context, a core.AlertBody) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		*f.alerts = append(*f.alerts, a)
		return nil
	}
	return f
}

// ledger is a signed ledger at version v; edit changes it (and the
// bundle) before signing.
func (f *pointsFixture) ledger(t *testing.T, v uint64, edit func(l *points.Ledger, b *bundle.Bundle)) []byte {
	t.Helper()
	acc, _ := f.key.Account("35078219600301402X")
	l := &points.Ledger{Format: points.Format, Village: "开发村", Version: v, AsOf: pointsT0, Month: "2026-12",
		Offers: []points.Offer{}, Rules: []points.Rule{}, KeyID: f.key.ID(),
		Accounts: map[string]points.Account{acc: {Balance: int(v), Entries: []points.Entry{}}}}
	b := bundle.Bundle{Kind: bundle.KindPointsLedger, Version: v,
		Target:    bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01"}},
		NotBefore: pointsT0.Add(-time.Hour), Expires: pointsT0.Add(24 * time.Hour)}
	priv := f.priv
	if edit != nil {
		edit(l, &b)
	}
	content, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b.Content = content
	env, err := bundle.Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (f *pointsFixture) report(t *testing.T) points.Reported {
	t.Helper()
	_, payload, ok := f.bridge.Report()
	var r points.Reported
	if !ok || json.Unmarshal(payload, &r) != nil {
		t.Fatalf("report: %s", payload)
	}
	return r
}

// TestPointsBridgeRefusals: each refusal leaves the ledger in force as it
// was and is reported once with its reason; a replay is counted, not
// listed; a ledger keyed with another points key raises the
// points_key_mismatch alert, once.
func TestPointsBridgeRefusals(t *testing.T) {
	f := mustPointsBridge(t)
	ctx := context.Background()
	f.bridge.handle(ctx, f.ledger(t, 10, nil))
	if v, _ := f.book.InForce(); v != 10 {
		t.Fatalf("in force v%d, want 10", v)
	}
	_, stranger, _ := bundle.GenerateKey()
	other, _ := points.GenerateKey()
	unsigned := f.ledger(t, 11, nil)
	unsigned[len(unsigned)/2] ^= 1
	tests := []struct {
		name   string
		env    []byte
		reason string
	}{
		{"tampered", unsigned, "bad_signature"},
		{"untrusted key", func() []byte {
			f2 := *f
			f2.priv = stranger
			return f2.ledger(t, 11, nil)
		}(), "unknown_key"},
		{"another kiosk", f.ledger(t, 11, func(_ *points.Ledger, b *bundle.Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} }), "wrong_target"},
		{"older", f.ledger(t, 9, nil), "stale"},
		{"version not its bundle's", f.ledger(t, 12, func(l *points.Ledger, _ *bundle.Bundle) { l.Version = 13 }), "version_mismatch"},
		{"another points key", f.ledger(t, 12, func(l *points.Ledger, _ *bundle.Bundle) { l.KeyID = other.ID() }), "points_key_mismatch"},
		{"an answer on the points topic", f.ledger(t, 12, func(_ *points.Ledger, b *bundle.Bundle) { b.Kind = bundle.KindRequestStatus }), "unsupported"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.bridge.handle(ctx, tt.env)
			f.bridge.handle(ctx, tt.env) // retained: comes again at a reconnect
			if v, _ := f.book.InForce(); v != 10 {
				t.Errorf("in force v%d after a refusal, want 10", v)
			}
			r := f.report(t)
			if len(r.Refused) != i+1 || r.Refused[i].Reason != tt.reason {
				t.Errorf("refused = %+v, want %d, the last %s", r.Refused, i+1, tt.reason)
			}
		})
	}
	f.bridge.handle(ctx, f.ledger(t, 10, nil))
	if r := f.report(t); r.Replays != 1 || r.Version != 10 || r.KeyID != points.DevKeyID {
		t.Errorf("report after a replay = %+v", r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(*f.alerts) != 1 || (*f.alerts)[0].Kind != "points_key_mismatch" {
		t.Errorf("alerts = %+v, want one points_key_mismatch", *f.alerts)
	}
	f.bridge.handle(ctx, f.ledger(t, 14, nil))
	if v, _ := f.book.InForce(); v != 14 {
		t.Errorf("a newer ledger after the refusals: v%d in force, want 14", v)
	}
}

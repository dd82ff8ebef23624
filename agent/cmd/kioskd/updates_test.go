package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	townshipctl "github.com/fengqiao/kiosk/agent/township"
)

// TestUpdateHandOff: kioskd spools the update bundles it receives for
// fengqiao-updater, unverified, and publishes the updater's report,
// retained, on update/reported. The key rotation topic, which control and
// the updater both follow, reaches both.
func TestUpdateHandOff(t *testing.T) {
	broker := mosquittotest.Start(t)
	reports := broker.Subscribe(t, mqtttopic.UpdateReported("dev-township", "dev-kiosk-01"))
	configReports := broker.Subscribe(t, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"))
	dataDir := t.TempDir()
	report := filepath.Join(t.TempDir(), "reported.json")
	mustStartKioskd(t, dataDir, broker.URL, "--updater-report", report)
	ctx := context.Background()
	spool := filepath.Join(dataDir, kioskd.UpdateSpoolDir)

	// What kioskd spools is exactly what the township pushed.
	env := []byte(`{"key_id":"0000000000000000","signature":"x","payload":"y"}`)
	if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.TownshipUpdate("dev-township"), env); err != nil {
		t.Fatal(err)
	}
	mustSpooled(t, spool, env, 5*time.Second)

	// A rotation: applied by control, and spooled for the updater.
	priv := mustDevTownshipKey(t)
	newPub, _, _ := bundle.GenerateKey()
	now := time.Now().UTC().Truncate(time.Second)
	rot, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindKeyRotation, Version: 50, Target: bundle.Target{Township: "dev-township"},
		NotBefore: now.Add(-time.Minute), Expires: now.Add(time.Hour),
		Rotation: &bundle.Rotation{PublicKey: newPub, EffectiveVersion: 51}}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.TownshipKey("dev-township"), rot); err != nil {
		t.Fatal(err)
	}
	if r := mustReport(t, configReports, 50, 5*time.Second); r.Status != "applied" {
		t.Errorf("control reported %+v", r)
	}
	mustSpooled(t, spool, rot, 5*time.Second)

	// The updater's report goes out as it is.
	want := []byte(`{"kiosk":"dev-kiosk-01","township":"dev-township","version":7,"status":"waiting_for_window"}`)
	if err := os.WriteFile(report, want, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-reports:
			if bytes.Equal(m.Payload(), want) {
				if !m.Retained() {
					// Delivered live; retained is the broker's flag on
					// messages older than the subscription, so check it
					// with a new subscriber.
					select {
					case again := <-broker.Subscribe(t, mqtttopic.UpdateReported("dev-township", "dev-kiosk-01")):
						if !again.Retained() || !bytes.Equal(again.Payload(), want) {
							t.Errorf("not retained: %s", again.Payload())
						}
					case <-time.After(5 * time.Second):
						t.Error("not retained")
					}
				}
				return
			}
		case <-deadline:
			t.Fatal("the updater's report was not published")
		}
	}
}

// mustSpooled waits for env to be in the spool.
func mustSpooled(t *testing.T, spool string, env []byte, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(spool)
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(spool, e.Name())); err == nil && bytes.Equal(data, env) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%.60s… not spooled in %s", env, spool)
}

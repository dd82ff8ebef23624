package core

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

type stubLink struct{}

func (stubLink) State() (string, time.Time, string) { return "disconnected", time.Time{}, "refused" }

func mustCore(t *testing.T) (*Core, *outbox.Outbox) {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(t.TempDir(), "kiosk.db"), Key: make([]byte, outbox.KeySize), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	return New(Options{Config: cfg, Version: "test", Outbox: ob, Link: stubLink{}, Log: log, Now: time.Now}), ob
}

func mustLastRecord(t *testing.T, ob *outbox.Outbox) record.Envelope {
	t.Helper()
	items, err := ob.Peek(0, 100)
	if err != nil || len(items) == 0 {
		t.Fatalf("queue: %v %v", items, err)
	}
	var env record.Envelope
	if err := json.Unmarshal(items[len(items)-1].Payload, &env); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestTelemetryDescribesTheQueue: the township learns a kiosk's backlog
// from telemetry, which is evictable so that it never crowds out bookings.
func TestTelemetryDescribesTheQueue(t *testing.T) {
	c, ob := mustCore(t)
	ctx := context.Background()
	if err := c.Alert(ctx, AlertBody{Kind: "test", Message: "x"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // give the oldest record an age
	if err := c.Telemetry(ctx); err != nil {
		t.Fatal(err)
	}
	env := mustLastRecord(t, ob)
	if env.Type != TelemetryType || env.Schema != TelemetrySchema || outbox.ClassOf(env.Type) != outbox.Evictable {
		t.Errorf("envelope = %+v", env)
	}
	var body TelemetryBody
	if err := json.Unmarshal(env.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Queue.Depth != 1 || body.OldestAgeSeconds < 1 || body.Broker != "disconnected" || body.Queue.Quota == 0 {
		t.Errorf("telemetry body = %+v", body)
	}
}

func TestAlertIsGovernance(t *testing.T) {
	c, ob := mustCore(t)
	if err := c.Alert(context.Background(), AlertBody{Kind: "store_corrupt", Message: "m", Detail: "d"}); err != nil {
		t.Fatal(err)
	}
	env := mustLastRecord(t, ob)
	if env.Type != AlertType || env.Schema != AlertSchema || outbox.ClassOf(env.Type) != outbox.Governance {
		t.Errorf("alert envelope = %+v", env)
	}
}

package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
)

type stubLink struct{}

func (stubLink) State() (string, time.Time, string) { return "disconnected", time.Time{}, "refused" }

func mustCore(t *testing.T) (*Core, *outbox.Outbox) {
	t.Helper()
	return mustCoreAt(t, time.Now)
}

// mustCoreAt is mustCore with the outbox and the core on the clock now.
func mustCoreAt(t *testing.T, now func() time.Time) (*Core, *outbox.Outbox) {
	t.Helper()
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(t.TempDir(), "kiosk.db"), Key: make([]byte, outbox.KeySize), Log: log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	return New(Options{Config: cfg, Version: "test", Outbox: ob, Link: stubLink{}, Log: log, Now: now}), ob
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
	var clock atomic.Int64 // Unix nanoseconds; the outbox reads it on its own goroutine
	clock.Store(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano())
	c, ob := mustCoreAt(t, func() time.Time { return time.Unix(0, clock.Load()) })
	ctx := context.Background()
	if err := c.Alert(ctx, AlertBody{Kind: "test", Message: "x"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(90 * time.Second)) // the oldest record is 90 s old
	if err := c.Telemetry(ctx); err != nil {
		t.Fatal(err)
	}
	env := mustLastRecord(t, ob)
	if env.Type != schema.TelemetryType || env.Schema != schema.TelemetryV1Schema || outbox.ClassOf(env.Type) != outbox.Evictable {
		t.Errorf("envelope = %+v", env)
	}
	var body schema.TelemetryV1
	if err := json.Unmarshal(env.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Queue.Depth != 1 || body.OldestAgeSeconds != 90 || body.Broker != "disconnected" || body.Queue.Quota == 0 {
		t.Errorf("telemetry body = %+v", body)
	}
}

func TestAlertIsGovernance(t *testing.T) {
	c, ob := mustCore(t)
	if err := c.Alert(context.Background(), AlertBody{Kind: "store_corrupt", Message: "m", Detail: "d"}); err != nil {
		t.Fatal(err)
	}
	env := mustLastRecord(t, ob)
	if env.Type != schema.AlertType || env.Schema != schema.AlertV1Schema || outbox.ClassOf(env.Type) != outbox.Governance {
		t.Errorf("alert envelope = %+v", env)
	}
}

// TestNewRefusesMissingParts: a core without its configuration, outbox or
// link is a wiring bug, found at New rather than by the first request.
func TestNewRefusesMissingParts(t *testing.T) {
	_, ob := mustCore(t)
	cfg, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]Options{
		"Config": {Outbox: ob, Link: stubLink{}},
		"Outbox": {Config: cfg, Link: stubLink{}},
		"Link":   {Config: cfg, Outbox: ob},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), name) {
					t.Errorf("New without %s: recovered %v", name, r)
				}
			}()
			New(opts)
		})
	}
	// The optional parts left out are absent, not a failure.
	c := New(Options{Config: cfg, Outbox: ob, Link: stubLink{}})
	if d := c.Devices(); d.Speech.State != apitype.DeviceAbsent || d.Printer.State != apitype.DeviceAbsent || d.Camera.State != apitype.DeviceAbsent {
		t.Errorf("devices %+v", d)
	}
	if _, err := c.Indicators(); !errors.Is(err, ErrNoCaseBook) {
		t.Errorf("Indicators without a case book = %v", err)
	}
}

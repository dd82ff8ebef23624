package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/township"
)

// statusNow is the township machine's clock in the status tests.
var statusNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// TestConfigTable pins what township IT reads in config status: what is in
// force and since when, apart from the last bundle tried and its result,
// each with its age, and how old the report is.
func TestConfigTable(t *testing.T) {
	rep := func(edit func(r *control.Reported)) *control.Reported {
		r := &control.Reported{Schema: control.ReportedSchema, Kiosk: "k", Township: "dev-township",
			Version: 100, Scope: "township:dev-township", Kind: "site", Status: control.StatusApplied,
			InForce: "township:dev-township", InForceVersion: 100, InForceAt: statusNow.Add(-3 * time.Hour),
			At: statusNow.Add(-3 * time.Hour), PublishedAt: statusNow.Add(-40 * time.Second)}
		edit(r)
		return r
	}
	states := []township.KioskState{
		{Kiosk: "dongcun-01", Online: "online", Reported: rep(func(*control.Reported) {})},
		// The reported bug: a refusal after the good bundle is the last
		// bundle tried, not the kiosk's state: v100 stays in force.
		{Kiosk: "dongcun-02", Online: "online", Reported: rep(func(r *control.Reported) {
			r.Version, r.Scope, r.Kind, r.Status, r.Reason, r.At = 0, "", "", control.StatusRejected, "unknown_key", statusNow.Add(-12*time.Minute)
		})},
		{Kiosk: "xicun-01", Online: "offline", Reported: rep(func(r *control.Reported) {
			r.Version, r.Status, r.Reason, r.At = 102, control.StatusRolledBack, "health_check", statusNow.Add(-50*time.Hour)
			r.InForceAt, r.PublishedAt = statusNow.Add(-72*time.Hour), statusNow.Add(-49*time.Hour)
		})},
		// Applied, but a later-issued kiosk bundle is what is in force.
		{Kiosk: "xicun-02", Online: "online", Reported: rep(func(r *control.Reported) {
			r.InForce, r.InForceVersion = "kiosk:xicun-02", 99
		})},
		// A kioskd from before config-reported/v2: no times but the attempt's.
		{Kiosk: "beicun-01", Online: "online", Reported: rep(func(r *control.Reported) {
			r.Schema, r.InForceAt, r.PublishedAt = "", time.Time{}, time.Time{}
		})},
		{Kiosk: "nancun-01", Online: "online"},
		{Kiosk: "nancun-02", Reported: rep(func(r *control.Reported) {
			r.InForce, r.InForceVersion, r.Status, r.Reason = "", 0, control.StatusRejected, "schema"
		})},
	}
	var out bytes.Buffer
	writeConfigTable(&out, states, statusNow)
	mustGolden(t, "config-status.txt", out.Bytes())
}

func mustGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestConfigStatusFresh: config status reads the kiosk's retained report
// from a real broker and shows the last one published, with the bundle in
// force apart from a refusal, never an older report.
func TestConfigStatusFresh(t *testing.T) {
	broker := mosquittotest.Start(t)
	conn := township.Conn{Broker: broker.URL}
	publish := func(r control.Reported) {
		t.Helper()
		r.Schema, r.Kiosk, r.Township, r.PublishedAt = control.ReportedSchema, "dev-kiosk-01", "dev-township", time.Now().UTC()
		data, _ := json.Marshal(r)
		if err := township.Push(context.Background(), conn, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"), data); err != nil {
			t.Fatal(err)
		}
	}
	status := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := configStatus(context.Background(), []string{"--broker", broker.URL, "--township", "dev-township", "--wait", "300ms"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	now := time.Now().UTC()
	publish(control.Reported{Status: control.StatusRejected, Reason: "unknown_key", At: now.Add(-time.Hour)})
	if out := status(); !strings.Contains(out, "site file") || !strings.Contains(out, "rejected: unknown_key") || !strings.Contains(out, "1h ago") {
		t.Errorf("after the refusal:\n%s", out)
	}
	publish(control.Reported{Version: 101, Scope: "township:dev-township", Kind: "site", Status: control.StatusApplied,
		InForce: "township:dev-township", InForceVersion: 101, InForceAt: now, At: now})
	out := status()
	if strings.Contains(out, "unknown_key") || !strings.Contains(out, "v101 (township)") {
		t.Errorf("after the good bundle, status still shows the refusal or not the bundle in force:\n%s", out)
	}
	if row := strings.Split(strings.TrimSpace(out), "\n")[1]; !strings.Contains(row, "0s ago") && !strings.Contains(row, "1s ago") {
		t.Errorf("the fresh report is not shown as fresh: %s", row)
	}
}

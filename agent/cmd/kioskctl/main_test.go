package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
)

// TestDefaultSocket: kioskd, kiosk-ui, kioskctl and fengqiao-updater find
// one another without --socket on a packaged kiosk, and a technician who
// runs kioskctl where kioskd is elsewhere is told which path was tried and
// which flag names another.
func TestDefaultSocket(t *testing.T) {
	if defaultSocket != "/run/fengqiao/kioskd.sock" {
		t.Errorf("default socket %q, want the packaging layout's /run/fengqiao/kioskd.sock", defaultSocket)
	}
	for _, args := range [][]string{{"outbox", "status"}, {"outbox", "dead"}, {"outbox", "requeue", "1"}, {"link", "retry"}} {
		var out bytes.Buffer
		code := run(context.Background(), args, &out, &out)
		if code != 1 || !strings.Contains(out.String(), "no kioskd answers on "+defaultSocket) || !strings.Contains(out.String(), "--socket PATH") {
			t.Errorf("kioskctl %v without kioskd = %d %q; want 1 naming %s and --socket", args, code, out.String(), defaultSocket)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{nil, 2, "Usage:"},
		{[]string{"-h"}, 0, "township watch"},
		{[]string{"version"}, 0, "kioskctl "},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"township", "watch"}, 2, "--broker is required"},
		{[]string{"township", "watch", "--broker", "tcp://127.0.0.1:1"}, 1, "connect"},
		{[]string{"board", "screen", "--site", "../../../firmware-configs/sites/dev.yaml"}, 0, "1280x800 0\n"},
		{[]string{"board", "screen", "--site", "../../../firmware-configs/sites/template.yaml"}, 1, "board is not filled in"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("kioskctl %v = %d %q; want %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}

// mustKioskd serves the real local API over a real outbox holding one queued
// record and one dead letter, on a unix socket.
func mustKioskd(t *testing.T) (socket string, ob *outbox.Outbox) {
	t.Helper()
	cfg, err := config.Load("../../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	ob, err = outbox.Open(outbox.Options{Path: filepath.Join(dir, "kiosk.db"), Key: make([]byte, outbox.KeySize), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	for range 2 {
		env, _ := record.New(record.Source{Kiosk: "dev-kiosk-01"}, "booking", "booking/v1", map[string]string{}, time.Now())
		if _, err := ob.Enqueue(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.Fail(1, "too large to publish", true); err != nil {
		t.Fatal(err)
	}
	agent := core.New(core.Options{Config: cfg, Version: "test", Outbox: ob, Link: stubLink{}, Log: log, Now: time.Now})
	socket = filepath.Join(dir, "api.sock")
	ln, err := localapi.Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { localapi.Serve(ctx, ln, localapi.NewHandler(agent, stubLink{}, nil, log)); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return socket, ob
}

type stubLink struct{}

func (stubLink) State() (string, time.Time, string) { return "connecting", time.Now(), "" }
func (stubLink) Nudge()                             {}

func TestOutboxCommands(t *testing.T) {
	socket, ob := mustKioskd(t)
	missing := filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"outbox", "status", "--socket", socket}, 0, []string{"waiting", "1 records", "dead letters   1"}},
		{[]string{"outbox", "status", "--socket", socket, "--json"}, 0, []string{`"dead_letters": 1`, `"depth": 1`}},
		{[]string{"outbox", "dead", "--socket", socket}, 0, []string{"SEQ", "too large to publish"}},
		{[]string{"outbox", "requeue", "--socket", socket}, 2, []string{"name the seq"}},
		{[]string{"outbox", "requeue", "--socket", socket, "7"}, 1, []string{"404"}},
		{[]string{"outbox", "requeue", "--socket", socket, "1"}, 0, []string{"requeued 1"}},
		{[]string{"outbox", "dead", "--socket", socket}, 0, []string{"no dead letters"}},
		{[]string{"link", "retry", "--socket", socket}, 0, []string{"now"}},
		{[]string{"outbox", "status", "--socket", missing}, 1, []string{"no kioskd answers on " + missing, "--socket PATH"}},
		{[]string{"link", "retry", "--socket", missing}, 1, []string{"no kioskd answers on " + missing, "--socket PATH"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(context.Background(), tt.args, &out, &out)
		ok := code == tt.code
		for _, c := range tt.contains {
			ok = ok && strings.Contains(out.String(), c)
		}
		if !ok {
			t.Errorf("kioskctl %v = %d\n%s\nwant %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
	if ob.Depth() != 2 {
		t.Errorf("after requeue depth = %d, want 2", ob.Depth())
	}
}

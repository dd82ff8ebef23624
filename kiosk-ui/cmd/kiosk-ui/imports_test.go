package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbidden are packages the UI process must never link: storage, MQTT and
// hardware belong to kioskd, so that the UI can crash without losing a record
// and never races kioskd for a device or the store.
var forbidden = []string{"go.etcd.io/bbolt", "github.com/eclipse/paho", "periph.io/", "github.com/tarm/serial",
	"github.com/blackjack/webcam", "github.com/fengqiao/kiosk/drivers/"}

func TestUIDoesNotImportAgentInternals(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/fengqiao/kiosk/kiosk-ui/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list returned only %d packages; the check would prove nothing", len(deps))
	}
	for _, dep := range deps {
		for _, bad := range forbidden {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("kiosk-ui depends on %s", dep)
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		w, h float32
		ok   bool
	}{
		{"", 0, 0, true},
		{"1280x800", 1280, 800, true},
		{"1280", 0, 0, false},
		{"0x800", 0, 0, false},
		{"axb", 0, 0, false},
	}
	for _, tt := range tests {
		s, err := parseSize(tt.in)
		if (err == nil) != tt.ok || s.Width != tt.w || s.Height != tt.h {
			t.Errorf("parseSize(%q) = %v, %v", tt.in, s, err)
		}
	}
}

// TestStartsWithoutFyneErrors: package initialisation asks Fyne for
// nothing that needs a running app. A theme icon looked up in a package
// variable logged "Attempt to access current Fyne app when none is
// started" at every start, and came from Fyne's default theme. --version
// runs every package's init and exits before the app starts. LANG is the
// kiosk session's (packaging/deb/kiosk-ui/kiosk-session, make run).
func TestStartsWithoutFyneErrors(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kiosk-ui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "LANG=zh_CN.UTF-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), "kiosk-ui ") {
		t.Fatalf("kiosk-ui --version: %q, %v", out, err)
	}
	if stderr.Len() > 0 {
		t.Errorf("kiosk-ui --version wrote to stderr:\n%s", stderr.String())
	}
}

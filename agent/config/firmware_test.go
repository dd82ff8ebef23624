package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryFirmwareConfig loads and validates every board profile and site
// file shipped in firmware-configs/, and checks that each of them, given a
// key it does not know, is refused: a misspelt key must never fall back to
// a default on a kiosk in a village hall.
func TestEveryFirmwareConfig(t *testing.T) {
	root := "../../firmware-configs"
	boards, _ := filepath.Glob(filepath.Join(root, "boards", "*.yaml"))
	sites, _ := filepath.Glob(filepath.Join(root, "sites", "*.yaml"))
	if len(boards) < 4 || len(sites) < 1 {
		t.Fatalf("firmware-configs has %d boards and %d sites; want the four boards (dev-sim, rpi4, rpi5, rk3568) and a site", len(boards), len(sites))
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() != "boards" && e.Name() != "sites" && e.Name() != "bringup" {
			t.Errorf("firmware-configs/%s: only boards/, sites/ and bringup/ belong here", e.Name())
		}
	}
	for _, path := range boards {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := LoadBoard(path)
			if err != nil {
				t.Fatal(err)
			}
			if b.Name+".yaml" != filepath.Base(path) {
				t.Errorf("board %q is in %s: name the file after the board", b.Name, path)
			}
			mustRefuseUnknownKey(t, path, func(p string) error { _, err := LoadBoard(p); return err })
		})
	}
	// Every real board has its firmware settings written down for the
	// technician who brings it up.
	bringup, err := os.ReadFile(filepath.Join(root, "bringup", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range boards {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		if name != "dev-sim" && !strings.Contains(string(bringup), "| `"+name+"` |") {
			t.Errorf("firmware-configs/bringup/README.md says nothing of board %s", name)
		}
	}
	for _, path := range sites {
		if filepath.Base(path) == templateSite {
			continue // TestPackagedSiteTemplate
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := Load(path); err != nil {
				t.Fatal(err)
			}
			mustRefuseUnknownKey(t, path, func(p string) error { _, err := Load(p); return err })
		})
	}
}

// mustRefuseUnknownKey copies path next to itself (so relative board
// paths still resolve) with an unknown key in a nested block and checks
// load names it.
func mustRefuseUnknownKey(t *testing.T, path string, load func(string) error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	block := "screen:\n"
	if !strings.Contains(text, "\n"+block) {
		block = "kiosk:\n"
	}
	text = strings.Replace(text, "\n"+block, "\n"+block+"  colour_depth: 24\n", 1)
	tmp := filepath.Join(filepath.Dir(path), ".unknown-key-"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp)
	err = load(tmp)
	if err == nil || !strings.Contains(err.Error(), "colour_depth") || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("an unknown key was not refused: %v", err)
	}
}

func TestHardwareProblems(t *testing.T) {
	rpi4, err := os.ReadFile("../../firmware-configs/boards/rpi4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, field, msg string
	}{
		{"bad pin name", "pin: GPIO17", "pin: GPIO 17", "gpio.pir.pin", "not a GPIO line name"},
		{"same pin twice", "pin: GPIO27", "pin: GPIO17", "gpio.tamper.pin", "already listed"},
		{"debounce too long", "    pin: GPIO17          # header pin 11; HC-SR501 output, high on motion", "    pin: GPIO17\n    debounce: 5s", "gpio.pir.debounce", "out of range"},
		{"unknown gpio driver", "driver: host", "driver: sysfs", "gpio.driver", "sysfs"},
		{"relative camera device", "device: /dev/video0", "device: video0", "cameras[0].device", "absolute device path"},
		{"an http camera on the board", "driver: v4l2", "driver: http", "cameras[0].driver", "http"},
		{"camera name twice", "cameras:\n", "cameras:\n  - name: kiosk-front\n    driver: simulated\n", "cameras[1].name", "already listed"},
		{"two consent cameras", "cameras:\n", "cameras:\n  - name: side\n    driver: simulated\n    consent_photos: true\n", "cameras", "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := string(rpi4)
			if !strings.Contains(text, tt.old) {
				t.Fatalf("rpi4.yaml lacks %q", tt.old)
			}
			path := filepath.Join(t.TempDir(), "rpi4.yaml")
			os.WriteFile(path, []byte(strings.Replace(text, tt.old, tt.new, 1)), 0o644)
			_, err := LoadBoard(path)
			if err == nil || !strings.Contains(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %s on %s", err, tt.msg, tt.field)
			}
		})
	}
	site, board := mustReadDev(t)
	for _, tt := range []struct{ name, cams, field, msg string }{
		{"credentials in the URL", "  - name: gate\n    driver: http\n    url: http://viewer:secret@10.0.0.21/snap.jpg\n", "cameras[0].url", "carries credentials"},
		{"not an http URL", "  - name: gate\n    driver: http\n    url: rtsp://10.0.0.21/stream\n", "cameras[0].url", "http:// or https://"},
		{"a v4l2 camera in the site", "  - name: gate\n    driver: v4l2\n    device: /dev/video0\n", "cameras[0].driver", "v4l2"},
		{"same name as the board's", "  - name: kiosk-front\n    driver: simulated\n", "cameras[0].name", "also a camera of the board"},
		{"password without user", "  - name: gate\n    driver: http\n    url: http://10.0.0.21/snap.jpg\n    password_file: gate.pass\n", "cameras[0].username", "required with password_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			i := strings.Index(site, "\ncameras:\n") + len("\ncameras:\n")
			j := strings.Index(site[i:], "\ncontent:") + i
			dir := mustWriteConfig(t, site[:i]+tt.cams+site[j:], board)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %s on %s", err, tt.msg, tt.field)
			}
		})
	}
}

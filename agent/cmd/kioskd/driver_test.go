package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownDriverRefusedAtStart: a board profile naming a driver kioskd
// does not have stops kioskd before it opens anything, with the exit status
// of a refused configuration and the file and line to fix.
func TestUnknownDriverRefusedAtStart(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "") // exit at once, not after configRetry
	dir := t.TempDir()
	copyFile := func(from, to string, edit func(string) string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, []byte(edit(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	site := filepath.Join(dir, "sites", "dev.yaml")
	board := filepath.Join(dir, "boards", "dev-sim.yaml")
	copyFile(devConfig, site, func(s string) string { return s })
	line := 0
	copyFile(filepath.Join(filepath.Dir(devConfig), "../boards/dev-sim.yaml"), board, func(s string) string {
		i := strings.Index(s, "\ncameras:")
		i += strings.Index(s[i:], "driver: simulated")
		line = strings.Count(s[:i], "\n") + 1
		return s[:i] + "driver: rtsp" + s[i+len("driver: simulated"):]
	})
	var out bytes.Buffer
	data := filepath.Join(dir, "data")
	code := run([]string{"--config", site, "--data", data, "--socket", filepath.Join(dir, "kioskd.sock")}, &out, &out)
	want := fmt.Sprintf(`%s:%d: cameras[0].driver: "rtsp" is not one of v4l2, simulated`, board, line)
	if code != exitConfig || !strings.Contains(out.String(), want) {
		t.Errorf("kioskd = %d %q; want %d with %q", code, out.String(), exitConfig, want)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("kioskd made its data directory before refusing the configuration (%v)", err)
	}
}

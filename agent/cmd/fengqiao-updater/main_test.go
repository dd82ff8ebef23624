package main

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"-h"}, 0, "installs the township's signed updates"},
		{[]string{"--version"}, 0, "fengqiao-updater "},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"--health-timeout", "0s"}, 2, "must be positive"},
		{[]string{"--health-timeout", "soon"}, 2, "invalid value"},
		{[]string{"--health-stable", "0s"}, 2, "--health-stable must be positive"},
		{[]string{"--health-stable", "-1m"}, 2, "--health-stable must be positive"},
		{[]string{"--health-stable", "soon"}, 2, "invalid value"},
		// A site file it cannot load: EX_CONFIG, as kioskd, for systemd to
		// retry without a crash loop in the journal's eyes.
		{[]string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, 78, "none.yaml"},
		{[]string{"--config", "../../../firmware-configs/sites/dev.yaml", "--dir", t.TempDir(), "--arch", "sparc"}, 1, "architecture"},
	} {
		var out bytes.Buffer
		if code := run(tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("fengqiao-updater %v = %d %q; want %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}

func TestDebArch(t *testing.T) {
	want := map[string]string{"arm": "armhf", "arm64": "arm64", "amd64": "amd64"}[runtime.GOARCH]
	if want != "" && debArch() != want {
		t.Errorf("debArch() = %q on %s", debArch(), runtime.GOARCH)
	}
}

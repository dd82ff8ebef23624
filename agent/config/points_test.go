package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/agent/points"
)

// TestPointsKeyFile: the points key file is read when the site file
// loads; a production kiosk refuses one others may read and the dev
// township's, whose key is committed.
func TestPointsKeyFile(t *testing.T) {
	dir := t.TempDir()
	devKey, err := os.ReadFile("../../packaging/dev/dev-points.key")
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "dev-points.key")
	os.WriteFile(dev, devKey, 0o600)
	k, err := points.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(dir, "points.key")
	os.WriteFile(own, k.Text(), 0o600)
	open := filepath.Join(dir, "open.key")
	os.WriteFile(open, k.Text(), 0o644)
	garbage := filepath.Join(dir, "garbage.key")
	os.WriteFile(garbage, []byte("not a key\n"), 0o600)
	keyFile := func(path string) func(string) string {
		return replace("  key_file: \"\"\n", "  key_file: "+path+"\n")
	}
	production := func(path string) func(string) string {
		return func(s string) string { return replace("mode: dev ", "mode: production ")(keyFile(path)(s)) }
	}
	tests := []struct {
		name    string
		edit    func(string) string
		wantMsg string // "" : no points problem
	}{
		{"none", func(s string) string { return s }, ""},
		{"the township's own", keyFile(own), ""},
		{"the dev key on a dev kiosk", keyFile(dev), ""},
		{"others may read it on a dev kiosk", keyFile(open), ""},
		{"missing", keyFile(filepath.Join(dir, "none.key")), "no such file"},
		{"not a key", keyFile(garbage), "is not the base64 of a key"},
		{"the dev key in production", production(dev), "is committed in packaging/dev/dev-points.key"},
		{"others may read it in production", production(open), "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, board := mustReadDev(t)
			cfg, err := Load(mustWriteConfig(t, tt.edit(site), board))
			var ce *Error
			var got string
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					if p.Field == "points.key_file" {
						got = p.Msg
					}
				}
			}
			switch {
			case tt.wantMsg == "" && got != "":
				t.Errorf("refused: %s", got)
			case tt.wantMsg != "" && !strings.Contains(got, tt.wantMsg):
				t.Errorf("points.key_file problem %q, want one saying %q (all: %v)", got, tt.wantMsg, err)
			case tt.wantMsg == "" && err == nil && tt.name == "the township's own" && cfg.PointsKeyFile() != own:
				t.Errorf("PointsKeyFile = %q, want %q", cfg.PointsKeyFile(), own)
			}
		})
	}
}

// TestOverridePointsKeyFile: kioskd --points-key is checked as the site
// file's setting: the dev key on a dev kiosk, not on a production one.
func TestOverridePointsKeyFile(t *testing.T) {
	cfg, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.OverridePointsKeyFile("../../packaging/dev/dev-points.key"); err != nil || !filepath.IsAbs(cfg.PointsKeyFile()) {
		t.Errorf("the dev key on the dev site: %v, %q", err, cfg.PointsKeyFile())
	}
	if err := cfg.OverridePointsKeyFile(filepath.Join(t.TempDir(), "none.key")); err == nil || !strings.Contains(err.Error(), "--points-key") {
		t.Errorf("a missing key: %v", err)
	}
	cfg.Site.Mode = ModeProduction
	if err := cfg.OverridePointsKeyFile("../../packaging/dev/dev-points.key"); err == nil {
		t.Error("the dev key taken on a production kiosk")
	}
}

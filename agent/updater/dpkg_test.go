package updater

import (
	"context"
	"os/exec"
	"slices"
	"testing"
)

// TestRealDpkg asks this machine's dpkg, where there is one: the updater
// leaves version order to dpkg, so these are dpkg's answers, not ours.
func TestRealDpkg(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg here")
	}
	d := NewDpkg("amd64")
	ctx := context.Background()
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.4.0-1", "1.4.0-1", 0},
		{"1.3.0-1", "1.4.0-1", -1},
		{"1.10.0-1", "1.9.0-1", 1},
		{"1.4.0~rc1-1", "1.4.0-1", -1}, // a release candidate comes before
		{"1:1.0-1", "9.9-1", 1},        // the epoch wins
		{"1.4.0-1+b1", "1.4.0-1", 1},
	} {
		got, err := d.Compare(ctx, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
	if v, err := d.Installed(ctx, "dpkg"); err != nil || v == "" {
		t.Errorf("Installed(dpkg) = %q, %v", v, err)
	}
	if v, err := d.Installed(ctx, "fengqiao-no-such-package"); err != nil || v != "" {
		t.Errorf("Installed of a package nobody has = %q, %v", v, err)
	}
}

func TestParseAudit(t *testing.T) {
	out := "fengqiao-kioskd installed 1.4.0-1\n" +
		"fengqiao-kiosk-ui half-configured 1:1.4.0-1\n" +
		"fengqiao-updater config-files 1.3.0-1\n" + // purged but its conffiles: not there
		"fengqiao-old not-installed \n" +
		"libc6 installed 2.36-9\n\n"
	got := parseAudit(out)
	want := []PackageState{{"fengqiao-kioskd", "1.4.0-1", "installed"}, {"fengqiao-kiosk-ui", "1:1.4.0-1", "half-configured"}}
	if !slices.Equal(got, want) {
		t.Errorf("parseAudit = %+v, want %+v", got, want)
	}
	if got[0].Settled() != true || got[1].Settled() != false {
		t.Error("Settled")
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return
	}
	// This machine's dpkg: no fengqiao package, or some; never an error.
	if _, err := NewDpkg("amd64").Audit(context.Background()); err != nil {
		t.Errorf("Audit: %v", err)
	}
}

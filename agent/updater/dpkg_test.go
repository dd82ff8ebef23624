package updater

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRealDpkg asks this machine's dpkg, where there is one: the updater
// leaves version order to dpkg, so these are dpkg's answers, not ours.
func TestRealDpkg(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Fatal("dpkg is not installed: the kiosk is Debian, and make deps runs on Debian")
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

// fakeDpkgBin puts a dpkg on PATH that logs its arguments to log and runs
// script (sh) with them.
func fakeDpkgBin(t *testing.T, script string) (log string) {
	t.Helper()
	bin := t.TempDir()
	log = filepath.Join(bin, "log")
	body := "#!/bin/sh\necho \"$*\" >>" + log + "\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(bin, "dpkg"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// TestDpkgInstallFirst: a package left unconfigured (unmet Depends, a
// failing postinst) makes dpkg --configure -a fail at every run; the
// install, and above all the rollback, must not depend on it.
func TestDpkgInstallFirst(t *testing.T) {
	log := fakeDpkgBin(t, `case "$1" in --configure) echo "dpkg: dependency problems prevent configuration of fengqiao-kioskd"; exit 1;; esac; exit 0`)
	if err := NewDpkg("arm64").Install(context.Background(), []string{"/cache/fengqiao-kioskd_1.3.0-1_arm64.deb"}); err != nil {
		t.Fatalf("Install = %v", err)
	}
	data, _ := os.ReadFile(log)
	if !strings.HasPrefix(string(data), "--install") {
		t.Errorf("dpkg runs:\n%s", data)
	}
}

// TestDpkgConfigureOnly: recovery's Install of no files only finishes
// what a cut-off run left, with dpkg --configure -a; that is then the
// whole job, so its failure is Install's (not the best effort it is after
// an --install), and a lock is ErrDpkgLocked.
func TestDpkgConfigureOnly(t *testing.T) {
	log := fakeDpkgBin(t, "exit 0")
	if err := NewDpkg("arm64").Install(context.Background(), nil); err != nil {
		t.Fatalf("Install(nil) = %v", err)
	}
	data, _ := os.ReadFile(log)
	if got := strings.TrimSpace(string(data)); got != "--configure -a --force-confdef --force-confold" {
		t.Errorf("dpkg runs:\n%s", data)
	}

	fakeDpkgBin(t, `case "$1" in --configure) echo "dpkg: dependency problems prevent configuration of fengqiao-kioskd"; exit 1;; esac; exit 0`)
	if err := NewDpkg("arm64").Install(context.Background(), nil); err == nil || errors.Is(err, ErrDpkgLocked) {
		t.Errorf("Install(nil) with --configure -a failing = %v, want its error", err)
	}

	fakeDpkgBin(t, `echo "dpkg: error: dpkg frontend lock was locked by another process with pid 812"; exit 2`)
	if err := NewDpkg("arm64").Install(context.Background(), nil); !errors.Is(err, ErrDpkgLocked) {
		t.Errorf("Install(nil) locked = %v, want ErrDpkgLocked", err)
	}
}

// TestDpkgDetached: the updater's SIGTERM ends its context; the dpkg it
// runs must finish anyway, not be killed halfway.
func TestDpkgDetached(t *testing.T) {
	fakeDpkgBin(t, `case "$1" in --install) sleep 1;; esac; exit 0`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := NewDpkg("arm64").Install(ctx, []string{"/cache/x.deb"}); err != nil {
		t.Errorf("Install = %v: dpkg was killed with the context", err)
	}
}

// TestDpkgLocked: dpkg's lock errors are ErrDpkgLocked.
func TestDpkgLocked(t *testing.T) {
	fakeDpkgBin(t, `echo "dpkg: error: dpkg frontend lock was locked by another process with pid 812"; exit 2`)
	err := NewDpkg("arm64").Install(context.Background(), []string{"/cache/x.deb"})
	if !errors.Is(err, ErrDpkgLocked) {
		t.Errorf("Install = %v, want ErrDpkgLocked", err)
	}
	if err := NewDpkg("arm64").Remove(context.Background(), []string{"x"}); !errors.Is(err, ErrDpkgLocked) {
		t.Errorf("Remove = %v, want ErrDpkgLocked", err)
	}
}

// TestRealDpkgDebControl reads a .deb built here with the real dpkg-deb.
func TestRealDpkgDebControl(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb is not installed: the kiosk is Debian, and make deps runs on Debian")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pkg", "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: fengqiao-test\nVersion: 1:1.4.0-1\nArchitecture: arm64\nMaintainer: t <t@example>\nDescription: test\n"
	if err := os.WriteFile(filepath.Join(dir, "pkg", "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.deb")
	if out, err := exec.Command("dpkg-deb", "--build", filepath.Join(dir, "pkg"), path).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	d := NewDpkg("arm64").(DebChecker)
	c, err := d.Control(context.Background(), path)
	if err != nil || c != (DebControl{Package: "fengqiao-test", Version: "1:1.4.0-1", Architecture: "arm64"}) {
		t.Errorf("Control = %+v, %v", c, err)
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	if _, err := d.Control(context.Background(), path); err == nil {
		t.Error("garbage read as a .deb")
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

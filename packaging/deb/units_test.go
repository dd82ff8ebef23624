// Package deb holds the Debian packaging (build.sh, the systemd units, the
// maintainer scripts); its test checks the units, users and directories
// with systemd's own tools, as make test runs them on every change.
package deb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// units are the unit files the packages install under /lib/systemd/system.
var units = map[string]string{
	"fengqiao-kioskd.service":   "kioskd/fengqiao-kioskd.service",
	"fengqiao-kiosk-ui.service": "kiosk-ui/fengqiao-kiosk-ui.service",
	// Root's, as dpkg is; not held to an exposure threshold.
	"fengqiao-updater.service": "updater/fengqiao-updater.service",
}

// mustStageRoot lays out the files the packages install, enough for
// systemd's tools run with --root: the units, the programs they start (as
// stand-ins), the sysusers and tmpfiles entries, and this machine's own
// units and users so that targets and groups resolve.
func mustStageRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mustRun(t, "cp", "-a", "/lib/systemd/system/.", mustDir(t, root, "lib/systemd/system"))
	for name, src := range units {
		mustCopy(t, src, filepath.Join(root, "lib/systemd/system", name), 0o644)
	}
	for _, exe := range []string{"usr/bin/kioskd", "usr/bin/kioskctl", "usr/bin/kiosk-ui", "usr/bin/fengqiao-updater"} {
		mustDir(t, root, filepath.Dir(exe))
		if err := os.WriteFile(filepath.Join(root, exe), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustDir(t, root, "usr/lib/fengqiao")
	mustCopy(t, "kiosk-ui/kiosk-session", filepath.Join(root, "usr/lib/fengqiao/kiosk-session"), 0o755)
	mustDir(t, root, "usr/lib/sysusers.d")
	mustDir(t, root, "usr/lib/tmpfiles.d")
	mustCopy(t, "kioskd/sysusers.conf", filepath.Join(root, "usr/lib/sysusers.d/fengqiao.conf"), 0o644)
	mustCopy(t, "kiosk-ui/sysusers.conf", filepath.Join(root, "usr/lib/sysusers.d/fengqiao-ui.conf"), 0o644)
	mustCopy(t, "kioskd/tmpfiles.conf", filepath.Join(root, "usr/lib/tmpfiles.d/fengqiao.conf"), 0o644)
	mustCopy(t, "kiosk-ui/tmpfiles.conf", filepath.Join(root, "usr/lib/tmpfiles.d/fengqiao-ui.conf"), 0o644)
	mustDir(t, root, "etc")
	for _, f := range []string{"passwd", "group"} {
		mustCopy(t, "/etc/"+f, filepath.Join(root, "etc", f), 0o644)
	}
	return root
}

func TestUnitsVerify(t *testing.T) {
	root := mustStageRoot(t)
	args := []string{"verify", "--root=" + root}
	for name := range units {
		args = append(args, "/lib/systemd/system/"+name)
	}
	out, err := exec.Command("systemd-analyze", args...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestExposure keeps the units' hardening from eroding: systemd-analyze
// security rates kioskd 1.5 and the screen 3.5 today (0 is a fully locked-down service, 10 an
// unprotected one).
func TestExposure(t *testing.T) {
	root := mustStageRoot(t)
	for name, max := range map[string]string{"fengqiao-kioskd.service": "20", "fengqiao-kiosk-ui.service": "40"} {
		out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold="+max,
			"--root="+root, "/lib/systemd/system/"+name).CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Errorf("%s: exposure over %s/100: %s", name, max, lines[len(lines)-1])
		}
	}
}

// TestUsersAndDirectories creates the packages' users and directories in a
// staged root with systemd-sysusers and systemd-tmpfiles, as postinst does
// on the board, and checks who owns what.
func TestUsersAndDirectories(t *testing.T) {
	root := mustStageRoot(t)
	mustRun(t, "systemd-sysusers", "--root="+root)
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
	for _, u := range []string{"fengqiao:", "fengqiao-ui:"} {
		if !strings.Contains(string(passwd), "\n"+u) {
			t.Errorf("sysusers made no user %s", u)
		}
	}
	for g, member := range map[string]string{"dialout": "fengqiao", "gpio": "fengqiao", "fengqiao": "fengqiao-ui", "input": "fengqiao-ui"} {
		if !groupHas(string(group), g, member) {
			t.Errorf("%s is not in group %s", member, g)
		}
	}
	mustDir(t, root, "var/lib")
	mustDir(t, root, "run")
	mustRun(t, "systemd-tmpfiles", "--root="+root, "--create")
	for dir, mode := range map[string]os.FileMode{"var/lib/fengqiao": 0o700, "run/fengqiao": 0o750, "var/lib/fengqiao-ui": 0o700} {
		fi, err := os.Stat(filepath.Join(root, dir))
		if err != nil {
			t.Errorf("tmpfiles made no /%s: %v", dir, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("/%s has mode %v, want %v", dir, fi.Mode().Perm(), mode)
		}
	}
}

func groupHas(group, name, member string) bool {
	for _, line := range strings.Split(group, "\n") {
		f := strings.Split(line, ":")
		if len(f) == 4 && f[0] == name {
			for _, m := range strings.Split(f[3], ",") {
				if m == member {
					return true
				}
			}
		}
	}
	return false
}

func mustDir(t *testing.T, root, dir string) string {
	t.Helper()
	p := filepath.Join(root, dir)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCopy(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

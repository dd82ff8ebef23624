package updater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fengqiao/kiosk/agent/update"
)

// NewDpkg is the Dpkg of a Debian kiosk: dpkg-query, dpkg and dpkg-repack,
// run as the updater (root). arch names the repacked files.
func NewDpkg(arch string) Dpkg { return dpkgCmd{arch: arch} }

type dpkgCmd struct{ arch string }

// run runs a command with no terminal and dpkg's questions answered: a
// conffile a technician changed is kept (confold), and where dpkg has a
// default it takes it.
func run(ctx context.Context, dir string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		text := strings.TrimSpace(out.String())
		if len(text) > 2000 {
			text = "…" + text[len(text)-2000:]
		}
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, text)
	}
	return out.String(), nil
}

func (d dpkgCmd) Installed(ctx context.Context, name string) (string, error) {
	out, err := run(ctx, "", "dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", name)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return "", nil // dpkg-query knows no such package
		}
		return "", err
	}
	status, version, _ := strings.Cut(strings.TrimSpace(out), " ")
	switch status {
	case "not-installed", "config-files":
		return "", nil
	}
	return version, nil
}

func (d dpkgCmd) Compare(ctx context.Context, a, b string) (int, error) {
	for _, c := range []struct {
		op  string
		res int
	}{{"lt", -1}, {"eq", 0}} {
		_, err := run(ctx, "", "dpkg", "--compare-versions", a, c.op, b)
		if err == nil {
			return c.res, nil
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			return 0, err
		}
	}
	return 1, nil
}

// Repack runs dpkg-repack in a temporary directory and moves its one .deb
// into dir under the cache's name (with the epoch, which dpkg-repack
// leaves out of the file name).
func (d dpkgCmd) Repack(ctx context.Context, name, dir string) (string, error) {
	version, err := d.Installed(ctx, name)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, ".repack-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if _, err := run(ctx, tmp, "dpkg-repack", name); err != nil {
		return "", err
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("dpkg-repack %s made %d .deb files", name, len(debs))
	}
	final := filepath.Join(dir, update.Package{Name: name, Version: version}.FileName(d.arch))
	if err := os.Rename(debs[0], final); err != nil {
		return "", err
	}
	return final, nil
}

// Control reads path's control fields with dpkg-deb, which also checks
// that the file is a .deb whose control archive can be read (as
// dpkg-deb --info does).
func (d dpkgCmd) Control(ctx context.Context, path string) (DebControl, error) {
	out, err := run(ctx, "", "dpkg-deb", "--field", path, "Package", "Version", "Architecture")
	if err != nil {
		return DebControl{}, err
	}
	var c DebControl
	for line := range strings.Lines(out) {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			c.Package = v
		case "Version":
			c.Version = v
		case "Architecture":
			c.Architecture = v
		}
	}
	if c.Package == "" || c.Version == "" {
		return DebControl{}, fmt.Errorf("dpkg-deb --field %s: no Package or Version", path)
	}
	return c, nil
}

// Install runs dpkg --install on debs directly, then dpkg --configure -a
// for whatever an earlier run left half-done, as a best effort. Not the
// other way round: a release whose Depends are unmet or whose postinst
// fails stays unpacked, --configure -a fails on it at every run, and a
// rollback that began with it could never put the previous version back.
//
// dpkg is detached from ctx: the updater's context ends at SIGTERM, and a
// dpkg killed halfway leaves the packages half-installed. systemd lets it
// finish (KillMode=mixed, a long TimeoutStopSec in the unit).
//
// With no debs (recovery finishing what a cut-off run left, recover.go)
// there is nothing to --install: dpkg --configure -a is then the whole
// job, and its failure is Install's, not a best effort.
func (d dpkgCmd) Install(ctx context.Context, debs []string) error {
	ctx = context.WithoutCancel(ctx)
	if len(debs) == 0 {
		out, err := run(ctx, "", "dpkg", "--configure", "-a", "--force-confdef", "--force-confold")
		return lockErr(out, err)
	}
	args := append([]string{"--install", "--force-confdef", "--force-confold"}, debs...)
	if out, err := run(ctx, "", "dpkg", args...); err != nil {
		return lockErr(out, err)
	}
	run(ctx, "", "dpkg", "--configure", "-a", "--force-confdef", "--force-confold")
	return nil
}

func (d dpkgCmd) Remove(ctx context.Context, names []string) error {
	out, err := run(context.WithoutCancel(ctx), "", "dpkg", append([]string{"--remove"}, names...)...)
	return lockErr(out, err)
}

// lockErr marks err as ErrDpkgLocked when dpkg's output says another
// package manager holds its lock: nothing was done, and trying again later
// will do.
func lockErr(out string, err error) error {
	if err != nil && dpkgLocked(out) {
		return fmt.Errorf("%w: %w", ErrDpkgLocked, err)
	}
	return err
}

// dpkgLocked recognises dpkg's lock errors ("dpkg frontend lock was locked
// by another process with pid 812", "dpkg status database is locked by
// another process").
func dpkgLocked(out string) bool {
	return strings.Contains(out, "locked by another process") ||
		strings.Contains(out, "status database is locked") ||
		strings.Contains(out, "frontend lock is locked")
}

// Audit asks dpkg-query for every fengqiao- package it knows, and keeps
// those installed or left half-done (not those removed, or never there).
func (d dpkgCmd) Audit(ctx context.Context) ([]PackageState, error) {
	out, err := run(ctx, "", "dpkg-query", "-W", "-f=${Package} ${db:Status-Status} ${Version}\n", "fengqiao-*")
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && strings.Contains(out, "no packages found") {
			return nil, nil // none at all: a kiosk put together by hand
		}
		return nil, err
	}
	return parseAudit(out), nil
}

// parseAudit reads Audit's dpkg-query lines: name, status, version.
func parseAudit(out string) []PackageState {
	var pkgs []PackageState
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "fengqiao-") {
			continue
		}
		switch f[1] {
		case "not-installed", "config-files":
			continue
		}
		p := PackageState{Name: f[0], Status: f[1]}
		if len(f) > 2 {
			p.Version = f[2]
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

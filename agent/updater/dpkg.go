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

func (d dpkgCmd) Install(ctx context.Context, debs []string) error {
	// Finish whatever a cut-off run left half-configured first, or dpkg
	// refuses to start.
	if _, err := run(ctx, "", "dpkg", "--configure", "-a", "--force-confdef", "--force-confold"); err != nil {
		return err
	}
	if len(debs) == 0 {
		return nil // only finishing (recover.go)
	}
	args := append([]string{"--install", "--force-confdef", "--force-confold"}, debs...)
	_, err := run(ctx, "", "dpkg", args...)
	return err
}

func (d dpkgCmd) Remove(ctx context.Context, names []string) error {
	_, err := run(ctx, "", "dpkg", append([]string{"--remove"}, names...)...)
	return err
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

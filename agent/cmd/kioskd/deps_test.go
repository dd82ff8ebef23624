package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPureGoWithoutFyne keeps kioskd's package graph free of Fyne. kioskd
// shares one module with kiosk-ui, so Fyne, cgo and all, is in the module
// graph; only the packages kioskd imports decide what it links, and one
// stray import from agent/ into kiosk-ui would pull in Fyne and a C
// toolchain. It lists them as the boards' builds see them, for each
// architecture we ship and with cgo off, so that go list also fails on any
// package that cannot build without cgo.
func TestPureGoWithoutFyne(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "arm"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOARM=7")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("go list -deps kioskd, CGO_ENABLED=0 GOARCH=%s: %v: %s", arch, err, ee.Stderr)
			}
			t.Fatalf("go list -deps kioskd, GOARCH=%s: %v", arch, err)
		}
		var fyne []string
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "fyne.io/") {
				fyne = append(fyne, pkg)
			}
		}
		if len(fyne) > 0 {
			t.Errorf("kioskd (GOARCH=%s) depends on Fyne (%s); find the import with go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./agent/cmd/kioskd", arch, strings.Join(fyne, ", "))
		}
	}
}

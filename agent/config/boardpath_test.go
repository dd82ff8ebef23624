package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCopiedSiteFile: a site file copied away from the profiles keeps a
// relative board that now leads nowhere; the error says where it looked,
// why there, and the line to write, and that line works.
func TestCopiedSiteFile(t *testing.T) {
	boards, err := filepath.Abs("../../firmware-configs/boards")
	if err != nil {
		t.Fatal(err)
	}
	saved := boardProfileHomes
	boardProfileHomes = []string{boards}
	t.Cleanup(func() { boardProfileHomes = saved })

	src, err := os.ReadFile("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	site := filepath.Join(dir, "k01.yaml")
	if err := os.WriteFile(site, src, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "board: " + filepath.Join(boards, "dev-sim.yaml")
	for name, load := range map[string]func() error{
		"Load":          func() error { _, err := Load(site); return err },
		"LoadSiteBoard": func() error { _, err := LoadSiteBoard(site); return err },
	} {
		err := load()
		if err == nil {
			t.Fatalf("%s of a copied site file: no error", name)
		}
		for _, s := range []string{"no such file as " + filepath.Join(filepath.Dir(dir), "boards/dev-sim.yaml"), "relative to the site file's directory, " + dir, want} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %v\nwant it to say %q", name, err, s)
			}
		}
	}

	// The technician does what it says.
	fixed := regexp.MustCompile(`(?m)^board: .*$`).ReplaceAll(src, []byte(want))
	if err := os.WriteFile(site, fixed, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(site); err != nil {
		t.Errorf("with %q: %v", want, err)
	}

	// Nowhere to suggest: the absolute path, or the profile copied along.
	boardProfileHomes = []string{dir}
	if err := os.WriteFile(site, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(site); err == nil || !strings.Contains(err.Error(), "write the profile's absolute path in board:") {
		t.Errorf("no profile to suggest: %v", err)
	}
}

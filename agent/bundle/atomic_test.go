package bundle

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trust.json")

	if err := WriteFileAtomic(path, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("read %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the new perm 0600", fi.Mode().Perm())
	}
	if names := mustReadDir(t, dir); !slices.Equal(names, []string{"trust.json"}) {
		t.Errorf("directory holds %v; a temporary file was left behind", names)
	}

	// Empty data is a valid file, not a missing one.
	if err := WriteFileAtomic(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("size %d", fi.Size())
	}
}

func TestWriteFileAtomicFailures(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Error("wrote into a missing directory")
	}
	// Renaming over a directory fails; the old entry and nothing else stays.
	sub := filepath.Join(dir, "taken")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "keep"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sub, []byte("x"), 0o600); err == nil {
		t.Error("replaced a non-empty directory")
	}
	if names := mustReadDir(t, dir); !slices.Equal(names, []string{"taken"}) {
		t.Errorf("directory holds %v after a failed write", names)
	}
}

func TestWriteFileAtomicRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFileAtomic("state.json", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "state.json")); string(got) != "{}" {
		t.Errorf("read %q", got)
	}
}

// TestWriteFileAtomicConcurrent: writers racing on one path leave one of
// their files whole, never a mix, and no temporary files.
func TestWriteFileAtomicConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.yaml")
	var contents [][]byte
	for i := range 8 {
		contents = append(contents, bytes.Repeat([]byte(fmt.Sprint(i)), 64<<10))
	}
	var wg sync.WaitGroup
	for _, c := range contents {
		wg.Go(func() {
			for range 5 {
				if err := WriteFileAtomic(path, c, 0o600); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(contents, func(c []byte) bool { return bytes.Equal(c, got) }) {
		t.Errorf("the file is a mix of writes (%d bytes)", len(got))
	}
	if names := mustReadDir(t, dir); !slices.Equal(names, []string{"site.yaml"}) {
		t.Errorf("directory holds %v", names)
	}
}

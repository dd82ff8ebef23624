package fyneforktest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// syncFork is for an upgrade of Fyne (third_party/fyne/README.md): it does
// the mechanical part, so that what the test still lists is what needs a
// person.
var syncFork = flag.Bool("sync", false, "before comparing, make every file of third_party/fyne that PATCH does not list upstream's, and remove what PATCH prunes")

// forkModule is the module third_party/fyne stands in for.
const forkModule = "fyne.io/fyne/v2"

// TestFyneForkMatchesUpstream compares third_party/fyne with pristine Fyne
// of the version PATCH names, fetched by the go command, so that nothing in
// the fork differs from upstream unnoticed: not a stray edit, not an
// upstream change under a replaced file.
func TestFyneForkMatchesUpstream(t *testing.T) {
	mod := goListModule(t, forkModule)
	if mod.Replace == nil || mod.Replace.Version != "" {
		t.Fatalf("go.mod must replace %s with the directory third_party/fyne; it has %+v, so builds get stock Fyne", forkModule, mod.Replace)
	}
	fork := mod.Replace.Dir
	p, err := readPatch(filepath.Join(fork, "PATCH"))
	if err != nil {
		t.Fatal(err)
	}
	if p.module != forkModule {
		t.Fatalf("%s/PATCH is of %s, not %s", fork, p.module, forkModule)
	}
	// The required version is what go mod graph, go version -m and a reader
	// of go.mod believe is built, so it must be the one the fork copies.
	if mod.Version != p.version {
		t.Fatalf("go.mod requires %s %s, but third_party/fyne is a copy of %s: set both to one version (third_party/fyne/README.md)", forkModule, mod.Version, p.version)
	}
	upstream := downloadModule(t, p.module, p.version)

	if *syncFork {
		if err := p.sync(os.DirFS(upstream), fork); err != nil {
			t.Fatal(err)
		}
	}
	problems, err := p.compare(os.DirFS(upstream), os.DirFS(fork))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("third_party/fyne is not %s %s (%s) with just the differences its PATCH lists (see its README.md for an upgrade):\n\t%s",
			p.module, p.version, upstream, strings.Join(problems, "\n\t"))
	}
}

// TestPatchCompare feeds the comparison one of each difference, since the
// real fork, when all is well, shows it none.
func TestPatchCompare(t *testing.T) {
	p := &patch{
		module:  forkModule,
		version: "v1.0.0",
		replace: map[string]string{
			"loop.go":     sha("stock loop"),
			"stale.go":    sha("the upstream it was ported onto"),
			"nochange.go": sha("same"),
			"vanished.go": sha("gone"),
		},
		add:   map[string]bool{"idle.go": true, "PATCH": true, "clash.go": true, "lost.go": true},
		prune: []string{"**/*_test.go", "**/testdata/", "cmd/"},
	}
	upstream := memFS{
		"go.mod":             "module fyne.io/fyne/v2",
		"LICENSE":            "BSD",
		"edited.go":          "upstream",
		"dropped.go":         "upstream",
		"loop.go":            "stock loop",
		"stale.go":           "upstream moved on",
		"nochange.go":        "same",
		"clash.go":           "upstream's own",
		"x_test.go":          "test",
		"a/b/testdata/f.png": "png",
		"cmd/fyne/main.go":   "tool",
		"kept_test.go":       "test",
	}
	fork := memFS{
		"go.mod":       "module fyne.io/fyne/v2",
		"LICENSE":      "BSD",
		"edited.go":    "ours now",
		"loop.go":      "patched loop",
		"stale.go":     "patched loop",
		"nochange.go":  "same",
		"clash.go":     "ours",
		"idle.go":      "ours",
		"PATCH":        "ours",
		"stray.go":     "ours, unlisted",
		"kept_test.go": "test",
		"vanished.go":  "ours",
	}
	got, err := p.compare(upstream.fs(), fork.fs())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"clash.go: PATCH adds it, but upstream has one now",
		"dropped.go: upstream has it, and it is missing here though PATCH prunes nothing that matches it",
		"edited.go: differs from upstream, and PATCH does not list it as replaced",
		"kept_test.go: PATCH prunes it, but it is here",
		"lost.go: PATCH lists it, but it is not here",
		"nochange.go: PATCH replaces it, but it is the same as upstream's",
		"stale.go: PATCH replaces upstream's with sha256 " + sha("the upstream it was ported onto") + ", but upstream's is now " + sha("upstream moved on") + ": port the patch onto it and pin the new hash",
		"stray.go: upstream has no such file, and PATCH does not list it as added",
		"vanished.go: PATCH replaces it, but upstream has no such file",
	}
	if !slices.Equal(got, want) {
		t.Errorf("compare:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestPatchPrunePattern(t *testing.T) {
	for _, c := range []struct {
		pattern, file string
		want          bool
	}{
		{"**/*_test.go", "a_test.go", true},
		{"**/*_test.go", "widget/entry_test.go", true},
		{"**/*_test.go", "widget/entry.go", false},
		{"**/testdata/", "testdata/x.png", true},
		{"**/testdata/", "dialog/testdata/.hidden", true},
		{"**/testdata/", "testdata", false}, // a file, not a directory
		{"**/testdata/", "internal/testdatax/y", false},
		{"cmd/", "cmd/fyne/main.go", true},
		{"cmd/", "internal/cmd/x.go", false},
		{"CHANGELOG.md", "CHANGELOG.md", true},
		{"CHANGELOG.md", "docs/CHANGELOG.md", false},
		{"internal/*/README.md", "internal/app/README.md", true},
	} {
		if got := pruneMatch(c.pattern, c.file); got != c.want {
			t.Errorf("pruneMatch(%q, %q) = %v, want %v", c.pattern, c.file, got, c.want)
		}
	}
}

// patch is what third_party/fyne/PATCH says; its header describes the format.
type patch struct {
	module, version string
	replace         map[string]string // file → SHA-256 of the upstream file ported onto
	add             map[string]bool
	prune           []string
}

func readPatch(name string) (*patch, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the fork's manifest: %w", err)
	}
	p := &patch{replace: map[string]string{}, add: map[string]bool{}}
	listed := map[string]bool{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		f := strings.Fields(s.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("%s:%d: %s: %q", name, n, why, s.Text()) }
		if f[0] != "prune" && len(f) > 1 {
			if listed[f[1]] {
				return nil, bad("listed twice")
			}
			listed[f[1]] = true
		}
		switch {
		case f[0] == "module" && len(f) == 3 && p.module == "":
			p.module, p.version = f[1], f[2]
		case f[0] == "replace" && len(f) == 3:
			if h, err := hex.DecodeString(f[2]); err != nil || len(h) != sha256.Size {
				return nil, bad("not a SHA-256")
			}
			p.replace[f[1]] = f[2]
		case f[0] == "add" && len(f) == 2:
			p.add[f[1]] = true
		case f[0] == "prune" && len(f) == 2:
			if _, err := path.Match(strings.TrimPrefix(f[1], "**/"), ""); err != nil {
				return nil, bad(err.Error())
			}
			p.prune = append(p.prune, f[1])
		default:
			return nil, bad("not a line PATCH may have")
		}
	}
	if p.module == "" {
		return nil, fmt.Errorf("%s names no module", name)
	}
	return p, nil
}

func (p *patch) listed(file string) bool {
	_, r := p.replace[file]
	return r || p.add[file]
}

func (p *patch) pruned(file string) bool {
	return slices.ContainsFunc(p.prune, func(pat string) bool { return pruneMatch(pat, file) })
}

// pruneMatch reports whether a prune pattern of PATCH matches file, a path
// from the module root.
func pruneMatch(pattern, file string) bool {
	anyDepth := strings.HasPrefix(pattern, "**/")
	pattern = strings.TrimPrefix(pattern, "**/")
	dir := strings.HasSuffix(pattern, "/")
	pattern = strings.TrimSuffix(pattern, "/")
	elems := strings.Split(file, "/")
	for i := range elems {
		if i > 0 && !anyDepth {
			break
		}
		ends := []int{len(elems)}
		if dir {
			ends = make([]int, 0, len(elems))
			for j := i + 1; j < len(elems); j++ {
				ends = append(ends, j)
			}
		}
		for _, j := range ends {
			if ok, _ := path.Match(pattern, strings.Join(elems[i:j], "/")); ok {
				return true
			}
		}
	}
	return false
}

// compare lists every way fork differs from upstream that p does not
// account for, sorted by file.
func (p *patch) compare(upstream, fork fs.FS) ([]string, error) {
	up, err := files(upstream)
	if err != nil {
		return nil, fmt.Errorf("listing upstream: %w", err)
	}
	ours, err := files(fork)
	if err != nil {
		return nil, fmt.Errorf("listing the fork: %w", err)
	}
	var problems []string
	say := func(file, format string, args ...any) {
		problems = append(problems, file+": "+fmt.Sprintf(format, args...))
	}
	for _, f := range union(up, ours, slices.Collect(maps.Keys(p.replace)), slices.Collect(maps.Keys(p.add))) {
		inUp, inOurs := slices.Contains(up, f), slices.Contains(ours, f)
		pinned, replaced := p.replace[f]
		switch {
		case p.listed(f) && !inOurs:
			say(f, "PATCH lists it, but it is not here")
		case p.add[f] && inUp:
			say(f, "PATCH adds it, but upstream has one now")
		case replaced && !inUp:
			say(f, "PATCH replaces it, but upstream has no such file")
		case replaced:
			u, o, err := readBoth(upstream, fork, f)
			if err != nil {
				return nil, err
			}
			if h := sha(string(u)); h != pinned {
				say(f, "PATCH replaces upstream's with sha256 %s, but upstream's is now %s: port the patch onto it and pin the new hash", pinned, h)
			} else if bytes.Equal(u, o) {
				say(f, "PATCH replaces it, but it is the same as upstream's")
			}
		case p.add[f]:
		case p.pruned(f) && inOurs:
			say(f, "PATCH prunes it, but it is here")
		case p.pruned(f):
		case !inUp:
			say(f, "upstream has no such file, and PATCH does not list it as added")
		case !inOurs:
			say(f, "upstream has it, and it is missing here though PATCH prunes nothing that matches it")
		default:
			same, err := sameFile(upstream, fork, f)
			if err != nil {
				return nil, err
			}
			if !same {
				say(f, "differs from upstream, and PATCH does not list it as replaced")
			}
		}
	}
	return problems, nil
}

// sync makes the fork at dir what upstream and p say it should be, for every
// file p does not list: upstream's bytes, or absent if pruned. A file here
// that upstream lacks and p does not list is left for compare to report: it
// may be upstream's old file or an unlisted one of ours.
func (p *patch) sync(upstream fs.FS, dir string) error {
	fork := os.DirFS(dir)
	up, err := files(upstream)
	if err != nil {
		return fmt.Errorf("listing upstream: %w", err)
	}
	ours, err := files(fork)
	if err != nil {
		return fmt.Errorf("listing the fork: %w", err)
	}
	for _, f := range ours {
		if p.pruned(f) && !p.listed(f) {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
				return fmt.Errorf("pruning: %w", err)
			}
			removeEmptyParents(dir, path.Dir(f))
		}
	}
	for _, f := range up {
		if p.pruned(f) || p.listed(f) {
			continue
		}
		if slices.Contains(ours, f) {
			same, err := sameFile(upstream, fork, f)
			if err != nil {
				return err
			}
			if same {
				continue
			}
		}
		b, err := fs.ReadFile(upstream, f)
		if err != nil {
			return fmt.Errorf("reading upstream: %w", err)
		}
		to := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return fmt.Errorf("syncing %s: %w", f, err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return fmt.Errorf("syncing %s: %w", f, err)
		}
	}
	return nil
}

// removeEmptyParents removes rel and the directories above it, up to dir,
// while they are empty, so pruning a directory's files prunes it.
func removeEmptyParents(dir, rel string) {
	for ; rel != "." && rel != "/"; rel = path.Dir(rel) {
		if os.Remove(filepath.Join(dir, filepath.FromSlash(rel))) != nil {
			return // not empty
		}
	}
}

// files lists the regular files of fsys, slash-separated and sorted.
func files(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s is not a regular file", name)
			}
			out = append(out, name)
		}
		return nil
	})
	return out, err
}

func sameFile(upstream, fork fs.FS, name string) (bool, error) {
	u, o, err := readBoth(upstream, fork, name)
	return err == nil && bytes.Equal(u, o), err
}

func readBoth(upstream, fork fs.FS, name string) (u, o []byte, err error) {
	if u, err = fs.ReadFile(upstream, name); err != nil {
		return nil, nil, fmt.Errorf("reading upstream: %w", err)
	}
	if o, err = fs.ReadFile(fork, name); err != nil {
		return nil, nil, fmt.Errorf("reading the fork: %w", err)
	}
	return u, o, nil
}

func union(lists ...[]string) []string {
	u := slices.Concat(lists...)
	slices.Sort(u)
	return slices.Compact(u)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// module is the part of go list -m -json and go mod download -json read here.
type module struct {
	Path, Version, Dir, Error string
	Replace                   *module
}

// goListModule asks the go command how this module resolves path: what
// every build here will use.
func goListModule(t *testing.T, path string) module {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", path).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", path, exitError(err))
	}
	var m module
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	return m
}

// downloadModule returns the directory of pristine path@version in the
// module cache, fetched through the Go proxy and checked against the
// checksum database if it is not there yet. It runs outside this module,
// whose go.mod replaces the very module asked for.
func downloadModule(t *testing.T, path, version string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	var m module
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		err = errors.New(m.Error)
	}
	if err != nil {
		t.Fatalf("go mod download %s@%s (needs the Go proxy once, then the module cache): %v", path, version, exitError(err))
	}
	if m.Dir == "" {
		t.Fatalf("go mod download %s@%s gave no directory: %s", path, version, out)
	}
	return m.Dir
}

// exitError adds what a go command wrote to stderr to its exit status.
func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}

// memFS is a tree of files for TestPatchCompare.
type memFS map[string]string

func (m memFS) fs() fs.FS {
	fsys := fstest.MapFS{}
	for name, body := range m {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

package updater

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the windows are in Asia/Shanghai whatever the machine has

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/update/download"
)

// The township key of these tests, and one nobody trusts.
var (
	townshipKey = ed25519.NewKeyFromSeed([]byte("fengqiao-updater-test-key-000001"))
	strangerKey = ed25519.NewKeyFromSeed([]byte("fengqiao-updater-test-key-000002"))
)

var thisKiosk = bundle.Identity{Kiosk: "dev-kiosk-01", Township: "dev-township"}

// t0 is 14:00 in Shanghai: outside the 02:00-05:00 window.
var t0 = time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)

// inWindow is 03:00 the next night in Shanghai.
var inWindow = time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal("Asia/Shanghai:", err) // time/tzdata is linked in: this cannot be missing
	}
	return loc
}

// deb is a fake .deb: its content names it, so the fake dpkg knows what it
// installs.
func deb(name, version string) []byte { return []byte("deb " + name + " " + version + "\n") }

func pkgOf(name, version string, content []byte) update.Package {
	sum := sha256.Sum256(content)
	return update.Package{Name: name, Version: version, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
		URL: "https://updates.dev-township.example/pool/" + name + "_" + version + "_arm64.deb"}
}

func manifestOf(arch string, pkgs ...update.Package) *update.Manifest {
	return &update.Manifest{Release: "test", Window: update.Window{Start: 2 * 60, End: 5 * 60},
		Packages: map[string][]update.Package{arch: pkgs}}
}

func mustEnvelope(t testing.TB, version uint64, m *update.Manifest, key ed25519.PrivateKey, kiosks ...string) []byte {
	t.Helper()
	content, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.Bundle{Kind: bundle.KindUpdate, Version: version, Target: bundle.Target{Township: "dev-township"},
		NotBefore: t0.Add(-24 * time.Hour), Expires: t0.Add(30 * 24 * time.Hour), Content: content}
	if len(kiosks) > 0 {
		b.Target.Kiosks = kiosks
	}
	env, err := bundle.Sign(b, key)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// fakeDpkg keeps installed versions in memory. Versions compare as strings:
// the tests use versions of one length.
type fakeDpkg struct {
	mu        sync.Mutex
	installed map[string]string
	installs  [][]string // each Install's packages, as name=version
	repacks   []string
	// failInstall, if set, may fail an Install of these packages.
	failInstall func(debs []string) error
	// half is dpkg's state of packages a cut-off run left half-done, by
	// name (Audit); installing the package settles it, and so does an
	// Install of nothing (dpkg --configure -a) but for half-installed.
	half map[string]string
}

func (d *fakeDpkg) Audit(context.Context) ([]PackageState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []PackageState
	for _, name := range slices.Sorted(maps.Keys(d.installed)) {
		st := "installed"
		if h := d.half[name]; h != "" {
			st = h
		}
		out = append(out, PackageState{Name: name, Version: d.installed[name], Status: st})
	}
	return out, nil
}

func newFakeDpkg(installed map[string]string) *fakeDpkg {
	return &fakeDpkg{installed: installed}
}

func (d *fakeDpkg) Installed(_ context.Context, name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.installed[name], nil
}

func (d *fakeDpkg) Compare(_ context.Context, a, b string) (int, error) {
	return strings.Compare(a, b), nil
}

func (d *fakeDpkg) Repack(_ context.Context, name, dir string) (string, error) {
	d.mu.Lock()
	v := d.installed[name]
	d.repacks = append(d.repacks, name+"="+v)
	d.mu.Unlock()
	path := filepath.Join(dir, update.Package{Name: name, Version: v}.FileName("arm64"))
	return path, os.WriteFile(path, deb(name, v), 0o644)
}

func (d *fakeDpkg) Install(_ context.Context, debs []string) error {
	var got []string
	for _, p := range debs {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "deb" {
			return fmt.Errorf("dpkg: %s is not a .deb", p)
		}
		got = append(got, f[1]+"="+f[2])
	}
	d.mu.Lock()
	d.installs = append(d.installs, got)
	fail := d.failInstall
	d.mu.Unlock()
	if fail != nil {
		if err := fail(got); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(got) == 0 {
		for name, st := range d.half {
			if st != "half-installed" {
				delete(d.half, name)
			}
		}
	}
	for _, g := range got {
		name, version, _ := strings.Cut(g, "=")
		delete(d.half, name)
		d.installed[name] = version
	}
	return nil
}

// Control reads a fake .deb as dpkg-deb would a real one.
func (d *fakeDpkg) Control(_ context.Context, path string) (DebControl, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return DebControl{}, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "deb" {
		return DebControl{}, fmt.Errorf("dpkg-deb: %s is not a Debian format archive", path)
	}
	return DebControl{Package: f[1], Version: f[2], Architecture: "arm64"}, nil
}

func (d *fakeDpkg) Remove(_ context.Context, names []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range names {
		delete(d.installed, n)
	}
	return nil
}

func (d *fakeDpkg) version(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.installed[name]
}

func (d *fakeDpkg) installCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.installs)
}

// fakeFetcher "downloads" from a map of URL to bytes, through the same
// verification as the real one.
type fakeFetcher struct {
	mu    sync.Mutex
	files map[string][]byte
	err   error // if set, every Fetch fails with it
	calls int
}

func (f *fakeFetcher) Fetch(_ context.Context, dir, arch string, p update.Package, progress func(done, total int64)) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return "", f.err
	}
	data, ok := f.files[p.URL]
	if !ok {
		return "", errors.New("404 Not Found")
	}
	path := download.Path(dir, arch, p)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	if err := download.VerifyFile(path, p); err != nil {
		os.Remove(path)
		return "", err
	}
	progress(p.Size/2, p.Size)
	progress(p.Size, p.Size)
	return path, nil
}

type fakeScreen struct {
	mu   sync.Mutex
	busy string
	err  error
}

func (s *fakeScreen) InUse(context.Context) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy != "", s.busy, s.err
}

type fakeHealth struct {
	mu  sync.Mutex
	err func(installed map[string]string) error
	d   *fakeDpkg
	// baseline is what Baseline returns; seen the baselines Check got.
	baseline Baseline
	seen     []Baseline
}

func (h *fakeHealth) Baseline(context.Context) Baseline { return h.baseline }

func (h *fakeHealth) Check(_ context.Context, b Baseline) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, b)
	if h.err == nil {
		return nil
	}
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	return h.err(h.d.installed)
}

// rig is one kiosk with its updater and fakes.
type rig struct {
	t      *testing.T
	dir    string
	now    time.Time
	dpkg   *fakeDpkg
	fetch  *fakeFetcher
	screen *fakeScreen
	health *fakeHealth
	u      *Updater
}

func newRig(t *testing.T, installed map[string]string) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), now: t0, dpkg: newFakeDpkg(installed),
		fetch: &fakeFetcher{files: map[string][]byte{}}, screen: &fakeScreen{}}
	r.health = &fakeHealth{d: r.dpkg}
	r.reopen()
	return r
}

// reopen starts the updater again from its directory: a restart, or a boot
// after a power cut.
func (r *rig) reopen() {
	r.t.Helper()
	u, err := Open(Options{
		Dir: r.dir, Identity: thisKiosk, Arch: "arm64", Location: shanghai(r.t),
		TownshipKeys: []string{bundle.FormatPublicKey(townshipKey.Public().(ed25519.PublicKey))},
		Dpkg:         r.dpkg, Screen: r.screen, Health: r.health, Fetcher: r.fetch,
		HealthTimeout: 10 * time.Minute, HealthPoll: 30 * time.Second,
		Now: func() time.Time { return r.now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.now = r.now.Add(d)
			return ctx.Err()
		},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.u = u
}

// serve puts a package on the fake update server and returns it.
func (r *rig) serve(name, version string) update.Package {
	content := deb(name, version)
	p := pkgOf(name, version, content)
	r.fetch.files[p.URL] = content
	return p
}

func (r *rig) mustSubmit(env []byte) {
	r.t.Helper()
	if err := r.u.Submit(context.Background(), env); err != nil {
		r.t.Fatalf("Submit: %v", err)
	}
}

func (r *rig) mustStep() {
	r.t.Helper()
	if err := r.u.Step(context.Background()); err != nil {
		r.t.Fatalf("Step: %v", err)
	}
}

// reported reads the report as kioskd would.
func (r *rig) reported() Reported {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, reportedFile))
	if err != nil {
		r.t.Fatal(err)
	}
	var rep Reported
	if err := json.Unmarshal(data, &rep); err != nil {
		r.t.Fatal(err)
	}
	return rep
}

func (r *rig) mustStatus(status, reason string) Reported {
	r.t.Helper()
	rep := r.reported()
	if rep.Status != status || rep.Reason != reason {
		r.t.Fatalf("reported %s/%s (%s), want %s/%s", rep.Status, rep.Reason, rep.Error, status, reason)
	}
	return rep
}

func (r *rig) cacheFiles() []string {
	r.t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.dir, cacheDir))
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

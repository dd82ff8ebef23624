// Package update owns the software update manifest, fengqiao.update/v1: the
// content of a signed bundle of kind "update" (agent/bundle), which tells a
// kiosk which Debian packages to install for its architecture, where to
// fetch them, their sizes and SHA-256, and when it may install them. The
// packages are too large for MQTT; the hashes, signed with the township key
// inside the bundle, are what makes the bytes fetched over HTTPS trusted.
//
// The package is pure logic, shared by the kiosk's updater (which parses)
// and the township's kioskctl (which builds and marshals). Fetching is
// agent/update/download's, installing agent/updater's.
//
// # Format
//
//	{
//	  "format": "fengqiao.update/v1",
//	  "release": "1.4.0",                       // a name for people, shown in reports
//	  "window": "02:00-05:00",                  // local time of the site's time zone
//	  "deadline": "2026-12-20T00:00:00Z",       // optional
//	  "packages": {
//	    "arm64": [{"name": "fengqiao-kioskd", "version": "1.4.0-1", "size": 6180020,
//	               "sha256": "<64 hex>", "url": "https://updates.xingcun.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"}],
//	    "armhf": [...], "amd64": [...]
//	  }
//	}
//
// The window may cross midnight ("23:00-04:00"). After the deadline the
// window no longer holds the install back; the rule that nobody is using
// the kiosk still does. Unknown members and trailing data are refused, so
// what kioskctl shows is what a kiosk installs.
package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Format is the manifest's format marker.
const Format = "fengqiao.update/v1"

// Limits on a manifest.
const (
	// MaxPackageSize bounds one .deb: kioskd is about 6 MiB, kiosk-ui with
	// its CJK font about 30 MiB. The bound keeps a mistyped size from
	// filling a kiosk's SD card.
	MaxPackageSize = 256 << 20
	// MaxPackages bounds the packages of one architecture.
	MaxPackages = 8
	// PackagePrefix starts the name of every package an update may carry:
	// the updater replaces Fengqiao's own packages, not Debian's (those are
	// unattended-upgrades' job, from Debian's signed archive).
	PackagePrefix = "fengqiao-"
)

// Architectures are the Debian architectures Fengqiao is built for.
var Architectures = []string{"amd64", "arm64", "armhf"}

// Manifest is what an update bundle carries.
type Manifest struct {
	// Release names the update for people (kioskctl update status).
	Release string
	Window  Window
	// Deadline is optional (zero): from then on the window is ignored.
	Deadline time.Time
	// Packages are the .deb files to install, by Debian architecture.
	Packages map[string][]Package
}

// Package is one .deb file.
type Package struct {
	Name    string // Debian package name, starting with PackagePrefix
	Version string // Debian version, as dpkg compares it
	Size    int64  // bytes of the .deb
	SHA256  string // lower-case hex of the .deb's SHA-256
	URL     string // https://, on the township's update server
}

// FileName is the name the updater keeps the package under in its cache:
// Debian's canonical name_version_arch.deb, with the epoch's ':' (not
// allowed in every file system) as '%3a', as apt does.
func (p Package) FileName(arch string) string {
	return p.Name + "_" + strings.ReplaceAll(p.Version, ":", "%3a") + "_" + arch + ".deb"
}

// For returns the packages for arch, or an error naming the architectures
// the manifest has: an update built for other boards.
func (m *Manifest) For(arch string) ([]Package, error) {
	pkgs, ok := m.Packages[arch]
	if !ok {
		have := make([]string, 0, len(m.Packages))
		for a := range m.Packages {
			have = append(have, a)
		}
		slices.Sort(have)
		return nil, fmt.Errorf("update: no packages for %s (this update has %s)", arch, strings.Join(have, ", "))
	}
	return pkgs, nil
}

type manifestJSON struct {
	Format   string                   `json:"format"`
	Release  string                   `json:"release"`
	Window   string                   `json:"window"`
	Deadline *time.Time               `json:"deadline,omitempty"`
	Packages map[string][]packageJSON `json:"packages"`
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	URL     string `json:"url"`
}

// Parse reads and checks a manifest: the content of a verified update
// bundle (bundle.Options.ValidateUpdate is Parse's error).
func Parse(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var mj manifestJSON
	if err := dec.Decode(&mj); err != nil {
		return nil, fmt.Errorf("update: manifest: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("update: manifest: data after the JSON document")
	}
	if mj.Format != Format {
		return nil, fmt.Errorf("update: manifest: format %.40q, this kiosk reads %q", mj.Format, Format)
	}
	w, err := ParseWindow(mj.Window)
	if err != nil {
		return nil, fmt.Errorf("update: manifest: %w", err)
	}
	m := &Manifest{Release: mj.Release, Window: w, Packages: map[string][]Package{}}
	if mj.Deadline != nil {
		m.Deadline = *mj.Deadline
	}
	for arch, pkgs := range mj.Packages {
		// An architecture given as null or [] stays, to be refused by
		// Check rather than silently dropped.
		m.Packages[arch] = make([]Package, 0, len(pkgs))
		for _, p := range pkgs {
			m.Packages[arch] = append(m.Packages[arch], Package(p))
		}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal writes the manifest kioskctl signs: compact JSON, members in the
// documented order, the deadline in UTC. It refuses what Parse would.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	mj := manifestJSON{Format: Format, Release: m.Release, Window: m.Window.String(), Packages: map[string][]packageJSON{}}
	if !m.Deadline.IsZero() {
		d := m.Deadline.UTC()
		mj.Deadline = &d
	}
	for arch, pkgs := range m.Packages {
		for _, p := range pkgs {
			mj.Packages[arch] = append(mj.Packages[arch], packageJSON(p))
		}
	}
	return json.Marshal(mj)
}

var (
	// Debian Policy §5.6.1: lower case letters, digits, '+', '-', '.', at
	// least two characters, starting with a letter or digit.
	packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	// Debian Policy §5.6.12: [epoch:]upstream[-revision], the upstream part
	// starting with a digit. dpkg is stricter about some corners; it is the
	// one that compares, at install time.
	debVersion = regexp.MustCompile(`^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*(?:-[A-Za-z0-9.+~]+)?$`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Check holds the rules of a well-formed manifest, shared by Parse and
// Marshal so that kioskctl cannot sign what a kiosk would refuse.
func (m *Manifest) Check() error {
	switch {
	case m.Release == "" || len(m.Release) > 64 || strings.ContainsFunc(m.Release, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("update: manifest: release %.70q must be 1-64 printable characters", m.Release)
	case len(m.Packages) == 0:
		return errors.New("update: manifest: no packages")
	}
	if err := m.Window.check(); err != nil {
		return fmt.Errorf("update: manifest: %w", err)
	}
	for arch, pkgs := range m.Packages {
		if !slices.Contains(Architectures, arch) {
			return fmt.Errorf("update: manifest: architecture %.20q is not one of %s", arch, strings.Join(Architectures, ", "))
		}
		if len(pkgs) == 0 || len(pkgs) > MaxPackages {
			return fmt.Errorf("update: manifest: %s has %d packages, want 1 to %d", arch, len(pkgs), MaxPackages)
		}
		for i, p := range pkgs {
			if err := p.check(); err != nil {
				return fmt.Errorf("update: manifest: packages.%s[%d]: %w", arch, i, err)
			}
			if slices.ContainsFunc(pkgs[:i], func(q Package) bool { return q.Name == p.Name }) {
				return fmt.Errorf("update: manifest: packages.%s[%d]: %s is listed twice", arch, i, p.Name)
			}
		}
	}
	return nil
}

func (p Package) check() error {
	switch {
	case !packageName.MatchString(p.Name) || !strings.HasPrefix(p.Name, PackagePrefix):
		return fmt.Errorf("name %.70q is not a Debian package name starting with %q", p.Name, PackagePrefix)
	case !debVersion.MatchString(p.Version) || len(p.Version) > 100:
		return fmt.Errorf("version %.70q is not a Debian version", p.Version)
	case p.Size <= 0 || p.Size > MaxPackageSize:
		return fmt.Errorf("size %d is out of range [1, %d]", p.Size, MaxPackageSize)
	case !sha256Hex.MatchString(p.SHA256):
		return fmt.Errorf("sha256 %.70q is not 64 lower-case hex digits", p.SHA256)
	}
	u, err := url.Parse(p.URL)
	switch {
	case err != nil:
		return fmt.Errorf("url: %w", err)
	case u.Scheme != "https":
		// Plain HTTP would be safe for the bytes (the hash decides), but
		// not for what the request reveals, nor against a server that
		// holds a kiosk's download forever: the township's server proves
		// who it is, as the broker does.
		return fmt.Errorf("url %.100q is not https://", p.URL)
	case u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("url %.100q must be https://host/path, without user or fragment", p.URL)
	case !strings.HasSuffix(u.Path, ".deb"):
		return fmt.Errorf("url %.100q does not name a .deb file", p.URL)
	}
	return nil
}

// Window is a daily maintenance window in the site's local time: from
// Start (inclusive) to End (exclusive), each minutes after midnight. End
// below Start crosses midnight.
type Window struct {
	Start, End int
}

// ParseWindow reads "HH:MM-HH:MM" (24-hour, zero-padded; "24:00" only as
// the end).
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("window %.40q is not HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(from, false)
	end, err2 := parseClock(to, true)
	if err := errors.Join(err1, err2); err != nil {
		return Window{}, fmt.Errorf("window %.40q: %w", s, err)
	}
	w := Window{Start: start, End: end}
	if err := w.check(); err != nil {
		return Window{}, err
	}
	return w, nil
}

func parseClock(s string, end bool) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%.10q is not HH:MM", s)
	}
	for _, c := range s[:2] + s[3:] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%.10q is not HH:MM", s)
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case end && h == 24 && m == 0:
		return 24 * 60, nil
	case h > 23 || m > 59:
		return 0, fmt.Errorf("%s is not a time of day", s)
	}
	return h*60 + m, nil
}

func (w Window) check() error {
	switch {
	case w.Start < 0 || w.Start >= 24*60 || w.End < 0 || w.End > 24*60:
		return fmt.Errorf("window %d-%d is out of the day", w.Start, w.End)
	case w.Start == w.End || w.Start == 0 && w.End == 24*60:
		// A whole day is not a window: say so with a deadline instead.
		return fmt.Errorf("window %s is empty or the whole day", w)
	}
	return nil
}

func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

// Contains reports whether t falls in the window, read on the wall clock
// of loc (the site's time zone).
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if w.Start < w.End {
		return w.Start <= m && m < w.End
	}
	return m >= w.Start || m < w.End
}

// Next is the next time the window opens at or after t (t itself when t is
// inside it), for a report that says when the kiosk will install.
func (w Window) Next(t time.Time, loc *time.Location) time.Time {
	if w.Contains(t, loc) {
		return t
	}
	lt := t.In(loc)
	open := time.Date(lt.Year(), lt.Month(), lt.Day(), w.Start/60, w.Start%60, 0, 0, loc)
	if !open.After(t) {
		open = time.Date(lt.Year(), lt.Month(), lt.Day()+1, w.Start/60, w.Start%60, 0, 0, loc)
	}
	return open
}

// MayInstall reports whether the window or the deadline lets an install
// start at t.
func (m *Manifest) MayInstall(t time.Time, loc *time.Location) bool {
	if !m.Deadline.IsZero() && !t.Before(m.Deadline) {
		return true
	}
	return m.Window.Contains(t, loc)
}

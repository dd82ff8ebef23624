package control

import (
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
)

var (
	discard = slog.New(slog.NewTextHandler(io.Discard, nil))
	t0      = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
)

// fakeCore records what is put in force; its health check fails on demand.
type fakeCore struct {
	cfg       *config.Config
	unhealthy func(*config.Config) error
}

func (f *fakeCore) ApplyConfig(cfg *config.Config) { f.cfg = cfg }
func (f *fakeCore) HealthCheck() error {
	if f.unhealthy != nil {
		return f.unhealthy(f.cfg)
	}
	return nil
}

type fixture struct {
	t    *testing.T
	dir  string
	base *config.Config
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	now  time.Time
	ctl  *Controller
	core *fakeCore
	// keyChanges are what the controller told of the records key.
	keyChanges []RecordsKeyChange
}

func mustFixture(t *testing.T) *fixture {
	t.Helper()
	base, err := config.Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	site := base.Site
	site.Control.TownshipKeys = []string{bundle.FormatPublicKey(pub)}
	base.Site = site
	// The kiosk's clock is a day past t0: bundles issued at t0 + a few hours are valid.
	f := &fixture{t: t, dir: t.TempDir(), base: base, pub: pub, priv: priv, now: t0.Add(24 * time.Hour), core: &fakeCore{}}
	f.mustOpen()
	return f
}

func (f *fixture) mustOpen() {
	f.t.Helper()
	ctl, cfg, err := Open(Options{Dir: f.dir, Base: f.base, Log: discard, Now: func() time.Time { return f.now },
		RecordsKeyChanged: func(ch RecordsKeyChange) { f.keyChanges = append(f.keyChanges, ch) }})
	if err != nil {
		f.t.Fatal(err)
	}
	f.core.cfg = cfg
	ctl.Start(f.core)
	f.ctl = ctl
}

// theme is a bundle content that sets the lecture theme.
func theme(t *testing.T, theme string) []byte {
	t.Helper()
	site, err := os.ReadFile("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(site)
	s = s[strings.Index(s, "\ncontent:")+1:]
	s = strings.Replace(s, "theme: 农村土地承包与流转", "theme: "+theme, 1)
	return []byte("schema: " + config.BundleSchema + "\n" + s)
}

// mustSign signs a site bundle; kiosks nil means the whole township.
func (f *fixture) mustSign(version uint64, issued time.Time, kiosks []string, content []byte, priv ed25519.PrivateKey) []byte {
	f.t.Helper()
	env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindSite, Version: version,
		Target:    bundle.Target{Township: f.base.Site.Kiosk.Township, Kiosks: kiosks},
		NotBefore: issued, Expires: issued.Add(30 * 24 * time.Hour), Content: content}, priv)
	if err != nil {
		f.t.Fatal(err)
	}
	return env
}

func (f *fixture) theme() string { return f.core.cfg.Site.Content.Lecture.Theme }

func (f *fixture) mustReport(status, reason string) Reported {
	f.t.Helper()
	r, ok := f.ctl.Reported()
	if !ok || r.Status != status || r.Reason != reason {
		f.t.Fatalf("reported %+v, want %s %s", r, status, reason)
	}
	return r
}

func TestApplyAndRefuse(t *testing.T) {
	f := mustFixture(t)
	me := []string{f.base.Site.Kiosk.ID}
	f.ctl.Handle(f.mustSign(5, t0, nil, theme(t, "防范电信诈骗"), f.priv))
	r := f.mustReport(StatusApplied, "")
	if f.theme() != "防范电信诈骗" || r.Version != 5 || r.InForceVersion != 5 || f.core.cfg.ContentVersion != 5 {
		t.Fatalf("theme %q, report %+v", f.theme(), r)
	}
	<-f.ctl.Changed()

	_, otherPriv, _ := bundle.GenerateKey()
	tests := []struct {
		name   string
		env    []byte
		reason string
	}{
		{"other key", f.mustSign(6, t0, nil, theme(t, "x"), otherPriv), "unknown_key"},
		{"downgrade", f.mustSign(4, t0, nil, theme(t, "x"), f.priv), "downgrade"},
		{"other kiosk", f.mustSign(6, t0, []string{"other-kiosk"}, theme(t, "x"), f.priv), "wrong_target"},
		{"not yet valid", f.mustSign(6, t0.Add(72*time.Hour), nil, theme(t, "x"), f.priv), "not_yet_valid"},
		{"invalid content", f.mustSign(6, t0, nil, []byte("schema: "+config.BundleSchema+"\nkiosk:\n  id: x\n"), f.priv), "schema"},
		{"tampered", []byte(strings.Replace(string(f.mustSign(6, t0, me, theme(t, "x"), f.priv)), `"signature":"`, `"signature":"AAAA`, 1)), "malformed"},
		{"not JSON", []byte("hello"), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ctl.Handle(tt.env)
			f.mustReport(StatusRejected, tt.reason)
			if f.theme() != "防范电信诈骗" {
				t.Errorf("a refused bundle changed the theme to %q", f.theme())
			}
		})
	}

	// The retained bundle delivered again at a reconnect is not news.
	before, _ := f.ctl.Reported()
	f.ctl.Handle(f.mustSign(5, t0, nil, theme(t, "防范电信诈骗"), f.priv))
	if after, _ := f.ctl.Reported(); after != before {
		t.Errorf("a replay changed the report: %+v", after)
	}
}

// TestRollback: a bundle that validates but leaves the kiosk unable to work
// is put back to what was in force, reported rolled_back, and refused as a
// replay when the broker delivers it again.
func TestRollback(t *testing.T) {
	f := mustFixture(t)
	f.ctl.Handle(f.mustSign(1, t0, nil, theme(t, "好主题"), f.priv))
	f.core.unhealthy = func(cfg *config.Config) error {
		if cfg.Site.Content.Lecture.Theme == "坏主题" {
			return errors.New("no consultation slot")
		}
		return nil
	}
	f.ctl.Handle(f.mustSign(2, t0.Add(time.Hour), nil, theme(t, "坏主题"), f.priv))
	r := f.mustReport(StatusRolledBack, "health_check")
	if f.theme() != "好主题" || r.InForceVersion != 1 || !strings.Contains(r.Error, "no consultation slot") {
		t.Errorf("theme %q, report %+v", f.theme(), r)
	}
	f.ctl.Handle(f.mustSign(2, t0.Add(time.Hour), nil, theme(t, "坏主题"), f.priv))
	f.mustReport(StatusRolledBack, "health_check") // unchanged: a replay
	// After a restart the good bundle is still in force.
	f.mustOpen()
	if f.theme() != "好主题" {
		t.Errorf("after restart: theme %q", f.theme())
	}
	// A fixed bundle with a higher version applies.
	f.ctl.Handle(f.mustSign(3, t0.Add(2*time.Hour), nil, theme(t, "修好的主题"), f.priv))
	f.mustReport(StatusApplied, "")
	if f.theme() != "修好的主题" {
		t.Errorf("theme %q", f.theme())
	}
}

// TestNewestIssuedWins: whatever order the township-wide and kiosk bundles
// arrive in, the one issued later is in force.
func TestNewestIssuedWins(t *testing.T) {
	for _, order := range []string{"township first", "kiosk first"} {
		t.Run(order, func(t *testing.T) {
			f := mustFixture(t)
			me := []string{f.base.Site.Kiosk.ID}
			town := f.mustSign(10, t0.Add(2*time.Hour), nil, theme(t, "乡镇新"), f.priv)
			kiosk := f.mustSign(3, t0.Add(time.Hour), me, theme(t, "本机旧"), f.priv)
			envs := [][]byte{town, kiosk}
			if order == "kiosk first" {
				envs = [][]byte{kiosk, town}
			}
			for _, e := range envs {
				f.ctl.Handle(e)
			}
			if f.theme() != "乡镇新" {
				t.Errorf("theme %q, want the later issued township bundle's", f.theme())
			}
			f.mustOpen()
			if f.theme() != "乡镇新" {
				t.Errorf("after restart: theme %q", f.theme())
			}
			// A newer kiosk bundle then wins.
			f.ctl.Handle(f.mustSign(4, t0.Add(3*time.Hour), me, theme(t, "本机新"), f.priv))
			if r := f.mustReport(StatusApplied, ""); f.theme() != "本机新" || r.InForce != "kiosk:"+me[0] {
				t.Errorf("theme %q, report %+v", f.theme(), r)
			}
		})
	}
}

// TestKeyRotation: after a rotation the old key signs nothing new, the new
// one does, and the rotation survives a restart even though the site file
// still names the old key.
func TestKeyRotation(t *testing.T) {
	f := mustFixture(t)
	newPub, newPriv, _ := bundle.GenerateKey()
	rot, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindKeyRotation, Version: 1,
		Target:    bundle.Target{Township: f.base.Site.Kiosk.Township},
		NotBefore: t0, Expires: t0.Add(365 * 24 * time.Hour),
		Rotation: &bundle.Rotation{PublicKey: newPub, EffectiveVersion: 2}}, f.priv)
	if err != nil {
		t.Fatal(err)
	}
	f.ctl.Handle(rot)
	f.mustReport(StatusApplied, "")
	f.mustOpen()
	f.ctl.Handle(f.mustSign(2, t0, nil, theme(t, "旧钥匙"), f.priv))
	f.mustReport(StatusRejected, "retired_key")
	f.ctl.Handle(f.mustSign(2, t0, nil, theme(t, "新钥匙"), newPriv))
	f.mustReport(StatusApplied, "")
	if f.theme() != "新钥匙" {
		t.Errorf("theme %q", f.theme())
	}
}

// TestNoTownshipKey: a kiosk without keys runs on its site file and says
// why it takes no bundle.
func TestNoTownshipKey(t *testing.T) {
	f := mustFixture(t)
	site := f.base.Site
	site.Control.TownshipKeys = nil
	f.base.Site = site
	f.dir = t.TempDir()
	f.mustOpen()
	f.ctl.Handle(f.mustSign(1, t0, nil, theme(t, "x"), f.priv))
	r := f.mustReport(StatusRejected, "unknown_key")
	if !strings.Contains(r.Error, "township_keys") {
		t.Errorf("report %+v", r)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "trust.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("trust file written without keys: %v", err)
	}
}

// TestClockBehindAtBoot: a bundle refused as not yet valid because the
// kiosk's clock is behind applies once the clock is right, without the
// broker sending it again.
func TestClockBehindAtBoot(t *testing.T) {
	f := mustFixture(t)
	f.now = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // a board without an RTC, before NTP
	f.ctl.Handle(f.mustSign(9, t0, nil, theme(t, "时钟校准后"), f.priv))
	f.mustReport(StatusRejected, "not_yet_valid")
	before, _ := f.ctl.Reported()
	f.ctl.RetryEarly()
	if after, _ := f.ctl.Reported(); after != before { // still behind: nothing new to say
		t.Errorf("a retry that is still too early changed the report to %+v", after)
	}
	f.now = t0.Add(time.Hour) // NTP set the clock
	f.ctl.RetryEarly()
	f.mustReport(StatusApplied, "")
	if f.theme() != "时钟校准后" {
		t.Errorf("theme %q", f.theme())
	}
	f.ctl.RetryEarly() // nothing left to retry: no change
	f.mustReport(StatusApplied, "")
}

// TestRotationArrivesFirst: a kiosk back from days offline subscribes to
// the key topic first, so it sees the rotation (version 101, effective
// 102) before the site bundle 100 that is still retained: the bundle must
// still apply, and a reconnect must not report it as a downgrade.
func TestRotationArrivesFirst(t *testing.T) {
	f := mustFixture(t)
	newPub, _, _ := bundle.GenerateKey()
	rot, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindKeyRotation, Version: 101,
		Target: bundle.Target{Township: f.base.Site.Kiosk.Township}, NotBefore: t0, Expires: t0.Add(365 * 24 * time.Hour),
		Rotation: &bundle.Rotation{PublicKey: newPub, EffectiveVersion: 102}}, f.priv)
	if err != nil {
		t.Fatal(err)
	}
	site := f.mustSign(100, t0, nil, theme(t, "轮换前的内容"), f.priv)
	f.ctl.Handle(rot)
	f.ctl.Handle(site)
	f.mustReport(StatusApplied, "")
	if f.theme() != "轮换前的内容" {
		t.Errorf("theme %q", f.theme())
	}
	// The next connection delivers both again: nothing to report.
	before, _ := f.ctl.Reported()
	f.ctl.Handle(rot)
	f.ctl.Handle(site)
	if after, _ := f.ctl.Reported(); after != before {
		t.Errorf("a reconnect changed the report to %+v", after)
	}
}

// TestCrashBetweenApplyAndCheck: kioskd killed after writing a new bundle
// and before its health check; at the next start the check fails and the
// bundle in force before it is back, on disk too.
func TestCrashBetweenApplyAndCheck(t *testing.T) {
	f := mustFixture(t)
	f.ctl.Handle(f.mustSign(1, t0, nil, theme(t, "好主题"), f.priv))
	f.mustReport(StatusApplied, "")
	// What apply leaves on disk just before the check: the old bundle kept
	// aside, the new one in its place (made here by a second kiosk).
	g := mustFixture(t)
	g.priv = f.priv
	site := g.base.Site
	site.Control = f.base.Site.Control
	g.base.Site = site
	g.dir = t.TempDir()
	g.mustOpen()
	g.ctl.Handle(f.mustSign(2, t0.Add(time.Hour), nil, theme(t, "坏主题"), f.priv))
	g.mustReport(StatusApplied, "")
	good, _ := os.ReadFile(filepath.Join(f.dir, "township-bundle.json"))
	bad, _ := os.ReadFile(filepath.Join(g.dir, "township-bundle.json"))
	os.WriteFile(filepath.Join(f.dir, "previous-township-bundle.json"), good, 0o600)
	os.WriteFile(filepath.Join(f.dir, "township-bundle.json"), bad, 0o600)

	f.core.unhealthy = func(cfg *config.Config) error {
		if cfg.Site.Content.Lecture.Theme == "坏主题" {
			return errors.New("no consultation slot")
		}
		return nil
	}
	f.mustOpen()
	f.mustReport(StatusRolledBack, "health_check")
	if f.theme() != "好主题" {
		t.Fatalf("after the start: theme %q, want the bundle in force before", f.theme())
	}
	f.mustOpen()
	if f.theme() != "好主题" {
		t.Errorf("after a second start: theme %q", f.theme())
	}
	if _, err := os.Stat(filepath.Join(f.dir, "previous-township-bundle.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("previous bundle file left behind: %v", err)
	}
}

// mustSignPatch signs a site patch; kiosks nil means the whole township.
func (f *fixture) mustSignPatch(version uint64, issued time.Time, kiosks []string, patch string) []byte {
	f.t.Helper()
	env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindSitePatch, Version: version,
		Target:    bundle.Target{Township: f.base.Site.Kiosk.Township, Kiosks: kiosks},
		NotBefore: issued, Expires: issued.Add(30 * 24 * time.Hour), Content: []byte("schema: " + config.PatchSchema + "\n" + patch)}, f.priv)
	if err != nil {
		f.t.Fatal(err)
	}
	return env
}

func (f *fixture) duty() string {
	var s []string
	for _, w := range f.core.cfg.Site.Content.Advisor.Duty {
		s = append(s, w.String())
	}
	return strings.Join(s, "; ")
}

// TestPatch: a patch changes what it names over the site file and survives
// a restart; one whose result is invalid is refused and changes nothing;
// a patch is over the site file, not over the bundle before it.
func TestPatch(t *testing.T) {
	f := mustFixture(t)
	const siteDuty = "周二、周五 09:00–12:00; 周四 14:30–17:30"
	if f.duty() != siteDuty {
		t.Fatalf("dev site duty %q", f.duty())
	}
	hours := "content:\n  advisor:\n    duty:\n      - days: [mon, wed]\n        from: \"08:30\"\n        to: \"11:30\"\n"
	f.ctl.Handle(f.mustSignPatch(5, t0, nil, hours))
	r := f.mustReport(StatusApplied, "")
	if f.duty() != "周一、周三 08:30–11:30" || f.theme() != "农村土地承包与流转" || r.Kind != bundle.KindSitePatch || r.InForceVersion != 5 || f.core.cfg.ContentVersion != 5 {
		t.Fatalf("duty %q theme %q report %+v", f.duty(), f.theme(), r)
	}

	// Invalid once merged: refused, reported, nothing changes.
	f.ctl.Handle(f.mustSignPatch(6, t0.Add(time.Hour), nil, "content:\n  advisor:\n    duty: []\n"))
	r = f.mustReport(StatusRejected, "schema")
	if !strings.Contains(r.Error, "content.advisor.duty: needs at least one duty window") || r.InForceVersion != 5 || f.duty() != "周一、周三 08:30–11:30" {
		t.Errorf("duty %q report %+v", f.duty(), r)
	}

	f.mustOpen()
	if f.duty() != "周一、周三 08:30–11:30" || f.core.cfg.ContentVersion != 5 {
		t.Errorf("after restart: duty %q", f.duty())
	}

	// A whole-section bundle, then a patch: the patch is over the site
	// file, so the bundle's theme is gone and the site file's is back.
	f.ctl.Handle(f.mustSign(7, t0.Add(2*time.Hour), nil, theme(t, "防范电信诈骗"), f.priv))
	if f.mustReport(StatusApplied, ""); f.theme() != "防范电信诈骗" || f.duty() != siteDuty {
		t.Fatalf("theme %q duty %q", f.theme(), f.duty())
	}
	f.ctl.Handle(f.mustSignPatch(8, t0.Add(3*time.Hour), nil, "content:\n  lecture:\n    theme: 宅基地与农房\n"))
	if f.mustReport(StatusApplied, ""); f.theme() != "宅基地与农房" || f.duty() != siteDuty || len(f.core.cfg.Site.Content.Lecture.Schedule) != 4 {
		t.Errorf("theme %q duty %q", f.theme(), f.duty())
	}

	// A patch that fails the health check is rolled back as one.
	f.core.unhealthy = func(cfg *config.Config) error {
		if len(cfg.Site.Content.Advisor.Duty) == 1 {
			return errors.New("no consultation slot")
		}
		return nil
	}
	f.ctl.Handle(f.mustSignPatch(9, t0.Add(4*time.Hour), nil, hours))
	r = f.mustReport(StatusRolledBack, "health_check")
	if r.Kind != bundle.KindSitePatch || r.InForceVersion != 8 || f.theme() != "宅基地与农房" {
		t.Errorf("theme %q report %+v", f.theme(), r)
	}
}

// TestRefusedAgainIsNotNews: a refused bundle still retained on the broker
// comes again at every reconnect, also after a good bundle was applied; the
// report must go on saying the good bundle was the last one tried (issue
// 19: config status kept showing rejected unknown_key), across a restart
// too, and say when what is in force was applied.
func TestRefusedAgainIsNotNews(t *testing.T) {
	f := mustFixture(t)
	f.ctl.Handle(f.mustSign(5, t0, nil, theme(t, "第一"), f.priv))
	f.mustReport(StatusApplied, "")

	_, otherPriv, _ := bundle.GenerateKey()
	bad := f.mustSign(6, t0, []string{f.base.Site.Kiosk.ID}, theme(t, "x"), otherPriv)
	f.now = f.now.Add(time.Minute)
	f.ctl.Handle(bad)
	f.mustReport(StatusRejected, "unknown_key")

	f.now = f.now.Add(time.Minute)
	appliedAt := f.now
	f.ctl.Handle(f.mustSign(7, t0.Add(time.Hour), nil, theme(t, "第二"), f.priv))
	want := f.mustReport(StatusApplied, "")
	if want.Schema != ReportedSchema || want.Version != 7 || want.InForceVersion != 7 || !want.InForceAt.Equal(appliedAt) || !want.At.Equal(appliedAt) {
		t.Fatalf("report %+v", want)
	}

	for _, step := range []string{"reconnect", "restart"} {
		if step == "restart" {
			f.mustOpen()
		}
		f.now = f.now.Add(time.Minute)
		f.ctl.Handle(bad) // the retained refused bundle, delivered again
		if got, _ := f.ctl.Reported(); got != want {
			t.Errorf("%s: the refused bundle delivered again changed the report to %+v", step, got)
		}
	}

	// A downgrade retained on the broker, likewise.
	f2 := mustFixture(t)
	f2.ctl.Handle(f2.mustSign(5, t0, nil, theme(t, "第一"), f2.priv))
	old := f2.mustSign(4, t0, nil, theme(t, "旧"), f2.priv)
	f2.ctl.Handle(old)
	f2.mustReport(StatusRejected, "downgrade")
	f2.ctl.Handle(f2.mustSign(6, t0, nil, theme(t, "第二"), f2.priv))
	f2.mustReport(StatusApplied, "")
	f2.ctl.Handle(old)
	f2.mustReport(StatusApplied, "") // downgrade again: not news
}

// TestVerifyAnswer: an answer to a request is checked against the trust
// state in force, key rotations included, and changes nothing there; what
// is not an answer is refused on the answers' topics, and an answer given
// to Handle (a config topic) is never applied as configuration.
func TestVerifyAnswer(t *testing.T) {
	f := mustFixture(t)
	kiosk := f.base.Site.Kiosk.ID
	newPub, newPriv, _ := bundle.GenerateKey()
	answer := func(version uint64, priv ed25519.PrivateKey) []byte {
		env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindRequestStatus, Version: version,
			Target:    bundle.Target{Township: f.base.Site.Kiosk.Township, Kiosks: []string{kiosk}},
			NotBefore: t0, Expires: t0.Add(365 * 24 * time.Hour), Content: []byte(`{"format":"request-status/v1"}`)}, priv)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	takeAll := func([]byte) error { return nil }
	if _, err := f.ctl.VerifyAnswer(answer(5, f.priv), takeAll); err != nil {
		t.Fatalf("an answer signed with the township key: %v", err)
	}
	// The same answer again: not a replay for the trust state, which an
	// answer leaves as it was (the request's stored version orders it).
	if _, err := f.ctl.VerifyAnswer(answer(5, f.priv), takeAll); err != nil {
		t.Fatalf("the answer again: %v", err)
	}
	rot, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindKeyRotation, Version: 6,
		Target:    bundle.Target{Township: f.base.Site.Kiosk.Township},
		NotBefore: t0, Expires: t0.Add(365 * 24 * time.Hour),
		Rotation: &bundle.Rotation{PublicKey: newPub, EffectiveVersion: 7}}, f.priv)
	if err != nil {
		t.Fatal(err)
	}
	f.ctl.Handle(rot)
	f.mustReport(StatusApplied, "")

	for _, tt := range []struct {
		name     string
		env      []byte
		validate func([]byte) error
		want     error
	}{
		{"old key below the rotation", answer(6, f.priv), takeAll, nil},
		{"old key from the rotation on", answer(7, f.priv), takeAll, bundle.ErrRetiredKey},
		{"new key from the rotation on", answer(7, newPriv), takeAll, nil},
		{"content refused", answer(8, newPriv), func([]byte) error { return errors.New("bad") }, bundle.ErrSchema},
		{"a site bundle", f.mustSign(8, t0, nil, theme(t, "答复"), newPriv), takeAll, bundle.ErrSchema},
		{"a key rotation", rot, takeAll, bundle.ErrReplay},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.ctl.VerifyAnswer(tt.env, tt.validate); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyAnswer = %v, want %v", err, tt.want)
			}
		})
	}
	before, _ := f.ctl.Reported()
	f.ctl.Handle(answer(9, newPriv))
	if r := f.mustReport(StatusRejected, "unsupported"); r.InForceVersion != before.InForceVersion {
		t.Errorf("an answer on a config topic changed what is in force: %+v", r)
	}
}

// TestVerifyPoints: a points ledger is checked against the trust state in
// force and changes nothing there; an answer is refused on the points
// topic, and a ledger given to Handle (a config topic) is never applied as
// configuration.
func TestVerifyPoints(t *testing.T) {
	f := mustFixture(t)
	kiosk := f.base.Site.Kiosk.ID
	sign := func(kind string, version uint64, priv ed25519.PrivateKey) []byte {
		env, err := bundle.Sign(bundle.Bundle{Kind: kind, Version: version,
			Target:    bundle.Target{Township: f.base.Site.Kiosk.Township, Kiosks: []string{kiosk}},
			NotBefore: t0, Expires: t0.Add(365 * 24 * time.Hour), Content: []byte("\x1f\x8b ledger")}, priv)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	takeAll := func([]byte) error { return nil }
	_, stranger, _ := bundle.GenerateKey()
	for _, tt := range []struct {
		name     string
		env      []byte
		validate func([]byte) error
		want     error
	}{
		{"a ledger", sign(bundle.KindPointsLedger, 5, f.priv), takeAll, nil},
		{"the same again: the trust state does not order it", sign(bundle.KindPointsLedger, 5, f.priv), takeAll, nil},
		{"unsigned by the township", sign(bundle.KindPointsLedger, 6, stranger), takeAll, bundle.ErrUnknownKey},
		{"content refused", sign(bundle.KindPointsLedger, 6, f.priv), func([]byte) error { return errors.New("bad") }, bundle.ErrSchema},
		{"an answer", sign(bundle.KindRequestStatus, 6, f.priv), takeAll, bundle.ErrUnsupported},
		{"numbered as kioskctl does, by Unix time", sign(bundle.KindPointsLedger, uint64(t0.Unix()), f.priv), takeAll, nil},
		{"a year past its not_before", sign(bundle.KindPointsLedger, uint64(t0.Unix())+MaxPointsVersionAhead, f.priv), takeAll, nil},
		{"ten times the Unix time: it would block every later ledger", sign(bundle.KindPointsLedger, uint64(t0.Unix())*10, f.priv), takeAll, bundle.ErrSchema},
		{"the largest version", sign(bundle.KindPointsLedger, 1<<53-1, f.priv), takeAll, bundle.ErrSchema},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.ctl.VerifyPoints(tt.env, tt.validate); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyPoints = %v, want %v", err, tt.want)
			}
		})
	}
	f.ctl.Handle(sign(bundle.KindPointsLedger, 9, f.priv))
	if r := f.mustReport(StatusRejected, "unsupported"); r.InForceVersion != 0 {
		t.Errorf("a ledger on a config topic changed what is in force: %+v", r)
	}
}

package control

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// mustRecordsKey is a fresh records key's text form and id.
func mustRecordsKey(t *testing.T) (string, string) {
	t.Helper()
	k, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.Public().String(), k.ID()
}

func recordsBundle(key string) []byte {
	return []byte("schema: " + config.BundleSchema + "\nrecords:\n  township_key: " + key + "\n")
}

func uiBundle(idle string) []byte {
	return []byte("schema: " + config.BundleSchema + "\nui:\n  idle: " + idle + "\n")
}

// recordsKey is the id of the records key the core seals to now.
func (f *fixture) recordsKey() string { return keyID(f.core.cfg) }

// TestRecordsKeyStays: a records key set by a bundle stays in force
// through later bundles and patches without a records section, across
// restarts, in either scope; only a newer bundle with a records section
// changes it, and each change is told once (kioskd alerts).
func TestRecordsKeyStays(t *testing.T) {
	const devKeyID = config.DevRecordsKeyID // the dev site file's
	k2, id2 := mustRecordsKey(t)
	k3, id3 := mustRecordsKey(t)
	me := []string{"dev-kiosk-01"}
	type step struct {
		name string
		do   func(f *fixture) // one bundle handled, a restart, …
	}
	sign := func(version uint64, kiosks []string, content []byte) step {
		return step{"bundle", func(f *fixture) {
			f.ctl.Handle(f.mustSign(version, t0.Add(time.Duration(version)*time.Minute), kiosks, content, f.priv))
			f.mustReport(StatusApplied, "")
		}}
	}
	patch := func(version uint64, kiosks []string, p string) step {
		return step{"patch", func(f *fixture) {
			f.ctl.Handle(f.mustSignPatch(version, t0.Add(time.Duration(version)*time.Minute), kiosks, p))
			f.mustReport(StatusApplied, "")
		}}
	}
	restart := step{"restart", func(f *fixture) { f.mustOpen() }}
	tests := []struct {
		name      string
		noSiteKey bool // the site file has no records key
		steps     []step
		want      string   // key id in force at the end
		told      []string // the changes told, "from>to"
	}{
		{"rotate, ui bundle, patch, restart", false,
			[]step{sign(10, nil, recordsBundle(k2)), sign(11, nil, uiBundle("90s")), patch(12, nil, "ui:\n  idle: 80s\n"), restart},
			id2, []string{devKeyID + ">" + id2}},
		{"no key in the site file: the first one stays", true,
			[]step{sign(10, nil, recordsBundle(k2)), sign(11, nil, uiBundle("90s")), restart, patch(12, me, "ui:\n  idle: 80s\n"), restart},
			// The site file lost its key while kioskd was stopped (the
			// fixture started on the dev site's): told at the start.
			id2, []string{devKeyID + ">", ">" + id2}},
		{"a kiosk bundle after a township rotation", false,
			[]step{sign(10, nil, recordsBundle(k2)), sign(11, me, theme(t, "防范电信诈骗")), restart},
			id2, []string{devKeyID + ">" + id2}},
		{"rotated twice", false,
			[]step{sign(10, nil, recordsBundle(k2)), sign(11, nil, uiBundle("90s")), sign(12, me, recordsBundle(k3)), sign(13, nil, uiBundle("80s")), restart},
			id3, []string{devKeyID + ">" + id2, id2 + ">" + id3}},
		{"rotated by a patch", false,
			[]step{patch(10, nil, "records:\n  township_key: "+k2+"\n"), sign(11, nil, uiBundle("90s")), restart},
			id2, []string{devKeyID + ">" + id2}},
		// Scopes count apart: a kiosk bundle may be new in its scope and
		// still older than the rotation; the newer key stays.
		{"an older bundle's key does not win", false,
			[]step{sign(10, nil, recordsBundle(k2)), sign(5, me, recordsBundle(k3)), restart},
			id2, []string{devKeyID + ">" + id2}},
		{"the same key again changes nothing", false,
			[]step{sign(10, nil, recordsBundle(k2)), sign(11, me, recordsBundle(k2)), restart},
			id2, []string{devKeyID + ">" + id2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFixture(t)
			if tt.noSiteKey {
				site := f.base.Site
				site.Records = config.Records{}
				f.base.Site = site
				f.mustOpen()
			}
			for i, s := range tt.steps {
				s.do(f)
				if r, ok := f.ctl.Reported(); ok && s.name != "restart" && r.RecordsKey != f.recordsKey() {
					t.Errorf("step %d (%s): reported records key %q, in force %q", i, s.name, r.RecordsKey, f.recordsKey())
				}
			}
			if got := f.recordsKey(); got != tt.want {
				t.Errorf("records key in force %q, want %q", got, tt.want)
			}
			if got := f.ctl.Config().Site.SealKey(); got == nil || got.ID() != tt.want {
				t.Errorf("Config's records key %v, want %s", got, tt.want)
			}
			var told []string
			for _, ch := range f.keyChanges {
				told = append(told, ch.From+">"+ch.To)
				if ch.Why == "" {
					t.Errorf("change %+v says not why", ch)
				}
			}
			if !slices.Equal(told, tt.told) {
				t.Errorf("told %v, want %v", told, tt.told)
			}
		})
	}
}

// TestRecordsKeyRollback: a bundle that fails its health check takes its
// records key with it, in memory, on disk and after a restart, and so
// does a start that finds such a bundle unchecked.
func TestRecordsKeyRollback(t *testing.T) {
	k2, id2 := mustRecordsKey(t)
	k3, _ := mustRecordsKey(t)
	bad := func(key string) []byte {
		return append(theme(t, "坏主题"), []byte("records:\n  township_key: "+key+"\n")...)
	}
	unhealthy := func(cfg *config.Config) error {
		if cfg.Site.Content.Lecture.Theme == "坏主题" {
			return errors.New("no consultation slot")
		}
		return nil
	}
	tests := []struct {
		name   string
		before []byte // a records bundle applied first, or nil
		want   string
	}{
		{"the first key rolled back", nil, config.DevRecordsKeyID},
		{"a rotation rolled back", recordsBundle(k2), id2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFixture(t)
			if tt.before != nil {
				f.ctl.Handle(f.mustSign(10, t0, nil, tt.before, f.priv))
				f.mustReport(StatusApplied, "")
			}
			told := len(f.keyChanges)
			f.core.unhealthy = unhealthy
			f.ctl.Handle(f.mustSign(11, t0.Add(time.Hour), nil, bad(k3), f.priv))
			f.mustReport(StatusRolledBack, "health_check")
			if got := f.recordsKey(); got != tt.want {
				t.Errorf("after the rollback: records key %q, want %q", got, tt.want)
			}
			if len(f.keyChanges) != told {
				t.Errorf("a rollback that ends where it began told %v", f.keyChanges[told:])
			}
			if _, err := os.Stat(filepath.Join(f.dir, prevRecordsFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("previous records key left behind: %v", err)
			}
			f.mustOpen()
			if got := f.recordsKey(); got != tt.want {
				t.Errorf("after a restart: records key %q, want %q", got, tt.want)
			}
			// The next bundle without a records section keeps it.
			f.ctl.Handle(f.mustSign(12, t0.Add(2*time.Hour), nil, uiBundle("90s"), f.priv))
			f.mustReport(StatusApplied, "")
			if got := f.recordsKey(); got != tt.want {
				t.Errorf("after the next bundle: records key %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRecordsKeyCrashBetweenApplyAndCheck: kioskd stopped after writing a
// bundle with a records section, before checking it (and before writing
// its key, the last step): the start takes the key from the bundle in
// force and, when the check fails, rolls both back.
func TestRecordsKeyCrashBetweenApplyAndCheck(t *testing.T) {
	k2, id2 := mustRecordsKey(t)
	k3, id3 := mustRecordsKey(t)
	for _, healthy := range []bool{true, false} {
		t.Run(map[bool]string{true: "check passes", false: "check fails"}[healthy], func(t *testing.T) {
			f := mustFixture(t)
			f.ctl.Handle(f.mustSign(10, t0, nil, recordsBundle(k2), f.priv))
			f.mustReport(StatusApplied, "")
			// What apply leaves on disk once it has written the bundle:
			// the old bundle and key kept aside, the new bundle in place,
			// the key not yet written.
			good, _ := os.ReadFile(filepath.Join(f.dir, "township-bundle.json"))
			keyBefore, _ := os.ReadFile(filepath.Join(f.dir, recordsFile))
			content := append(theme(t, "坏主题"), []byte("records:\n  township_key: "+k3+"\n")...)
			next := &applied{Kind: bundle.KindSite, Version: 11, Scope: "township:dev-township", NotBefore: t0.Add(time.Hour), Content: content}
			if err := f.ctl.writeFile("township-bundle.json", next); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(f.dir, "previous-township-bundle.json"), good, 0o600)
			os.WriteFile(filepath.Join(f.dir, prevRecordsFile), keyBefore, 0o600)
			want := id3
			if !healthy {
				want = id2
				f.core.unhealthy = func(cfg *config.Config) error {
					if cfg.Site.Content.Lecture.Theme == "坏主题" {
						return errors.New("no consultation slot")
					}
					return nil
				}
			}
			f.mustOpen()
			if got := f.recordsKey(); got != want {
				t.Errorf("after the start: records key %q, want %q", got, want)
			}
			f.mustOpen()
			if got := f.recordsKey(); got != want {
				t.Errorf("after a second start: records key %q, want %q", got, want)
			}
			if _, err := os.Stat(filepath.Join(f.dir, prevRecordsFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("previous records key left behind: %v", err)
			}
		})
	}
}

// TestRecordsKeyRefused: a bundle whose records key is a signing key the
// kiosk trusts (one a rotation brought in too, which the site file does
// not list), or the dev township's on a production kiosk, is refused, and
// the key in force stays.
func TestRecordsKeyRefused(t *testing.T) {
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
	f.priv = newPriv
	const devKey = "Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc="
	tests := []struct {
		name       string
		production bool
		content    []byte
		msg        string
	}{
		{"the site file's signing key", false, recordsBundle(bundle.FormatPublicKey(f.pub)), "is a township signing key"},
		{"the rotated-in signing key", false, recordsBundle(bundle.FormatPublicKey(newPub)), "is a township signing key"},
		{"the rotated-in signing key by a patch", false, []byte("schema: " + config.PatchSchema + "\nrecords:\n  township_key: " + bundle.FormatPublicKey(newPub) + "\n"), "is a township signing key"},
		{"the dev key in production", true, recordsBundle(devKey), "is the dev township's records key"},
	}
	version := uint64(2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.production {
				// Config validation already refuses the dev key in a
				// production site file; control refuses it in a bundle
				// by the same rule whichever way the base was made.
				site := f.base.Site
				site.Mode = config.ModeProduction
				site.Records = config.Records{}
				f.base.Site = site
				f.mustOpen()
			}
			before := f.recordsKey()
			version++
			kind := bundle.KindSite
			if strings.Contains(string(tt.content), config.PatchSchema) {
				kind = bundle.KindSitePatch
			}
			env, err := bundle.Sign(bundle.Bundle{Kind: kind, Version: version,
				Target: bundle.Target{Township: f.base.Site.Kiosk.Township}, NotBefore: t0, Expires: t0.Add(30 * 24 * time.Hour),
				Content: tt.content}, f.priv)
			if err != nil {
				t.Fatal(err)
			}
			f.ctl.Handle(env)
			r := f.mustReport(StatusRejected, "schema")
			if !strings.Contains(r.Error, tt.msg) {
				t.Errorf("error %q, want %q", r.Error, tt.msg)
			}
			if f.recordsKey() != before {
				t.Errorf("records key %q, was %q", f.recordsKey(), before)
			}
		})
	}
	// The check itself, with its sentinel.
	if err := f.ctl.checkRecordsKey(bundle.FormatPublicKey(newPub)); !errors.Is(err, ErrRecordsKey) || !errors.Is(err, config.ErrRecordsKeyIsSigningKey) {
		t.Errorf("checkRecordsKey(signing key) = %v", err)
	}
}

// TestRecordsKeyFileSetAside: a records.json that does not read, or holds
// a signing key, is set aside, and the site file's key is in force.
func TestRecordsKeyFileSetAside(t *testing.T) {
	f := mustFixture(t)
	for name, data := range map[string]string{
		"not JSON":     "{",
		"wrong format": `{"format":"x","township_key":"` + "Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=" + `"}`,
		"signing key":  `{"format":"` + RecordsFormat + `","township_key":"` + bundle.FormatPublicKey(f.pub) + `","version":3}`,
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(filepath.Join(f.dir, recordsFile), []byte(data), 0o600)
			f.mustOpen()
			if got := f.recordsKey(); got != config.DevRecordsKeyID {
				t.Errorf("records key %q, want the site file's", got)
			}
			if _, err := os.Stat(filepath.Join(f.dir, recordsFile+".bad")); err != nil {
				t.Errorf("not set aside: %v", err)
			}
		})
	}
}

// TestRecordsKeyRollbackFinishedAtStart: a rollback that put the bundle
// back on disk but could not write the key back (previous-records.json is
// still there) is finished at the next start.
func TestRecordsKeyRollbackFinishedAtStart(t *testing.T) {
	k2, id2 := mustRecordsKey(t)
	k3, id3 := mustRecordsKey(t)
	f := mustFixture(t)
	f.ctl.Handle(f.mustSign(10, t0, nil, recordsBundle(k2), f.priv))
	f.mustReport(StatusApplied, "")
	keyBefore, _ := os.ReadFile(filepath.Join(f.dir, recordsFile))
	os.WriteFile(filepath.Join(f.dir, prevRecordsFile), keyBefore, 0o600)
	if err := f.ctl.writeRecords(recordsFile, &recordsKey{Format: RecordsFormat, TownshipKey: k3, KeyID: id3, Version: 11, Scope: "township:dev-township"}); err != nil {
		t.Fatal(err)
	}
	f.mustOpen()
	if got := f.recordsKey(); got != id2 {
		t.Errorf("records key %q, want %q, the one before the bundle rolled back", got, id2)
	}
	if _, err := os.Stat(filepath.Join(f.dir, prevRecordsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("previous records key left behind: %v", err)
	}
}

// TestRecordsKeyChangedWhileStopped: a change of the key in force between
// two runs (the site file's key edited, say) is told at the next start,
// once.
func TestRecordsKeyChangedWhileStopped(t *testing.T) {
	k2, id2 := mustRecordsKey(t)
	f := mustFixture(t)
	site := f.base.Site
	site.Records = config.Records{TownshipKey: k2}
	f.base.Site = site
	f.mustOpen()
	f.mustOpen()
	want := []RecordsKeyChange{{From: config.DevRecordsKeyID, To: id2}}
	if len(f.keyChanges) != 1 || f.keyChanges[0].From != want[0].From || f.keyChanges[0].To != want[0].To || !strings.Contains(f.keyChanges[0].Why, "while kioskd was stopped") {
		t.Errorf("told %+v, want %+v once", f.keyChanges, want)
	}
}

// TestRecordsKeyStaysWhenSoftwareFailsTheBundle: a bundle that passed its
// check and set the key fails it at a later start (the software changed
// under it): the bundle is rolled back, but the key, which no health
// check judges, stays.
func TestRecordsKeyStaysWhenSoftwareFailsTheBundle(t *testing.T) {
	k2, id2 := mustRecordsKey(t)
	f := mustFixture(t)
	f.ctl.Handle(f.mustSign(10, t0, nil, append(theme(t, "坏主题"), []byte("records:\n  township_key: "+k2+"\n")...), f.priv))
	f.mustReport(StatusApplied, "")
	f.core.unhealthy = func(cfg *config.Config) error {
		if cfg.Site.Content.Lecture.Theme == "坏主题" {
			return errors.New("no consultation slot")
		}
		return nil
	}
	f.mustOpen()
	f.mustReport(StatusRolledBack, "health_check")
	if f.theme() == "坏主题" || f.recordsKey() != id2 {
		t.Errorf("theme %q, records key %q; want the bundle rolled back, the key %s kept", f.theme(), f.recordsKey(), id2)
	}
}

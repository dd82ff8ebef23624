package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
)

// mustDevTownshipKey copies the dev township's private key where
// ReadPrivateKeyFile takes it (mode 0600; git keeps 0644), so that what
// the test signs verifies with the dev site's township key.
func mustDevTownshipKey(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../../packaging/dev/dev-township.key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dev-township.key")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAdvisorHoursPatch is docs/bundles.md's worked example: the patch
// that moves the advisor's Tuesday and Friday hours, signed with the dev
// township key against the dev site, verified as the dev kiosk verifies
// it, and merged: the duty windows are the patch's, everything else the
// site file's.
func TestAdvisorHoursPatch(t *testing.T) {
	const example = "testdata/advisor-hours.patch.yaml"
	patch, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(patch, []byte("\n")); n >= 10 {
		t.Errorf("the worked example is %d lines; the issue asks for under ten", n)
	}
	docs, err := os.ReadFile("../../../docs/bundles.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(docs, []byte("```yaml\n"+string(patch)+"```\n")) {
		t.Errorf("docs/bundles.md does not show %s as it is", example)
	}

	out := filepath.Join(t.TempDir(), "bundle.json")
	var stdout, stderr bytes.Buffer
	args := []string{"--key", mustDevTownshipKey(t), "--township", "dev-township", "--version", "20261206",
		"--content", example, "--site", devSite, "--out", out}
	if code := configSign(context.Background(), args, &stdout, &stderr, func() time.Time { return signedAt }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	mustGolden(t, "advisor-hours.sign.txt", stderr.Bytes())
	env, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mustGolden(t, "advisor-hours.bundle.json", env)

	base, err := config.Load(devSite)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := bundle.NewTrustState(base.Site.Control.TownshipKeys...)
	if err != nil {
		t.Fatal(err)
	}
	id := bundle.Identity{Kiosk: base.Site.Kiosk.ID, Township: base.Site.Kiosk.Township}
	v, err := bundle.Verify(env, trust, id, signedAt.Add(time.Hour), bundle.Options{
		Validate: func([]byte) error { t.Error("a patch checked as a site bundle"); return nil },
		ValidatePatch: func(content []byte) error {
			_, err := base.WithPatch("patch", content, 1)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != bundle.KindSitePatch || !bytes.Equal(v.Content, patch) {
		t.Fatalf("kind %q content %q", v.Kind, v.Content)
	}
	cfg, err := base.WithPatch("bundle v20261206", v.Content, v.Version)
	if err != nil {
		t.Fatal(err)
	}
	var duty []string
	for _, w := range cfg.Site.Content.Advisor.Duty {
		duty = append(duty, w.String())
	}
	if got := strings.Join(duty, "; "); got != "周二、周五 08:30–11:30; 周四 14:30–17:30" {
		t.Errorf("duty %s", got)
	}
	rest := cfg.Site
	rest.Content.Advisor.Duty = base.Site.Content.Advisor.Duty
	if !reflect.DeepEqual(rest, base.Site) {
		t.Error("the patch changed more than the duty windows")
	}
}

// TestSignPatchRefusals: a patch whose result the kiosk would refuse is not
// signed, and the refusal says why.
func TestSignPatchRefusals(t *testing.T) {
	key := mustDevTownshipKey(t)
	tests := []struct{ name, content, want string }{
		{"thursday dropped from the services list", "schema: " + config.PatchSchema + "\ncontent:\n  services:\n    - {id: legal-advisor, title: 法律顾问}\n",
			"a list in a patch replaces the site file's whole list: the site file has 5 items, the patch 1"},
		{"no duty left", "schema: " + config.PatchSchema + "\ncontent:\n  advisor:\n    duty: []\n", "content.advisor.duty: needs at least one duty window"},
		{"broker", "schema: " + config.PatchSchema + "\nmqtt:\n  broker: tcp://evil:1883\n", "a township bundle may not set mqtt"},
		{"a partial section as a whole bundle", "schema: " + config.BundleSchema + "\ncontent:\n  advisor:\n    name: 林晓明\n",
			"replaces the site file's whole, and this one leaves out topics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := filepath.Join(t.TempDir(), "content.yaml")
			if err := os.WriteFile(content, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "bundle.json")
			var stdout, stderr bytes.Buffer
			args := []string{"--key", key, "--township", "dev-township", "--content", content, "--site", devSite, "--out", out}
			if code := configSign(context.Background(), args, &stdout, &stderr, func() time.Time { return signedAt }); code != 1 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "would refuse this bundle:") || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %s\nwant %q", stderr.String(), tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an envelope was written")
			}
		})
	}
}

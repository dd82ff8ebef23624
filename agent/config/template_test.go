package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/sealed"
)

// templateSite is the site file the kiosk package installs as
// /etc/fengqiao/site.yaml, with the township's values left as placeholders.
const templateSite = "template.yaml"

// TestPackagedSiteTemplate: kioskd refuses the packaged site file until the
// township's values are filled in, naming exactly those keys, and accepts
// it once they are (with the board profiles and TLS files laid out as the
// package and docs/deploy.md lay them out in /etc/fengqiao).
func TestPackagedSiteTemplate(t *testing.T) {
	src := filepath.Join("../../firmware-configs/sites", templateSite)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	etc := t.TempDir()
	site := filepath.Join(etc, "site.yaml")
	mustCopyBoards(t, filepath.Join(etc, "boards"))
	os.WriteFile(site, data, 0o644)

	_, err = Load(site)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("the unfilled template loaded: %v", err)
	}
	var unfilled, others []string
	for _, p := range cerr.Problems {
		if strings.HasPrefix(p.Msg, "not filled in") {
			unfilled = append(unfilled, p.Field)
			if p.Line == 0 || !strings.Contains(p.Msg, "(") {
				t.Errorf("%s: %s: want its line and the template's hint", p.Field, p.Msg)
			}
		} else {
			others = append(others, p.String())
		}
	}
	want := []string{"board", "kiosk.id", "kiosk.township", "kiosk.village", "kiosk.name", "mqtt.broker",
		"control.township_keys[0]", "records.township_key", "content.advisor.name", "content.advisor.firm", "content.advisor.phone"}
	slices.Sort(want)
	slices.Sort(unfilled)
	if !slices.Equal(unfilled, want) {
		t.Errorf("unfilled keys reported: %v\nwant %v", unfilled, want)
	}
	// No real key stands in the template as an example: a technician
	// copying the dev key would make every kiosk seal to a key whose
	// private half is public. The placeholder says how to make the key.
	if k := regexp.MustCompile(`[A-Za-z0-9+/]{43}=`).FindString(string(data)); k != "" {
		t.Errorf("the template holds a key, %s: a placeholder must say how to make one", k)
	}
	for _, p := range cerr.Problems {
		if p.Field == "records.township_key" && !strings.Contains(p.Msg, "kioskctl keys gen --encryption") {
			t.Errorf("records.township_key: %s: want the command that makes the key", p.Msg)
		}
	}
	// The one other thing a technician must do is put the township's TLS
	// files in place; nothing else may be wrong with the template.
	for _, o := range others {
		if !strings.Contains(o, "mqtt.tls.") {
			t.Errorf("the template has a problem besides its placeholders: %s", o)
		}
	}

	// Filled in as docs/deploy.md says, it loads.
	_, f := mustKioskCert(t, "xingcun-kiosk-01", time.Now().AddDate(1, 0, 0))
	tls := filepath.Join(etc, "tls")
	os.MkdirAll(tls, 0o750)
	for from, to := range map[string]string{f.ca: "township-ca.pem", f.cert: "kiosk.pem", f.key: "kiosk.key"} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(tls, to), b, 0o600)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	values := map[string]string{
		"board": "boards/rpi4.yaml", "id": "xingcun-kiosk-01", "township": "xingcun", "village": "chengcun",
		"name": "程墩村综治服务一体机", "broker": "ssl://zz.xingcun.example:8883",
		"- ":   base64.StdEncoding.EncodeToString(pub),
		"firm": "武夷山市某某律师事务所", "phone": "0599-5317356",
		"township_key": mustRecordsKey(t),
	}
	placeholder := regexp.MustCompile(`(?m)^(\s*)(- |[a-z_]+: )"FILL-IN[^"]*"`)
	filled := placeholder.ReplaceAllStringFunc(string(data), func(line string) string {
		m := placeholder.FindStringSubmatch(line)
		key := strings.TrimSuffix(m[2], ": ")
		v, ok := values[key]
		if key == "name" && strings.HasPrefix(m[1], "    ") {
			v, ok = "林晓明", true // the advisor's, not the kiosk's
		}
		if !ok {
			t.Fatalf("no test value for %q", line)
		}
		return m[1] + m[2] + `"` + v + `"`
	})
	// Filled in with the wrong key for records: the signing key, or the
	// dev township's records key (this is a production site), is refused.
	for _, wrong := range []struct{ key, msg string }{
		{values["- "], "is a township signing key"},
		{"Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=", "is the dev township's records key"},
	} {
		os.WriteFile(site, []byte(strings.Replace(filled, values["township_key"], wrong.key, 1)), 0o644)
		if _, err := Load(site); err == nil || !strings.Contains(err.Error(), "records.township_key: "+wrong.msg) {
			t.Errorf("records key %s: %v, want %q", wrong.key, err, wrong.msg)
		}
	}
	// Trusting the dev township's signing key, whose private half is
	// committed, is refused too.
	os.WriteFile(site, []byte(strings.Replace(filled, values["- "], "HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", 1)), 0o644)
	if _, err := Load(site); err == nil || !strings.Contains(err.Error(), "control.township_keys[0]: is the dev township's signing key") {
		t.Errorf("the dev signing key trusted: %v", err)
	}
	os.WriteFile(site, []byte(filled), 0o644)
	cfg, err := Load(site)
	if err != nil {
		t.Fatalf("the filled-in template: %v", err)
	}
	if cfg.Board.Name != "rpi4" || cfg.Site.Kiosk.ID != "xingcun-kiosk-01" || cfg.TLSConfig() == nil {
		t.Errorf("loaded %+v", cfg.Site.Kiosk)
	}
}

func mustCopyBoards(t *testing.T, dir string) {
	t.Helper()
	paths, _ := filepath.Glob("../../firmware-configs/boards/*.yaml")
	os.MkdirAll(dir, 0o755)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
}

func TestLoadSiteBoard(t *testing.T) {
	b, err := LoadSiteBoard("../../firmware-configs/sites/dev.yaml")
	if err != nil || b.Name != "dev-sim" {
		t.Errorf("dev site's board = %v, %v", b, err)
	}
	_, err = LoadSiteBoard("../../firmware-configs/sites/" + templateSite)
	if err == nil || !strings.Contains(err.Error(), "board is not filled in") {
		t.Errorf("template's board: %v", err)
	}
}

// mustRecordsKey is a fresh township records key's text form.
func mustRecordsKey(t *testing.T) string {
	t.Helper()
	k, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.Public().String()
}

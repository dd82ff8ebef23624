package config

import (
	"errors"
	"strings"
	"testing"
)

// mustDevBundle is a bundle content carrying the dev site's content,
// mediators and ui sections as they are.
func mustDevBundle(t *testing.T) string {
	t.Helper()
	site, _ := mustReadDev(t)
	i := strings.Index(site, "\ncontent:")
	if i < 0 {
		t.Fatal("dev.yaml has no content section")
	}
	return "schema: " + BundleSchema + "\n" + site[i+1:]
}

func TestWithBundle(t *testing.T) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := mustDevBundle(t)
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("dev bundle lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name, content string
		field, msg    string // of one problem; empty for a valid bundle
	}{
		{"whole dev content", good, "", ""},
		{"new lecture theme", replace("theme: 农村土地承包与流转", "theme: 防范电信诈骗"), "", ""},
		{"ui only", "schema: " + BundleSchema + "\nui:\n  idle: 90s\n", "", ""},
		{"kiosk identity", good + "kiosk:\n  id: other\n", "kiosk", "may not set kiosk"},
		{"broker", good + "mqtt:\n  broker: tcp://evil:1883\n", "mqtt", "may not set mqtt"},
		{"wrong schema", strings.Replace(good, BundleSchema, SiteSchema, 1), "schema", "not a site bundle"},
		{"nothing set", "schema: " + BundleSchema + "\n", "", "sets none of"},
		{"invalid content", replace("id: tea-table", "id: tea-room"), "content.venues[2].id", "already listed"},
		{"idle out of range", "schema: " + BundleSchema + "\nui:\n  idle: 1s\n", "ui.idle", "out of range"},
		{"not YAML", "schema: [", "", "not valid YAML"},
		{"records key rotated", "schema: " + BundleSchema + "\nrecords:\n  township_key: " + rotatedRecordsKey + "\n", "", ""},
		{"records key not a key", "schema: " + BundleSchema + "\nrecords:\n  township_key: HKed1wQb110VBAibFcTLdFa7\n", "records.township_key", "not an X25519 public key"},
		// The dev site's signing key is 44 characters of base64 too: taken
		// as the records key, every number sealed to it would be lost.
		{"records key is the signing key", "schema: " + BundleSchema + "\nrecords:\n  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n", "records.township_key", "is a township signing key"},
		{"records section without a key", "schema: " + BundleSchema + "\nrecords: {}\n", "records.township_key", "is required in a bundle's records section"},
		{"records section empty", "schema: " + BundleSchema + "\nrecords:\n", "records.township_key", "is required in a bundle's records section"},
		{"wording", replace("  phrases:\n", "  wording:\n    dim.wake: 请摸一下屏幕\n  phrases:\n"), "", ""},
		{"wording key unknown", replace("  phrases:\n", "  wording:\n    home.slogan: 一村一法律顾问\n  phrases:\n"), "content.wording.home.slogan", "unknown key"},
		{"partial content", "schema: " + BundleSchema + "\ncontent:\n  advisor:\n    name: 林晓明\n", "content", "leaves out topics, services, lecture"},
		{"patch as a bundle", "schema: " + PatchSchema + "\nui:\n  idle: 90s\n", "schema", "a patch is signed as one"},
		{"wording drops a value", replace("  phrases:\n", "  wording:\n    phone.read_back: 您输的电话是\n  phrases:\n"), "content.wording.phone.read_back", "takes {number}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := base.WithBundle("bundle 7", []byte(tt.content), 7)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.ContentVersion != 7 || got.Site.Kiosk != base.Site.Kiosk || got.Site.MQTT != base.Site.MQTT {
					t.Errorf("config %+v", got.Site.Kiosk)
				}
				if base.ContentVersion != 0 {
					t.Error("the base configuration was changed")
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.msg) || tt.field != "" && !strings.Contains(err.Error(), tt.field+":") ||
				!strings.Contains(err.Error(), "bundle 7") {
				t.Errorf("error %v, want %s on %q", err, tt.msg, tt.field)
			}
		})
	}
	// A section replaces the site file's whole: the new theme is in force.
	got, err := base.WithBundle("bundle 8", []byte(replace("theme: 农村土地承包与流转", "theme: 防范电信诈骗")), 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.Site.Content.Lecture.Theme != "防范电信诈骗" {
		t.Errorf("theme %q", got.Site.Content.Lecture.Theme)
	}
	// The township rotates its records key by a bundle: the kiosk seals
	// to the new one from then on.
	got, err = base.WithBundle("bundle 10", []byte("schema: "+BundleSchema+"\nrecords:\n  township_key: "+rotatedRecordsKey+"\n"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Site.SealKey(); k == nil || k.String() != rotatedRecordsKey || base.Site.SealKey().String() == rotatedRecordsKey {
		t.Errorf("records key in force %v", k)
	}
	// So are a township's corrections of the screens' texts.
	got, err = base.WithBundle("bundle 9", []byte(replace("  phrases:\n", "  wording:\n    dim.wake: 请摸一下屏幕\n  phrases:\n")), 9)
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Site.Content.Wording["dim.wake"]; w != "请摸一下屏幕" {
		t.Errorf("wording dim.wake = %q", w)
	}
}

// TestWithBundleSaysWhy: a content section with only the advisor, as
// docs/bundles.md once showed, is refused first for what it is (a whole
// section that leaves out the rest of the site file's), with the way to
// change one value, and then with what is missing and why.
func TestWithBundleSaysWhy(t *testing.T) {
	base, err := Load("../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = base.WithBundle("bundle.yaml", []byte("schema: "+BundleSchema+`
content:
  advisor:
    name: 林晓明
    firm: 武夷山市某某律师事务所
    phone: "0599-5317356"
    duty:
      - days: [tue, fri]
        from: "08:30"
        to: "11:30"
`), 7)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err %v", err)
	}
	first := cerr.Problems[0]
	if first.Field != "content" || first.Line == 0 || !strings.Contains(first.Msg, "replaces the site file's whole") ||
		!strings.Contains(first.Msg, "leaves out topics, services, lecture, checkup, publicity, fairs, venues, mediation, booking_lookup, phrases,") ||
		!strings.Contains(first.Msg, PatchSchema) {
		t.Errorf("first problem %v", first)
	}
	want := map[string]string{
		"content.topics":   "a villager booking the advisor picks one",
		"content.services": "(missing: legal-advisor, legal-lecture, legal-checkup, publicity, legal-fair); the kiosk's home screen shows one key per service",
	}
	for _, p := range cerr.Problems[1:] {
		if w, ok := want[p.Field]; ok {
			if !strings.Contains(p.Msg, w) {
				t.Errorf("%s: %q, want %q", p.Field, p.Msg, w)
			}
			delete(want, p.Field)
		}
	}
	if len(want) > 0 {
		t.Errorf("no problem on %v in %v", want, err)
	}
	// A bundle that is valid without what it leaves out is not lectured.
	if _, err := base.WithBundle("bundle.yaml", []byte("schema: "+BundleSchema+"\nui:\n  idle: 90s\n"), 7); err != nil {
		t.Error(err)
	}
}

// rotatedRecordsKey is a records key other than the dev township's.
const rotatedRecordsKey = "9wGT1nbHmJ1ZKbqkUv2gSnbuAoUPtS1yrHdo0oV5j1c="

// TestSetsRecords: only a bundle or patch with a records section changes
// the records key; control keeps it across those without one.
func TestSetsRecords(t *testing.T) {
	tests := []struct {
		content string
		want    bool
	}{
		{"schema: " + BundleSchema + "\nrecords:\n  township_key: " + rotatedRecordsKey + "\n", true},
		{"schema: " + PatchSchema + "\nrecords:\n  township_key: " + rotatedRecordsKey + "\n", true},
		{"schema: " + PatchSchema + "\nrecords: ~\n", true},
		{"schema: " + BundleSchema + "\nui:\n  idle: 90s\n", false},
		{"schema: " + BundleSchema + "\ncontent:\n  records: x\n", false},
		{"schema: [", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := SetsRecords([]byte(tt.content)); got != tt.want {
			t.Errorf("SetsRecords(%q) = %v, want %v", tt.content, got, tt.want)
		}
	}
}

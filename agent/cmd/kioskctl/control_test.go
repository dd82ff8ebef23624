package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/control"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/township"
)

// statusNow is the township machine's clock in the status tests.
var statusNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// TestConfigTable pins what township IT reads in config status: what is in
// force and since when, apart from the last bundle tried and its result,
// each with its age, and how old the report is.
func TestConfigTable(t *testing.T) {
	rep := func(edit func(r *control.Reported)) *control.Reported {
		r := &control.Reported{Schema: control.ReportedSchema, Kiosk: "k", Township: "dev-township",
			Version: 100, Scope: "township:dev-township", Kind: "site", Status: control.StatusApplied,
			InForce: "township:dev-township", InForceVersion: 100, InForceAt: statusNow.Add(-3 * time.Hour),
			At: statusNow.Add(-3 * time.Hour), PublishedAt: statusNow.Add(-40 * time.Second)}
		edit(r)
		return r
	}
	states := []township.KioskState{
		{Kiosk: "dongcun-01", Online: "online", Reported: rep(func(*control.Reported) {})},
		// The reported bug: a refusal after the good bundle is the last
		// bundle tried, not the kiosk's state: v100 stays in force.
		{Kiosk: "dongcun-02", Online: "online", Reported: rep(func(r *control.Reported) {
			r.Version, r.Scope, r.Kind, r.Status, r.Reason, r.At = 0, "", "", control.StatusRejected, "unknown_key", statusNow.Add(-12*time.Minute)
		})},
		{Kiosk: "xicun-01", Online: "offline", Reported: rep(func(r *control.Reported) {
			r.Version, r.Status, r.Reason, r.At = 102, control.StatusRolledBack, "health_check", statusNow.Add(-50*time.Hour)
			r.InForceAt, r.PublishedAt = statusNow.Add(-72*time.Hour), statusNow.Add(-49*time.Hour)
		})},
		// Applied, but a later-issued kiosk bundle is what is in force.
		{Kiosk: "xicun-02", Online: "online", Reported: rep(func(r *control.Reported) {
			r.InForce, r.InForceVersion = "kiosk:xicun-02", 99
		})},
		// A kioskd from before config-reported/v2: no times but the attempt's.
		{Kiosk: "beicun-01", Online: "online", Reported: rep(func(r *control.Reported) {
			r.Schema, r.InForceAt, r.PublishedAt = "", time.Time{}, time.Time{}
		})},
		{Kiosk: "nancun-01", Online: "online"},
		{Kiosk: "nancun-02", Reported: rep(func(r *control.Reported) {
			r.InForce, r.InForceVersion, r.Status, r.Reason = "", 0, control.StatusRejected, "schema"
		})},
	}
	var out bytes.Buffer
	writeConfigTable(&out, states, statusNow)
	mustGolden(t, "config-status.txt", out.Bytes())
}

func mustGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestConfigStatusFresh: config status reads the kiosk's retained report
// from a real broker and shows the last one published, with the bundle in
// force apart from a refusal, never an older report.
func TestConfigStatusFresh(t *testing.T) {
	broker := mosquittotest.Start(t)
	conn := township.Conn{Broker: broker.URL}
	publish := func(r control.Reported) {
		t.Helper()
		r.Schema, r.Kiosk, r.Township, r.PublishedAt = control.ReportedSchema, "dev-kiosk-01", "dev-township", time.Now().UTC()
		data, _ := json.Marshal(r)
		if err := township.Push(context.Background(), conn, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"), data); err != nil {
			t.Fatal(err)
		}
	}
	status := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := configStatus(context.Background(), []string{"--broker", broker.URL, "--township", "dev-township", "--wait", "300ms"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	now := time.Now().UTC()
	publish(control.Reported{Status: control.StatusRejected, Reason: "unknown_key", At: now.Add(-time.Hour)})
	if out := status(); !strings.Contains(out, "site file") || !strings.Contains(out, "rejected: unknown_key") || !strings.Contains(out, "1h ago") {
		t.Errorf("after the refusal:\n%s", out)
	}
	publish(control.Reported{Version: 101, Scope: "township:dev-township", Kind: "site", Status: control.StatusApplied,
		InForce: "township:dev-township", InForceVersion: 101, InForceAt: now, At: now})
	out := status()
	if strings.Contains(out, "unknown_key") || !strings.Contains(out, "v101 (township)") {
		t.Errorf("after the good bundle, status still shows the refusal or not the bundle in force:\n%s", out)
	}
	if row := strings.Split(strings.TrimSpace(out), "\n")[1]; !strings.Contains(row, "0s ago") && !strings.Contains(row, "1s ago") {
		t.Errorf("the fresh report is not shown as fresh: %s", row)
	}
}

const devSite = "../../../firmware-configs/sites/dev.yaml"

// mustDevKey is a copy of the dev township's key, whose public half the dev
// site trusts, with the mode a key file must have (git keeps it 0644).
func mustDevKey(t *testing.T) string {
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

// mustSites writes a directory of site files, copies of the dev site with
// the kiosk ids given, in the dev township, trusting the dev township's key.
func mustSites(t *testing.T, kiosks ...string) string {
	t.Helper()
	data, err := os.ReadFile(devSite)
	if err != nil {
		t.Fatal(err)
	}
	board, err := filepath.Abs("../../../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, k := range kiosks {
		s := strings.Replace(string(data), "board: ../boards/dev-sim.yaml", "board: "+board, 1)
		s = strings.Replace(s, "id: dev-kiosk-01", "id: "+k, 1)
		if err := os.WriteFile(filepath.Join(dir, k+".yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustContent is a bundle content file: the dev site's content section.
func mustContent(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(devSite)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	s = s[strings.Index(s, "\ncontent:")+1:]
	path := filepath.Join(t.TempDir(), "bundle.yaml")
	if err := os.WriteFile(path, []byte("schema: fengqiao.site-bundle/v1\n"+s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigSignRefuses: config sign refuses a township, kiosk or key the
// site files do not know or trust, names the bad value, the nearest known
// id and the flag that overrides it; and signs with that flag.
func TestConfigSignRefuses(t *testing.T) {
	sites := mustSites(t, "dev-kiosk-01", "dev-kiosk-02")
	content, devKey := mustContent(t), mustDevKey(t)
	otherKey, _ := mustKeyFile(t)
	withSites := func(args ...string) []string {
		return append([]string{"--key", devKey, "--content", content, "--site", sites}, args...)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"good township", withSites("--township", "dev-township"), 0, []string{"signed site bundle", "every kiosk of dev-township"}},
		{"good kiosks", withSites("--township", "dev-township", "--kiosks", "dev-kiosk-01,dev-kiosk-02"), 0, []string{"signed site bundle"}},
		{"one site file", []string{"--key", devKey, "--content", content, "--site", devSite, "--township", "dev-township", "--kiosks", "dev-kiosk-01"}, 0, []string{"signed"}},
		{"township typo", withSites("--township", "dev-townshp"), 1,
			[]string{`township "dev-townshp"`, `did you mean "dev-township"?`, "townships known: dev-township", "--allow-unknown-target"}},
		{"kiosk typo", withSites("--township", "dev-township", "--kiosks", "dev-kiosk-1"), 1,
			[]string{`kiosk "dev-kiosk-1"`, `did you mean "dev-kiosk-01"?`, "dev-kiosk-02 (", "--allow-unknown-target"}},
		{"two unknown kiosks", withSites("--township", "dev-township", "--kiosks", "dev-kiosk-01,dev-kiosk-03,xicun-07"), 1,
			[]string{`kiosk "dev-kiosk-03"`, `kiosk "xicun-07"`}},
		{"kiosk the site file does not know", []string{"--key", devKey, "--content", content, "--site", devSite, "--township", "dev-township", "--kiosks", "dev-kiosk-02"}, 1,
			[]string{`kiosk "dev-kiosk-02"`, `did you mean "dev-kiosk-01"?`, "give its site file with --site"}},
		{"untrusted key", []string{"--key", otherKey, "--content", content, "--site", sites, "--township", "dev-township"}, 1,
			[]string{"not trusted by dev-kiosk-01", "dev-kiosk-02", "trusts " + devKeyID(t, devKey), "unknown_key", "--allow-untrusted-key", otherKey}},
		{"untrusted key of a rotation", []string{"--key", otherKey, "--rotate-to", "HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "--site", sites, "--township", "dev-township"}, 1,
			[]string{"not trusted", "--allow-untrusted-key"}},
		{"no site", []string{"--key", devKey, "--content", content, "--township", "dev-township"}, 2, []string{"--site is required"}},
		{"no site for a rotation", []string{"--key", devKey, "--rotate-to", "HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "--township", "dev-township"}, 2, []string{"--site is required"}},
		{"typo allowed", withSites("--township", "dev-township", "--kiosks", "dev-kiosk-1", "--allow-unknown-target"), 0,
			[]string{"warning (--allow-unknown-target)", `kiosk "dev-kiosk-1"`, "signed site bundle"}},
		{"untrusted key allowed", []string{"--key", otherKey, "--content", content, "--site", sites, "--township", "dev-township", "--allow-untrusted-key"}, 0,
			[]string{"warning (--allow-untrusted-key)", "signed site bundle"}},
		{"the other override does not do", []string{"--key", otherKey, "--content", content, "--site", sites, "--township", "dev-township", "--allow-unknown-target"}, 1,
			[]string{"--allow-untrusted-key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := configSign(context.Background(), tt.args, &stdout, &stderr, func() time.Time { return signedAt })
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
			if (stdout.Len() > 0) != (tt.code == 0) {
				t.Errorf("exit %d with %d bytes of envelope", code, stdout.Len())
			}
		})
	}
}

func devKeyID(t *testing.T, devKey string) string {
	t.Helper()
	data, err := os.ReadFile(devKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := bundle.DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return bundle.KeyID(priv.Public().(ed25519.PublicKey))
}

// TestConfigSignKnowsTheBroker: with --broker, a kiosk that has a retained
// report there is known, though no site file names it; the key is checked
// against the site files of its township, and a township no site file
// describes cannot vouch for any key.
func TestConfigSignKnowsTheBroker(t *testing.T) {
	broker := mosquittotest.Start(t)
	for _, k := range [][2]string{{"dev-township", "dev-kiosk-05"}, {"xingcun", "xingcun-01"}} {
		st, _ := json.Marshal(map[string]string{"kiosk": k[1], "township": k[0], "state": "online"})
		if err := township.Push(context.Background(), township.Conn{Broker: broker.URL}, mqtttopic.Status(k[0], k[1]), st); err != nil {
			t.Fatal(err)
		}
	}
	// dev-kiosk-05 reports the records key it seals to now.
	rep, _ := json.Marshal(control.Reported{Schema: control.ReportedSchema, Kiosk: "dev-kiosk-05", Township: "dev-township",
		Status: control.StatusApplied, RecordsKey: "0123456789abcdef", PublishedAt: signedAt.Add(-40 * time.Second)})
	if err := township.Push(context.Background(), township.Conn{Broker: broker.URL}, mqtttopic.ConfigReported("dev-township", "dev-kiosk-05"), rep); err != nil {
		t.Fatal(err)
	}
	content, devKey := mustContent(t), mustDevKey(t)
	otherKey, _ := mustKeyFile(t)
	for _, tt := range []struct {
		key, township, kiosks string
		code                  int
		want                  string
	}{
		{devKey, "dev-township", "dev-kiosk-01,dev-kiosk-05", 0, "signed"},
		{devKey, "dev-township", "dev-kiosk-05", 0, "signed"},
		{devKey, "dev-township", "dev-kiosk-05", 0, "as the kiosks last reported on the broker:\n  dev-kiosk-05: key id 0123456789abcdef (reported 40s ago)"},
		{devKey, "dev-township", "dev-kiosk-5", 1, `did you mean "dev-kiosk-05"?); known: dev-kiosk-01 (` + devSite + `), dev-kiosk-05 (the broker)`},
		{otherKey, "dev-township", "dev-kiosk-05", 1, "is not trusted by dev-kiosk-01"},
		{devKey, "xingcun", "xingcun-01", 1, "no site file of xingcun says which keys its kiosks trust"},
		{devKey, "xingcnu", "", 1, `did you mean "xingcun"?): no kiosk known is of it; townships known: dev-township, xingcun`},
	} {
		var stdout, stderr bytes.Buffer
		args := []string{"--key", tt.key, "--content", content, "--site", devSite, "--broker", broker.URL, "--township", tt.township}
		if tt.kiosks != "" {
			args = append(args, "--kiosks", tt.kiosks)
		}
		code := configSign(context.Background(), args, &stdout, &stderr, func() time.Time { return signedAt })
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%s %s: exit %d, %s\nwant %d naming %q", tt.township, tt.kiosks, code, stderr.String(), tt.code, tt.want)
		}
	}
}

// mustEnvelope signs a site bundle of version for kiosks (none: the
// township) with the dev key, as config sign writes it.
func mustEnvelope(t *testing.T, version uint64, kiosks string, issued time.Time) string {
	t.Helper()
	sites := mustSites(t, "dev-kiosk-01", "dev-kiosk-02")
	out := filepath.Join(t.TempDir(), "bundle.json")
	args := []string{"--key", mustDevKey(t), "--content", mustContent(t), "--site", sites, "--township", "dev-township",
		"--version", fmt.Sprint(version), "--out", out}
	if kiosks != "" {
		args = append(args, "--kiosks", kiosks)
	}
	var stdout, stderr bytes.Buffer
	if code := configSign(context.Background(), args, &stdout, &stderr, func() time.Time { return issued }); code != 0 {
		t.Fatalf("sign: %s", stderr.String())
	}
	return out
}

// TestConfigPushRefuses: push reads what is retained first and refuses to
// replace a bundle of a higher or equal version (unless it is the very
// same), on any of the topics it would publish to, publishing none then.
func TestConfigPushRefuses(t *testing.T) {
	broker := mosquittotest.Start(t)
	conn := township.Conn{Broker: broker.URL}
	v10 := mustEnvelope(t, 10, "", signedAt)
	v10again := mustEnvelope(t, 10, "", signedAt.Add(time.Hour)) // same version, other bytes
	v9 := mustEnvelope(t, 9, "", signedAt)
	v11 := mustEnvelope(t, 11, "", signedAt)
	k20 := mustEnvelope(t, 20, "dev-kiosk-01,dev-kiosk-02", signedAt)
	k21 := mustEnvelope(t, 21, "dev-kiosk-01,dev-kiosk-02", signedAt)
	k5 := mustEnvelope(t, 5, "dev-kiosk-02", signedAt)
	retained := func(topic string) []byte {
		t.Helper()
		got, err := township.Retained(context.Background(), conn, []string{topic}, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return got[topic]
	}
	townshipTopic := mqtttopic.TownshipConfig("dev-township")
	if err := township.Push(context.Background(), conn, townshipTopic, []byte("not a bundle")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		want     string // in stdout + stderr
		retained string // the file retained on topic afterwards
		topic    string
	}{
		{"replaces what is not a bundle", []string{v10}, 0, "pushed to " + townshipTopic, v10, townshipTopic},
		{"lower", []string{v9}, 1, "version 9 is lower than the site bundle version 10 retained there", v10, townshipTopic},
		{"equal, other bytes", []string{v10again}, 1, "version 10 is the version of the other site bundle retained there", v10, townshipTopic},
		{"the same again", []string{v10}, 0, "already retained on " + townshipTopic, v10, townshipTopic},
		{"higher", []string{v11}, 0, "pushed to " + townshipTopic, v11, townshipTopic},
		{"lower, overridden", []string{"--replace-newer", v10}, 0, "warning (--replace-newer)", v10, townshipTopic},
		{"per kiosk", []string{k20}, 0, "pushed to fengqiao/v1/dev-township/dev-kiosk-02/config/set", k20, mqtttopic.ConfigSet("dev-township", "dev-kiosk-01")},
		{"one kiosk newer: nothing pushed", []string{k5}, 1, "nothing pushed", k20, mqtttopic.ConfigSet("dev-township", "dev-kiosk-02")},
		{"update push shares the rule", []string{"update", "push", k5}, 1, "kioskctl update push: nothing pushed", k20, mqtttopic.ConfigSet("dev-township", "dev-kiosk-02")},
		{"per kiosk, higher", []string{k21}, 0, "pushed to", k21, mqtttopic.ConfigSet("dev-township", "dev-kiosk-01")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var code int
			if tt.args[0] == "update" {
				code = run(context.Background(), append([]string{"update", "push", "--broker", broker.URL, "--wait", "500ms"}, tt.args[2:]...), &out, &out)
			} else {
				code = configPush(context.Background(), "config", append([]string{"--broker", broker.URL, "--wait", "500ms"}, tt.args...), &out, &out)
			}
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, %s\nwant %d naming %q", code, out.String(), tt.code, tt.want)
			}
			want, _ := os.ReadFile(tt.retained)
			if got := retained(tt.topic); !bytes.Equal(got, want) {
				t.Errorf("retained on %s:\n%s\nwant %s", tt.topic, got, want)
			}
		})
	}
}

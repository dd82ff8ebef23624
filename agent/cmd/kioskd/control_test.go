package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
	townshipctl "github.com/fengqiao/kiosk/agent/township"
)

// mustDevTownshipKey is the dev township's signing key, the one whose
// public half dev.yaml trusts.
func mustDevTownshipKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../../../packaging/dev/dev-township.key")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := bundle.DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// devContent is the dev site's content, mediators and ui sections as a
// bundle, passed through edit.
func devContent(t *testing.T, edit func(string) string) []byte {
	t.Helper()
	site, err := os.ReadFile(devConfig)
	if err != nil {
		t.Fatal(err)
	}
	s := string(site)
	s = s[strings.Index(s, "\ncontent:")+1:]
	return []byte("schema: " + config.BundleSchema + "\n" + edit(s))
}

func mustSignBundle(t *testing.T, priv ed25519.PrivateKey, version uint64, content []byte) []byte {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindSite, Version: version, Target: bundle.Target{Township: "dev-township"},
		NotBefore: now.Add(-time.Minute), Expires: now.Add(24 * time.Hour), Content: content}, priv)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

type reported struct {
	Version        uint64 `json:"version"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
	Error          string `json:"error"`
	InForceVersion uint64 `json:"in_force_version"`
}

// mustReport waits for the kiosk's reported state to reach version.
func mustReport(t *testing.T, msgs <-chan mqtt.Message, version uint64, within time.Duration) reported {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-msgs:
			var r reported
			if err := json.Unmarshal(m.Payload(), &r); err != nil {
				t.Fatalf("reported state %s: %v", m.Payload(), err)
			}
			if r.Version == version {
				return r
			}
		case <-deadline:
			t.Fatalf("no reported state for version %d within %s", version, within)
		}
	}
}

// TestTownshipControl: township IT pushes signed bundles over a real
// Mosquitto; the kiosk applies a good one within 5 s (the screen's menu
// changes without a restart), refuses one signed by another key, rolls
// back one that leaves no consultation slot, reports each on its retained
// reported topic, and keeps what it applied across a kill -9.
func TestTownshipControl(t *testing.T) {
	broker := mosquittotest.Start(t)
	reports := broker.Subscribe(t, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"))
	dataDir := t.TempDir()
	p := mustStartKioskd(t, dataDir, broker.URL)
	c := localclient.New(p.socket)
	ctx := context.Background()
	priv := mustDevTownshipKey(t)
	push := func(topic string, env []byte) time.Time {
		t.Helper()
		if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, topic, env); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}

	// A good bundle: a new lecture theme for the whole township, and a
	// text of the screens in its own words.
	good := devContent(t, func(s string) string {
		s = strings.Replace(s, "  phrases:\n", "  wording:\n    dim.wake: 请摸一下屏幕\n  phrases:\n", 1)
		return strings.Replace(s, "theme: 农村土地承包与流转", "theme: 防范电信诈骗", 1)
	})
	pushed := push(mqtttopic.TownshipConfig("dev-township"), mustSignBundle(t, priv, 100, good))
	r := mustReport(t, reports, 100, 5*time.Second)
	t.Logf("applied and reported %s after the push", time.Since(pushed).Round(time.Millisecond))
	if r.Status != "applied" || r.InForceVersion != 100 {
		t.Fatalf("reported %+v", r)
	}
	menu, err := c.Menu(ctx)
	if err != nil || menu.Content.Lecture.Theme != "防范电信诈骗" {
		t.Fatalf("menu theme %q, %v", menu.Content.Lecture.Theme, err)
	}
	if w := menu.Wording; len(w) != 1 || w["dim.wake"] != "请摸一下屏幕" {
		t.Errorf("menu wording %q", w)
	}
	st, _ := c.Status(ctx)
	if st.Control.ContentVersion != 100 || st.Control.Last == nil || st.Control.Last.Status != "applied" {
		t.Errorf("status control %+v", st.Control)
	}

	// Signed by a key the kiosk does not trust: refused, nothing changes.
	_, other, _ := bundle.GenerateKey()
	push(mqtttopic.ConfigSet("dev-township", "dev-kiosk-01"), mustSignBundle(t, other, 101, good))
	r = mustReport(t, reports, 0, 5*time.Second) // unsigned by a trusted key: its version is not believed
	if r.Status != "rejected" || r.Reason != "unknown_key" || r.InForceVersion != 100 {
		t.Errorf("reported %+v", r)
	}

	// Valid line by line, but the advisor's only duty day is beyond the
	// booking window: no villager could book. Rolled back.
	day := strings.ToLower(time.Now().AddDate(0, 0, 5).Weekday().String()[:3])
	bad := devContent(t, func(s string) string {
		s = strings.Replace(s, "      - days: [tue, fri]", "      - days: ["+day+"]", 1)
		s = strings.Replace(s, "      - days: [thu]\n        from: \"14:30\"\n        to: \"17:30\"\n", "", 1)
		return strings.Replace(s, "    booking_days: 14", "    booking_days: 2", 1)
	})
	push(mqtttopic.TownshipConfig("dev-township"), mustSignBundle(t, priv, 102, bad))
	r = mustReport(t, reports, 102, 5*time.Second)
	if r.Status != "rolled_back" || r.Reason != "health_check" || r.InForceVersion != 100 {
		t.Errorf("reported %+v", r)
	}
	if slots, err := c.Slots(ctx, "legal-advisor"); err != nil || len(slots.Slots) == 0 {
		t.Errorf("after the rollback: %d slots, %v", len(slots.Slots), err)
	}

	// A power cut: what was applied is still in force, and the retained
	// bundles delivered again on reconnect change nothing.
	mustKill9(t, p)
	p = mustStartKioskd(t, dataDir, broker.URL)
	c = localclient.New(p.socket)
	menu, err = c.Menu(ctx)
	if err != nil || menu.Content.Lecture.Theme != "防范电信诈骗" {
		t.Fatalf("after restart: menu theme %q, %v", menu.Content.Lecture.Theme, err)
	}
	time.Sleep(time.Second) // let the retained bundles arrive
	if st, _ := c.Status(ctx); st.Control.ContentVersion != 100 {
		t.Errorf("after restart: content version %d, want 100", st.Control.ContentVersion)
	}

	// kioskctl config status shows it, from the retained topics.
	states, err := townshipctl.ConfigStatus(ctx, townshipctl.Conn{Broker: broker.URL}, "dev-township", time.Second)
	if err != nil || len(states) != 1 || states[0].Reported == nil || states[0].Reported.InForceVersion != 100 || states[0].Online != "online" {
		t.Fatalf("config status %s, %v", fmt.Sprint(states), err)
	}
	// The bundle of the untrusted key, still retained on the kiosk's own
	// topic, came again at the reconnect: it is not news, and the last
	// bundle tried is still 102 (issue 19: status showed the old refusal).
	if r := states[0].Reported; r.Version != 102 || r.Status != "rolled_back" || r.PublishedAt.IsZero() || r.InForceAt.IsZero() {
		t.Errorf("after the reconnect the report is %+v; want the rollback of 102, with its times", *r)
	}
}

// TestTownshipPatch: a site patch pushed over a real Mosquitto changes the
// advisor's hours on the screen's menu and nothing else; a patch whose
// result would leave the advisor no duty window is refused and reported,
// and the hours stay.
func TestTownshipPatch(t *testing.T) {
	broker := mosquittotest.Start(t)
	reports := broker.Subscribe(t, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"))
	p := mustStartKioskd(t, t.TempDir(), broker.URL)
	c := localclient.New(p.socket)
	ctx := context.Background()
	priv := mustDevTownshipKey(t)
	push := func(version uint64, patch string) reported {
		t.Helper()
		now := time.Now().UTC().Truncate(time.Second)
		env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindSitePatch, Version: version, Target: bundle.Target{Township: "dev-township"},
			NotBefore: now.Add(-time.Minute), Expires: now.Add(24 * time.Hour), Content: []byte("schema: " + config.PatchSchema + "\n" + patch)}, priv)
		if err != nil {
			t.Fatal(err)
		}
		if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.TownshipConfig("dev-township"), env); err != nil {
			t.Fatal(err)
		}
		return mustReport(t, reports, version, 5*time.Second)
	}
	before, err := c.Menu(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// docs/bundles.md's worked example.
	r := push(200, `content:
  advisor:
    duty:   # a list: give every window, the ones that stay too
      - {days: [tue, fri], from: "08:30", to: "11:30"}
      - {days: [thu], from: "14:30", to: "17:30"}
`)
	if r.Status != "applied" || r.InForceVersion != 200 {
		t.Fatalf("reported %+v", r)
	}
	menu, err := c.Menu(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := strings.Join(menu.Advisor.Duty, "; "); d != "周二、周五 08:30–11:30; 周四 14:30–17:30" {
		t.Errorf("menu duty %s", d)
	}
	if menu.Advisor.Name != before.Advisor.Name || menu.Content.Lecture.Theme != before.Content.Lecture.Theme {
		t.Errorf("the patch changed more than the hours: %+v", menu.Advisor)
	}

	r = push(201, "content:\n  advisor:\n    duty: []\n")
	if r.Status != "rejected" || r.Reason != "schema" || r.InForceVersion != 200 || !strings.Contains(r.Error, "content.advisor.duty: needs at least one duty window") {
		t.Errorf("reported %+v", r)
	}
	if menu, err = c.Menu(ctx); err != nil || len(menu.Advisor.Duty) != 2 {
		t.Errorf("after the refusal: duty %q, %v", menu.Advisor.Duty, err)
	}
}

// TestRecordsKeyRotationStays: township IT rotates the records key with a
// records-only bundle, then pushes a ui tweak: the kiosk alerts the
// township of the change once, and keeps sealing to the new key after the
// next bundle and after a kill -9 (issue 19: the next bundle undid the
// rotation).
func TestRecordsKeyRotationStays(t *testing.T) {
	broker := mosquittotest.Start(t)
	reports := broker.Subscribe(t, mqtttopic.ConfigReported("dev-township", "dev-kiosk-01"))
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	dataDir := t.TempDir()
	p := mustStartKioskd(t, dataDir, broker.URL)
	ctx := context.Background()
	priv := mustDevTownshipKey(t)
	push := func(env []byte) {
		t.Helper()
		if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.TownshipConfig("dev-township"), env); err != nil {
			t.Fatal(err)
		}
	}
	key, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	// next is the next record of type typ the township receives.
	next := func(typ string) record.Envelope {
		t.Helper()
		for {
			var env record.Envelope
			if err := json.Unmarshal(mustReceive(t, records, 10*time.Second).Payload(), &env); err != nil {
				t.Fatal(err)
			}
			if env.Type == typ {
				return env
			}
		}
	}
	// sealedTo is the key id the kiosk's next booking is sealed to.
	sealedTo := func(c *localclient.Client) string {
		t.Helper()
		mustBook(t, c)
		var body struct {
			Phone schema.Sealed `json:"phone"`
		}
		env := next(schema.BookingType)
		if err := json.Unmarshal(env.Body, &body); err != nil {
			t.Fatal(err)
		}
		return body.Phone.KeyID
	}

	push(mustSignBundle(t, priv, 100, []byte("schema: "+config.BundleSchema+"\nrecords:\n  township_key: "+key.Public().String()+"\n")))
	if r := mustReport(t, reports, 100, 5*time.Second); r.Status != "applied" {
		t.Fatalf("reported %+v", r)
	}
	alert := next(schema.AlertType)
	if b := string(alert.Body); !strings.Contains(b, `"kind":"records_key_changed"`) || !strings.Contains(b, key.ID()) || !strings.Contains(b, config.DevRecordsKeyID) {
		t.Errorf("alert %s", b)
	}
	c := localclient.New(p.socket)
	if got := sealedTo(c); got != key.ID() {
		t.Errorf("after the rotation: sealed to %s, want %s", got, key.ID())
	}

	push(mustSignBundle(t, priv, 101, []byte("schema: "+config.BundleSchema+"\nui:\n  idle: 90s\n")))
	if r := mustReport(t, reports, 101, 5*time.Second); r.Status != "applied" {
		t.Fatalf("reported %+v", r)
	}
	if got := sealedTo(c); got != key.ID() {
		t.Errorf("after a ui bundle: sealed to %s, want %s", got, key.ID())
	}

	mustKill9(t, p)
	p = mustStartKioskd(t, dataDir, broker.URL)
	if got := sealedTo(localclient.New(p.socket)); got != key.ID() {
		t.Errorf("after a restart: sealed to %s, want %s", got, key.ID())
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/kioskd"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/request"
)

const (
	devSignKey    = "../../../packaging/dev/dev-township.key"
	devRecordsKey = "../../../packaging/dev/dev-township-records.key"
	villagerPhone = "13905991234"
)

// testKiosk is the real kioskd (agent/kioskd.Run) on the dev site, in this
// process, on a data directory that outlives its restarts.
type testKiosk struct {
	t       *testing.T
	cfg     *config.Config
	dataDir string
	socket  string
	log     *lockedBuffer
	stop    func()
	client  *localclient.Client
}

func mustKiosk(t *testing.T, broker string) *testKiosk {
	t.Helper()
	return mustKioskWith(t, broker, nil)
}

// mustKioskWith is mustKiosk with the dev site changed by edit first (nil:
// as it is).
func mustKioskWith(t *testing.T, broker string, edit func(*config.Config) error) *testKiosk {
	t.Helper()
	cfg, err := config.Load(devSite)
	if err == nil {
		err = cfg.OverrideBroker(broker)
	}
	if err == nil && edit != nil {
		err = edit(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	k := &testKiosk{t: t, cfg: cfg, dataDir: filepath.Join(dir, "data"), socket: filepath.Join(dir, "k.sock"), log: &lockedBuffer{}}
	k.client = localclient.New(k.socket)
	t.Cleanup(func() {
		if k.stop != nil {
			k.stop()
		}
		if t.Failed() {
			t.Logf("kioskd printed:\n%s", k.log)
		}
	})
	k.start()
	return k
}

// start runs kioskd and waits for its API.
func (k *testKiosk) start() {
	k.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kioskd.Run(ctx, kioskd.Options{Config: k.cfg, DataDir: k.dataDir, Socket: k.socket, Version: "test",
			Log: slog.New(slog.NewTextHandler(k.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	}()
	k.stop = func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			k.t.Errorf("kioskd: %v", err)
		}
		k.stop = nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := k.client.Status(context.Background()); err == nil {
			return
		}
		select {
		case err := <-done:
			k.t.Fatalf("kioskd stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			k.t.Fatal("kioskd's API never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (k *testKiosk) restart() {
	k.t.Helper()
	k.stop()
	k.start()
}

// mustCheck is the villager's check by number and the phone's last four
// digits, as POST /v1/requests/{number}/check answers it.
func (k *testKiosk) mustCheck(number string) apitype.Request {
	k.t.Helper()
	r, err := k.client.CheckRequest(context.Background(), number, apitype.RequestProof{Phone4: villagerPhone[7:]})
	if err != nil {
		k.t.Fatal(err)
	}
	return r
}

// waitCheck polls the check until ok says so.
func (k *testKiosk) waitCheck(number string, within time.Duration, ok func(apitype.Request) bool) apitype.Request {
	k.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := k.mustCheck(number)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("request %s is %+v after %s", number, r, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustPrivateCopy copies a dev key file to a 0600 file of the test's own,
// as kioskctl refuses a key others can read (git checks them out 0644).
func mustPrivateCopy(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// kioskctl runs the command as township IT types it.
func kioskctl(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("kioskctl %s:\n%s", strings.Join(args[:min(3, len(args))], " "), errOut.String())
	}
	return out.String(), code
}

// TestRequestAnswerLoop closes the loop of issue 20 on a real Mosquitto:
// a request made while the township is unreachable reaches the township's
// state directory when the link returns; the clerk sees it (the phone
// opened with the records key), accepts and closes it with kioskctl;
// the villager's check shows 已办结 and the reply, and still does after
// kioskd restarts; the kiosk reports the answer in force, and an answer
// below the last version is refused before it is signed.
func TestRequestAnswerLoop(t *testing.T) {
	broker := mosquittotest.New(t) // reserved; the township is unreachable
	k := mustKiosk(t, broker.URL)
	ctx := context.Background()
	r, err := k.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: "roads",
		Phrases: []string{"路灯不亮"}, Phone: villagerPhone})
	if err != nil {
		t.Fatal(err)
	}

	// The township's first sync makes its persistent session, before the
	// kiosk's link returns.
	k.stop()
	broker.Start()
	state := t.TempDir()
	signKey, recordsKey := mustPrivateCopy(t, devSignKey), mustPrivateCopy(t, devRecordsKey)
	common := []string{"--township", "dev-township", "--state", state}
	withBroker := append([]string{"--broker", broker.URL}, common...)
	if _, code := kioskctl(t, append([]string{"township", "requests", "sync", "--wait", "300ms"}, withBroker...)...); code != 0 {
		t.Fatalf("first sync: exit %d", code)
	}
	k.start() // the link is back: the backlog drains
	ref := "dev-kiosk-01/" + r.Number
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, code := kioskctl(t, append([]string{"township", "requests", "list", "--wait", "500ms"}, withBroker...)...)
		if code != 0 {
			t.Fatalf("list: exit %d", code)
		}
		if strings.Contains(out, ref) && strings.Contains(out, "已提交") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request never reached the township:\n%s", out)
		}
	}
	out, code := kioskctl(t, append([]string{"township", "requests", "show", "--key", recordsKey}, append(common, ref)...)...)
	if code != 0 || !strings.Contains(out, villagerPhone) || !strings.Contains(out, "路灯不亮") {
		t.Fatalf("show with the records key: exit %d\n%s", code, out)
	}
	if out, _ := kioskctl(t, append([]string{"township", "requests", "show"}, append(common, ref)...)...); strings.Contains(out, villagerPhone) {
		t.Errorf("show without the records key prints the phone:\n%s", out)
	}

	answer := func(verb string, extra ...string) int {
		args := append([]string{"township", "requests", verb, "--key", signKey}, withBroker...)
		_, code := kioskctl(t, append(append(args, extra...), ref)...)
		return code
	}
	if code := answer("accept", "--by", "镇综治中心", "--reply", "已受理，三日内派人查看。"); code != 0 {
		t.Fatalf("accept: exit %d", code)
	}
	k.waitCheck(r.Number, 10*time.Second, func(got apitype.Request) bool { return got.Status == apitype.RequestAccepted })
	if code := answer("close", "--by", "镇综治中心", "--reply", "路灯已于12月5日修复。"); code != 0 {
		t.Fatalf("close: exit %d", code)
	}
	got := k.waitCheck(r.Number, 10*time.Second, func(got apitype.Request) bool { return got.Status == apitype.RequestClosed })
	if got.StatusText != "已办结" || got.Reply != "路灯已于12月5日修复。" || got.By != "镇综治中心" || got.Updated == nil {
		t.Errorf("after close: %+v", got)
	}
	if code := answer("accept", "--version", "5", "--reply", "x"); code == 0 {
		t.Error("an answer below the last version was signed and published")
	}

	// A clerk's own key, which the township key certified, answers too
	// (the clerk's machine need not hold the township key).
	opKey, cert := filepath.Join(t.TempDir(), "operator.key"), filepath.Join(t.TempDir(), "operator.cert")
	if _, code := kioskctl(t, "keys", "gen", "--out", opKey); code != 0 {
		t.Fatalf("keys gen: exit %d", code)
	}
	opPriv, err := bundle.ReadPrivateKeyFile(opKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, code := kioskctl(t, "operator", "certify", "--key", signKey, "--township", "dev-township", "--name", "镇综治中心 值班",
		"--operator", bundle.FormatPublicKey(opPriv.Public().(ed25519.PublicKey)), "--out", cert); code != 0 {
		t.Fatalf("operator certify: exit %d", code)
	}
	reply := "路灯已修复，欢迎监督。"
	args := append([]string{"township", "requests", "reply", "--key", opKey, "--certificate", cert, "--reply", reply}, withBroker...)
	if _, code := kioskctl(t, append(args, ref)...); code != 0 {
		t.Fatalf("reply as an operator: exit %d", code)
	}
	got = k.waitCheck(r.Number, 10*time.Second, func(got apitype.Request) bool { return got.Reply == reply })
	if got.Status != apitype.RequestClosed {
		t.Errorf("a reply changed the status: %+v", got)
	}

	k.restart()
	if again := k.mustCheck(r.Number); again.Status != apitype.RequestClosed || again.Reply != reply || again.By != "镇综治中心" {
		t.Errorf("after a restart: %+v", again)
	}

	// The kiosk reports the answer in force; list shows it arrived.
	var lines []requestLine
	deadline = time.Now().Add(10 * time.Second)
	for {
		out, _ := kioskctl(t, append([]string{"township", "requests", "list", "--json", "--wait", "500ms"}, withBroker...)...)
		lines = nil
		json.Unmarshal([]byte(out), &lines)
		if len(lines) == 1 && lines[0].Version != 0 && lines[0].Applied == lines[0].Version {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kiosk never reported the answer in force: %s", out)
		}
	}
	if lines[0].Status != request.StatusClosed || lines[0].Reply != reply {
		t.Errorf("list after close: %+v", lines[0])
	}
	if log := k.log.String(); strings.Contains(log, villagerPhone) {
		t.Error("kioskd logged the phone")
	}
}

// TestAnswerRefusals: answers the kiosk must not apply, published on its
// own answers topic on a real Mosquitto: each is refused and reported in
// requests/reported with its reason, and the villager's check shows what
// it showed before, byte for byte.
func TestAnswerRefusals(t *testing.T) {
	broker := mosquittotest.Start(t)
	k := mustKiosk(t, broker.URL)
	ctx := context.Background()
	r, err := k.client.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: "roads",
		Phrases: []string{"路灯不亮"}, Phone: villagerPhone})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := bundle.ReadPrivateKeyFile(mustPrivateCopy(t, devSignKey))
	if err != nil {
		t.Fatal(err)
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	now := time.Now().UTC().Truncate(time.Second)
	change := func(edit func(*request.Change)) []byte {
		c := request.Change{Format: request.StatusFormat, Request: r.ID, Seq: r.Seq, Status: request.StatusClosed,
			Reply: "已办结", At: now}
		if edit != nil {
			edit(&c)
		}
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sign := func(key ed25519.PrivateKey, version uint64, kiosk string, content []byte) []byte {
		env, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindRequestStatus, Version: version,
			Target:    bundle.Target{Township: "dev-township", Kiosks: []string{kiosk}},
			NotBefore: now.Add(-time.Minute), Expires: now.Add(24 * time.Hour), Content: content}, key)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	reports := broker.Subscribe(t, mqtttopic.RequestsReported("dev-township", "dev-kiosk-01"))
	cl, err := broker.Connect(t, nil, "township-test")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(100)
	publish := func(number uint64, payload []byte) {
		t.Helper()
		tok := cl.Publish(mqtttopic.RequestStatus("dev-township", "dev-kiosk-01", number), 1, true, payload)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	// waitReport waits for a report satisfying ok.
	waitReport := func(ok func(request.Reported) bool) request.Reported {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m := <-reports:
				var rep request.Reported
				if json.Unmarshal(m.Payload(), &rep) == nil && ok(rep) {
					return rep
				}
			case <-deadline:
				t.Fatal("no such report within 10 s")
			}
		}
	}

	// The good answer first, version 100.
	good := sign(priv, 100, "dev-kiosk-01", change(nil))
	publish(r.Seq, good)
	if first := waitReport(func(rep request.Reported) bool { return rep.Answered[r.Number] == 100 }); first.Replays != 0 || len(first.Refused) != 0 {
		t.Fatalf("the first report has replays or refusals: %+v", first)
	}
	before := k.mustCheck(r.Number)
	if before.Status != apitype.RequestClosed {
		t.Fatalf("the good answer was not applied: %+v", before)
	}

	unsigned := change(func(c *request.Change) { c.Status, c.Reply = request.StatusInProgress, "unsigned" })
	other := change(func(c *request.Change) { c.Request = "01900000-0000-7000-8000-0000000000ff" })
	unknown := change(func(c *request.Change) { c.Seq = 999 })
	tests := []struct {
		name    string
		number  uint64
		payload []byte
		reason  string // "" for a replay, counted rather than listed
	}{
		{"unsigned", r.Seq, unsigned, "malformed"},
		{"signed by a key the kiosk does not trust", r.Seq, sign(stranger, 200, "dev-kiosk-01", change(func(c *request.Change) { c.Reply = "forged" })), "unknown_key"},
		{"older version", r.Seq, sign(priv, 99, "dev-kiosk-01", change(func(c *request.Change) { c.Status = request.StatusAccepted })), "stale"},
		{"for another kiosk", r.Seq, sign(priv, 201, "dev-kiosk-02", change(func(c *request.Change) { c.Reply = "not yours" })), "wrong_target"},
		{"for another kiosk's request of this number", r.Seq, sign(priv, 202, "dev-kiosk-01", other), "wrong_request"},
		{"for a number this kiosk never gave", 999, sign(priv, 203, "dev-kiosk-01", unknown), "unknown_request"},
		{"replayed", r.Seq, good, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			publish(tt.number, tt.payload)
			if tt.reason == "" {
				rep := waitReport(func(rep request.Reported) bool { return rep.Replays > 0 })
				if rep.Replays != 1 || len(rep.Refused) != len(tests)-1 {
					t.Errorf("after the replay: %+v", rep)
				}
			} else {
				waitReport(func(rep request.Reported) bool {
					return len(rep.Refused) > 0 && rep.Refused[len(rep.Refused)-1].Reason == tt.reason
				})
			}
			after := k.mustCheck(r.Number)
			a, _ := json.Marshal(after)
			b, _ := json.Marshal(before)
			if !bytes.Equal(a, b) {
				t.Errorf("the check changed:\n%s\nwas\n%s", a, b)
			}
		})
	}
}

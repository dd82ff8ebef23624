package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the windows are in Asia/Shanghai whatever the machine has
	"unicode"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/updater"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

var signedAt = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// mustDebs writes fake .deb files into a temp dir and returns their paths.
func mustDebs(t *testing.T, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("deb "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func mustKeyFile(t *testing.T) (string, bundle.TrustState) {
	t.Helper()
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "township.key")
	if err := bundle.WritePrivateKeyFile(path, priv); err != nil {
		t.Fatal(err)
	}
	trust, err := bundle.NewTrustState(bundle.FormatPublicKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	return path, *trust
}

func TestUpdateSign(t *testing.T) {
	key, trust := mustKeyFile(t)
	debs := mustDebs(t, "fengqiao-kioskd_1.4.0-1_arm64.deb", "fengqiao-kioskd_1.4.0-1_armhf.deb", "fengqiao-docs_1%3a2.0-1_all.deb")
	out := filepath.Join(t.TempDir(), "update.json")
	var stdout, stderr bytes.Buffer
	args := append([]string{"--key", key, "--township", "dev-township", "--kiosks", "dev-kiosk-01", "--version", "77",
		"--base-url", "https://updates.dev-township.example/pool", "--deadline", "2026-12-20T00:00:00+08:00", "--out", out}, debs...)
	if code := updateSign(context.Background(), args, &stdout, &stderr, func() time.Time { return signedAt }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	t.Log(stderr.String())
	env, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	topics, err := pushTopics(env)
	if err != nil || !slices.Equal(topics, []string{"fengqiao/v1/dev-township/dev-kiosk-01/update/set"}) {
		t.Errorf("push topics %v, %v", topics, err)
	}
	// The kiosk's own checks pass.
	var m *update.Manifest
	v, err := bundle.Verify(env, &trust, bundle.Identity{Kiosk: "dev-kiosk-01", Township: "dev-township"}, signedAt.Add(time.Hour),
		bundle.Options{Validate: func([]byte) error { return nil }, ValidateUpdate: func(c []byte) (err error) { m, err = update.Parse(c); return err }})
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != bundle.KindUpdate || v.Version != 77 || v.Scope != "update:kiosk:dev-kiosk-01" {
		t.Errorf("verified %+v", v)
	}
	if m.Release != "1.4.0-1" || m.Window.String() != "02:00-05:00" || !m.Deadline.Equal(time.Date(2026, 12, 19, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("manifest %+v", m)
	}
	arm64, err := m.For("arm64")
	if err != nil || len(arm64) != 2 {
		t.Fatalf("arm64 %v %v", arm64, err)
	}
	sum := sha256.Sum256([]byte("deb fengqiao-kioskd_1.4.0-1_arm64.deb"))
	want := update.Package{Name: "fengqiao-kioskd", Version: "1.4.0-1", Size: int64(len("deb fengqiao-kioskd_1.4.0-1_arm64.deb")),
		SHA256: hex.EncodeToString(sum[:]), URL: "https://updates.dev-township.example/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"}
	if arm64[0] != want {
		t.Errorf("arm64[0] = %+v\nwant %+v", arm64[0], want)
	}
	if docs := arm64[1]; docs.Name != "fengqiao-docs" || docs.Version != "1:2.0-1" || !strings.HasSuffix(docs.URL, "/fengqiao-docs_1%253a2.0-1_all.deb") {
		t.Errorf("arm64[1] = %+v", docs)
	}
	if _, err := m.For("amd64"); err == nil {
		t.Error("an architecture without packages got the all package alone")
	}
}

func TestUpdateSignRefuses(t *testing.T) {
	key, _ := mustKeyFile(t)
	deb := mustDebs(t, "fengqiao-kioskd_1.4.0-1_arm64.deb")[0]
	base := []string{"--key", key, "--township", "dev-township", "--base-url", "https://u.example/pool"}
	for name, tt := range map[string]struct {
		args []string
		want string
	}{
		"no files":             {base, "give the .deb files"},
		"no base URL":          {[]string{"--key", key, "--township", "dev-township", deb}, "--base-url"},
		"http base URL":        {append([]string{"--key", key, "--township", "dev-township", "--base-url", "http://u.example/pool"}, deb), "not https"},
		"bad window":           {append(append(slices.Clone(base), "--window", "2-5"), deb), "--window"},
		"bad deadline":         {append(append(slices.Clone(base), "--deadline", "tomorrow"), deb), "--deadline"},
		"not a Debian name":    {append(slices.Clone(base), mustDebs(t, "kioskd.deb")...), "not a Debian file name"},
		"not our package":      {append(slices.Clone(base), mustDebs(t, "openssh-server_9.2_arm64.deb")...), "fengqiao-"},
		"unknown architecture": {append(slices.Clone(base), mustDebs(t, "fengqiao-kioskd_1.4.0-1_i386.deb")...), "architecture"},
	} {
		var stdout, stderr bytes.Buffer
		if code := updateSign(context.Background(), tt.args, &stdout, &stderr, func() time.Time { return signedAt }); code == 0 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%s: exit %d, %q; want a failure naming %q", name, code, stderr.String(), tt.want)
		}
	}
}

func TestPushTopicsUpdate(t *testing.T) {
	key, _ := mustKeyFile(t)
	deb := mustDebs(t, "fengqiao-kioskd_1.4.0-1_arm64.deb")[0]
	var stdout, stderr bytes.Buffer
	if code := updateSign(context.Background(), []string{"--key", key, "--township", "dev-township", "--base-url", "https://u.example/", deb},
		&stdout, &stderr, func() time.Time { return signedAt }); code != 0 {
		t.Fatal(stderr.String())
	}
	topics, err := pushTopics(bytes.TrimSpace(stdout.Bytes()))
	if err != nil || !slices.Equal(topics, []string{"fengqiao/v1/dev-township/_township/update/set"}) {
		t.Errorf("topics %v, %v", topics, err)
	}
}

// TestUpdateTable pins what township IT reads during a rollout.
func TestUpdateTable(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal("Asia/Shanghai:", err) // time/tzdata is linked in: this cannot be missing
	}
	at := time.Date(2026, 12, 6, 12, 30, 0, 0, time.UTC)
	rep := func(status string, edit func(r *updater.Reported)) *updater.Reported {
		r := &updater.Reported{Version: 1733472000, Release: "1.4.0-1", Status: status, At: at}
		if edit != nil {
			edit(r)
		}
		return r
	}
	states := []township.UpdateState{
		{Kiosk: "dongcun-01", Village: "dongcun", Running: "1.4.0-1", Online: "online", Reported: rep(updater.StatusInstalled, func(r *updater.Reported) {
			r.Packages = map[string]string{"fengqiao-kioskd": "1.4.0-1", "fengqiao-kiosk-ui": "1.4.0-1"}
		})},
		{Kiosk: "dongcun-02", Village: "dongcun", Running: "1.3.2-1", Online: "online", Reported: rep(updater.StatusDownloading, func(r *updater.Reported) { r.Progress = 43 })},
		{Kiosk: "xicun-01", Online: "offline", Reported: rep(updater.StatusWaiting, func(r *updater.Reported) {
			r.NextWindow = time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
		})},
		{Kiosk: "xicun-02", Online: "online", Reported: rep(updater.StatusRolledBack, func(r *updater.Reported) {
			r.Reason, r.Packages = "health_check", map[string]string{"fengqiao-kioskd": "1.3.2-1"}
		})},
		{Kiosk: "xicun-03", Online: "online", Reported: rep(updater.StatusRejected, func(r *updater.Reported) { r.Reason = "hash_mismatch" })},
		{Kiosk: "beicun-01", Online: "online", Reported: rep(updater.StatusPending, func(r *updater.Reported) {
			r.Refused = &updater.Refusal{Version: 9, Reason: "unknown_key"}
		})},
		{Kiosk: "nancun-01"},
	}
	var out bytes.Buffer
	writeUpdateTable(&out, states, shanghai)
	path := filepath.Join("testdata", "update-status.txt")
	if *updateGolden {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("table changed:\n%s\nwant:\n%s", out.Bytes(), want)
	}
}

// TestUpdateStatusWatch: --every prints the table again only when a kiosk's
// report changed, until interrupted.
func TestUpdateStatusWatch(t *testing.T) {
	broker := mosquittotest.Start(t)
	conn := township.Conn{Broker: broker.URL}
	publish := func(status string, progress int) {
		t.Helper()
		r, _ := json.Marshal(updater.Reported{Kiosk: "dongcun-01", Township: "dev-township", Version: 5, Release: "1.4.0-1", Status: status, Progress: progress})
		if err := township.Push(context.Background(), conn, mqtttopic.UpdateReported("dev-township", "dongcun-01"), r); err != nil {
			t.Fatal(err)
		}
	}
	publish(updater.StatusDownloading, 43)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- updateStatus(ctx, []string{"--broker", broker.URL, "--township", "dev-township", "--wait", "200ms", "--every", "400ms"}, &stdout, &stderr)
	}()
	time.Sleep(1500 * time.Millisecond) // three rounds, one table
	publish(updater.StatusInstalled, 0)
	time.Sleep(1500 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if n := strings.Count(out, "KIOSK"); n != 2 {
		t.Errorf("%d tables, want 2 (one per change):\n%s", n, out)
	}
	if !strings.Contains(out, "downloading 43 %") || !strings.Contains(out, "installed") {
		t.Errorf("output:\n%s", out)
	}
}

// TestUpdateSignVillage: --village targets the kiosks whose retained status
// names that village.
func TestUpdateSignVillage(t *testing.T) {
	broker := mosquittotest.Start(t)
	conn := township.Conn{Broker: broker.URL}
	for kiosk, village := range map[string]string{"dongcun-01": "dongcun", "dongcun-02": "dongcun", "xicun-01": "xicun"} {
		st, _ := json.Marshal(map[string]string{"kiosk": kiosk, "township": "dev-township", "village": village, "state": "online"})
		if err := township.Push(context.Background(), conn, mqtttopic.Status("dev-township", kiosk), st); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := mustKeyFile(t)
	deb := mustDebs(t, "fengqiao-kioskd_1.4.0-1_arm64.deb")[0]
	sign := func(village string) (int, string, []string) {
		var stdout, stderr bytes.Buffer
		code := updateSign(context.Background(), []string{"--key", key, "--township", "dev-township", "--base-url", "https://u.example/",
			"--village", village, "--broker", broker.URL, deb}, &stdout, &stderr, func() time.Time { return signedAt })
		topics, _ := pushTopics(bytes.TrimSpace(stdout.Bytes()))
		return code, stderr.String(), topics
	}
	code, stderr, topics := sign("dongcun")
	if code != 0 || !slices.Equal(topics, []string{"fengqiao/v1/dev-township/dongcun-01/update/set", "fengqiao/v1/dev-township/dongcun-02/update/set"}) {
		t.Errorf("exit %d %s; topics %v", code, stderr, topics)
	}
	if code, stderr, _ := sign("beicun"); code != 1 || !strings.Contains(stderr, `village "beicun"`) {
		t.Errorf("a village without kiosks: exit %d %s", code, stderr)
	}
}

func TestUpdateUsage(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"-h"}, 0, "kioskctl update status"},
		{[]string{"update", "push"}, 2, "kioskctl update push: give the envelope FILE (kioskctl update sign --out)"},
		{[]string{"update", "status"}, 2, "--broker is required"},
		{[]string{"update", "sign"}, 2, "--key, --township and --base-url are required"},
	} {
		var out bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("kioskctl %v = %d %q; want %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}

// TestUpdateTableSanitised: what kiosks report cannot reach the operator's
// terminal as escape sequences, bidirectional overrides or line breaks.
func TestUpdateTableSanitised(t *testing.T) {
	evil := "\x1b]0;owned\x07\x1b[2J\u202emoc.live\r\nfake-row\t"
	r := &updater.Reported{Version: 7, Release: evil, Status: updater.StatusRolledBack, Reason: evil,
		Packages: map[string]string{evil: evil}, Refused: &updater.Refusal{Version: 9, Reason: evil}}
	var out bytes.Buffer
	writeUpdateTable(&out, []township.UpdateState{{Kiosk: "k1" + evil, Village: evil, Running: evil, Online: evil, Reported: r}}, time.UTC)
	for _, c := range out.String() {
		if c != '\n' && (unicode.IsControl(c) || unicode.Is(unicode.Cf, c)) {
			t.Fatalf("table holds %U:\n%q", c, out.String())
		}
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d lines, want the header and one row:\n%s", n, out.String())
	}
}

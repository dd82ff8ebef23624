package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// lockedBuffer is an output a command writes from its MQTT callbacks
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// mustRecordsKeyFile runs keys gen --encryption and returns the private
// key file and the public key it printed for the site file.
func mustRecordsKeyFile(t *testing.T) (string, *sealed.PublicKey) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "records.key")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"keys", "gen", "--encryption", "--out", file}, &out, &out); code != 0 {
		t.Fatalf("keys gen --encryption: %d %s", code, out.String())
	}
	m := regexp.MustCompile(`(?m)^records:\n  township_key: (\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("keys gen --encryption printed no records section:\n%s", out.String())
	}
	pub, err := sealed.ParsePublicKey(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v", fi, err)
	}
	return file, pub
}

type watcher struct {
	stdout, stderr *lockedBuffer
	done           chan int
}

func startWatch(t *testing.T, ctx context.Context, broker string, args ...string) *watcher {
	t.Helper()
	w := &watcher{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	args = append([]string{"township", "watch", "--broker", broker, "--township", "dev-township"}, args...)
	go func() { w.done <- run(ctx, args, w.stdout, w.stderr) }()
	return w
}

// TestTownshipWatchKey: the township's watcher without the records key
// shows that a party's phone and ID number are sealed and never the
// numbers; with --key it shows them, and a field sealed to a key it does
// not hold stays sealed with a warning that names the field, not the
// number.
func TestTownshipWatchKey(t *testing.T) {
	keyFile, pub := mustRecordsKeyFile(t)
	stranger, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	broker := mosquittotest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plain := startWatch(t, ctx, broker.URL)
	keyed := startWatch(t, ctx, broker.URL, "--key", keyFile)

	pubc, err := broker.Connect(t, nil, "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	defer pubc.Disconnect(100)
	publish := func(typ string, payload []byte) {
		t.Helper()
		tok := pubc.Publish(mqtttopic.Record("dev-township", "dev-kiosk-01", typ), 1, false, payload)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; !strings.Contains(plain.stdout.String(), what) || !strings.Contains(keyed.stdout.String(), what); i++ {
			if time.Now().After(deadline) {
				t.Fatalf("%s never arrived:\nwithout key: %s %s\nwith key: %s %s", what, plain.stdout, plain.stderr, keyed.stdout, keyed.stderr)
			}
			if strings.HasPrefix(what, "probe") {
				publish("alert", fmt.Appendf(nil, `{"id":"probe-%d","seq":0}`, i))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("probe") // both watchers have subscribed

	const idNumber, tel, otherTel = "35078219600301402X", "13905991234", "13800001111"
	id, err := record.NewID()
	if err != nil {
		t.Fatal(err)
	}
	seal := func(k *sealed.PublicKey, path, v string) *schema.Sealed {
		s, err := k.Seal(id, path, v)
		if err != nil {
			t.Fatal(err)
		}
		return &s
	}
	body := schema.MediationSessionV2{Case: "c", Origin: "walk_in", Phrases: []string{}, Parties: []schema.PartyV2{
		{Name: "陈桂英", PhoneMasked: "139****1234", Phone: seal(pub, "parties[0].phone", tel), IDNumber: seal(pub, "parties[0].id_number", idNumber), IDType: "resident"},
		{Name: "李大伯", PhoneMasked: "138****1111", Phone: seal(stranger.Public(), "parties[1].phone", otherTel)},
	}}
	env, err := record.NewWithID(id, record.Source{Kiosk: "dev-kiosk-01", Township: "dev-township", Village: "dev-village"},
		body.RecordType(), body.Schema(), body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := record.Encode(env)
	publish(env.Type, payload)
	waitFor(id)
	cancel()
	for _, w := range []*watcher{plain, keyed} {
		if code := <-w.done; code != 0 {
			t.Errorf("watch exit %d: %s", code, w.stderr)
		}
	}

	out := plain.stdout.String()
	if strings.Contains(out, idNumber) || strings.Contains(out, tel) || strings.Contains(out, otherTel) ||
		!strings.Contains(out, `"id_number":{"key_id":"`+pub.ID()+`","sealed":"`) {
		t.Errorf("without the key:\n%s", out)
	}
	var line map[string]any
	for l := range strings.Lines(keyed.stdout.String()) {
		if strings.Contains(l, id) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	parties := line["body"].(map[string]any)["parties"].([]any)
	first, second := parties[0].(map[string]any), parties[1].(map[string]any)
	if first["id_number"] != idNumber || first["phone"] != tel || first["id_type"] != "resident" {
		t.Errorf("with the key, the first party: %v", first)
	}
	if s, ok := second["phone"].(map[string]any); !ok || s["key_id"] != stranger.ID() {
		t.Errorf("a phone sealed to a key the township does not hold: %v", second)
	}
	if e := keyed.stderr.String(); !strings.Contains(e, "stays sealed") || !strings.Contains(e, "parties[1].phone") ||
		!strings.Contains(e, stranger.ID()) || strings.Contains(e, otherTel) {
		t.Errorf("warnings: %s", e)
	}
}

// TestTownshipWatchKeyRefused: a key file others can read, or one that is
// not a records key, stops the watcher before it connects.
func TestTownshipWatchKeyRefused(t *testing.T) {
	keyFile, _ := mustRecordsKeyFile(t)
	open := filepath.Join(t.TempDir(), "open.key")
	data, _ := os.ReadFile(keyFile)
	os.WriteFile(open, data, 0o644)
	signing := filepath.Join(t.TempDir(), "signing.key")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"keys", "gen", "--out", signing}, &out, &out); code != 0 {
		t.Fatal(out.String())
	}
	tests := []struct {
		name, file, want string
	}{
		{"readable by others", open, "chmod 600"},
		{"a signing key", signing, "not an X25519 records key"},
		{"missing", filepath.Join(t.TempDir(), "none.key"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), []string{"township", "watch", "--broker", "tcp://127.0.0.1:1", "--key", tt.file}, &out, &out)
			if code != 2 || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d: %s; want 2 with %q", code, out.String(), tt.want)
			}
		})
	}
}

// TestConfigSignRecordsKey: config sign says what records key the kiosks
// will seal to after the bundle (a records section sets it; without one
// each kiosk keeps the key in force), and refuses a signing key given as
// the records key: the site's trusted one, and the very key signing.
func TestConfigSignRecordsKey(t *testing.T) {
	sites := mustSites(t, "dev-kiosk-01", "dev-kiosk-02")
	devKey := mustDevKey(t)
	otherKey, otherTrust := mustKeyFile(t)
	_, records := mustRecordsKeyFile(t)
	file := func(s string) string {
		path := filepath.Join(t.TempDir(), "bundle.yaml")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rotation := file("schema: " + config.BundleSchema + "\nrecords:\n  township_key: " + records.String() + "\n")
	ui := file("schema: " + config.BundleSchema + "\nui:\n  idle: 90s\n")
	patch := file("schema: " + config.PatchSchema + "\nrecords:\n  township_key: " + records.String() + "\n")
	signingAsRecords := file("schema: " + config.BundleSchema + "\nrecords:\n  township_key: HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=\n")
	ownKeyAsRecords := file("schema: " + config.BundleSchema + "\nrecords:\n  township_key: " + bundle.FormatPublicKey(otherTrust.Keys[0].PublicKey) + "\n")
	for _, tt := range []struct {
		name    string
		key     string
		content string
		extra   []string
		code    int
		want    []string
	}{
		{"rotation", devKey, rotation, nil, 0, []string{"from this bundle on", "dev-kiosk-01 (", "dev-kiosk-02 (", "key id " + records.ID(), "Keep the old records private key"}},
		{"rotation by a patch", devKey, patch, nil, 0, []string{"from this bundle on", "key id " + records.ID()}},
		{"ui only", devKey, ui, nil, 0, []string{"records key: left alone", "the latest bundle with a records section", "site file's key id " + config.DevRecordsKeyID}},
		{"the trusted signing key as records key", devKey, signingAsRecords, nil, 1, []string{"would refuse this bundle", "records.township_key: is a township signing key"}},
		{"the signing key in use as records key", otherKey, ownKeyAsRecords, []string{"--allow-untrusted-key"}, 1, []string{"records.township_key is a township signing key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--key", tt.key, "--content", tt.content, "--site", sites, "--township", "dev-township"}, tt.extra...)
			if code := configSign(context.Background(), args, &stdout, &stderr, func() time.Time { return signedAt }); code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// TestKeysGenLabels: the two kinds of key look alike (44 characters of
// base64); keys gen says which one it made and where it goes.
func TestKeysGenLabels(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"keys", "gen"}, []string{"SIGNING key (Ed25519)", "never records.township_key", "control:\n  township_keys:\n    - "}},
		{[]string{"keys", "gen", "--encryption"}, []string{"RECORDS key (X25519)", "never control.township_keys", "records:\n  township_key: "}},
	} {
		var out bytes.Buffer
		args := append(tt.args, "--out", filepath.Join(t.TempDir(), "k.key"))
		if code := run(context.Background(), args, &out, &out); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v does not say %q:\n%s", tt.args, w, out.String())
			}
		}
	}
}

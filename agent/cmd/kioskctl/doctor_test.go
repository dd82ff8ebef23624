package main

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
)

// mustDoctorSite writes the dev site with its broker at broker and a board
// whose reader is a real character device (/dev/null, through a udev-like
// symlink) and whose printer is not plugged in.
func mustDoctorSite(t *testing.T, broker string) string {
	t.Helper()
	dir := t.TempDir()
	site, err := os.ReadFile("../../../firmware-configs/sites/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	board, err := os.ReadFile("../../../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reader := filepath.Join(dir, "idcard")
	if err := os.Symlink("/dev/null", reader); err != nil {
		t.Fatal(err)
	}
	b := string(board)
	b = mustReplaceBlock(t, b, "idcard:", "idcard:\n  driver: serial\n  device: "+reader+"\n  baud: 115200\n")
	b = mustReplaceBlock(t, b, "printer:", "printer:\n  driver: serial\n  device: "+filepath.Join(dir, "receipt-printer")+"\n  baud: 9600\n")
	os.MkdirAll(filepath.Join(dir, "boards"), 0o755)
	os.WriteFile(filepath.Join(dir, "boards", "dev-sim.yaml"), []byte(b), 0o644)
	s := strings.Replace(string(site), "tcp://127.0.0.1:1883", broker, 1)
	s = strings.Replace(s, "board: ../boards/dev-sim.yaml", "board: boards/dev-sim.yaml", 1)
	path := filepath.Join(dir, "site.yaml")
	os.WriteFile(path, []byte(s), 0o644)
	return path
}

// mustReplaceBlock replaces the top-level YAML block starting with key.
func mustReplaceBlock(t *testing.T, doc, key, block string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+key+"\n")
	if i < 0 {
		t.Fatalf("no block %s", key)
	}
	j := i + 1 + len(key) + 1
	for j < len(doc) && (doc[j] == ' ' || doc[j] == '#') {
		j += strings.IndexByte(doc[j:], '\n') + 1
	}
	return doc[:i+1] + block + doc[j:]
}

func findingsByItem(fs []finding) map[string]finding {
	m := map[string]finding{}
	for _, f := range fs {
		if _, ok := m[f.item]; !ok {
			m[f.item] = f
		}
	}
	return m
}

// TestDoctor runs the checks against a kioskd serving its real API, a real
// Mosquitto, and device nodes present and absent.
func TestDoctor(t *testing.T) {
	broker := mosquittotest.Start(t)
	socket, _ := mustKioskd(t)
	dir := t.TempDir()
	watchdog := filepath.Join(dir, "watchdog")
	os.WriteFile(watchdog, nil, 0o600)
	env := doctorEnv{
		site: mustDoctorSite(t, broker.URL), data: dir, socket: socket,
		watchdog: watchdog, rtc: filepath.Join(dir, "rtc0"), gpioGlob: filepath.Join(dir, "gpiochip*"),
		now: time.Now, clockSynced: func() (bool, error) { return true, nil },
		clockFloor: time.Now().Add(-24 * time.Hour),
	}
	fs, header := env.run(context.Background())
	if !strings.Contains(header, "board dev-sim") {
		t.Errorf("header %q", header)
	}
	got := findingsByItem(fs)
	want := []struct{ item, level, contains string }{
		{"config", levelOK, "kiosk dev-kiosk-01"},
		{"kioskd", levelOK, "records waiting"},
		{"reader", levelOK, "→ /dev/null"},
		{"printer", levelFail, "receipt-printer: absent (is it plugged in"},
		{"gpio", levelWarn, "simulated"},
		{"clock", levelOK, "synchronised"},
		{"rtc", levelWarn, "after a power cut"},
		{"watchdog", levelOK, "present"},
		{"disk", levelOK, "free on"},
		{"broker", levelOK, "reachable"},
	}
	for _, w := range want {
		f, ok := got[w.item]
		if !ok || f.level != w.level || !strings.Contains(f.detail, w.contains) {
			t.Errorf("%s: got %+v, want %s containing %q", w.item, f, w.level, w.contains)
		}
	}

	// A clock before the software's own build is wrong for sure.
	env.clockFloor = time.Now().Add(24 * time.Hour)
	if f := findingsByItem(env.clock())["clock"]; f.level != levelFail {
		t.Errorf("clock before the build: %+v", f)
	}
}

func TestDoctorCertificates(t *testing.T) {
	ca := testpki.NewCA(t, "Test Township CA")
	now := time.Now()
	for _, tt := range []struct {
		name     string
		notAfter time.Time
		level    string
		contains string
	}{
		{"valid", now.AddDate(1, 0, 0), levelOK, "valid until"},
		{"near expiry", now.AddDate(0, 0, 10), levelWarn, "days left, renew it"},
		{"expired", now.Add(-time.Hour), levelFail, "EXPIRED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leaf := ca.Issue(t, testpki.Template{CN: "k1", NotBefore: now.AddDate(-1, 0, 0), NotAfter: tt.notAfter,
				Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			cfg := &config.Config{SitePath: "/etc/fengqiao/site.yaml",
				Site: config.Site{MQTT: config.MQTT{TLS: config.TLS{CAFile: ca.CertFile, CertFile: leaf.CertFile}}}}
			f := findingsByItem(doctorEnv{now: time.Now}.certificates(cfg))["kiosk cert"]
			if f.level != tt.level || !strings.Contains(f.detail, tt.contains) {
				t.Errorf("got %+v, want %s containing %q", f, tt.level, tt.contains)
			}
		})
	}
}

func TestKioskdCanOpen(t *testing.T) {
	for _, tt := range []struct {
		perm         os.FileMode
		owner, group string
		want         bool
	}{
		{0o660, "root", "dialout", true},  // the udev rule's USB-serial bridges
		{0o660, "root", "video", true},    // cameras
		{0o600, "root", "dialout", false}, // a node udev did not give the group
		{0o660, "root", "root", false},
		{0o600, "fengqiao", "root", true},
		{0o666, "root", "root", true}, // /dev/null
		{0o640, "root", "dialout", false},
	} {
		if got := kioskdCanOpen(tt.perm, tt.owner, tt.group); got != tt.want {
			t.Errorf("%v %s:%s: kioskdCanOpen = %v, want %v", tt.perm, tt.owner, tt.group, got, tt.want)
		}
	}
}

func TestDoctorUpdater(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, report    string // "" : no file
		level, contains string
	}{
		{"not installed", "", levelWarn, "fengqiao-updater not installed"},
		{"installed", `{"version":7,"release":"1.4.0-1","status":"installed"}`, levelOK, "update v7 (1.4.0-1): installed"},
		{"downloading", `{"version":7,"release":"1.4.0-1","status":"downloading","progress":43}`, levelOK, "downloading 43 %"},
		{"rolled back", `{"version":7,"release":"1.4.0-1","status":"rolled_back","reason":"health_check","error":"kioskd's local API does not answer"}`,
			levelWarn, "rolled_back: health_check: kioskd's local API does not answer"},
		{"rollback failed", `{"version":7,"release":"1.4.0-1","status":"rollback_failed","reason":"install_failed","error":"dpkg: dependency problems"}`,
			levelFail, "rollback_failed: install_failed: dpkg: dependency problems"},
		{"recovering", `{"status":"recovering","reason":"state_damaged","error":"updater: state.json: unexpected end of JSON input"}`,
			levelWarn, "recovering: state_damaged"},
		{"recovered", `{"status":"recovered","reason":"state_damaged","error":"the health check passes"}`,
			levelWarn, "recovered: state_damaged"},
		// A failure outranks the warning a reason alone gives.
		{"rollback failed, state damaged", `{"version":7,"status":"rollback_failed","reason":"state_damaged","error":"dpkg"}`,
			levelFail, "rollback_failed: state_damaged"},
		{"damaged", `{"status":`, levelWarn, "reported.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name, "reported.json")
			if tt.report != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(tt.report), 0o644)
			}
			f := findingsByItem(doctorEnv{updaterReport: path}.updater())["updater"]
			if f.level != tt.level || !strings.Contains(f.detail, tt.contains) {
				t.Errorf("got %+v, want %s containing %q", f, tt.level, tt.contains)
			}
		})
	}
}

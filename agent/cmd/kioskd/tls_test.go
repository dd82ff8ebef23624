package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

const certScript = "../../../packaging/mosquitto/township-certs.sh"

// mustIssue runs packaging/mosquitto/township-certs.sh in pki, as township
// IT would.
func mustIssue(t *testing.T, pki string, args ...string) {
	t.Helper()
	out, err := exec.Command("sh", append([]string{certScript, "-d", pki}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("township-certs.sh %v: %v\n%s", args, err, out)
	}
}

// townshipPKI issues, with the reference script, the township CA, the
// broker's certificate for 127.0.0.1, the dev kiosk's certificate and the
// dev township's IT user's.
func townshipPKI(t *testing.T) string {
	t.Helper()
	pki := filepath.Join(t.TempDir(), "pki")
	mustIssue(t, pki, "ca", "Test Township CA")
	mustIssue(t, pki, "server", "localhost", "127.0.0.1")
	mustIssue(t, pki, "kiosk", "dev-kiosk-01")
	mustIssue(t, pki, "kiosk", "dev-kiosk-02")
	mustIssue(t, pki, "user", "township_dev-township")
	return pki
}

func mustClientTLS(t *testing.T, pki, cert string) *tls.Config {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(pki, cert+".crt"), filepath.Join(pki, cert+".key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// productionSite writes the dev site as a production kiosk on broker, its
// mqtt.tls relative to the site file: tls/ next to it holds copies of the
// CA and of the kiosk certificate kiosk (a path under pki, without suffix).
func productionSite(t *testing.T, broker, pki, kiosk string) string {
	t.Helper()
	data, err := os.ReadFile(devConfig)
	if err != nil {
		t.Fatal(err)
	}
	board, err := filepath.Abs("../../../firmware-configs/boards/dev-sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	site := string(data)
	recordsKey, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for old, new := range map[string]string{
		"mode: dev ": "mode: production ",
		// The dev records key's private half is committed: production refuses it.
		"township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=": "township_key: " + recordsKey.Public().String(),
		// So is the dev township's signing key (a production kiosk here is
		// sent no bundle; a fresh key stands for the township's).
		"- HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=": "- " + mustFreshTownshipKey(t),
		"tcp://127.0.0.1:1883":                           broker,
		"board: ../boards/dev-sim.yaml":                  "board: " + board,
		"  connect_timeout: 10s\n":                       "  connect_timeout: 10s\n  tls:\n    ca_file: tls/ca.crt\n    cert_file: tls/kiosk.crt\n    key_file: tls/kiosk.key\n",
	} {
		if !strings.Contains(site, old) {
			t.Fatalf("dev site has no %q", old)
		}
		site = strings.Replace(site, old, new, 1)
	}
	if !strings.Contains(site, "township_keys:") {
		t.Fatal("the dev site has no control.township_keys, which production needs")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{"ca.crt": "ca.crt", kiosk + ".crt": "kiosk.crt", kiosk + ".key": "kiosk.key"} {
		b, err := os.ReadFile(filepath.Join(pki, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tls", to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(path, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTownshipBrokerOverMutualTLS is a production kiosk end to end: the
// reference script issues the certificates, the reference township.conf
// and township.acl run the broker, kioskd loads a production site file
// with mqtt.tls, and a booking reaches township IT, itself on mutual TLS.
// Then township IT revokes the kiosk's certificate: after the broker's
// restart the kiosk cannot connect, and keeps its records.
func TestTownshipBrokerOverMutualTLS(t *testing.T) {
	pki := townshipPKI(t)
	broker := mosquittotest.New(t)
	broker.TLS = &mosquittotest.TLS{CAFile: filepath.Join(pki, "ca.crt"), CertFile: filepath.Join(pki, "server.crt"),
		KeyFile: filepath.Join(pki, "server.key"), CRLFile: filepath.Join(pki, "ca.crl"),
		Client: mustClientTLS(t, pki, "users/township_dev-township")}
	broker.DropIn, broker.ACLFile = mosquittotest.ReferenceFiles(t)
	broker.Persistent = true
	broker.Start()

	it, err := broker.Connect(t, broker.TLS.Client, "township-it")
	if err != nil {
		t.Fatal(err)
	}
	records, statuses := make(chan mqtt.Message, 10), make(chan mqtt.Message, 10)
	for filter, ch := range map[string]chan mqtt.Message{
		mqtttopic.Records("dev-township"):  records,
		mqtttopic.Statuses("dev-township"): statuses,
	} {
		if tok := it.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { ch <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", filter, tok.Error())
		}
	}

	site := productionSite(t, broker.URL, pki, "kiosks/dev-kiosk-01")
	p := mustStartKioskd(t, t.TempDir(), broker.URL, "--config", site)
	c := localclient.New(p.socket)
	if st := mustReceive(t, statuses, 10*time.Second); !strings.Contains(string(st.Payload()), `"state":"online"`) {
		t.Errorf("status = %s", st.Payload())
	}
	b := mustBook(t, c)
	m := mustReceive(t, records, 10*time.Second)
	var env record.Envelope
	if err := json.Unmarshal(m.Payload(), &env); err != nil || env.ID != b.ID ||
		m.Topic() != mqtttopic.Record("dev-township", "dev-kiosk-01", schema.BookingType) {
		t.Fatalf("received %s %s (%v), want booking %s", m.Topic(), m.Payload(), err, b.ID)
	}
	// The link stays up: nothing kioskd sends on connecting (status,
	// control subscriptions, reported state) is denied, which would cost
	// it the connection.
	time.Sleep(time.Second)
	if st, err := c.Status(context.Background()); err != nil || st.Broker.State != "connected" {
		t.Fatalf("status after a second = %+v, %v", st.Broker, err)
	}
	if strings.Count(p.out.String(), "connected to township broker") != 1 {
		t.Errorf("kioskd connected more than once:\n%s", p.out)
	}

	mustIssue(t, pki, "revoke", filepath.Join(pki, "kiosks/dev-kiosk-01.crt"))
	broker.Terminate()
	broker.Start()
	if _, err := broker.Connect(t, mustClientTLS(t, pki, "kiosks/dev-kiosk-01"), "dev-kiosk-01"); err == nil {
		t.Error("a revoked certificate connected")
	}
	if _, err := broker.Connect(t, mustClientTLS(t, pki, "kiosks/dev-kiosk-02"), "dev-kiosk-02"); err != nil {
		t.Errorf("a certificate that was not revoked: %v", err)
	}
	mustBook(t, c)
	time.Sleep(2 * time.Second)
	st, err := c.Status(context.Background())
	if err != nil || st.Broker.State == "connected" || st.Queue.Depth != 1 {
		t.Errorf("revoked kiosk: broker %+v, queue depth %d (%v)", st.Broker, st.Queue.Depth, err)
	}
}

// TestProductionRefusesWithoutMutualTLS: kioskd does not start a production
// kiosk on plain TCP, nor on TLS without the kiosk's own certificate.
func TestProductionRefusesWithoutMutualTLS(t *testing.T) {
	pki := townshipPKI(t)
	good := productionSite(t, "ssl://127.0.0.1:8883", pki, "kiosks/dev-kiosk-01")
	plain := productionSite(t, "tcp://127.0.0.1:1883", pki, "kiosks/dev-kiosk-01")
	other := productionSite(t, "ssl://127.0.0.1:8883", pki, "kiosks/dev-kiosk-02")
	exposed := productionSite(t, "ssl://127.0.0.1:8883", pki, "kiosks/dev-kiosk-01")
	if err := os.Chmod(filepath.Join(filepath.Dir(exposed), "tls/kiosk.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	noCert, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	noCertPath := filepath.Join(filepath.Dir(good), "no-cert.yaml")
	if err := os.WriteFile(noCertPath, bytes.Replace(noCert, []byte("    cert_file: tls/kiosk.crt\n    key_file: tls/kiosk.key\n"), nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		contains string
	}{
		{"plain TCP in the site file", []string{"--config", plain}, "mqtt.broker: production sites must use TLS"},
		{"plain TCP by --broker", []string{"--config", good, "--broker", "tcp://127.0.0.1:1883"}, "--broker: mqtt.broker: production sites must use TLS"},
		{"no client certificate", []string{"--config", noCertPath}, "mqtt.tls.cert_file: is required"},
		{"another kiosk's certificate", []string{"--config", other}, `is issued to CN "dev-kiosk-02"`},
		{"a key others can read", []string{"--config", exposed}, "mqtt.tls.key_file: "},
	} {
		var out bytes.Buffer
		code := run(append(tt.args, "--data", t.TempDir()), &out, &out)
		if code != exitConfig || !strings.Contains(out.String(), tt.contains) || !strings.Contains(out.String(), "invalid configuration") {
			t.Errorf("%s: kioskd = %d %q; want %d containing %q", tt.name, code, out.String(), exitConfig, tt.contains)
		}
	}
}

// TestProductionWithoutRecordsKeyAlerts: a production kiosk whose site file
// names no township records key (one upgraded from before the key existed)
// still starts and takes bookings, but withholds the phone from the record
// rather than send it in clear, and tells the township with an alert.
func TestProductionWithoutRecordsKeyAlerts(t *testing.T) {
	pki := townshipPKI(t)
	broker := mosquittotest.New(t)
	broker.TLS = &mosquittotest.TLS{CAFile: filepath.Join(pki, "ca.crt"), CertFile: filepath.Join(pki, "server.crt"),
		KeyFile: filepath.Join(pki, "server.key"), CRLFile: filepath.Join(pki, "ca.crl"),
		Client: mustClientTLS(t, pki, "users/township_dev-township")}
	broker.DropIn, broker.ACLFile = mosquittotest.ReferenceFiles(t)
	broker.Start()
	it, err := broker.Connect(t, broker.TLS.Client, "township-it")
	if err != nil {
		t.Fatal(err)
	}
	records := make(chan mqtt.Message, 10)
	if tok := it.Subscribe(mqtttopic.Records("dev-township"), 1, func(_ mqtt.Client, m mqtt.Message) { records <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	site := productionSite(t, broker.URL, pki, "kiosks/dev-kiosk-01")
	data, err := os.ReadFile(site)
	if err != nil {
		t.Fatal(err)
	}
	without := regexp.MustCompile(`(?m)^  township_key: \S+\n`).ReplaceAll(data, nil)
	if bytes.Equal(without, data) {
		t.Fatal("the dev site names no records key")
	}
	if err := os.WriteFile(site, without, 0o644); err != nil {
		t.Fatal(err)
	}
	p := mustStartKioskd(t, t.TempDir(), broker.URL, "--config", site)
	b := mustBook(t, localclient.New(p.socket))

	got := map[string]record.Envelope{}
	for len(got) < 2 {
		var env record.Envelope
		if err := json.Unmarshal(mustReceive(t, records, 10*time.Second).Payload(), &env); err != nil {
			t.Fatal(err)
		}
		got[env.Type] = env
	}
	if a := got[schema.AlertType]; !strings.Contains(string(a.Body), `"kind":"records_key_missing"`) {
		t.Errorf("alert = %s", a.Body)
	}
	bk := got[schema.BookingType]
	if bk.ID != b.ID || strings.Contains(string(bk.Body), "13800001111") || !strings.Contains(string(bk.Body), `"withheld":["phone"]`) ||
		!strings.Contains(string(bk.Body), `"phone_masked":"138****1111"`) {
		t.Errorf("booking = %s", bk.Body)
	}
	if !strings.Contains(p.out.String(), "no township records key") {
		t.Errorf("kioskd did not warn:\n%s", p.out)
	}
}

// mustFreshTownshipKey is a township signing key's public half, in the
// site file's form, whose private half nobody keeps.
func mustFreshTownshipKey(t *testing.T) string {
	t.Helper()
	pub, _, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pub)
}

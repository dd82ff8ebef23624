package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
)

// tlsFiles are the files a kiosk's mqtt.tls names.
type tlsFiles struct{ ca, cert, key string }

// mustKioskCert makes a township CA and a client certificate for cn, valid
// until notAfter (zero: a year), in a temp dir.
func mustKioskCert(t *testing.T, cn string, notAfter time.Time) (*testpki.CA, tlsFiles) {
	t.Helper()
	ca := testpki.NewCA(t, "Test Township CA")
	leaf := ca.Issue(t, testpki.Template{CN: cn, NotAfter: notAfter, Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return ca, tlsFiles{ca: ca.CertFile, cert: leaf.CertFile, key: leaf.KeyFile}
}

// productionSite is the dev site made a production kiosk on a TLS broker
// with the given mqtt.tls files (empty ones left out).
func productionSite(t *testing.T, f tlsFiles) string {
	t.Helper()
	site, _ := mustReadDev(t)
	site = replace("mode: dev ", "mode: production ")(site)
	// The dev records key's private half is committed: production refuses it.
	site = replace("township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=", "township_key: "+mustRecordsKey(t))(site)
	// So is the dev township's signing key: a fresh one stands for the township's.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	site = replace("- HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=", "- "+base64.StdEncoding.EncodeToString(pub))(site)
	return withTLS(t, replace("tcp://127.0.0.1:1883", "ssl://township.example:8883")(site), f)
}

func withTLS(t *testing.T, site string, f tlsFiles) string {
	t.Helper()
	block := ""
	for _, kv := range [][2]string{{"ca_file", f.ca}, {"cert_file", f.cert}, {"key_file", f.key}} {
		if kv[1] != "" {
			block += "    " + kv[0] + ": " + kv[1] + "\n"
		}
	}
	if block != "" {
		site = replace("  connect_timeout: 10s\n", "  connect_timeout: 10s\n  tls:\n"+block)(site)
	}
	// A production site also needs the township's bundle key.
	if !strings.Contains(site, "township_keys:") {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		site += "\ncontrol:\n  township_keys: [\"" + base64.StdEncoding.EncodeToString(pub) + "\"]\n"
	}
	return site
}

func mustLoadSite(t *testing.T, site string) (*Config, error) {
	t.Helper()
	_, board := mustReadDev(t)
	return Load(mustWriteConfig(t, site, board))
}

func TestLoadProductionTLS(t *testing.T) {
	ca, f := mustKioskCert(t, "dev-kiosk-01", time.Time{})
	cfg, err := mustLoadSite(t, productionSite(t, f))
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.TLSConfig()
	if tc == nil {
		t.Fatal("TLSConfig() = nil for an ssl:// broker")
	}
	if tc.MinVersion != tls.VersionTLS12 || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.InsecureSkipVerify {
		t.Fatalf("TLSConfig() = MinVersion %x, RootCAs %v, %d certificates, InsecureSkipVerify %v",
			tc.MinVersion, tc.RootCAs, len(tc.Certificates), tc.InsecureSkipVerify)
	}
	if cn := tc.Certificates[0].Leaf.Subject.CommonName; cn != "dev-kiosk-01" {
		t.Errorf("client certificate CN = %q", cn)
	}
	if !tc.RootCAs.Equal(ca.Pool()) {
		t.Error("RootCAs is not the pool of ca_file")
	}
	tc.Certificates = nil
	if len(cfg.TLSConfig().Certificates) != 1 {
		t.Error("TLSConfig() shares its configuration with the caller")
	}
}

// TestTLSRelativePaths: paths in mqtt.tls are relative to the site file.
func TestTLSRelativePaths(t *testing.T) {
	_, f := mustKioskCert(t, "dev-kiosk-01", time.Time{})
	_, board := mustReadDev(t)
	sitePath := mustWriteConfig(t, productionSite(t, tlsFiles{ca: "../tls/ca.crt", cert: "../tls/kiosk.crt", key: "../tls/kiosk.key"}), board)
	dir := filepath.Join(filepath.Dir(sitePath), "../tls")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{f.ca: "ca.crt", f.cert: "kiosk.crt", f.key: "kiosk.key"} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(sitePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TLSConfig().Certificates) != 1 {
		t.Error("no client certificate loaded from relative paths")
	}
}

// TestTLSDevAndPlain: a dev site may use TLS without a client certificate
// (the system roots or ca_file check the broker), and a plain broker gets
// no TLS configuration.
func TestTLSDevAndPlain(t *testing.T) {
	site, _ := mustReadDev(t)
	cfg, err := mustLoadSite(t, site)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig() != nil {
		t.Error("TLSConfig() != nil for a tcp:// broker")
	}
	if err := cfg.OverrideBroker("ssl://127.0.0.1:8883"); err != nil {
		t.Fatal(err)
	}
	tc := cfg.TLSConfig()
	if tc == nil || len(tc.Certificates) != 0 || tc.RootCAs != nil || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("dev TLS without files = %+v", tc)
	}
}

// TestOverrideBrokerNeedsClientCert: --broker cannot take a production site
// with a TLS broker around the client-certificate rule, nor back to plain TCP.
func TestOverrideBrokerNeedsClientCert(t *testing.T) {
	_, f := mustKioskCert(t, "dev-kiosk-01", time.Time{})
	cfg, err := mustLoadSite(t, productionSite(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.OverrideBroker("tcp://127.0.0.1:1883"); err == nil || !strings.Contains(err.Error(), "production sites must use TLS") {
		t.Errorf("OverrideBroker(tcp) = %v", err)
	}
	if err := cfg.OverrideBroker("ssl://other.example:8883"); err != nil {
		t.Errorf("OverrideBroker(ssl) = %v", err)
	}
	if cfg.Site.MQTT.Broker != "ssl://other.example:8883" || len(cfg.TLSConfig().Certificates) != 1 {
		t.Errorf("after override: %s, %+v", cfg.Site.MQTT.Broker, cfg.TLSConfig())
	}

	site := productionSite(t, tlsFiles{})
	site = replace("ssl://township.example:8883", "tcp://127.0.0.1:1883")(site)
	site = replace("mode: production ", "mode: dev ")(site)
	cfg, err = mustLoadSite(t, site)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Site.Mode = ModeProduction // as if the file said so and used ssl://
	err = cfg.OverrideBroker("ssl://127.0.0.1:8883")
	if err == nil || !strings.Contains(err.Error(), "--broker: mqtt.tls.cert_file: is required") {
		t.Errorf("OverrideBroker(ssl) on production without a certificate = %v", err)
	}
}

func TestLoadRejectsTLS(t *testing.T) {
	type fixture struct {
		files tlsFiles
		site  string
	}
	valid := func(t *testing.T) fixture {
		_, f := mustKioskCert(t, "dev-kiosk-01", time.Time{})
		return fixture{files: f}
	}
	writeFile := func(t *testing.T, text string, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), "file.pem")
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name      string
		setup     func(t *testing.T) fixture
		wantField string
		wantMsg   string
	}{
		{
			name:      "production TLS without a client certificate",
			setup:     func(*testing.T) fixture { return fixture{} },
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "is required: a production kiosk proves who it is",
		},
		{
			name:      "production TLS without a key",
			setup:     func(*testing.T) fixture { return fixture{} },
			wantField: "mqtt.tls.key_file",
			wantMsg:   "is required",
		},
		{
			name: "dev certificate without its key",
			setup: func(t *testing.T) fixture {
				f := valid(t).files
				site, _ := mustReadDev(t)
				return fixture{site: withTLS(t, replace("tcp://127.0.0.1:1883", "ssl://127.0.0.1:8883")(site), tlsFiles{cert: f.cert})}
			},
			wantField: "mqtt.tls.key_file",
			wantMsg:   "is required with cert_file",
		},
		{
			name: "dev key without its certificate",
			setup: func(t *testing.T) fixture {
				f := valid(t).files
				site, _ := mustReadDev(t)
				return fixture{site: withTLS(t, site, tlsFiles{key: f.key})}
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "is required with key_file",
		},
		{
			name: "certificate file missing",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.cert += ".missing"
				return fx
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "no such file",
		},
		{
			name: "key file missing",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.key += ".missing"
				return fx
			},
			wantField: "mqtt.tls.key_file",
			wantMsg:   "no such file",
		},
		{
			name: "certificate is not PEM",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.cert = writeFile(t, "not a certificate\n", 0o644)
				return fx
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "no PEM certificate",
		},
		{
			name: "key of another certificate",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				_, other := mustKioskCert(t, "dev-kiosk-01", time.Time{})
				fx.files.key = other.key
				return fx
			},
			wantField: "mqtt.tls.key_file",
			wantMsg:   "private key does not match public key",
		},
		{
			name: "key readable by others",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				if err := os.Chmod(fx.files.key, 0o644); err != nil {
					t.Fatal(err)
				}
				return fx
			},
			wantField: "mqtt.tls.key_file",
			wantMsg:   "is readable by group or others (mode 0644)",
		},
		{
			name: "key readable by group",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				if err := os.Chmod(fx.files.key, 0o640); err != nil {
					t.Fatal(err)
				}
				return fx
			},
			wantField: "mqtt.tls.key_file",
			wantMsg:   "(mode 0640)",
		},
		{
			name: "certificate expired",
			setup: func(t *testing.T) fixture {
				_, f := mustKioskCert(t, "dev-kiosk-01", time.Now().Add(-time.Minute))
				return fixture{files: f}
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "expired on",
		},
		{
			name: "certificate of another kiosk",
			setup: func(t *testing.T) fixture {
				_, f := mustKioskCert(t, "dev-kiosk-02", time.Time{})
				return fixture{files: f}
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   `is issued to CN "dev-kiosk-02", not to this kiosk (kiosk.id "dev-kiosk-01")`,
		},
		{
			name: "server certificate as client certificate",
			setup: func(t *testing.T) fixture {
				ca := testpki.NewCA(t, "Test Township CA")
				leaf := ca.Issue(t, testpki.Template{CN: "dev-kiosk-01", Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
				return fixture{files: tlsFiles{ca: ca.CertFile, cert: leaf.CertFile, key: leaf.KeyFile}}
			},
			wantField: "mqtt.tls.cert_file",
			wantMsg:   "is not a client certificate",
		},
		{
			name: "CA file missing",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.ca += ".missing"
				return fx
			},
			wantField: "mqtt.tls.ca_file",
			wantMsg:   "no such file",
		},
		{
			name: "CA file is not PEM",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.ca = writeFile(t, "garbage\n", 0o644)
				return fx
			},
			wantField: "mqtt.tls.ca_file",
			wantMsg:   "no PEM certificate",
		},
		{
			name: "CA file holds a damaged certificate",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.ca = writeFile(t, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0o644)
				return fx
			},
			wantField: "mqtt.tls.ca_file",
			wantMsg:   "certificate 1:",
		},
		{
			name: "CA file holds a key",
			setup: func(t *testing.T) fixture {
				fx := valid(t)
				fx.files.ca = fx.files.key
				return fx
			},
			wantField: "mqtt.tls.ca_file",
			wantMsg:   `holds a "PRIVATE KEY" PEM block`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := tt.setup(t)
			site := fx.site
			if site == "" {
				site = productionSite(t, fx.files)
			}
			_, err := mustLoadSite(t, site)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error = %v, want *config.Error", err)
			}
			for _, p := range ce.Problems {
				if p.Field == tt.wantField && strings.Contains(p.Msg, tt.wantMsg) {
					if p.Line == 0 {
						t.Errorf("problem without a line: %v", p)
					}
					return
				}
			}
			t.Errorf("no problem %s: %q in\n%v", tt.wantField, tt.wantMsg, err)
		})
	}
}

// TestTLSReportsEveryProblem: an expired certificate of another kiosk with
// an exposed key is three things to fix, all reported at once.
func TestTLSReportsEveryProblem(t *testing.T) {
	_, f := mustKioskCert(t, "dev-kiosk-02", time.Now().Add(-time.Hour))
	if err := os.Chmod(f.key, 0o604); err != nil {
		t.Fatal(err)
	}
	_, err := mustLoadSite(t, productionSite(t, f))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load() = %v", err)
	}
	got := map[string]int{}
	for _, p := range ce.Problems {
		got[p.Field]++
	}
	if got["mqtt.tls.cert_file"] != 2 || got["mqtt.tls.key_file"] != 1 || len(ce.Problems) != 3 {
		t.Errorf("problems = %v", err)
	}
}

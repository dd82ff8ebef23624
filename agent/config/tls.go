package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// TLS names the kiosk's side of mutual TLS with the township broker
// (docs/township-broker.md). The broker takes the client certificate's CN
// as the MQTT username and its ACL grants that username one kiosk's topics,
// so the CN must be this kiosk's id.
type TLS struct {
	// CAFile is a PEM bundle of the CA(s) the broker's certificate must
	// chain to; empty means the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the kiosk's client certificate and its
	// private key (PEM). The key must not be readable by group or others.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// tlsSchemes are the broker schemes that carry MQTT over TLS.
var tlsSchemes = []string{"ssl", "tls", "mqtts", "wss"}

// brokerUsesTLS reports whether broker is a URL with a TLS scheme.
func brokerUsesTLS(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && slices.Contains(tlsSchemes, u.Scheme)
}

// TLSConfig is the TLS client configuration for the township broker: TLS 1.2
// or later, the roots of mqtt.tls.ca_file (nil: the system's) and the kiosk's
// client certificate. It is nil for a plain tcp:// or ws:// broker. The
// files were read and checked by Load (or OverrideBroker); replacing them
// takes a restart. Each call returns a fresh tls.Config (Clone).
func (c *Config) TLSConfig() *tls.Config {
	return c.tls.Clone()
}

// resolve makes a path of the site file relative to the file's directory.
func resolve(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// validateTLS checks mqtt.tls and returns the client configuration the site's
// broker needs (nil for a plain one). The files are checked whenever they are
// named; a production site on a TLS broker must name a client certificate.
// dir is the site file's directory, against which relative paths resolve.
func (s *Site) validateTLS(c *checker, dir string, now time.Time) *tls.Config {
	t := s.MQTT.TLS
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		if pool, err := loadCAFile(resolve(dir, t.CAFile)); err != nil {
			c.fail("mqtt.tls.ca_file", "%v", err)
		} else {
			cfg.RootCAs = pool
		}
	}
	secure := brokerUsesTLS(s.MQTT.Broker)
	production := secure && s.Mode == ModeProduction
	if t.CertFile != "" || t.KeyFile != "" || production {
		const why = "is required: a production kiosk proves who it is to the broker with a client certificate (docs/township-broker.md)"
		switch {
		case t.CertFile == "" && production:
			c.fail("mqtt.tls.cert_file", why)
		case t.CertFile == "":
			c.fail("mqtt.tls.cert_file", "is required with key_file (the key's certificate)")
		}
		switch {
		case t.KeyFile == "" && production:
			c.fail("mqtt.tls.key_file", why)
		case t.KeyFile == "":
			c.fail("mqtt.tls.key_file", "is required with cert_file (the certificate's private key)")
		}
		if t.CertFile != "" && t.KeyFile != "" {
			if pair, ok := s.checkClientCert(c, resolve(dir, t.CertFile), resolve(dir, t.KeyFile), now); ok {
				cfg.Certificates = []tls.Certificate{pair}
			}
		}
	}
	if !secure {
		return nil
	}
	return cfg
}

// loadCAFile reads a PEM bundle of CA certificates. Unlike
// CertPool.AppendCertsFromPEM it refuses a block that does not parse, so a
// damaged bundle is not silently half-used.
func loadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: holds a %q PEM block; want only CERTIFICATE blocks", path, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %v", path, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// checkClientCert loads the kiosk's certificate and key and checks that the
// broker will take them for this kiosk.
func (s *Site) checkClientCert(c *checker, certPath, keyPath string, now time.Time) (tls.Certificate, bool) {
	certPEM, certOK := s.checkCertFile(c, certPath, now)
	keyOK := true
	if st, err := os.Stat(keyPath); err != nil {
		c.fail("mqtt.tls.key_file", "%v", err)
		return tls.Certificate{}, false
	} else if perm := st.Mode().Perm(); perm&0o077 != 0 {
		c.fail("mqtt.tls.key_file", "%s is readable by group or others (mode %04o); chmod 600 it and let only kioskd's user read it", keyPath, perm)
		keyOK = false
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		c.fail("mqtt.tls.key_file", "%v", err)
		return tls.Certificate{}, false
	}
	if certPEM == nil {
		return tls.Certificate{}, false
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		c.fail("mqtt.tls.key_file", "%s: %v", keyPath, err)
		return tls.Certificate{}, false
	}
	return pair, certOK && keyOK
}

// checkCertFile reads the kiosk's certificate and checks it is one the
// broker takes for this kiosk. It returns the file's bytes if the
// certificate parses (nil otherwise), and whether it passed every check.
func (s *Site) checkCertFile(c *checker, certPath string, now time.Time) ([]byte, bool) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		c.fail("mqtt.tls.cert_file", "%v", err)
		return nil, false
	}
	var block *pem.Block
	for rest := certPEM; ; {
		block, rest = pem.Decode(rest)
		if block == nil || block.Type == "CERTIFICATE" {
			break
		}
	}
	if block == nil {
		c.fail("mqtt.tls.cert_file", "%s: no PEM certificate in it", certPath)
		return nil, false
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		c.fail("mqtt.tls.cert_file", "%s: %v", certPath, err)
		return nil, false
	}
	ok := true
	if cn := leaf.Subject.CommonName; cn != s.Kiosk.ID {
		c.fail("mqtt.tls.cert_file", "%s is issued to CN %q, not to this kiosk (kiosk.id %q): the broker would take %q as the username and its ACL would deny this kiosk's topics",
			certPath, cn, s.Kiosk.ID, cn)
		ok = false
	}
	// Only expiry: a kiosk's clock may be years behind after a cold boot
	// (docs/bundles.md), and the broker checks not-before with its own.
	if now.After(leaf.NotAfter) {
		c.fail("mqtt.tls.cert_file", "%s expired on %s; the broker refuses it (issue a new one: docs/township-broker.md)",
			certPath, leaf.NotAfter.UTC().Format(time.RFC3339))
		ok = false
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) &&
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		c.fail("mqtt.tls.cert_file", "%s is not a client certificate (its extended key usage lacks clientAuth)", certPath)
		ok = false
	}
	return certPEM, ok
}

// TLSFiles are the site's CA bundle and client certificate, resolved
// against the site file's directory ("" for those it does not name), for
// kioskctl doctor's expiry warnings.
func (c *Config) TLSFiles() (caFile, certFile string) {
	dir := filepath.Dir(c.SitePath)
	return resolve(dir, c.Site.MQTT.TLS.CAFile), resolve(dir, c.Site.MQTT.TLS.CertFile)
}

// Package testpki makes certificate authorities and certificates for tests
// of mutual TLS: a township CA, the broker's server certificate for the
// loopback address, and kiosk client certificates whose CN is the kiosk id.
// Everything is written as PEM into the test's temp dir, keys with mode
// 0600, the way docs/township-broker.md has township IT keep them.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// CA is a test certificate authority.
type CA struct {
	Cert     *x509.Certificate
	CertFile string // PEM of Cert: what a kiosk's mqtt.tls.ca_file or a broker's cafile names

	key crypto.Signer
	dir string

	mu sync.Mutex
	n  int
}

// NewCA makes a CA valid from an hour ago for ten years, in a temp dir of t.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: cert, key: key, dir: t.TempDir()}
	ca.CertFile = filepath.Join(ca.dir, "ca.crt")
	mustWritePEM(t, ca.CertFile, "CERTIFICATE", der, 0o644)
	return ca
}

// Pool is a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Leaf is a certificate issued by a CA, with its key.
type Leaf struct {
	Cert     *x509.Certificate
	CertFile string // PEM certificate, mode 0644
	KeyFile  string // PEM PKCS #8 private key, mode 0600
	Pair     tls.Certificate
}

// Template says what to issue. Zero times mean valid from an hour ago for a year.
type Template struct {
	CN                  string
	NotBefore, NotAfter time.Time
	Hosts               []string // DNS names and IP addresses (subjectAltName)
	Usage               []x509.ExtKeyUsage
}

// Issue makes a certificate and key as the template says.
func (ca *CA) Issue(t testing.TB, tt Template) Leaf {
	t.Helper()
	if tt.NotBefore.IsZero() {
		tt.NotBefore = time.Now().Add(-time.Hour)
	}
	if tt.NotAfter.IsZero() {
		tt.NotAfter = time.Now().AddDate(1, 0, 0)
	}
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: tt.CN},
		NotBefore:             tt.NotBefore,
		NotAfter:              tt.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           tt.Usage,
		BasicConstraintsValid: true,
	}
	for _, h := range tt.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ca.mu.Lock()
	ca.n++
	base := filepath.Join(ca.dir, fmt.Sprintf("%02d-%s", ca.n, fileName(tt.CN)))
	ca.mu.Unlock()
	l := Leaf{Cert: cert, CertFile: base + ".crt", KeyFile: base + ".key"}
	mustWritePEM(t, l.CertFile, "CERTIFICATE", der, 0o644)
	mustWritePEM(t, l.KeyFile, "PRIVATE KEY", keyDER, 0o600)
	l.Pair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	return l
}

// Server is the broker's certificate for 127.0.0.1 and localhost.
func (ca *CA) Server(t testing.TB) Leaf {
	t.Helper()
	return ca.Issue(t, Template{CN: "localhost", Hosts: []string{"127.0.0.1", "localhost"},
		Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}

// Client is a client certificate with subject CN cn: a kiosk's (CN = kiosk
// id) or a township IT user's.
func (ca *CA) Client(t testing.TB, cn string) Leaf {
	t.Helper()
	return ca.Issue(t, Template{CN: cn, Usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// CRL writes a certificate revocation list of this CA that revokes the
// given certificates, valid for ten years, and returns its file.
func (ca *CA) CRL(t testing.TB, revoked ...Leaf) string {
	t.Helper()
	list := &x509.RevocationList{
		Number:     serial(t),
		ThisUpdate: time.Now().Add(-time.Hour),
		NextUpdate: time.Now().AddDate(10, 0, 0),
	}
	for _, l := range revoked {
		list.RevokedCertificateEntries = append(list.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: l.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, list, ca.Cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	ca.mu.Lock()
	ca.n++
	path := filepath.Join(ca.dir, fmt.Sprintf("%02d-ca.crl", ca.n))
	ca.mu.Unlock()
	mustWritePEM(t, path, "X509 CRL", der, 0o644)
	return path
}

// ClientTLS is the TLS configuration of a client that trusts roots (the
// broker's CA) and presents leaf; a zero leaf presents no certificate.
func ClientTLS(roots *CA, leaf Leaf) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots.Pool()}
	if leaf.Cert != nil {
		cfg.Certificates = []tls.Certificate{leaf.Pair}
	}
	return cfg
}

func mustKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fileName(cn string) string {
	if cn == "" {
		return "no-cn"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == ' ' {
			return '_'
		}
		return r
	}, cn)
}

func mustWritePEM(t testing.TB, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; the key's must be exact.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// Command poolserver is the township's update server for the emulated-board
// update test (packaging/test/update-boot-test.sh): it serves a directory's
// files under /pool/ over HTTPS with a certificate of its own CA, as
// nginx does in docs/updates.md, Range and If-Range included (Go's
// http.FileServer answers both; Python's http.server answers neither).
//
// It makes a fresh CA and a server certificate for the --hosts at each
// start, writes the CA's certificate to --ca for the board to trust, and,
// once listening, writes the address it listens on to --addr-file (the
// rig asks for port 0 and reads the port from there). Every request is
// logged on stderr, one line each, with its Range and what was sent.
//
// A test rig, not a product: no client certificates are asked for (mutual
// TLS is agent/cmd/kioskd's TestUpdateEndToEnd's).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("poolserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "`dir` whose files are served under /pool/ (required)")
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	hosts := fs.String("hosts", "127.0.0.1,localhost", "comma-separated IP addresses and names the certificate is for")
	caOut := fs.String("ca", "", "write the CA's certificate (PEM) to this `file` (required)")
	addrFile := fs.String("addr-file", "", "write the address listened on to this `file` once listening")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *dir == "" || *caOut == "" {
		fmt.Fprintln(stderr, "poolserver: --dir and --ca are required")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *dir, *listen, strings.Split(*hosts, ","), *caOut, *addrFile, log); err != nil {
		fmt.Fprintf(stderr, "poolserver: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, dir, listen string, hosts []string, caOut, addrFile string, log *slog.Logger) error {
	caPEM, cert, err := newCerts(hosts)
	if err != nil {
		return err
	}
	if err := writeAtomic(caOut, caPEM); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logged(http.StripPrefix("/pool/", withETag(dir, http.FileServer(http.Dir(dir)))), log),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: time.Minute,
	}
	if addrFile != "" {
		if err := writeAtomic(addrFile, []byte(ln.Addr().String()+"\n")); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("serving", "dir", dir, "addr", ln.Addr().String(), "hosts", strings.Join(hosts, ","))
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// withETag gives each regular file a strong ETag from its size and
// modification time, as nginx does: the kiosk's resume sends it back in
// If-Range, and http.ServeContent honours it.
func withETag(dir string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.ModTime().Unix(), fi.Size()))
		}
		next.ServeHTTP(w, r)
	})
}

// logged logs each request with its Range and the status and bytes sent.
func logged(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		log.Info("request", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
			"range", r.Header.Get("Range"), "if_range", r.Header.Get("If-Range"),
			"status", rec.status, "bytes", rec.bytes, "took", time.Since(start).Round(time.Millisecond))
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// newCerts makes a CA valid for a day and a server certificate it issues
// for hosts; it returns the CA's certificate in PEM and the server's.
func newCerts(hosts []string) ([]byte, tls.Certificate, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Fengqiao update test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "fengqiao update test server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(tmpl.IPAddresses)+len(tmpl.DNSNames) == 0 {
		return nil, tls.Certificate{}, errors.New("no --hosts for the certificate")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), cert, nil
}

// writeAtomic writes a file that a reader polling for it never sees half
// written.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/update/download"
)

// start runs the server on a temp dir holding the given files and returns
// its base URL, a client trusting its CA, and its log.
func start(t *testing.T, files map[string][]byte) (string, *http.Client, *syncBuffer) {
	t.Helper()
	dir, tmp := t.TempDir(), t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ca, addrFile := filepath.Join(tmp, "ca.pem"), filepath.Join(tmp, "addr")
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, dir, "127.0.0.1:0", []string{"127.0.0.1", "10.0.2.2"}, ca, addrFile, slog.New(slog.NewTextHandler(logs, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var addr []byte
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(addrFile); err == nil {
			addr = b
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == nil {
		t.Fatal("no address file")
	}
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the CA file holds no certificate")
	}
	client := download.NewClient(&tls.Config{RootCAs: pool})
	return "https://" + strings.TrimSpace(string(addr)) + "/pool", client, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, c *http.Client, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestServesRangeAndIfRange(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	base, c, logs := start(t, map[string][]byte{"a.deb": data})

	resp, body := get(t, c, base+"/a.deb", nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("GET: %d, %d bytes, ETag %q; want 200, the file, a strong ETag", resp.StatusCode, len(body), etag)
	}
	// The rest of a cut download, as the kiosk asks for it.
	resp, body = get(t, c, base+"/a.deb", map[string]string{"Range": "bytes=4000-", "If-Range": etag})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[4000:]) {
		t.Errorf("Range with a matching If-Range: %d, %d bytes; want 206 and the last 6000", resp.StatusCode, len(body))
	}
	// A file changed since: the whole file again.
	resp, body = get(t, c, base+"/a.deb", map[string]string{"Range": "bytes=4000-", "If-Range": `"other"`})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("Range with a stale If-Range: %d, %d bytes; want 200 and the whole file", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, c, base+"/missing.deb", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, c, strings.TrimSuffix(base, "/pool")+"/a.deb", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("outside /pool/: %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), `range="bytes=4000-" if_range="\"`) {
		t.Errorf("the log does not show the Range asked for:\n%s", logs)
	}
}

// The kiosk's own fetcher, resuming a cut download from this server.
func TestKioskFetcherResumes(t *testing.T) {
	data := bytes.Repeat([]byte("fengqiao"), 50000)
	sum := sha256.Sum256(data)
	base, c, logs := start(t, map[string][]byte{"fengqiao-kioskd_1.0-1_arm64.deb": data})
	p := update.Package{Name: "fengqiao-kioskd", Version: "1.0-1", Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), URL: base + "/fengqiao-kioskd_1.0-1_arm64.deb"}
	resp, _ := get(t, c, p.URL, nil)
	cache := t.TempDir()
	final := download.Path(cache, "arm64", p)
	// What a cut first attempt leaves: part of the file and its ETag.
	if err := os.WriteFile(final+".part", data[:100000], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(final+".part.etag", []byte(resp.Header.Get("ETag")), 0o644); err != nil {
		t.Fatal(err)
	}
	f := download.New(download.Options{Client: c})
	got, err := f.Fetch(context.Background(), cache, "arm64", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
		t.Fatal("the fetched file is not the served one")
	}
	if !strings.Contains(logs.String(), `range="bytes=100000-" if_range="\"`) || !strings.Contains(logs.String(), "status=206 bytes=300000") {
		t.Errorf("the fetcher did not resume with a Range for the last 300000 bytes:\n%s", logs)
	}
}

func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--dir", t.TempDir()}, &out); code != 2 || !strings.Contains(out.String(), "required") {
		t.Errorf("without --ca: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--dir", t.TempDir(), "--ca", filepath.Join(t.TempDir(), "ca.pem"), "--hosts", " "}, &out); code != 1 || !strings.Contains(out.String(), "no --hosts") {
		t.Errorf("without hosts: %d %q", code, out.String())
	}
}

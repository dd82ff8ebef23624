package updater

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
	"github.com/fengqiao/kiosk/agent/update"
	"github.com/fengqiao/kiosk/agent/update/download"
)

// updateServer is the township's update server over mutual TLS, serving
// files by path and cutting connections as told.
type updateServer struct {
	*httptest.Server
	ca *testpki.CA

	mu    sync.Mutex
	files map[string][]byte
	cut   func() int64 // body bytes before the cut; -1: none
	sent  atomic.Int64
}

func mustUpdateServer(t *testing.T) *updateServer {
	t.Helper()
	s := &updateServer{ca: testpki.NewCA(t, "township CA"), files: map[string][]byte{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		data, ok := s.files[r.URL.Path]
		cut := s.cut
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		limit := int64(-1)
		if cut != nil {
			limit = cut()
		}
		w.Header().Set("ETag", `"1"`)
		http.ServeContent(&cutWriter{ResponseWriter: w, limit: limit, sent: &s.sent}, r, "", time.Time{}, bytes.NewReader(data))
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{s.ca.Server(t).Pair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: s.ca.Pool()}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

type cutWriter struct {
	http.ResponseWriter
	limit, n int64
	sent     *atomic.Int64
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		n, _ := w.ResponseWriter.Write(p[:w.limit-w.n])
		w.sent.Add(int64(n))
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	w.sent.Add(int64(n))
	return n, err
}

// publish puts a fake .deb padded to size on the server and returns its
// package entry.
func (s *updateServer) publish(name, version string, size int) update.Package {
	content := append(deb(name, version), bytes.Repeat([]byte{'#'}, size)...)
	p := pkgOf(name, version, content)
	path := "/pool/" + name + "_" + version + "_arm64.deb"
	p.URL = s.URL + path
	s.mu.Lock()
	s.files[path] = content
	s.mu.Unlock()
	return p
}

// realRig is a rig whose fetcher is the real one, as a kiosk with cert
// fetches over mutual TLS.
func realRig(t *testing.T, s *updateServer, cert testpki.Leaf) *rig {
	t.Helper()
	r := newRig(t, map[string]string{"fengqiao-kioskd": "1.3.0-1"})
	r.u.opts.Fetcher = download.New(download.Options{Client: download.NewClient(testpki.ClientTLS(s.ca, cert))})
	return r
}

// TestRealDownloadCutAndResumed: the connection is cut at random offsets;
// the updater resumes at each retry, never downloads a byte twice, and
// installs what the township signed.
func TestRealDownloadCutAndResumed(t *testing.T) {
	s := mustUpdateServer(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	p := s.publish("fengqiao-kioskd", "1.4.0-1", 400<<10)
	cuts := 0
	s.cut = func() int64 {
		if cuts == 6 {
			return -1
		}
		cuts++
		return rnd.Int64N(64 << 10)
	}
	r := realRig(t, s, s.ca.Client(t, "dev-kiosk-01"))
	r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
	var progress []int
	for i := 0; r.reported().Status != StatusWaiting; i++ {
		if i > 20 {
			t.Fatalf("still %+v", r.reported())
		}
		r.mustStep()
		progress = append(progress, r.reported().Progress)
		r.now = r.now.Add(time.Hour) // past any backoff
	}
	t.Logf("progress after each attempt: %v", progress)
	if got := s.sent.Load(); got != p.Size {
		t.Errorf("the server sent %d bytes for a %d-byte package", got, p.Size)
	}
	r.now = inWindow.Add(24 * time.Hour)
	for r.reported().Status == StatusWaiting {
		r.now = r.now.Add(24 * time.Hour)
		r.mustStep()
	}
	r.mustStatus(StatusInstalled, "")
	if r.dpkg.version("fengqiao-kioskd") != "1.4.0-1" {
		t.Fatalf("installed %s", r.dpkg.version("fengqiao-kioskd"))
	}
}

// TestRealDownloadRefusals: what the server sends decides nothing; the
// signed manifest does.
func TestRealDownloadRefusals(t *testing.T) {
	s := mustUpdateServer(t)
	good := s.publish("fengqiao-kioskd", "1.4.0-1", 10<<10)
	tests := []struct {
		name    string
		serve   []byte // replaces the package's bytes on the server
		cert    func() testpki.Leaf
		status  string
		reason  string
		errLike string
	}{
		{name: "hash mismatch", serve: bytes.Repeat([]byte{'x'}, int(good.Size)), status: StatusRejected, reason: "hash_mismatch"},
		{name: "truncated on the server", serve: bytes.Repeat([]byte{'x'}, int(good.Size)-1), status: StatusRejected, reason: "size_mismatch"},
		{name: "longer on the server", serve: bytes.Repeat([]byte{'x'}, int(good.Size)+1), status: StatusRejected, reason: "size_mismatch"},
		{name: "kiosk certificate of another CA", cert: func() testpki.Leaf { return testpki.NewCA(t, "other").Client(t, "dev-kiosk-01") },
			status: StatusDownloading, errLike: "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			if tt.serve != nil {
				p = s.publish("fengqiao-kioskd", "1.4.0-1", 10<<10)
				path := strings.TrimPrefix(p.URL, s.URL)
				s.mu.Lock()
				orig := s.files[path]
				s.files[path] = tt.serve
				s.mu.Unlock()
				t.Cleanup(func() { s.mu.Lock(); s.files[path] = orig; s.mu.Unlock() })
			}
			cert := s.ca.Client(t, "dev-kiosk-01")
			if tt.cert != nil {
				cert = tt.cert()
			}
			r := realRig(t, s, cert)
			r.mustSubmit(mustEnvelope(t, 10, manifestOf("arm64", p), townshipKey))
			r.now = inWindow
			r.mustStep()
			rep := r.mustStatus(tt.status, tt.reason)
			t.Log(rep.Error)
			if !strings.Contains(rep.Error, tt.errLike) {
				t.Errorf("error %q does not mention %q", rep.Error, tt.errLike)
			}
			if r.dpkg.installCount() != 0 || slices.ContainsFunc(r.cacheFiles(), func(f string) bool { return strings.HasSuffix(f, ".deb") }) {
				t.Errorf("installs %v, cache %v", r.dpkg.installs, r.cacheFiles())
			}
		})
	}
}

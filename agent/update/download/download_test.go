package download

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/testpki"
	"github.com/fengqiao/kiosk/agent/update"
)

const arch = "arm64"

// debServer is the township's update server: HTTPS that requires a client
// certificate of the township CA, serving one file with a strong ETag.
type debServer struct {
	*httptest.Server
	ca *testpki.CA

	mu      sync.Mutex
	content []byte
	etag    string
	// cut, if set, says after how many body bytes to cut this response
	// (-1: not at all).
	cut func(start int64) int64
	// handler, if set, replaces the file serving.
	handler http.HandlerFunc

	requests atomic.Int64
	sent     atomic.Int64 // body bytes that reached the client
	ranges   atomic.Int64 // requests that asked for a range
}

func mustServer(t *testing.T, content []byte) *debServer {
	t.Helper()
	ca := testpki.NewCA(t, "township CA")
	return mustServerOf(t, ca, ca, content)
}

// mustServerOf serves with a certificate of serverCA and takes client
// certificates of clientCA.
func mustServerOf(t *testing.T, serverCA, clientCA *testpki.CA, content []byte) *debServer {
	t.Helper()
	s := &debServer{ca: serverCA, content: content, etag: `"v1"`}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.TLS = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{serverCA.Server(t).Pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.Pool(),
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *debServer) set(content []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.content, s.etag = content, etag
}

func (s *debServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
	}
	s.mu.Lock()
	content, etag, cut, handler := s.content, s.etag, s.cut, s.handler
	s.mu.Unlock()
	if handler != nil {
		handler(w, r)
		return
	}
	if r.URL.Path != "/pool/fengqiao-kioskd_1.4.0-1_arm64.deb" {
		http.NotFound(w, r)
		return
	}
	var start int64
	if rng, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok && r.Header.Get("If-Range") == etag {
		start, _ = strconv.ParseInt(strings.TrimSuffix(rng, "-"), 10, 64)
	}
	cw := &countingWriter{ResponseWriter: w, sent: &s.sent, limit: -1}
	if cut != nil {
		cw.limit = cut(start)
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(cw, r, "x.deb", time.Time{}, bytes.NewReader(content))
}

// countingWriter counts body bytes and cuts the connection after limit of
// them, flushed first so the client has exactly those bytes.
type countingWriter struct {
	http.ResponseWriter
	sent  *atomic.Int64
	limit int64
	n     int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		p = p[:w.limit-w.n]
		n, _ := w.ResponseWriter.Write(p)
		w.sent.Add(int64(n))
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection is closed mid-body
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	w.sent.Add(int64(n))
	return n, err
}

func (s *debServer) pkg(content []byte) update.Package {
	sum := sha256.Sum256(content)
	return update.Package{Name: "fengqiao-kioskd", Version: "1.4.0-1", Size: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:]), URL: s.URL + "/pool/fengqiao-kioskd_1.4.0-1_arm64.deb"}
}

// kiosk is a kiosk's client: the township CA's roots and a kiosk
// certificate.
func (s *debServer) kiosk(t *testing.T) *http.Client {
	t.Helper()
	return NewClient(testpki.ClientTLS(s.ca, s.ca.Client(t, "dev-kiosk-01")))
}

func mustRandom(t testing.TB, n int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustFetch(t *testing.T, f *Fetcher, dir string, p update.Package) string {
	t.Helper()
	path, err := f.Fetch(context.Background(), dir, arch, p, nil)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return path
}

func mustSameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the served file (%d bytes)", path, len(got), len(want))
	}
}

// mustOnlyFiles checks dir holds exactly names.
func mustOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

func TestFetch(t *testing.T) {
	content := mustRandom(t, 200<<10, 1)
	s := mustServer(t, content)
	dir := t.TempDir()
	var last atomic.Int64
	f := New(Options{Client: s.kiosk(t)})
	progress := func(done, total int64) {
		if total != int64(len(content)) || done < last.Load() {
			t.Errorf("progress %d/%d after %d", done, total, last.Load())
		}
		last.Store(done)
	}
	path, err := f.Fetch(context.Background(), dir, arch, s.pkg(content), progress)
	if err != nil {
		t.Fatal(err)
	}
	mustSameFile(t, path, content)
	mustOnlyFiles(t, dir, "fengqiao-kioskd_1.4.0-1_arm64.deb")
	if last.Load() != int64(len(content)) {
		t.Errorf("last progress %d", last.Load())
	}
	// Cached: checked again, not fetched again.
	mustFetch(t, f, dir, s.pkg(content))
	if n := s.requests.Load(); n != 1 {
		t.Errorf("%d requests; the cached file should be used", n)
	}
	// A cached file damaged on the card is fetched again.
	if err := os.WriteFile(path, content[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	last.Store(0)
	mustSameFile(t, mustFetch(t, f, dir, s.pkg(content)), content)
}

// TestFetchResumesAfterCuts: the connection is cut at random offsets, and
// each attempt asks only for what is missing: the server sends the file
// exactly once in all.
func TestFetchResumesAfterCuts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	content := mustRandom(t, 300<<10, seed)
	s := mustServer(t, content)
	var cuts int
	s.cut = func(start int64) int64 {
		if cuts == 8 {
			return -1
		}
		cuts++
		return r.Int64N(int64(len(content)) - start) // 0 included: cut before the first byte
	}
	dir := t.TempDir()
	f := New(Options{Client: s.kiosk(t)})
	p := s.pkg(content)
	var errs int
	for {
		path, err := f.Fetch(context.Background(), dir, arch, p, nil)
		if err == nil {
			mustSameFile(t, path, content)
			break
		}
		if errors.Is(err, ErrHashMismatch) || errors.Is(err, ErrSizeMismatch) {
			t.Fatalf("a cut was taken for a bad file: %v", err)
		}
		if errs++; errs > 20 {
			t.Fatalf("no end to the attempts: %v", err)
		}
	}
	if errs != 8 {
		t.Errorf("%d failed attempts for 8 cuts", errs)
	}
	if got := s.sent.Load(); got != int64(len(content)) {
		t.Errorf("the server sent %d bytes for a %d-byte file: not resumed", got, len(content))
	}
	if s.ranges.Load() == 0 {
		t.Error("no Range request")
	}
	mustOnlyFiles(t, dir, "fengqiao-kioskd_1.4.0-1_arm64.deb")
}

// TestFetchResumeAcrossRestart: the partial file is all the state there is;
// a new Fetcher (kioskd and the updater restarted) resumes from it.
func TestFetchResumeAcrossRestart(t *testing.T) {
	content := mustRandom(t, 100<<10, 2)
	s := mustServer(t, content)
	s.cut = func(start int64) int64 {
		if start == 0 {
			return 60 << 10
		}
		return -1
	}
	dir := t.TempDir()
	if _, err := New(Options{Client: s.kiosk(t)}).Fetch(context.Background(), dir, arch, s.pkg(content), nil); err == nil {
		t.Fatal("the cut went unnoticed")
	}
	mustOnlyFiles(t, dir, "fengqiao-kioskd_1.4.0-1_arm64.deb.part", "fengqiao-kioskd_1.4.0-1_arm64.deb.part.etag")
	mustSameFile(t, mustFetch(t, New(Options{Client: s.kiosk(t)}), dir, s.pkg(content)), content)
	if got := s.sent.Load(); got != int64(len(content)) {
		t.Errorf("sent %d bytes in all, want %d", got, len(content))
	}
}

// TestFetchFileChangedOnServer: township IT replaced a wrong file with the
// right one while a kiosk was half-way through the wrong one. If-Range makes
// the server send the new file whole instead of splicing the two.
func TestFetchFileChangedOnServer(t *testing.T) {
	right := mustRandom(t, 100<<10, 3)
	wrong := mustRandom(t, 100<<10, 4)
	s := mustServer(t, wrong)
	s.etag = `"wrong"`
	s.cut = func(start int64) int64 { return 50 << 10 }
	dir := t.TempDir()
	f := New(Options{Client: s.kiosk(t)})
	if _, err := f.Fetch(context.Background(), dir, arch, s.pkg(right), nil); err == nil {
		t.Fatal("cut went unnoticed")
	}
	s.set(right, `"right"`)
	s.cut = nil
	mustSameFile(t, mustFetch(t, f, dir, s.pkg(right)), right)
}

// TestFetchServerIgnoresRange: a server without Range support sends the
// whole file again; the kiosk starts over rather than appending it.
func TestFetchServerIgnoresRange(t *testing.T) {
	content := mustRandom(t, 100<<10, 5)
	s := mustServer(t, content)
	var n atomic.Int64
	s.handler = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		if n.Add(1) == 1 {
			w.Write(content[:30<<10])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		w.Write(content)
	}
	dir := t.TempDir()
	f := New(Options{Client: s.kiosk(t)})
	if _, err := f.Fetch(context.Background(), dir, arch, s.pkg(content), nil); err == nil {
		t.Fatal("cut went unnoticed")
	}
	mustSameFile(t, mustFetch(t, f, dir, s.pkg(content)), content)
}

// TestFetchRefuses: every way the bytes can differ from the manifest ends
// without a file under the final name, and without a partial file that a
// later attempt would build on.
func TestFetchRefuses(t *testing.T) {
	content := mustRandom(t, 64<<10, 6)
	other := mustRandom(t, 64<<10, 7)
	tests := []struct {
		name    string
		serve   []byte           // what the server has (default content)
		handler http.HandlerFunc // or a handler of its own
		want    error
	}{
		{name: "hash mismatch", serve: other, want: ErrHashMismatch},
		{name: "longer", serve: append(append([]byte{}, content...), 'x'), want: ErrSizeMismatch},
		{name: "shorter", serve: content[:len(content)-1], want: ErrSizeMismatch},
		{name: "longer without a length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(content)
			w.(http.Flusher).Flush() // chunked from here on
			w.Write([]byte("more"))
		}, want: ErrSizeMismatch},
		{name: "shorter without a length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			w.Write(content[:100])
		}, want: ErrSizeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := content
			if tt.serve != nil {
				serve = tt.serve
			}
			s := mustServer(t, serve)
			s.handler = tt.handler
			dir := t.TempDir()
			_, err := New(Options{Client: s.kiosk(t)}).Fetch(context.Background(), dir, arch, s.pkg(content), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			t.Log(err)
			mustOnlyFiles(t, dir)
		})
	}
}

// TestFetchMutualTLS: the kiosk verifies the server with the township CA,
// and the server takes only kiosks with a certificate of that CA.
func TestFetchMutualTLS(t *testing.T) {
	content := mustRandom(t, 1<<10, 8)
	township := testpki.NewCA(t, "township CA")
	stranger := testpki.NewCA(t, "someone else's CA")
	good := mustServerOf(t, township, township, content)
	impostor := mustServerOf(t, stranger, township, content)
	tests := []struct {
		name   string
		server *debServer
		client *tls.Config
	}{
		{"no client certificate", good, testpki.ClientTLS(township, testpki.Leaf{})},
		{"client certificate of another CA", good, testpki.ClientTLS(township, stranger.Client(t, "dev-kiosk-01"))},
		{"server certificate of another CA", impostor, testpki.ClientTLS(township, township.Client(t, "dev-kiosk-01"))},
		{"system roots only", good, &tls.Config{Certificates: []tls.Certificate{township.Client(t, "dev-kiosk-01").Pair}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := New(Options{Client: NewClient(tt.client)}).Fetch(context.Background(), dir, arch, tt.server.pkg(content), nil)
			if err == nil {
				t.Fatal("fetched")
			}
			t.Log(err)
			// Nothing arrived, so nothing but an empty partial file.
			if fi, err := os.Stat(filepath.Join(dir, "fengqiao-kioskd_1.4.0-1_arm64.deb")); err == nil {
				t.Fatalf("final file there: %v", fi)
			}
		})
	}
	mustFetch(t, New(Options{Client: NewClient(testpki.ClientTLS(township, township.Client(t, "dev-kiosk-01")))}), t.TempDir(), good.pkg(content))
}

func TestFetchHTTPError(t *testing.T) {
	content := mustRandom(t, 1<<10, 9)
	s := mustServer(t, content)
	p := s.pkg(content)
	p.URL = s.URL + "/pool/missing.deb"
	_, err := New(Options{Client: s.kiosk(t)}).Fetch(context.Background(), t.TempDir(), arch, p, nil)
	if err == nil || !strings.Contains(err.Error(), "404") || errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v", err)
	}
}

// TestFetchStall: a server that stops sending ends the attempt after
// Options.Stall, keeping what arrived.
func TestFetchStall(t *testing.T) {
	content := mustRandom(t, 64<<10, 10)
	s := mustServer(t, content)
	var n atomic.Int64
	s.handler = func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			s.mu.Lock()
			s.handler = nil
			s.mu.Unlock()
			s.serve(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content[:10<<10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	dir := t.TempDir()
	f := New(Options{Client: s.kiosk(t), Stall: 200 * time.Millisecond})
	_, err := f.Fetch(context.Background(), dir, arch, s.pkg(content), nil)
	if err == nil || !strings.Contains(err.Error(), "no data for") {
		t.Fatalf("err = %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "fengqiao-kioskd_1.4.0-1_arm64.deb.part")); err != nil || fi.Size() != 10<<10 {
		t.Fatalf("partial file: %v %v", fi, err)
	}
	mustSameFile(t, mustFetch(t, f, dir, s.pkg(content)), content)
}

// TestFetchRateLimit: the cap holds the average rate; the first chunk goes
// at once (the bucket's burst).
func TestFetchRateLimit(t *testing.T) {
	content := mustRandom(t, 96<<10, 11)
	s := mustServer(t, content)
	f := New(Options{Client: s.kiosk(t), BytesPerSecond: 64 << 10})
	start := time.Now()
	mustFetch(t, f, t.TempDir(), s.pkg(content))
	// (96 KiB - 32 KiB of burst) at 64 KiB/s: at least a second.
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("96 KiB at 64 KiB/s took %v", d)
	}
}

func TestFetchCancel(t *testing.T) {
	content := mustRandom(t, 64<<10, 12)
	s := mustServer(t, content)
	ctx, cancel := context.WithCancel(context.Background())
	f := New(Options{Client: s.kiosk(t), BytesPerSecond: 8 << 10})
	if _, err := f.Fetch(ctx, t.TempDir(), arch, s.pkg(content), func(done, _ int64) {
		if done > 0 {
			cancel()
		}
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestContentRange(t *testing.T) {
	for _, tt := range []struct {
		h            string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes -5-9/10", 0, 0, false},
		{"bytes +5-9/10", 0, 0, false},
		{"bytes 0-/-2", 0, 0, false},
		{"bytes 5-4/10", 0, 0, false},
		{"bytes 5-9/9", 0, 0, false},
		{"", 0, 0, false},
	} {
		start, total, ok := contentRange(tt.h)
		if start != tt.start || total != tt.total || ok != tt.ok {
			t.Errorf("%q: %d %d %v", tt.h, start, total, ok)
		}
	}
}

var _ io.Writer = (*countingWriter)(nil)

// FuzzContentRange: the server's header is outside bytes; whatever it says,
// the parser answers without panicking, and only with a start it read.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 100-199/200", "bytes 0-0/*", "bytes */200", "bytes -1-2/3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		start, total, ok := contentRange(h)
		if ok && (start < 0 || total < -1 || total != -1 && start >= total || !strings.HasPrefix(h, "bytes ")) {
			t.Fatalf("%q: %d %d", h, start, total)
		}
	})
}

// TestRedirectStaysOnServer: a redirect off HTTPS or to another host is
// refused; one on the same server is followed.
func TestRedirectStaysOnServer(t *testing.T) {
	c := NewClient(nil)
	if c.CheckRedirect == nil {
		t.Fatal("NewClient follows any redirect")
	}
	req := func(u string) *http.Request {
		r, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	via := []*http.Request{req("https://updates.dev-township.example/pool/a.deb")}
	for u, ok := range map[string]bool{
		"https://updates.dev-township.example/pool2/a.deb": true,
		"https://UPDATES.dev-township.example/pool2/a.deb": true,
		"http://updates.dev-township.example/pool/a.deb":   false,
		"https://evil.example/a.deb":                       false,
		"https://updates.dev-township.example:8443/a.deb":  false,
		"ftp://updates.dev-township.example/pool/a.deb":    false,
	} {
		if err := c.CheckRedirect(req(u), via); (err == nil) != ok {
			t.Errorf("redirect to %s: %v", u, err)
		}
	}
}

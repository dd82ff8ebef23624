package camera_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// serveJPEG answers with b as content type ct ("" sends none).
func serveJPEG(ct string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ct == "" {
			w.Header()["Content-Type"] = nil // no sniffing
		} else {
			w.Header().Set("Content-Type", ct)
		}
		w.Write(b)
	}
}

// serveStream answers with an endless MJPEG stream of frame, as cameras do,
// declaring boundary param and writing delimiter lines.
func serveStream(param, delimiter string, frame []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+param)
		for r.Context().Err() == nil {
			_, err := fmt.Fprintf(w, "%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n", delimiter, len(frame), frame)
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestHTTPSnapshot(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	uvc := mustReadFile(t, "bars_64x48_uvc_no_dht.mjpeg")
	recorded := mustReadFile(t, "stream_myboundary.mjpeg")
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"JPEG", serveJPEG("image/jpeg", jpg)},
		{"JPEG with parameters", serveJPEG("image/jpeg; charset=binary", jpg)},
		{"JPEG as octet-stream", serveJPEG("application/octet-stream", jpg)},
		{"JPEG without a type", serveJPEG("", jpg)},
		{"JPEG without tables", serveJPEG("image/jpeg", uvc)},
		{"MJPEG stream", serveStream("frame", "--frame", jpg)},
		{"MJPEG stream, boundary with dashes", serveStream("--myboundary", "--myboundary", jpg)},
		{"MJPEG stream without tables", serveStream("b", "--b", uvc)},
		{"recorded MJPEG stream", serveJPEG("multipart/x-mixed-replace;boundary=--myboundary", recorded)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, tt.h)
			at, now := fixedClock()
			c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL + "/snap.jpg", Now: now})
			f, err := c.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 64 || f.Height != 48 || !f.Time.Equal(at) {
				t.Errorf("frame %dx%d at %v, want 64x48 at %v", f.Width, f.Height, f.Time, at)
			}
			checkBars(t, mustDecodeJPEG(t, f.JPEG), 12)
		})
	}
}

// basicAuth is a camera that wants basic credentials.
func basicAuth(user, pass string, requests *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			h(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="IPCamera"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
	}
}

// digestAuth is a camera that wants digest credentials (RFC 7616, qop
// auth), checked with the same library the client uses. It fails the test
// if the password ever comes in the clear.
func digestAuth(t *testing.T, user, pass, algorithm string, requests *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	chal := &digest.Challenge{
		Realm:     "IP Camera(C1234)",
		Nonce:     "4e6a41334e7a63334d5455364d6a4a6a4e5445314e7a5531",
		Opaque:    "799d5",
		Algorithm: algorithm,
		QOP:       []string{"auth"},
	}
	return func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		auth := r.Header.Get("Authorization")
		if strings.Contains(auth, pass) || strings.HasPrefix(auth, "Basic") {
			t.Errorf("password sent in the clear: %q", auth)
		}
		if cred, err := digest.ParseCredentials(auth); err == nil && cred.Username == user && cred.URI == r.URL.RequestURI() {
			want, err := digest.Digest(chal, digest.Options{
				Method: r.Method, URI: cred.URI, Username: user, Password: pass,
				Cnonce: cred.Cnonce, Count: cred.Nc,
			})
			if err == nil && want.Response == cred.Response {
				h(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", chal.String())
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func TestHTTPAuth(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	const user, pass = "admin", "Fq-2026!pw"
	tests := []struct {
		name      string
		digest    string // the camera's digest algorithm; "" for basic
		auth      camera.Auth
		user      string
		pass      string
		stream    bool
		wantErr   string // in the error; "" for success
		firstReqs int32  // requests of the first Snapshot
		nextReqs  int32  // of the second
	}{
		{"basic", "", camera.AuthBasic, user, pass, false, "", 1, 1},
		{"basic, auto", "", camera.AuthAuto, user, pass, false, "", 2, 1},
		{"basic, stream", "", camera.AuthBasic, user, pass, true, "", 1, 1},
		{"basic, wrong password", "", camera.AuthBasic, user, "Bad-Pw-77", false, "wrong username or password", 1, 1},
		{"basic, auto, wrong password", "", camera.AuthAuto, user, "Bad-Pw-77", false, "wrong username or password", 2, 2},
		{"basic, no credentials", "", camera.AuthAuto, "", "", false, "none are configured", 1, 1},
		{"basic camera, digest configured", "", camera.AuthDigest, user, pass, false, "asks for basic", 1, 1},
		{"digest MD5", "MD5", camera.AuthDigest, user, pass, false, "", 2, 1},
		{"digest MD5, auto", "MD5", camera.AuthAuto, user, pass, false, "", 2, 1},
		{"digest SHA-256, stream", "SHA-256", camera.AuthAuto, user, pass, true, "", 2, 1},
		{"digest, wrong password", "MD5", camera.AuthAuto, user, "Bad-Pw-77", false, "wrong username or password", 2, 2},
		{"digest, wrong user", "MD5", camera.AuthDigest, "operator", pass, false, "wrong username or password", 2, 2},
		{"digest, no credentials", "MD5", camera.AuthAuto, "", "", false, "none are configured", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reqs atomic.Int32
			h := serveJPEG("image/jpeg", jpg)
			if tt.stream {
				h = serveStream("frame", "--frame", jpg)
			}
			if tt.digest == "" {
				h = basicAuth(user, pass, &reqs, h)
			} else {
				h = digestAuth(t, user, pass, tt.digest, &reqs, h)
			}
			srv := mustServer(t, h)
			c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL + "/ISAPI/Streaming/channels/101/picture", Username: tt.user, Password: tt.pass, Auth: tt.auth})
			for i, want := range []int32{tt.firstReqs, tt.nextReqs} {
				reqs.Store(0)
				f, err := c.Snapshot(context.Background())
				switch {
				case tt.wantErr == "" && err != nil:
					t.Fatalf("Snapshot %d: %v", i, err)
				case tt.wantErr == "" && f.Width != 64:
					t.Fatalf("Snapshot %d: frame %dx%d", i, f.Width, f.Height)
				case tt.wantErr != "":
					if !errors.Is(err, camera.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "401") {
						t.Fatalf("Snapshot %d: err = %v, want ErrUnauthorized (HTTP 401) saying %q", i, err, tt.wantErr)
					}
					if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
						t.Fatalf("error shows the password: %v", err)
					}
				}
				if got := reqs.Load(); got != want {
					t.Errorf("Snapshot %d: %d requests, want %d", i, got, want)
				}
			}
		})
	}
}

// TestHTTPCredentialsInURL: user information in the URL authenticates and
// is taken out of the URL.
func TestHTTPCredentialsInURL(t *testing.T) {
	var reqs atomic.Int32
	srv := mustServer(t, digestAuth(t, "admin", "p@ss:word", "MD5", &reqs, serveJPEG("image/jpeg", mustReadFile(t, "bars_64x48.jpg"))))
	u := strings.Replace(srv.URL, "http://", "http://admin:p%40ss%3Aword@", 1) + "/snap.jpg"
	c := mustHTTP(t, srv, camera.HTTPConfig{URL: u})
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, "p@ss") || strings.Contains(s, "word") {
		t.Errorf("String shows the password: %s", s)
	}
}

func TestHTTPTimeouts(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	silent := func(w http.ResponseWriter, r *http.Request) { block(r) }
	halfBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", fmt.Sprint(len(jpg)))
		w.Write(jpg[:len(jpg)/2])
		w.(http.Flusher).Flush()
		block(r)
	}
	halfPart := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=b")
		fmt.Fprintf(w, "--b\r\nContent-Type: image/jpeg\r\n\r\n%s", jpg[:len(jpg)/2])
		w.(http.Flusher).Flush()
		block(r)
	}
	headersOnly := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=b")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		block(r)
	}
	drip := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte{0xFF, 0xD8})
		for r.Context().Err() == nil {
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond)
		}
	}
	tests := []struct {
		name          string
		h             http.HandlerFunc
		timeout       time.Duration // HTTPConfig.Timeout
		ctxTimeout    time.Duration // the caller's
		clientTimeout time.Duration // http.Client.Timeout
	}{
		{"silent camera", silent, 100 * time.Millisecond, 0, 0},
		{"hangs mid-body", halfBody, 100 * time.Millisecond, 0, 0},
		{"hangs mid-frame of a stream", halfPart, 100 * time.Millisecond, 0, 0},
		{"stream without parts", headersOnly, 100 * time.Millisecond, 0, 0},
		{"drips bytes", drip, 200 * time.Millisecond, 0, 0},
		{"caller's deadline", halfBody, time.Hour, 100 * time.Millisecond, 0},
		{"client timeout", halfPart, time.Hour, 0, 100 * time.Millisecond},
		{"client timeout before headers", silent, time.Hour, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, tt.h)
			client := srv.Client()
			client.Timeout = tt.clientTimeout
			c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL + "/snap?pwd=Secret1", Client: client, Timeout: tt.timeout})
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			start := time.Now()
			_, err := c.Snapshot(ctx)
			if !errors.Is(err, camera.ErrTimeout) {
				t.Errorf("err = %v, want ErrTimeout", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if err != nil && strings.Contains(err.Error(), "Secret1") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	t.Run("caller cancels", func(t *testing.T) {
		srv := mustServer(t, halfBody)
		c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Snapshot(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, camera.ErrTimeout) {
			t.Errorf("err = %v, want context.Canceled alone", err)
		}
	})
}

// TestHTTPTooLarge: a camera that sends too much, or never stops, is cut
// off at the cap instead of filling the kiosk's memory.
func TestHTTPTooLarge(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	endless := func(ct string, head []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Write(head)
			chunk := bytes.Repeat([]byte{0x55}, 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	const limit = 64 << 10
	tests := []struct {
		name  string
		h     http.HandlerFunc
		limit int // MaxFrameBytes; 0 uses the default
	}{
		{"declared length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Content-Length", fmt.Sprint(limit+1))
			w.Write(bytes.Repeat([]byte{0xFF}, limit+1))
		}, limit},
		{"endless body", endless("image/jpeg", []byte{0xFF, 0xD8}), limit},
		{"endless body, default cap", endless("image/jpeg", []byte{0xFF, 0xD8}), 0},
		{"endless stream part", endless("multipart/x-mixed-replace; boundary=b", []byte("--b\r\nContent-Type: image/jpeg\r\n\r\n\xFF\xD8")), limit},
		{"stream part's declared length", serveJPEG("multipart/x-mixed-replace; boundary=b",
			fmt.Appendf(nil, "--b\r\nContent-Length: %d\r\n\r\n%s", limit+1, jpg)), limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, tt.h)
			c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL, MaxFrameBytes: tt.limit})
			if _, err := c.Snapshot(context.Background()); !errors.Is(err, camera.ErrFrameTooLarge) {
				t.Errorf("err = %v, want ErrFrameTooLarge", err)
			}
		})
	}
}

func TestHTTPNotJPEG(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00")
	tests := []struct {
		name string
		h    http.HandlerFunc
		want error
	}{
		{"login page", serveJPEG("text/html; charset=utf-8", []byte("<html><body>请登录</body></html>")), camera.ErrNotJPEG},
		{"PNG", serveJPEG("image/png", png), camera.ErrNotJPEG},
		{"HTML labelled JPEG", serveJPEG("image/jpeg", []byte("<html>error</html>")), camera.ErrNotJPEG},
		{"PNG labelled JPEG", serveJPEG("image/jpeg", png), camera.ErrNotJPEG},
		{"JSON error without a type", serveJPEG("", []byte(`{"error":"busy"}`)), camera.ErrNotJPEG},
		{"cut JPEG", serveJPEG("image/jpeg", jpg[:len(jpg)/2]), camera.ErrNotJPEG},
		{"empty", serveJPEG("image/jpeg", nil), camera.ErrNotJPEG},
		{"stream of text parts", serveJPEG("multipart/x-mixed-replace; boundary=b", []byte("--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n")), camera.ErrNotJPEG},
		{"stream of PNG", serveJPEG("multipart/x-mixed-replace; boundary=b", append(append([]byte("--b\r\n\r\n"), png...), "\r\n--b\r\n"...)), camera.ErrNotJPEG},
		{"malformed stream", serveJPEG("multipart/x-mixed-replace; boundary=b", []byte("garbage")), camera.ErrBadStream},
		{"not found", http.NotFound, camera.ErrHTTPStatus},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}, camera.ErrHTTPStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, tt.h)
			c := mustHTTP(t, srv, camera.HTTPConfig{URL: srv.URL})
			if _, err := c.Snapshot(context.Background()); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestHTTPRedactsSecrets: whatever goes wrong, no password (from the user
// information or from the query) reaches an error, a String or a Status.
func TestHTTPRedactsSecrets(t *testing.T) {
	const userPass, queryPass = "Pw-in-userinfo", "Pw-in-query"
	jpg := mustReadFile(t, "bars_64x48.jpg")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		h    http.HandlerFunc // nil: nothing listens
	}{
		{"wrong credentials", basicAuth("admin", "other", new(atomic.Int32), nil)},
		{"server error", http.NotFound},
		{"not JPEG", serveJPEG("text/html", []byte("<html>"))},
		{"timeout", func(w http.ResponseWriter, r *http.Request) { block(r) }},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.String(), http.StatusFound) }},
		{"too large", serveJPEG("image/jpeg", append([]byte{0xFF, 0xD8}, make([]byte, 2000)...))},
		{"cut frame", serveJPEG("image/jpeg", jpg[:100])},
		{"connection refused", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := closed.URL
			var srv *httptest.Server
			if tt.h != nil {
				srv = mustServer(t, tt.h)
				base = srv.URL
			} else {
				srv = closed
			}
			u := strings.Replace(base, "http://", "http://admin:"+userPass+"@", 1) + "/cgi-bin/snapshot.cgi?loginuse=admin&loginpas=" + queryPass + "&chn=1"
			cfg := camera.HTTPConfig{URL: u, Timeout: 200 * time.Millisecond, MaxFrameBytes: 1000, Client: srv.Client()}
			c := mustHTTP(t, srv, cfg)
			m := camera.NewMonitor("gate", c, nil)
			_, err := m.Snapshot(context.Background())
			if err == nil {
				t.Fatal("Snapshot succeeded")
			}
			shown := []string{
				err.Error(), fmt.Sprintf("%v", err), c.String(), fmt.Sprintf("%v %+v %#v", c, c, c),
				fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%+v", m.Status()),
			}
			for _, s := range shown {
				if strings.Contains(s, userPass) || strings.Contains(s, queryPass) {
					t.Errorf("password shown: %s", s)
				}
			}
			if !strings.Contains(err.Error(), "loginpas=xxxxx") || !strings.Contains(err.Error(), "/cgi-bin/snapshot.cgi") {
				t.Errorf("error does not name the redacted URL: %v", err)
			}
			t.Log(err)
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://admin:12345@192.0.2.7/ISAPI/Streaming/channels/101/picture", "http://admin@192.0.2.7/ISAPI/Streaming/channels/101/picture"},
		{"http://192.0.2.7/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=12345", "http://192.0.2.7/cgi-bin/CGIProxy.fcgi?cmd=xxxxx&pwd=xxxxx&usr=xxxxx"},
		{"http://192.0.2.7/snap.jpg#token", "http://192.0.2.7/snap.jpg"},
		{"http://admin:pw@[::1]:badport/", "(unparsable URL)"},
	} {
		if got := camera.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewHTTP(t *testing.T) {
	client := http.DefaultClient
	tests := []struct {
		name string
		cfg  camera.HTTPConfig
	}{
		{"unparsable URL", camera.HTTPConfig{URL: "http://admin:Secret9@[::1]:badport/", Client: client}},
		{"rtsp", camera.HTTPConfig{URL: "rtsp://admin:Secret9@192.0.2.7/stream1", Client: client}},
		{"no host", camera.HTTPConfig{URL: "http:///snap.jpg", Client: client}},
		{"no client", camera.HTTPConfig{URL: "http://admin:Secret9@192.0.2.7/snap.jpg"}},
		{"bad auth", camera.HTTPConfig{URL: "http://192.0.2.7/snap.jpg", Client: client, Auth: 7}},
		{"negative timeout", camera.HTTPConfig{URL: "http://192.0.2.7/snap.jpg", Client: client, Timeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := camera.NewHTTP(tt.cfg)
			if !errors.Is(err, camera.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
			if err != nil && strings.Contains(err.Error(), "Secret9") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	c, err := camera.NewHTTP(camera.HTTPConfig{URL: "http://admin:Secret9@192.0.2.7/snap.jpg?pwd=Secret9", Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "http://192.0.2.7/snap.jpg?pwd=xxxxx" {
		t.Errorf("default name %q", c.Name())
	}
}

package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/icholy/digest"
)

// Auth is how an HTTP camera is authenticated when credentials are set.
type Auth int

// Auth modes.
const (
	// AuthAuto answers whatever the camera asks for: digest (most
	// Hikvision, Dahua and Uniview cameras) or basic (many cheaper ones).
	// With a basic-only camera the first Snapshot costs one extra
	// round trip; later ones send basic at once.
	AuthAuto Auth = iota
	// AuthBasic sends basic credentials with every request.
	AuthBasic
	// AuthDigest answers digest challenges only, never sending the
	// password itself.
	AuthDigest
)

func (a Auth) String() string {
	switch a {
	case AuthAuto:
		return "auto"
	case AuthBasic:
		return "basic"
	case AuthDigest:
		return "digest"
	}
	return fmt.Sprintf("Auth(%d)", int(a))
}

// DefaultHTTPTimeout bounds one HTTP Snapshot when HTTPConfig gives no
// Timeout and ctx no earlier deadline: a village link is slow, but a camera
// that has not delivered a frame in this time is not going to.
const DefaultHTTPTimeout = 10 * time.Second

// HTTPConfig configures an HTTP (IP) camera.
type HTTPConfig struct {
	// Name names the camera in errors and Status; empty uses the URL
	// with its secrets redacted.
	Name string
	// URL is a JPEG snapshot URL (…/ISAPI/Streaming/channels/101/picture,
	// …/cgi-bin/snapshot.cgi) or an MJPEG stream URL, whose first frame is
	// taken. User information in it is taken as Username and Password
	// (unless those are set) and removed from the URL.
	URL string
	// Username and Password authenticate as Auth says; no Username means
	// no authentication.
	Username, Password string
	Auth               Auth
	// Client sends the requests. It is required, so that the caller
	// chooses the transport (proxies, TLS for cameras with their own
	// certificates) and tests pass an httptest client.
	Client *http.Client
	// Timeout bounds one Snapshot when ctx has no earlier deadline. Zero
	// uses DefaultHTTPTimeout.
	Timeout time.Duration
	// MaxFrameBytes caps the image (or the stream read before its first
	// frame ends). Zero uses MaxFrameBytes.
	MaxFrameBytes int
	// Now stamps frames; nil uses time.Now.
	Now func() time.Time
}

// String shows the configuration without its password or query values.
func (c HTTPConfig) String() string {
	return fmt.Sprintf("camera.HTTPConfig{Name:%q URL:%q Username:%q Auth:%v}", c.Name, redactRawURL(c.URL), c.Username, c.Auth)
}

// GoString is String, so that %#v does not print the password either.
func (c HTTPConfig) GoString() string { return c.String() }

// HTTP is an IP camera read over HTTP.
type HTTP struct {
	name    string
	url     string // without user information
	where   string // url redacted, for errors
	user    string
	pass    string
	auth    Auth
	plain   *http.Client
	digest  *http.Client // plain's settings over a digest.Transport, which caches challenges
	timeout time.Duration
	max     int
	now     func() time.Time
	// basicLearned records that an AuthAuto camera asked for basic.
	basicLearned atomic.Bool
}

var _ Camera = (*HTTP)(nil)

// NewHTTP checks cfg and returns the camera. It sends nothing.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	fail := func(format string, a ...any) error {
		name := cfg.Name
		if name == "" {
			name = redactRawURL(cfg.URL)
		}
		return fmt.Errorf("camera: %s: %w: %s", name, ErrConfig, fmt.Sprintf(format, a...))
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fail("unparsable URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fail("URL scheme %q, want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fail("URL has no host")
	}
	if u.User != nil {
		if cfg.Username == "" {
			cfg.Username = u.User.Username()
			cfg.Password, _ = u.User.Password()
		}
		u.User = nil
	}
	if cfg.Client == nil {
		return nil, fail("no HTTP client")
	}
	if cfg.Auth < AuthAuto || cfg.Auth > AuthDigest {
		return nil, fail("auth mode %v", cfg.Auth)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultHTTPTimeout
	}
	if cfg.MaxFrameBytes == 0 {
		cfg.MaxFrameBytes = MaxFrameBytes
	}
	if cfg.Timeout < 0 || cfg.MaxFrameBytes < 0 {
		return nil, fail("negative timeout or frame cap")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &HTTP{
		name:    cfg.Name,
		url:     u.String(),
		where:   redactURL(u),
		user:    cfg.Username,
		pass:    cfg.Password,
		auth:    cfg.Auth,
		plain:   cfg.Client,
		timeout: cfg.Timeout,
		max:     cfg.MaxFrameBytes,
		now:     cfg.Now,
	}
	if c.name == "" {
		c.name = c.where
	}
	if c.user != "" && c.auth != AuthBasic {
		// One Transport per camera, so the challenge is answered
		// without a 401 from the second Snapshot on. It drains a
		// 401's body before retrying; the Snapshot's deadline bounds
		// that for a camera that sends an endless one.
		dc := *cfg.Client
		dc.Transport = &digest.Transport{Username: c.user, Password: c.pass, Transport: cfg.Client.Transport}
		c.digest = &dc
	}
	return c, nil
}

// Name is the camera's name in errors and Status.
func (c *HTTP) Name() string { return c.name }

// String names the camera and its URL, without secrets.
func (c *HTTP) String() string { return fmt.Sprintf("camera %s (HTTP %s)", c.name, c.where) }

// GoString is String, so that %#v does not print the password.
func (c *HTTP) GoString() string { return c.String() }

// Snapshot fetches one frame: the image at a snapshot URL, or the first
// frame of an MJPEG stream. It reads at most MaxFrameBytes and gives up at
// the deadline, whether the camera is silent, slow, or hangs mid-frame.
func (c *HTTP) Snapshot(ctx context.Context) (Frame, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.get(ctx)
	if err != nil {
		return Frame{}, c.fail(ctx, err)
	}
	defer resp.Body.Close()
	at := c.now()
	b, err := c.readImage(resp)
	if err != nil {
		return Frame{}, c.fail(ctx, err)
	}
	jpg, ic, err := normalizeJPEG(b)
	if err != nil {
		return Frame{}, c.fail(ctx, err)
	}
	return Frame{JPEG: jpg, Width: ic.Width, Height: ic.Height, Time: at}, nil
}

// get sends the request with the configured authentication and returns a
// 2xx response.
func (c *HTTP) get(ctx context.Context) (*http.Response, error) {
	basic := c.user != "" && (c.auth == AuthBasic || c.basicLearned.Load())
	resp, err := c.do(ctx, basic)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && c.auth == AuthAuto && c.user != "" && !basic && asksBasic(resp.Header) {
		resp.Body.Close()
		if resp, err = c.do(ctx, true); err != nil {
			return nil, err
		}
		if resp.StatusCode/100 == 2 {
			c.basicLearned.Store(true)
		}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	// Only the status matters; the body of an error page is not read, so
	// a camera cannot make it large.
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		why := "wrong username or password"
		switch {
		case c.user == "":
			why = "the camera wants credentials and none are configured"
		case c.auth == AuthDigest && asksBasic(resp.Header) && !asksDigest(resp.Header):
			why = "the camera asks for basic authentication and Auth is digest"
		}
		return nil, fmt.Errorf("%w (HTTP %s): %s", ErrUnauthorized, resp.Status, why)
	}
	return nil, fmt.Errorf("%w: %s", ErrHTTPStatus, resp.Status)
}

func (c *HTTP) do(ctx context.Context, basic bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/jpeg, multipart/x-mixed-replace")
	client := c.plain
	switch {
	case c.user == "":
	case basic:
		req.SetBasicAuth(c.user, c.pass)
	default:
		client = c.digest
	}
	resp, err := client.Do(req)
	if err != nil {
		// A *url.Error prints the whole URL, query and all: keep only
		// its cause (c.fail names the redacted URL).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}

// asksBasic tells whether a 401's challenges include basic.
func asksBasic(h http.Header) bool { return asks(h, "basic") }

// asksDigest tells whether a 401's challenges include digest.
func asksDigest(h http.Header) bool { return asks(h, "digest") }

func asks(h http.Header, scheme string) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		v = strings.TrimSpace(v)
		if len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			return true
		}
	}
	return false
}

// readImage reads the JPEG bytes of a 2xx response: the body of a single
// image, or the first part of a multipart stream.
func (c *HTTP) readImage(resp *http.Response) ([]byte, error) {
	ct := resp.Header.Get("Content-Type")
	if mt, boundary := parseContentType(ct); strings.HasPrefix(mt, "multipart/") {
		p, err := readFirstPart(resp.Body, boundary, c.max)
		if err != nil {
			return nil, err
		}
		if !jpegContentType(p.contentType) {
			return nil, fmt.Errorf("%w: stream part of type %q", ErrNotJPEG, p.contentType)
		}
		return p.body, nil
	}
	if !jpegContentType(ct) {
		return nil, fmt.Errorf("%w: content type %q", ErrNotJPEG, ct)
	}
	if resp.ContentLength > int64(c.max) {
		return nil, fmt.Errorf("%w: %d bytes, cap %d", ErrFrameTooLarge, resp.ContentLength, c.max)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, int64(c.max)+1))
	if err != nil {
		return nil, err
	}
	if n > int64(c.max) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, c.max)
	}
	return buf.Bytes(), nil
}

// parseContentType gives a Content-Type's media type, lower case, and its
// boundary parameter. It falls back to a plain split where mime rejects what
// cameras send (boundary=--video boundary--, with a space).
func parseContentType(ct string) (mediaType, boundary string) {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil {
		return mt, params["boundary"]
	}
	mt, rest, _ := strings.Cut(ct, ";")
	for p := range strings.SplitSeq(rest, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "boundary") {
			boundary = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return strings.ToLower(strings.TrimSpace(mt)), boundary
}

// jpegContentType tells whether a declared content type may carry a JPEG.
// Cheap cameras label snapshots application/octet-stream or nothing at all,
// so those pass here and the SOI check decides.
func jpegContentType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _ := parseContentType(ct)
	switch mt {
	case "image/jpeg", "image/jpg", "image/pjpeg", "image/x-jpeg", "application/octet-stream", "binary/octet-stream":
		return true
	}
	return false
}

// fail names the camera and its redacted URL, and reports a deadline
// (ctx's, or one of the client's own timeouts) as ErrTimeout.
func (c *HTTP) fail(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, ErrTimeout):
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.As(err, &ne) && ne.Timeout():
		err = fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		// Reads cut by the deadline surface as various errors
		// (a closed connection, an unexpected EOF).
		err = fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("camera: %s: %s: %w", c.name, c.where, err)
}

// redactURL shows u without its password and with every query value
// replaced: cameras take credentials as user=…&pwd=…, loginuse=…&loginpas=…
// and other names no list could keep up with, and the host and path are
// what a technician needs.
func redactURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User(r.User.Username())
	}
	if r.RawQuery != "" {
		q := r.Query()
		for k := range q {
			for i := range q[k] {
				q[k][i] = "xxxxx"
			}
		}
		r.RawQuery = q.Encode()
	}
	r.Fragment, r.RawFragment = "", ""
	return r.String()
}

// redactRawURL is redactURL for a URL that may not parse, which is then not
// shown at all.
func redactRawURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return redactURL(u)
}

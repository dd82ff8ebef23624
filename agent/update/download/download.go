// Package download owns fetching an update's .deb files from the
// township's update server onto the kiosk: over HTTPS with mutual TLS (the
// township CA and the kiosk's own certificate, as for the broker), resumed
// with an HTTP Range request after a cut, paced by a bandwidth cap, and
// checked against the size and SHA-256 the signed manifest gives before the
// file is let into the cache under its final name. Nothing that fails the
// check ever gets that name, so whoever installs from the cache installs
// only what the township signed.
//
// A village uplink is slow and drops; a download may take hours and many
// connections. The partial file (name.part) and the validator the server
// gave for it (name.part.etag) stay on disk between attempts and across
// restarts; each attempt asks for the rest with If-Range, so a file changed
// on the server starts again from zero instead of being spliced.
package download

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/fengqiao/kiosk/agent/update"
)

// Why a fetch failed. Other errors (the network, the server's status, the
// disk) are transient: the partial file is kept, and the next Fetch resumes.
var (
	// ErrSizeMismatch means the server sent more bytes than the manifest's
	// size, or the whole file (by its own account) is shorter. The partial
	// file is deleted.
	ErrSizeMismatch = errors.New("download: size does not match the manifest")
	// ErrHashMismatch means the complete file's SHA-256 is not the
	// manifest's: a corrupt or substituted file. It is deleted; the next
	// Fetch starts from zero.
	ErrHashMismatch = errors.New("download: SHA-256 does not match the manifest")
)

// errStalled ends an attempt on which no byte arrived for Options.Stall.
var errStalled = errors.New("download: stalled")

// Suffixes of the files kept beside a download in progress.
const (
	partSuffix = ".part"
	etagSuffix = ".part.etag"
)

// chunk is the most read (and paced) at a time. It is also the limiter's
// burst, so a cap below it still lets a read through.
const chunk = 32 << 10

// Options configure a Fetcher.
type Options struct {
	// Client talks to the update server; NewClient makes one for mutual
	// TLS. Its Timeout must be zero (a download takes as long as it takes;
	// Stall bounds a dead connection instead).
	Client *http.Client
	// BytesPerSecond caps the download rate, so an update does not take
	// the uplink from the records (the outbox shares it). Zero: no cap.
	BytesPerSecond int
	// Stall ends an attempt when no byte has arrived for this long; zero
	// means a minute.
	Stall time.Duration
	Log   *slog.Logger
}

// Fetcher downloads packages into a cache directory.
type Fetcher struct {
	opts    Options
	limiter *rate.Limiter
}

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	if opts.Stall <= 0 {
		opts.Stall = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	f := &Fetcher{opts: opts, limiter: rate.NewLimiter(rate.Inf, chunk)}
	if opts.BytesPerSecond > 0 {
		// golang.org/x/time/rate rather than a sleep per read: a token
		// bucket holds the average over reads of any size and over the
		// gaps between connections.
		f.limiter = rate.NewLimiter(rate.Limit(opts.BytesPerSecond), chunk)
	}
	return f
}

// NewClient is an HTTP client for the township's update server: TLS 1.2 or
// later, the roots and the client certificate of tlsConfig (the site's
// mqtt.tls, config.Config.TLSConfig), so the kiosk verifies the server with
// the township CA and proves who it is with its own certificate. A nil
// tlsConfig (a dev site on a plain broker) uses the system roots and no
// client certificate.
func NewClient(tlsConfig *tls.Config) *http.Client {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // a kiosk talks to its township directly
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2,
		IdleConnTimeout:       time.Minute,
	}
	return &http.Client{Transport: tr, CheckRedirect: sameHostHTTPS}
}

// sameHostHTTPS refuses a redirect off HTTPS or to another host than the
// manifest's URL names: the package is verified by its hash anyway, but the
// kiosk's client certificate and its bytes go to the township's server
// only, never where a redirect on a compromised path points them.
func sameHostHTTPS(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("download: more than 5 redirects")
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("download: redirect to %s refused: not https", req.URL.Redacted())
	}
	if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
		return fmt.Errorf("download: redirect to %s refused: not %s", req.URL.Redacted(), via[0].URL.Host)
	}
	return nil
}

// Path is where Fetch puts a verified package in dir.
func Path(dir, arch string, p update.Package) string {
	return filepath.Join(dir, p.FileName(arch))
}

// Fetch makes sure dir holds p, verified, and returns its path, calling
// progress (if not nil) with the bytes on disk and the total as they
// arrive. A file
// already there under the final name is checked again rather than trusted
// (the SD card may have damaged it); a partial file is resumed. Fetch makes
// one attempt: on a transient error it returns it and keeps what arrived,
// for the caller to call again later.
func (f *Fetcher) Fetch(ctx context.Context, dir, arch string, p update.Package, progress func(done, total int64)) (string, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	final := Path(dir, arch, p)
	if err := VerifyFile(final, p); err == nil {
		progress(p.Size, p.Size)
		return final, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		f.opts.Log.Warn("cached package fails its check; fetching it again", "file", final, "err", err)
		os.Remove(final)
	}
	part := final + partSuffix
	if err := f.attempt(ctx, p, part, progress); err != nil {
		if errors.Is(err, ErrSizeMismatch) || errors.Is(err, ErrHashMismatch) {
			f.discard(part)
		}
		return "", err
	}
	if err := VerifyFile(part, p); err != nil {
		f.discard(part)
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	os.Remove(part[:len(part)-len(partSuffix)] + etagSuffix)
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return final, nil
}

func (f *Fetcher) discard(part string) {
	os.Remove(part)
	os.Remove(strings.TrimSuffix(part, partSuffix) + etagSuffix)
}

// attempt makes one request for what part lacks and appends the answer.
func (f *Fetcher) attempt(ctx context.Context, p update.Package, part string, progress func(done, total int64)) error {
	etagFile := strings.TrimSuffix(part, partSuffix) + etagSuffix
	file, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer file.Close()
	have, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if have > p.Size {
		return fmt.Errorf("%w: %d bytes on disk, the manifest says %d", ErrSizeMismatch, have, p.Size)
	}
	if have == p.Size {
		return nil // complete; the caller checks the hash
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	// No transparent gzip: the bytes hashed must be the file's.
	req.Header.Set("Accept-Encoding", "identity")
	etag, _ := os.ReadFile(etagFile)
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		// Only a strong validator may guard a byte range (RFC 9110
		// §13.1.5). Without one, resume anyway: the hash decides.
		if e := string(etag); strings.HasPrefix(e, `"`) {
			req.Header.Set("If-Range", e)
		}
	}
	resp, err := f.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("download: %s: %w", p.URL, err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return fmt.Errorf("download: %s: Content-Range %q does not continue at byte %d", p.URL, resp.Header.Get("Content-Range"), have)
		}
		if total >= 0 && total != p.Size {
			return fmt.Errorf("%w: the server's file is %d bytes, the manifest says %d", ErrSizeMismatch, total, p.Size)
		}
	case http.StatusOK:
		// The whole file: the first request, a server that ignores Range,
		// or a file changed since (If-Range failed). Start again.
		if have > 0 {
			f.opts.Log.Info("server sent the whole file; starting again", "url", p.URL, "had", have)
		}
		if err := file.Truncate(0); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		have = 0
		if resp.ContentLength >= 0 && resp.ContentLength != p.Size {
			return fmt.Errorf("%w: the server's file is %d bytes, the manifest says %d", ErrSizeMismatch, resp.ContentLength, p.Size)
		}
		if e := resp.Header.Get("ETag"); strings.HasPrefix(e, `"`) {
			if err := os.WriteFile(etagFile, []byte(e), 0o644); err != nil {
				return fmt.Errorf("download: %w", err)
			}
		} else {
			os.Remove(etagFile)
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The server's file is shorter than what we have: not the file
		// the manifest describes.
		return fmt.Errorf("%w: the server has no byte %d (%s)", ErrSizeMismatch, have, resp.Header.Get("Content-Range"))
	default:
		return fmt.Errorf("download: %s: %s", p.URL, resp.Status)
	}

	// Read at most one byte more than the manifest allows, to notice a
	// server that sends too much without writing it all to the card.
	body := io.LimitReader(resp.Body, p.Size-have+1)
	stall := time.AfterFunc(f.opts.Stall, func() { cancel(errStalled) })
	defer stall.Stop()
	buf := make([]byte, chunk)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			stall.Reset(f.opts.Stall)
			if have+int64(n) > p.Size {
				return fmt.Errorf("%w: the server sends more than %d bytes", ErrSizeMismatch, p.Size)
			}
			if _, err := file.Write(buf[:n]); err != nil {
				return fmt.Errorf("download: %w", err)
			}
			have += int64(n)
			progress(have, p.Size)
			if err := f.limiter.WaitN(ctx, n); err != nil {
				return fmt.Errorf("download: %s: %w", p.URL, context.Cause(ctx))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// A cut: keep what arrived (fsync, so a power cut keeps it
			// too) for the next attempt.
			file.Sync()
			if errors.Is(context.Cause(ctx), errStalled) {
				return fmt.Errorf("download: %s: no data for %s at byte %d", p.URL, f.opts.Stall, have)
			}
			return fmt.Errorf("download: %s at byte %d: %w", p.URL, have, rerr)
		}
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if have != p.Size {
		// The server ended the body cleanly but short (a file it thinks
		// complete): a cut would have been an error above.
		return fmt.Errorf("%w: the server sent %d bytes, the manifest says %d", ErrSizeMismatch, have, p.Size)
	}
	return nil
}

// contentRange reads "bytes START-END/TOTAL" (RFC 9110 §14.4; TOTAL may be
// "*": -1). It refuses what is not a well-formed range: a server's header
// is outside bytes, and a wrong start would splice the file.
func contentRange(h string) (start, total int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, false
	}
	from, to, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.ParseUint(from, 10, 63)
	last, err2 := strconv.ParseUint(to, 10, 63)
	if err1 != nil || err2 != nil || last < first {
		return 0, 0, false
	}
	if tot == "*" {
		return int64(first), -1, true
	}
	n, err := strconv.ParseUint(tot, 10, 63)
	if err != nil || n <= last {
		return 0, 0, false
	}
	return int64(first), int64(n), true
}

// VerifyFile checks that path has p's size and SHA-256. The updater calls
// it again on every file just before installing: the check and the install
// must not be separated by anything that could change the file.
func VerifyFile(path string, p update.Package) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if st.Size() != p.Size {
		return fmt.Errorf("%w: %s is %d bytes, the manifest says %d", ErrSizeMismatch, filepath.Base(path), st.Size(), p.Size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
		return fmt.Errorf("%w: %s has %s, the manifest says %s", ErrHashMismatch, filepath.Base(path), got, p.SHA256)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("download: sync %s: %w", dir, err)
	}
	return nil
}

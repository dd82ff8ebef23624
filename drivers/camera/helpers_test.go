package camera_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// bars are the colours of the 8-pixel-wide bars of the synthetic frames in
// testdata (testdata/gen.go has the same list).
var barColours = []color.RGBA{
	{255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}, {0, 255, 0, 255},
	{255, 0, 255, 255}, {255, 0, 0, 255}, {0, 0, 255, 255}, {0, 0, 0, 255},
}

// mustReadFile reads a file of testdata.
func mustReadFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustDecodeJPEG decodes b fully, as a viewer would.
func mustDecodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("jpeg.Decode: %v", err)
	}
	return img
}

// checkBars checks that img is the 64×48 bars, each bar's centre within
// tol of its colour in every channel.
func checkBars(t testing.TB, img image.Image, tol int) {
	t.Helper()
	if got := img.Bounds().Size(); got != image.Pt(64, 48) {
		t.Fatalf("image is %v, want 64x48", got)
	}
	for i, want := range barColours {
		for _, y := range []int{4, 24, 43} {
			r, g, b, _ := img.At(8*i+4, y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
			for c, w := range [3]uint8{want.R, want.G, want.B} {
				if d := got[c] - int(w); d > tol || d < -tol {
					t.Errorf("bar %d at y %d is %v, want %v (±%d)", i, y, got, want, tol)
					break
				}
			}
		}
	}
}

// fixedClock is a clock for frames' Time.
func fixedClock() (time.Time, func() time.Time) {
	at := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	return at, func() time.Time { return at }
}

// mustServer starts an HTTP test server, closed with the test.
func mustServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// block is a camera that stops answering: it returns when the client gives
// up (closing the connection cancels the request's context), or after a
// while so that a test that failed cannot hold the server's Close up.
func block(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// mustHTTP makes an HTTP camera for cfg, with the server's client unless
// cfg has one.
func mustHTTP(t *testing.T, srv *httptest.Server, cfg camera.HTTPConfig) *camera.HTTP {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = srv.Client()
	}
	if cfg.Name == "" {
		cfg.Name = "gate"
	}
	c, err := camera.NewHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustV4L2 makes a V4L2 camera on dev.
func mustV4L2(t *testing.T, dev *fakeDevice, cfg camera.V4L2Config) *camera.V4L2 {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = "/dev/video0"
	}
	if cfg.Name == "" {
		cfg.Name = "front"
	}
	if cfg.Open == nil {
		cfg.Open = dev.open
	}
	c, err := camera.NewV4L2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setCall is one SetFormat a fakeDevice received.
type setCall struct {
	Format camera.PixelFormat
	Size   camera.Size
}

// fakeDevice is a scripted V4L2 device: it offers formats and sizes, hands
// out frames in order, then fails with nextErr or, without one, blocks until
// the context is done, as a camera that stopped sending does.
type fakeDevice struct {
	formats []camera.PixelFormat
	sizes   map[camera.PixelFormat][]camera.Size
	setTo   camera.PixelFormat // when set, the format SetFormat settles on
	openErr error
	nextErr error

	mu       sync.Mutex
	frames   [][]byte
	sets     []setCall
	opens    int // in all
	inUse    int // open now
	maxInUse int
	started  bool
}

func (d *fakeDevice) open(string) (camera.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.openErr != nil {
		return nil, d.openErr
	}
	d.opens++
	d.inUse++
	d.maxInUse = max(d.maxInUse, d.inUse)
	return d, nil
}

func (d *fakeDevice) Formats() []camera.PixelFormat { return d.formats }

func (d *fakeDevice) FrameSizes(f camera.PixelFormat) []camera.Size { return d.sizes[f] }

func (d *fakeDevice) SetFormat(f camera.PixelFormat, s camera.Size) (camera.PixelFormat, camera.Size, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sets = append(d.sets, setCall{f, s})
	if d.setTo != 0 {
		f = d.setTo
	}
	return f, s, nil
}

func (d *fakeDevice) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started = true
	return nil
}

func (d *fakeDevice) NextFrame(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	if len(d.frames) > 0 {
		f := d.frames[0]
		d.frames = d.frames[1:]
		d.mu.Unlock()
		return bytes.Clone(f), nil
	}
	err := d.nextErr
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (d *fakeDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inUse--
	return nil
}

func (d *fakeDevice) openNow() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inUse
}

// chunkReader returns at most n bytes a Read, to split streams at every
// place a network would.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n, len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func decodeJPEG(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }

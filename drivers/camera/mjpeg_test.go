package camera_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/drivers/camera"
)

func TestParseContentType(t *testing.T) {
	for _, tt := range []struct{ ct, mt, boundary string }{
		{"multipart/x-mixed-replace; boundary=--myboundary", "multipart/x-mixed-replace", "--myboundary"},
		{`multipart/x-mixed-replace;boundary="frame"`, "multipart/x-mixed-replace", "frame"},
		{"multipart/x-mixed-replace; boundary=--video boundary--", "multipart/x-mixed-replace", "--video boundary--"},
		{"Multipart/X-Mixed-Replace", "multipart/x-mixed-replace", ""},
		{"image/jpeg", "image/jpeg", ""},
		{"", "", ""},
	} {
		if mt, b := camera.ParseContentType(tt.ct); mt != tt.mt || b != tt.boundary {
			t.Errorf("ParseContentType(%q) = %q, %q; want %q, %q", tt.ct, mt, b, tt.mt, tt.boundary)
		}
	}
}

func TestReadFirstPart(t *testing.T) {
	jpg := mustReadFile(t, "bars_64x48.jpg")
	j := string(jpg)
	recorded := mustReadFile(t, "stream_myboundary.mjpeg")
	tests := []struct {
		name     string
		stream   string
		boundary string
		ct       string
	}{
		{"recorded, boundary with dashes", string(recorded), "--myboundary", "image/jpeg"},
		{"recorded, standard boundary", string(recorded), "myboundary", "image/jpeg"},
		{"no Content-Length", "--b\r\nContent-Type: image/jpeg\r\n\r\n" + j + "\r\n--b\r\n" + j, "b", "image/jpeg"},
		{"LF only", "--b\nContent-type: image/jpeg\n\n" + j + "\n--b\n", "b", "image/jpeg"},
		{"preamble and padding", "\r\nsome text\r\n--b  \r\nContent-Type: image/jpeg\r\n\r\n" + j + "\r\n--b\r\n", "b", "image/jpeg"},
		{"no boundary parameter", "--frame\r\nContent-Type: image/jpeg\r\n\r\n" + j + "\r\n--frame\r\n", "", "image/jpeg"},
		{"no first delimiter", fmt.Sprintf("Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n--b\r\n", len(j), j), "b", "image/jpeg"},
		{"no part headers", "--b\r\n" + j + "\r\n--b\r\n", "b", ""},
		{"blank line before the JPEG", "--b\r\nContent-Type: image/jpeg\r\n\r\n\r\n" + j + "\r\n--b\r\n", "b", "image/jpeg"},
		{"bad Content-Length ignored", "--b\r\nContent-Length: many\r\n\r\n" + j + "\r\n--b\r\n", "b", ""},
		{"closed after one frame", "--b\r\n\r\n" + j + "\r\n", "b", ""},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, chunk), func(t *testing.T) {
				ct, body, err := camera.ReadFirstPart(&chunkReader{b: []byte(tt.stream), n: chunk}, tt.boundary, camera.MaxFrameBytes)
				if err != nil {
					t.Fatal(err)
				}
				if ct != tt.ct {
					t.Errorf("content type %q, want %q", ct, tt.ct)
				}
				if !bytes.Equal(body, jpg) {
					t.Errorf("body of %d bytes is not the first frame (%d bytes)", len(body), len(jpg))
				}
			})
		}
	}
}

func TestReadFirstPartRejects(t *testing.T) {
	const limit = 4096
	big := strings.Repeat("\x55", 2*limit)
	tests := []struct {
		name   string
		stream string
		want   error
	}{
		{"empty", "", camera.ErrBadStream},
		{"closing delimiter first", "--b--\r\n", camera.ErrBadStream},
		{"no boundary", strings.Repeat("hello\r\n", 40), camera.ErrBadStream},
		{"long line", strings.Repeat("x", 5000) + "\r\n", camera.ErrBadStream},
		{"header without colon", "--b\r\nContent-Type image/jpeg\r\n\r\n\xFF\xD8\xFF\xD9", camera.ErrBadStream},
		{"too many headers", "--b\r\n" + strings.Repeat("X-A: b\r\n", 40) + "\r\n", camera.ErrBadStream},
		{"ends in the headers", "--b\r\nContent-Type: image/jpeg\r\n", camera.ErrBadStream},
		{"ends in a sized part", "--b\r\nContent-Length: 100\r\n\r\n\xFF\xD8\xFF", camera.ErrBadStream},
		{"ends in an unsized part", "--b\r\n\r\n\xFF\xD8\xFF\xDB", camera.ErrBadStream},
		{"sized part over the cap", fmt.Sprintf("--b\r\nContent-Length: %d\r\n\r\n", limit+1), camera.ErrFrameTooLarge},
		{"unsized part over the cap", "--b\r\n\r\n\xFF\xD8" + big + "\r\n--b\r\n", camera.ErrFrameTooLarge},
		{"unsized part over the cap, endless", "--b\r\n\r\n\xFF\xD8" + big + big, camera.ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := camera.ReadFirstPart(strings.NewReader(tt.stream), "b", limit)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReadFirstPartPassesReadErrors: a deadline or reset while reading must
// stay itself, not become "malformed stream".
func TestReadFirstPartPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("--b\r\nContent-Length: 1000\r\n\r\n\xFF\xD8"), &errReader{boom})
	_, _, err := camera.ReadFirstPart(r, "b", camera.MaxFrameBytes)
	if !errors.Is(err, boom) || errors.Is(err, camera.ErrBadStream) {
		t.Errorf("err = %v, want the reader's error alone", err)
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

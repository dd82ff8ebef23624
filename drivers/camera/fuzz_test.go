package camera_test

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/drivers/camera"
)

// fuzzCap is small so that the fuzzer reaches the frame cap.
const fuzzCap = 1 << 16

// FuzzMJPEGStream feeds arbitrary bytes to the MJPEG (multipart) parser as a
// camera would send them, read chunk bytes at a time. Invariants: no panic,
// bounded output, only the documented errors, a body that is a piece of the
// stream, and a well-formed stream carrying any bytes gives them back.
func FuzzMJPEGStream(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzMJPEGStream (testdata/gen.go); one
	// inline for go vet.
	f.Add([]byte("--b\r\nContent-Type: image/jpeg\r\n\r\n\xFF\xD8\xFF\xD9\r\n--b\r\n"), "b", byte(0))
	f.Fuzz(func(t *testing.T, stream []byte, boundary string, chunk byte) {
		n := int(chunk)
		if n == 0 {
			n = len(stream) + 1
		}
		ct, body, err := camera.ReadFirstPart(&chunkReader{b: stream, n: n}, boundary, fuzzCap)
		if err != nil {
			if !errors.Is(err, camera.ErrBadStream) && !errors.Is(err, camera.ErrFrameTooLarge) {
				t.Fatalf("undocumented error %v", err)
			}
		} else {
			if len(body) > fuzzCap {
				t.Fatalf("body of %d bytes past the cap", len(body))
			}
			if !bytes.Contains(stream, body) {
				t.Fatalf("body is not a piece of the stream")
			}
			if len(ct) > len(stream) {
				t.Fatalf("content type longer than the stream")
			}
			if len(body) > 0 && (body[0] == '\r' || body[0] == '\n') {
				t.Fatalf("body starts with a line break")
			}
			if _, _, err := camera.NormalizeJPEG(body); err != nil && !errors.Is(err, camera.ErrNotJPEG) {
				t.Fatalf("NormalizeJPEG: undocumented error %v", err)
			}
		}

		// Any bytes framed properly, with or without a length, come back.
		// Properly: a boundary of 1 to 70 characters (RFC 2046); a longer
		// one makes a line the parser refuses as malformed, rightly.
		if boundary == "" || len(boundary) > 70 || strings.ContainsAny(boundary, " \t\r\n") || len(stream) > fuzzCap {
			return
		}
		frame := bytes.TrimLeft(stream, "\r\n")
		sized := fmt.Sprintf("--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n--%s\r\n", boundary, len(stream), stream, boundary)
		if _, got, err := camera.ReadFirstPart(strings.NewReader(sized), boundary, fuzzCap); err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("sized part: %v, %d bytes for %d", err, len(got), len(frame))
		}
		if bytes.Contains(stream, []byte("\n--")) || bytes.HasSuffix(stream, []byte("\r")) || len(frame) == 0 {
			return
		}
		unsized := fmt.Sprintf("--%s\r\nContent-Type: image/jpeg\r\n\r\n%s\r\n--%s\r\n", boundary, stream, boundary)
		if _, got, err := camera.ReadFirstPart(strings.NewReader(unsized), boundary, fuzzCap); err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("unsized part: %v, %d bytes for %d", err, len(got), len(frame))
		}
	})
}

// FuzzNormalizeJPEG feeds arbitrary frames to the JPEG check and DHT
// insertion. Invariants: no panic, only ErrNotJPEG, and an accepted frame
// is SOI…EOI, grew by at most the tables, decodes its config to the same
// size, and is left as it is by a second pass.
func FuzzNormalizeJPEG(f *testing.F) {
	f.Add([]byte("\xFF\xD8\xFF\xD9"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, cfg, err := camera.NormalizeJPEG(b)
		if err != nil {
			if !errors.Is(err, camera.ErrNotJPEG) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if !bytes.HasPrefix(out, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
			t.Fatalf("output is not SOI…EOI")
		}
		if len(out) > len(b)+len(camera.DefaultDHT()) {
			t.Fatalf("output grew from %d to %d bytes", len(b), len(out))
		}
		if cfg.Width <= 0 || cfg.Height <= 0 {
			t.Fatalf("accepted size %dx%d", cfg.Width, cfg.Height)
		}
		again, cfg2, err := camera.NormalizeJPEG(out)
		if err != nil || !bytes.Equal(again, out) || cfg2 != cfg {
			t.Fatalf("second pass: %v, changed %v", err, !bytes.Equal(again, out))
		}
		if c, err := jpeg.DecodeConfig(bytes.NewReader(out)); err != nil || c != cfg {
			t.Fatalf("DecodeConfig: %v", err)
		}
	})
}

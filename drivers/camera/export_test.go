package camera

import (
	"image"
	"io"
	"net/url"
)

// The frame handling is unexported (callers only see Snapshot); the tests,
// all in camera_test, reach it through these.

func NormalizeJPEG(b []byte) ([]byte, image.Config, error) { return normalizeJPEG(b) }

func DefaultDHT() []byte { return appendDefaultDHT(nil) }

func YUYVGeometry(n int, want Size, offered []Size) (Size, int, error) {
	return yuyvGeometry(n, want, offered)
}

func YUYVToYCbCr(raw []byte, s Size, stride int, fullRange bool) (*image.YCbCr, error) {
	return yuyvToYCbCr(raw, s, stride, fullRange)
}

func DecodeRaw(f PixelFormat, s Size, offered []Size, raw []byte, cfg V4L2Config) (Frame, error) {
	return decodeRaw(f, s, offered, raw, cfg)
}

func ChooseFormat(offered []PixelFormat) (PixelFormat, error) { return chooseFormat(offered) }

func ChooseSize(offered []Size, want Size) Size { return chooseSize(offered, want) }

// ReadFirstPart returns the first part's content type and body.
func ReadFirstPart(r io.Reader, boundary string, maxBytes int) (string, []byte, error) {
	p, err := readFirstPart(r, boundary, maxBytes)
	return p.contentType, p.body, err
}

func ParseContentType(ct string) (string, string) { return parseContentType(ct) }

func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return redactRawURL(s)
	}
	return redactURL(u)
}

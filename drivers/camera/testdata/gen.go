//go:build ignore

// gen writes the synthetic frames in this directory and the fuzz seed
// corpora. There is no camera on the build machines, so the frames are made
// to look like what UVC and IP cameras send: YUYV in limited range, MJPEG
// buffers without Huffman tables (AVI1 APP0, zero padding after EOI), and an
// MJPEG stream with a boundary that already starts with "--".
//
//	cd drivers/camera/testdata && go run gen.go
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
)

// bars are the colours of the 8-pixel-wide bars, left to right; the tests
// keep the same list.
var bars = []color.RGBA{
	{255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}, {0, 255, 0, 255},
	{255, 0, 255, 255}, {255, 0, 0, 255}, {0, 0, 255, 255}, {0, 0, 0, 255},
}

const w, h = 64, 48

func barsImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, bars[x/8])
		}
	}
	return img
}

// yuyv encodes the bars as BT.601 limited-range YUYV with the given row
// stride (padding bytes are 0x10, "black", as drivers leave them).
func yuyv(stride int) []byte {
	out := bytes.Repeat([]byte{0x10}, stride*h)
	for y := range h {
		for x := 0; x < w; x += 2 {
			c := bars[x/8]
			r, g, b := float64(c.R), float64(c.G), float64(c.B)
			Y := 16 + 0.2568*r + 0.5041*g + 0.0979*b
			Cb := 128 - 0.1482*r - 0.2910*g + 0.4392*b
			Cr := 128 + 0.4392*r - 0.3678*g - 0.0714*b
			o := y*stride + 2*x
			out[o], out[o+1], out[o+2], out[o+3] = round(Y), round(Cb), round(Y), round(Cr)
		}
	}
	return out
}

func round(v float64) byte { return byte(max(0, min(255, v+0.5))) }

func encode(img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// uvcStyle drops the DHT segments, replaces the JFIF APP0 with an AVI1 one
// and pads the buffer after EOI, as a UVC camera's MJPEG buffer looks.
func uvcStyle(j []byte) []byte {
	out := []byte{0xFF, 0xD8}
	i := 2
	for {
		m := j[i+1]
		if m == 0xDA {
			out = append(out, j[i:]...)
			break
		}
		n := int(binary.BigEndian.Uint16(j[i+2:]))
		seg := j[i : i+2+n]
		switch m {
		case 0xC4:
		case 0xE0:
			out = append(out, 0xFF, 0xE0, 0, 16, 'A', 'V', 'I', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		default:
			out = append(out, seg...)
		}
		i += 2 + n
	}
	return append(out, make([]byte, 512)...)
}

func stream(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(p))
		b.Write(p)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func write(name string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		panic(err)
	}
}

// seed writes one fuzz corpus entry of the given Go literals.
func seed(target, name string, args ...string) {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		b.WriteString(a + "\n")
	}
	write(filepath.Join("fuzz", target, name), b.Bytes())
}

func bytesLit(b []byte) string  { return "[]byte(" + strconv.Quote(string(b)) + ")" }
func stringLit(s string) string { return "string(" + strconv.Quote(s) + ")" }
func byteLit(v byte) string     { return fmt.Sprintf("byte(%q)", v) }

func main() {
	img := barsImage()
	snap := encode(img)
	small := encode(image.NewGray(image.Rect(0, 0, 16, 8)))
	uvc := uvcStyle(snap)

	write("bars_64x48.yuyv", yuyv(2*w))
	write("bars_64x48_stride160.yuyv", yuyv(160))
	write("bars_64x48.jpg", snap)
	write("bars_64x48_uvc_no_dht.mjpeg", uvc)
	write("stream_myboundary.mjpeg", stream(snap, small))

	// The multipart parser: stream, boundary parameter, read size.
	const fz = "FuzzMJPEGStream"
	seed(fz, "content_length", bytesLit(stream(small, small)), stringLit("--myboundary"), byteLit(0))
	seed(fz, "content_length_chunked", bytesLit(stream(small)), stringLit("--myboundary"), byteLit(7))
	seed(fz, "standard_boundary", bytesLit([]byte("--b\r\nContent-Type: image/jpeg\r\n\r\n"+string(small)+"\r\n--b\r\n")), stringLit("b"), byteLit(0))
	seed(fz, "no_boundary_param", bytesLit([]byte("--frame\nContent-Type: image/jpeg\n\n"+string(small)+"\n--frame\n")), stringLit(""), byteLit(3))
	seed(fz, "no_first_delimiter", bytesLit([]byte("Content-Type: image/jpeg\r\nContent-Length: "+strconv.Itoa(len(small))+"\r\n\r\n"+string(small))), stringLit("x"), byteLit(0))
	seed(fz, "headerless_part", bytesLit([]byte("--b\r\n"+string(small)+"\r\n--b--\r\n")), stringLit("b"), byteLit(0))
	seed(fz, "closed_after_one", bytesLit([]byte("--b\r\n\r\n"+string(small))), stringLit("b"), byteLit(1))
	seed(fz, "closing_delimiter", bytesLit([]byte("--b--\r\n")), stringLit("b"), byteLit(0))
	seed(fz, "huge_length", bytesLit([]byte("--b\r\nContent-Length: 99999999999\r\n\r\n\xFF\xD8")), stringLit("b"), byteLit(0))
	seed(fz, "truncated", bytesLit([]byte("--b\r\nContent-Length: 100\r\n\r\n\xFF\xD8\xFF")), stringLit("b"), byteLit(0))
	seed(fz, "garbage", bytesLit([]byte("HTTP/1.0 200 OK\r\n<html>")), stringLit("b"), byteLit(0))

	// The JPEG normaliser: a frame as a camera sent it.
	const fj = "FuzzNormalizeJPEG"
	seed(fj, "uvc_no_dht", bytesLit(uvcStyle(small)))
	seed(fj, "with_dht", bytesLit(small))
	seed(fj, "truncated", bytesLit(small[:len(small)/2]))
	seed(fj, "soi_eoi_only", bytesLit([]byte("\xFF\xD8\xFF\xD9")))
	seed(fj, "fill_bytes", bytesLit([]byte("\xFF\xD8\xFF\xFF\xFF\xE0\x00\x02\xFF\xD9")))
}

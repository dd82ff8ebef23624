package camera

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// yuyvGeometry works out the size and row stride of a YUYV frame of n bytes
// (2 bytes a pixel). want is the size the device was asked for; offered are
// the sizes it lists. The frame's own length decides, because
// blackjack/webcam v0.6.1's SetImageFormat hands back the requested size
// rather than the one the driver settled on, and does not report the
// driver's bytes per line.
func yuyvGeometry(n int, want Size, offered []Size) (Size, int, error) {
	fits := func(s Size) bool { return s.Width > 0 && s.Height > 0 && s.Width%2 == 0 && n == 2*s.Width*s.Height }
	if fits(want) {
		return want, 2 * want.Width, nil
	}
	for _, s := range offered {
		if fits(s) {
			return s, 2 * s.Width, nil
		}
	}
	// Rows padded to an alignment (bytes per line > 2×width): whole
	// rows of a little more than the width.
	if w, h := want.Width, want.Height; w > 0 && h > 0 && w%2 == 0 && n%h == 0 {
		if stride := n / h; stride > 2*w && stride <= 2*w+256 {
			return want, stride, nil
		}
	}
	return Size{}, 0, fmt.Errorf("%w: %d bytes of YUYV is not %dx%d", ErrBadFrame, n, want.Width, want.Height)
}

// yuyvToYCbCr unpacks a YUYV (YUV 4:2:2, bytes Y0 U Y1 V per pixel pair)
// frame into an image that image/jpeg encodes without converting to RGB.
//
// V4L2 YUYV from UVC cameras is limited range (BT.601, Y 16–235, Cb/Cr
// 16–240) while JPEG (JFIF) is full range, so unless fullRange is set the
// values are stretched; left alone, every snapshot would look grey and
// washed out.
func yuyvToYCbCr(raw []byte, size Size, stride int, fullRange bool) (*image.YCbCr, error) {
	w, h := size.Width, size.Height
	if w <= 0 || h <= 0 || w%2 != 0 || stride < 2*w || len(raw) < stride*(h-1)+2*w {
		return nil, fmt.Errorf("%w: %d bytes of YUYV for %dx%d, stride %d", ErrBadFrame, len(raw), w, h, stride)
	}
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio422)
	for y := range h {
		row := raw[y*stride : y*stride+2*w]
		yo := y * img.YStride
		co := y * img.CStride
		for x := 0; x < w; x += 2 {
			p := row[2*x : 2*x+4]
			y0, cb, y1, cr := p[0], p[1], p[2], p[3]
			if !fullRange {
				y0, y1 = expandLuma(y0), expandLuma(y1)
				cb, cr = expandChroma(cb), expandChroma(cr)
			}
			img.Y[yo+x], img.Y[yo+x+1] = y0, y1
			img.Cb[co+x/2], img.Cr[co+x/2] = cb, cr
		}
	}
	return img, nil
}

// expandLuma maps limited-range luma (16–235) to full range: ×255/219, in
// 8.8 fixed point.
func expandLuma(v byte) byte { return clamp8(((int(v)-16)*298 + 128) >> 8) }

// expandChroma maps limited-range chroma (16–240 about 128) to full range:
// ×255/224.
func expandChroma(v byte) byte { return clamp8((((int(v)-128)*291 + 128) >> 8) + 128) }

func clamp8(v int) byte {
	return byte(max(0, min(255, v)))
}

// encodeJPEG encodes img at quality (1–100).
func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

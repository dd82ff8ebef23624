package camera

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds on the parts of an MJPEG stream before its first frame, so that a
// camera sending garbage fails fast instead of being read up to the frame
// cap.
const (
	maxLine          = 4096 // one preamble or header line
	maxPreambleLines = 32
	maxPartHeaders   = 32
)

// part is the first part of a multipart stream.
type part struct {
	contentType string // as the part's header says; may be empty
	body        []byte
}

// readFirstPart reads the first part of a multipart/x-mixed-replace body
// (an MJPEG stream) from r and stops there: the stream never ends by itself.
// It reads at most about maxBytes plus the headers.
//
// IP cameras bend the multipart rules, so it takes what they send: a
// boundary parameter that already starts with "--", or none (the first
// "--" line is the delimiter); a first part with no delimiter before its
// headers; LF for CRLF; a part with no headers; a part without
// Content-Length, which ends at the next delimiter (or, when the camera
// closes the stream after one frame, at its EOI).
//
// Errors from r are returned as they are (a deadline must stay a deadline);
// a malformed stream gives ErrBadStream and an oversize part
// ErrFrameTooLarge.
func readFirstPart(r io.Reader, boundary string, maxBytes int) (part, error) {
	if maxBytes <= 0 {
		maxBytes = MaxFrameBytes
	}
	br := bufio.NewReaderSize(r, maxLine)
	delims := delimiters(boundary)

	// The preamble, up to the first delimiter.
	var pending string // a header line met where a delimiter was expected
	for n := 0; ; n++ {
		line, err := readLine(br)
		if err != nil {
			return part{}, streamError("before the first boundary", err)
		}
		if d, closing := matchDelimiter(line, delims); d {
			if closing {
				return part{}, fmt.Errorf("%w: stream closed before its first part", ErrBadStream)
			}
			break
		}
		if len(delims) == 0 && len(line) > 2 && strings.HasPrefix(line, "--") {
			delims = []string{line}
			break
		}
		if n == 0 && isHeaderLine(line) {
			pending = line
			break
		}
		if n >= maxPreambleLines {
			return part{}, fmt.Errorf("%w: no boundary in its first %d lines", ErrBadStream, maxPreambleLines)
		}
	}

	// The part's headers, unless the JPEG follows the delimiter at once.
	var p part
	length := -1
	if pending != "" || !startsWithSOI(br) {
		for n := 0; ; n++ {
			line := pending
			pending = ""
			if line == "" {
				var err error
				if line, err = readLine(br); err != nil {
					return part{}, streamError("in the part's headers", err)
				}
			}
			if line == "" {
				break
			}
			if n >= maxPartHeaders {
				return part{}, fmt.Errorf("%w: more than %d part headers", ErrBadStream, maxPartHeaders)
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return part{}, fmt.Errorf("%w: part header line without a colon", ErrBadStream)
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "content-type":
				p.contentType = v
			case "content-length":
				// A length that does not parse is ignored: the part
				// then ends at the next delimiter.
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					length = n
				}
			}
		}
	}

	if length > maxBytes {
		return part{}, fmt.Errorf("%w: part of %d bytes, cap %d", ErrFrameTooLarge, length, maxBytes)
	}
	if length > 0 {
		buf := make([]byte, length)
		if _, err := io.ReadFull(br, buf); err != nil {
			return part{}, streamError("in the first part", err)
		}
		p.body = bytes.TrimLeft(buf, "\r\n")
		return p, nil
	}
	if len(delims) == 0 {
		return part{}, fmt.Errorf("%w: part has neither Content-Length nor a boundary after it", ErrBadStream)
	}
	body, err := readToDelimiter(br, delims, maxBytes)
	if err != nil {
		return part{}, err
	}
	p.body = bytes.TrimLeft(body, "\r\n")
	return p, nil
}

// delimiters are the lines that may separate parts for a boundary parameter.
func delimiters(boundary string) []string {
	if boundary == "" {
		return nil
	}
	d := []string{"--" + boundary}
	if strings.HasPrefix(boundary, "--") {
		// Cameras that declare "--myboundary" and write "--myboundary".
		d = append(d, boundary)
	}
	return d
}

// matchDelimiter tells whether line is a delimiter, and whether it is the
// closing one (delimiter + "--").
func matchDelimiter(line string, delims []string) (match, closing bool) {
	for _, d := range delims {
		switch line {
		case d:
			return true, false
		case d + "--":
			return true, true
		}
	}
	return false, false
}

// isHeaderLine tells a part header (a camera that leaves out the first
// delimiter starts with one) from preamble text.
func isHeaderLine(line string) bool {
	k, _, ok := strings.Cut(line, ":")
	return ok && strings.HasPrefix(strings.ToLower(k), "content-")
}

func startsWithSOI(br *bufio.Reader) bool {
	b, _ := br.Peek(2)
	return len(b) == 2 && b[0] == 0xFF && b[1] == markerSOI
}

// readLine reads one line without its line ending or trailing blanks (the
// transport padding multipart allows after a delimiter).
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("%w: line longer than %d bytes", ErrBadStream, maxLine)
	case errors.Is(err, io.EOF) && len(b) > 0:
		// A last line without its newline; the next read gives EOF.
	case err != nil:
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n \t"), nil
}

// readToDelimiter reads a part's body up to the line break before the next
// delimiter. A stream that ends first is taken if what came is a whole JPEG.
func readToDelimiter(br *bufio.Reader, delims []string, maxBytes int) ([]byte, error) {
	needles := make([][]byte, len(delims))
	longest := 0
	for i, d := range delims {
		needles[i] = []byte("\n" + d)
		longest = max(longest, len(needles[i]))
	}
	limit := maxBytes + longest + 1
	buf := make([]byte, 0, min(limit, 64<<10))
	scanned := 0
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= limit {
				return nil, fmt.Errorf("%w: no boundary within %d bytes", ErrFrameTooLarge, maxBytes)
			}
			grown := make([]byte, len(buf), min(limit, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		n, err := br.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		from := max(0, scanned-longest+1)
		end := -1
		for _, nd := range needles {
			if i := bytes.Index(buf[from:], nd); i >= 0 && (end < 0 || from+i < end) {
				end = from + i
			}
		}
		if end >= 0 {
			body := bytes.TrimSuffix(buf[:end], []byte("\r"))
			if len(body) > maxBytes {
				return nil, fmt.Errorf("%w: part of %d bytes, cap %d", ErrFrameTooLarge, len(body), maxBytes)
			}
			return body, nil
		}
		scanned = len(buf)
		if errors.Is(err, io.EOF) {
			body := bytes.TrimRight(buf, "\r\n \t")
			if len(body) <= maxBytes && bytes.HasSuffix(body, []byte{0xFF, markerEOI}) {
				return body, nil
			}
			return nil, fmt.Errorf("%w: stream ended inside its first part: %w", ErrBadStream, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, err
		}
	}
}

// streamError reports the end of the stream where more was needed as
// ErrBadStream, and passes any other error (a deadline, a reset) on as it is.
func streamError(where string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: stream ended %s: %w", ErrBadStream, where, io.ErrUnexpectedEOF)
	}
	return err
}

package idcard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame layout (both directions):
//
//	AA AA AA 96 69 | LEN (2, big-endian) | body | CHK
//
// LEN counts body and CHK; CHK is the XOR of LEN's two bytes and the body.
// A request body is CMD PARA [DATA]; a response body is SW1 SW2 SW3 [DATA].
const (
	// Preamble starts every frame.
	Preamble = "\xAA\xAA\xAA\x96\x69"
	// MaxFrameLen caps LEN. The longest real reply (base info with a
	// 1024-byte fingerprint) has LEN 0x090A; anything past 4 KiB is noise
	// or corruption, and refusing it keeps a bad LEN from stalling the
	// decoder while it waits for bytes that will never come.
	MaxFrameLen = 4096
	// MaxBodyLen is the longest body a frame can carry.
	MaxBodyLen = MaxFrameLen - 1

	headerLen = len(Preamble) + 2
	// minFrameLen is the smallest LEN: CMD PARA CHK.
	minFrameLen = 3
)

// Checksum is the XOR of b; over LEN..last data byte it gives CHK.
func Checksum(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
	}
	return c
}

// AppendFrame appends the frame carrying body to dst.
func AppendFrame(dst, body []byte) ([]byte, error) {
	if len(body) < minFrameLen-1 {
		return dst, fmt.Errorf("%w: body of %d bytes", ErrShortFrame, len(body))
	}
	if len(body) > MaxBodyLen {
		return dst, fmt.Errorf("%w: body of %d bytes", ErrFrameTooLong, len(body))
	}
	dst = append(dst, Preamble...)
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(body)+1))
	dst = append(dst, body...)
	return append(dst, Checksum(dst[start:])), nil
}

// Request is a command to the SAM.
type Request struct {
	Cmd, Para byte
	Data      []byte
}

// Command is a request's CMD and PARA bytes, CMD<<8 | PARA.
type Command uint16

// Commands of the GA 467 command set this package uses.
const (
	CmdReset               Command = 0x10FF // 复位SAM
	CmdSAMStatus           Command = 0x11FF // SAM状态检测
	CmdSAMID               Command = 0x12FF // 读SAM管理信息(编号)
	CmdFindCard            Command = 0x2001 // 寻找证/卡
	CmdSelectCard          Command = 0x2002 // 选取证/卡
	CmdReadBase            Command = 0x3001 // 读机读文字和相片
	CmdReadAppendedAddress Command = 0x3003 // 读追加住址
	CmdReadBaseFingerprint Command = 0x3010 // 读机读文字、相片和指纹
)

// Request returns the request for c, without data.
func (c Command) Request() Request { return Request{Cmd: byte(c >> 8), Para: byte(c)} }

// String names the command.
func (c Command) String() string {
	switch c {
	case CmdReset:
		return "reset"
	case CmdSAMStatus:
		return "sam-status"
	case CmdSAMID:
		return "sam-id"
	case CmdFindCard:
		return "find-card"
	case CmdSelectCard:
		return "select-card"
	case CmdReadBase:
		return "read-base"
	case CmdReadAppendedAddress:
		return "read-appended-address"
	case CmdReadBaseFingerprint:
		return "read-base-fingerprint"
	}
	return fmt.Sprintf("command-%04X", uint16(c))
}

// Command returns the request's CMD and PARA.
func (r Request) Command() Command { return Command(r.Cmd)<<8 | Command(r.Para) }

// MarshalBinary encodes the request as a frame.
func (r Request) MarshalBinary() ([]byte, error) {
	body := make([]byte, 0, 2+len(r.Data))
	body = append(body, r.Cmd, r.Para)
	body = append(body, r.Data...)
	return AppendFrame(nil, body)
}

// ParseRequest splits a frame body into a Request.
func ParseRequest(body []byte) (Request, error) {
	if len(body) < 2 {
		return Request{}, fmt.Errorf("%w: request body of %d bytes", ErrShortFrame, len(body))
	}
	r := Request{Cmd: body[0], Para: body[1]}
	if len(body) > 2 {
		r.Data = bytes.Clone(body[2:])
	}
	return r, nil
}

// Response is a SAM reply.
type Response struct {
	SW1, SW2, SW3 byte
	Data          []byte
}

// MarshalBinary encodes the response as a frame.
func (r Response) MarshalBinary() ([]byte, error) {
	body := make([]byte, 0, 3+len(r.Data))
	body = append(body, r.SW1, r.SW2, r.SW3)
	body = append(body, r.Data...)
	return AppendFrame(nil, body)
}

// Err is nil for the success codes 90 and 9F and a *StatusError otherwise.
func (r Response) Err() error {
	if r.SW3 == StatusOK || r.SW3 == StatusCardFound {
		return nil
	}
	return &StatusError{SW3: r.SW3}
}

// ParseResponse splits a frame body into a Response.
func ParseResponse(body []byte) (Response, error) {
	if len(body) < 3 {
		return Response{}, fmt.Errorf("%w: response body of %d bytes", ErrShortFrame, len(body))
	}
	r := Response{SW1: body[0], SW2: body[1], SW3: body[2]}
	if len(body) > 3 {
		r.Data = bytes.Clone(body[3:])
	}
	return r, nil
}

// scanner finds frames in bytes pushed into it. It is the one framing
// implementation, shared by Decoder (pull, io.Reader) and Reader (push,
// from its pump goroutine).
type scanner struct {
	buf     []byte
	skipped int // noise bytes dropped before preambles, for diagnostics
}

func (s *scanner) push(p []byte) { s.buf = append(s.buf, p...) }

// partial reports whether the buffer holds the start of a frame (after
// next returned errNeedMore it holds either that or a short noise tail).
func (s *scanner) partial() bool {
	if len(s.buf) < len(Preamble) {
		return len(s.buf) > 0 && bytes.HasPrefix([]byte(Preamble), s.buf)
	}
	return bytes.HasPrefix(s.buf, []byte(Preamble))
}

// next returns the next frame's body (a fresh slice), errNeedMore when the
// buffer holds no complete frame, or a framing error. After a framing error
// the scanner has dropped that frame's preamble, so the following call
// resynchronises on the next preamble (which may lie inside the bad frame:
// a corrupted LEN must not swallow the good frame after it).
func (s *scanner) next() ([]byte, error) {
	i := bytes.Index(s.buf, []byte(Preamble))
	if i < 0 {
		// Keep a tail that could be the start of a split preamble.
		keep := min(len(s.buf), len(Preamble)-1)
		s.skipped += len(s.buf) - keep
		s.drop(len(s.buf) - keep)
		return nil, errNeedMore
	}
	if i > 0 {
		s.skipped += i
		s.drop(i)
	}
	if len(s.buf) < headerLen {
		return nil, errNeedMore
	}
	n := int(binary.BigEndian.Uint16(s.buf[len(Preamble):headerLen]))
	switch {
	case n < minFrameLen:
		s.drop(len(Preamble))
		return nil, fmt.Errorf("%w: LEN %d", ErrShortFrame, n)
	case n > MaxFrameLen:
		s.drop(len(Preamble))
		return nil, fmt.Errorf("%w: LEN %d > %d", ErrFrameTooLong, n, MaxFrameLen)
	case len(s.buf) < headerLen+n:
		return nil, errNeedMore
	}
	frame := s.buf[:headerLen+n]
	want := Checksum(frame[len(Preamble) : len(frame)-1])
	if got := frame[len(frame)-1]; got != want {
		s.drop(len(Preamble))
		return nil, fmt.Errorf("%w: got %02X, want %02X", ErrChecksum, got, want)
	}
	body := bytes.Clone(frame[headerLen : len(frame)-1])
	s.drop(len(frame))
	return body, nil
}

// drop discards n leading bytes, compacting so a long-lived scanner fed by
// a noisy line does not pin an ever-growing array.
func (s *scanner) drop(n int) {
	if n <= 0 {
		return
	}
	if n > len(s.buf)-n {
		s.buf = s.buf[:copy(s.buf, s.buf[n:])]
		return
	}
	s.buf = s.buf[n:]
}

// Decoder reads frames from a byte stream: noise before a preamble is
// skipped, reads may split a frame anywhere, and after a framing error
// (ErrShortFrame, ErrFrameTooLong, ErrChecksum) the next call to Next
// resynchronises on the following preamble.
//
// Decoder treats io.EOF as the end of the stream; for ports that return
// io.EOF on every read timeout, use Reader, which tolerates that.
type Decoder struct {
	r    io.Reader
	s    scanner
	rbuf []byte
	err  error // sticky read error, returned once buffered frames are out
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, rbuf: make([]byte, 512)}
}

// Skipped returns how many noise bytes were dropped so far.
func (d *Decoder) Skipped() int { return d.s.skipped }

// Next returns the body of the next valid frame (CMD PARA DATA or SW1 SW2
// SW3 DATA). At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF once if the stream stopped inside a frame.
func (d *Decoder) Next() ([]byte, error) {
	empty := 0
	for {
		body, err := d.s.next()
		if !errors.Is(err, errNeedMore) {
			return body, err
		}
		if d.err != nil {
			truncated := d.s.partial()
			d.s.buf = d.s.buf[:0]
			if truncated && errors.Is(d.err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, d.err
		}
		n, err := d.r.Read(d.rbuf)
		d.s.push(d.rbuf[:n])
		if err != nil {
			d.err = err
		}
		if n == 0 && err == nil {
			// A reader that returns nothing forever must not spin us forever.
			if empty++; empty >= 100 {
				return nil, io.ErrNoProgress
			}
		}
	}
}

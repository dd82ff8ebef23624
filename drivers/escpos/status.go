package escpos

import (
	"errors"
	"fmt"
	"io"
)

// Paper is the state of the paper roll as the printer reports it.
type Paper int

// Paper states.
const (
	PaperOK  Paper = iota
	PaperLow       // the near-end sensor sees the roll's end coming
	PaperOut       // no paper: nothing will print
)

func (p Paper) String() string {
	switch p {
	case PaperOK:
		return "ok"
	case PaperLow:
		return "low"
	case PaperOut:
		return "out"
	}
	return fmt.Sprintf("Paper(%d)", int(p))
}

// Errors of QueryPaper.
var (
	ErrNoAnswer  = errors.New("escpos: printer did not answer the status query")
	ErrBadStatus = errors.New("escpos: status byte is not a paper-sensor status")
)

// statusReads bounds the reads QueryPaper makes: a port opened by
// drivers/serialport returns 0, io.EOF after its 100 ms read timeout, so
// this waits about one second for a printer that has gone away.
const statusReads = 10

// QueryPaper asks the printer for its paper-sensor status (DLE EOT 4, a
// real-time command the printer answers even mid-job) and reads the one
// status byte. Printers on a write-only port (a USB printer class device)
// never answer; callers treat ErrNoAnswer as "unknown", not as "no paper".
func QueryPaper(rw io.ReadWriter) (Paper, error) {
	if _, err := rw.Write([]byte{DLE, 0x04, 4}); err != nil {
		return 0, fmt.Errorf("escpos: write status query: %w", err)
	}
	var b [1]byte
	for range statusReads {
		n, err := rw.Read(b[:])
		if n == 1 {
			return ParsePaperStatus(b[0])
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("escpos: read status: %w", err)
		}
	}
	return 0, ErrNoAnswer
}

// ParsePaperStatus decodes the answer to DLE EOT 4. Bits 1 and 4 are always
// set and bits 0 and 7 clear, which tells a status byte from stray data;
// bits 2–3 are the near-end sensor and bits 5–6 the end sensor.
func ParsePaperStatus(b byte) (Paper, error) {
	if b&0x93 != 0x12 {
		return 0, fmt.Errorf("%w: %#02x", ErrBadStatus, b)
	}
	switch {
	case b&0x60 != 0:
		return PaperOut, nil
	case b&0x0C != 0:
		return PaperLow, nil
	}
	return PaperOK, nil
}

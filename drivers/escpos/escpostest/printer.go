// Package escpostest owns a fake ESC/POS printer on a port for tests of
// code that prints: it keeps every byte, answers the paper-status query and
// can be made to fail. What it printed is read back with
// drivers/escpos/escpossim's parser. kioskd never links it; the dev board's
// printer is escpossim.Printer.
package escpostest

import (
	"bytes"
	"io"
	"sync"

	"github.com/fengqiao/kiosk/drivers/escpos"
	"github.com/fengqiao/kiosk/drivers/escpos/escpossim"
)

// Printer is a fake printer on a port: an io.ReadWriteCloser that keeps
// every byte written, answers the paper-status query, and can be made to
// fail. It is safe for concurrent use.
type Printer struct {
	mu      sync.Mutex
	written bytes.Buffer
	answers []byte
	paper   escpos.Paper
	fail    error
	closed  bool
}

// NewPrinter returns a fake printer with paper.
func NewPrinter() *Printer { return &Printer{} }

// Write records p, or fails with the error set by Fail. A write that is
// exactly the paper-status query queues the status byte for Read, as a
// printer answers a real-time command at once.
func (p *Printer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	if p.fail != nil {
		return 0, p.fail
	}
	if bytes.Equal(b, []byte{escpos.DLE, 0x04, 4}) {
		status := byte(0x12)
		switch p.paper {
		case escpos.PaperLow:
			status |= 0x0C
		case escpos.PaperOut:
			status |= 0x60
		}
		p.answers = append(p.answers, status)
		return len(b), nil
	}
	return p.written.Write(b)
}

// Read returns a queued status byte, or 0, io.EOF as a serial port does
// when its read timeout passes with nothing to read.
func (p *Printer) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	if len(p.answers) == 0 || len(b) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.answers)
	p.answers = p.answers[n:]
	return n, nil
}

// Close makes further reads and writes fail.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// SetPaper sets what the paper sensor reports.
func (p *Printer) SetPaper(s escpos.Paper) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paper = s
}

// Fail makes every following Write return err (nil: work again), like a
// printer whose cable was pulled.
func (p *Printer) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

// Bytes returns a copy of everything written, status queries excepted.
func (p *Printer) Bytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.written.Bytes())
}

// Doc parses everything written so far.
func (p *Printer) Doc() (escpossim.Doc, error) { return escpossim.Parse(p.Bytes()) }

// Reopen undoes Close, as opening the device node again does after the
// driver gave up on a port: what was printed stays on the paper.
func (p *Printer) Reopen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = false
}

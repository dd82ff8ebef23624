// Package escpos owns the kiosk's side of an ESC/POS receipt printer: the
// command bytes for initialising it, Chinese text (GB18030 in the printer's
// Chinese mode), emphasis and alignment, its native QR code, feeding and
// cutting, and the paper-status query.
//
// Like every driver it receives an io.Writer (an io.ReadWriter for the status
// query) instead of a device path: drivers/serialport opens real ports, and
// escpos/escpostest is a fake printer that parses the bytes back.
//
// Personal data: a receipt carries what the villager may take home (a booking
// number, a masked phone number). Nothing in this package logs receipt text.
package escpos

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Control bytes that start ESC/POS commands.
const (
	LF  = 0x0A
	DLE = 0x10
	ESC = 0x1B
	FS  = 0x1C
	GS  = 0x1D
)

// Alignment of the following lines (ESC a n).
type Align byte

// Alignments.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// QR error-correction levels (GS ( k, function 169), as the printer numbers them.
type QRLevel byte

// QR levels: L recovers 7% of the symbol, M 15%, Q 25%, H 30%.
const (
	QRLevelL QRLevel = 48
	QRLevelM QRLevel = 49
	QRLevelQ QRLevel = 50
	QRLevelH QRLevel = 51
)

// MaxQRBytes bounds a QR payload. A model-2 symbol holds up to 2953 bytes at
// level L, but a 58 mm roll fits only a small symbol that phones can scan from
// a crumpled receipt; receipts carry a short number.
const MaxQRBytes = 256

// ErrQRTooLong is returned for a QR payload longer than MaxQRBytes.
var ErrQRTooLong = errors.New("escpos: QR payload too long")

// Replacement is printed for a character that cannot be printed: a control
// character (which would otherwise become a printer command) or invalid UTF-8.
const Replacement = '?'

// Builder appends ESC/POS commands to a byte slice. Its zero value is ready;
// it never fails except for an oversize QR payload, so a receipt is built
// whole before a single byte reaches the printer.
type Builder struct {
	buf []byte
	enc *encoding.Encoder
}

// Bytes returns the commands built so far.
func (b *Builder) Bytes() []byte { return b.buf }

// Init resets the printer to its power-on modes (ESC @) and selects Chinese
// character mode (FS &), in which bytes ≥ 0x81 start GB18030 characters.
// Without FS & most Chinese printers print their code page's accented
// letters instead of hanzi.
func (b *Builder) Init() *Builder {
	b.buf = append(b.buf, ESC, '@', FS, '&')
	return b
}

// Align sets the alignment of the following lines (ESC a n).
func (b *Builder) Align(a Align) *Builder {
	b.buf = append(b.buf, ESC, 'a', byte(a))
	return b
}

// Bold turns emphasis on or off (ESC E n).
func (b *Builder) Bold(on bool) *Builder {
	b.buf = append(b.buf, ESC, 'E', boolByte(on))
	return b
}

// Double turns double width and height on or off. GS ! sizes ASCII
// characters and, on most printers, hanzi too; FS ! is the Chinese-mode
// command some printers need for hanzi, so both are sent.
func (b *Builder) Double(on bool) *Builder {
	gs, fs := byte(0x00), byte(0x00)
	if on {
		gs, fs = 0x11, 0x0C
	}
	b.buf = append(b.buf, GS, '!', gs, FS, '!', fs)
	return b
}

// Line prints text and a line feed. See Text for the encoding.
func (b *Builder) Line(text string) *Builder {
	b.Text(text)
	b.buf = append(b.buf, LF)
	return b
}

// Text prints text encoded as GB18030. Control characters (newlines
// included) and invalid UTF-8 become Replacement: text comes from
// configuration and requests, and a stray ESC in it must never reach the
// printer as a command. Runes GB18030 cannot encode are replaced too; this
// never fails.
func (b *Builder) Text(text string) *Builder {
	if b.enc == nil {
		b.enc = encoding.ReplaceUnsupported(simplifiedchinese.GB18030.NewEncoder())
	}
	clean := sanitize(text)
	out, err := b.enc.String(clean)
	if err != nil {
		// Not reached with sanitized input; degrade to ASCII rather than fail.
		out = asciiOnly(clean)
	}
	b.buf = append(b.buf, out...)
	return b
}

// sanitize replaces control characters and invalid UTF-8 with Replacement.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return Replacement
		}
		return r
	}, strings.ToValidUTF8(s, string(Replacement)))
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0x7E {
			return Replacement
		}
		return r
	}, s)
}

// Feed feeds n lines (ESC d n).
func (b *Builder) Feed(n byte) *Builder {
	b.buf = append(b.buf, ESC, 'd', n)
	return b
}

// Cut feeds the paper to the cutter and cuts it partially (GS V 66 0), so
// the receipt hangs from the roll until the villager takes it instead of
// falling to the floor.
func (b *Builder) Cut() *Builder {
	b.buf = append(b.buf, GS, 'V', 66, 0)
	return b
}

// QR prints data as a model-2 QR code with modules of size dots (1–16) at
// the given error-correction level, using the printer's own QR generator
// (GS ( k): select model, module size, level, store the data, print it.
func (b *Builder) QR(data string, size byte, level QRLevel) error {
	if len(data) > MaxQRBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrQRTooLong, len(data), MaxQRBytes)
	}
	size = min(max(size, 1), 16)
	b.buf = append(b.buf, GS, '(', 'k', 4, 0, 49, 65, 50, 0) // model 2
	b.buf = append(b.buf, GS, '(', 'k', 3, 0, 49, 67, size)
	b.buf = append(b.buf, GS, '(', 'k', 3, 0, 49, 69, byte(level))
	n := len(data) + 3
	b.buf = append(b.buf, GS, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	b.buf = append(b.buf, data...)
	b.buf = append(b.buf, GS, '(', 'k', 3, 0, 49, 81, 48)
	return nil
}

func boolByte(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// Receipt is what a kiosk prints: a title in large bold type, lines of
// text, an optional QR code and a footer.
type Receipt struct {
	Title  string
	Lines  []string
	QR     string
	Footer string
}

// QR module size and level of a receipt's code: 6 dots make a 25-module
// symbol about 19 mm wide on a 203-dpi head, scannable by an old phone;
// level M survives a fold.
const (
	receiptQRSize  = 6
	receiptQRLevel = QRLevelM
)

// Encode returns the bytes that print r. It fails only when r.QR is longer
// than MaxQRBytes.
func Encode(r Receipt) ([]byte, error) {
	var b Builder
	b.Init().Align(Center).Bold(true).Double(true).Line(r.Title).Double(false).Bold(false)
	b.Align(Left).Feed(1)
	for _, l := range r.Lines {
		b.Line(l)
	}
	if r.QR != "" {
		b.Align(Center).Feed(1)
		if err := b.QR(r.QR, receiptQRSize, receiptQRLevel); err != nil {
			return nil, err
		}
		b.Feed(1)
	}
	if r.Footer != "" {
		b.Align(Center).Line(r.Footer)
	}
	b.Align(Left).Feed(2).Cut()
	return b.Bytes(), nil
}

// Print encodes r and writes it in one Write, so that a receipt which
// could not be built sends nothing and a port error surfaces once.
func Print(w io.Writer, r Receipt) error {
	data, err := Encode(r)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("escpos: write: %w", err)
	}
	return nil
}

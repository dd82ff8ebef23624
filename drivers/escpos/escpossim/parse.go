// Package escpossim owns the dev board's simulated ESC/POS printer: parsing
// a printer's byte stream back into what would be printed (the commands,
// the decoded text lines with their alignment and emphasis, and the QR
// payloads), and a Printer that kioskd runs for a board profile with
// printer.driver simulated, which writes each receipt as text to a file.
// Tests of code that prints use drivers/escpos/escpostest, whose fake
// printer answers status queries and can be made to fail; it parses with
// this package, and kioskd must never link it.
//
// Parse reads bytes from outside (whatever a client sends), so it is fuzzed:
// it never panics, does work bounded by the input, and reports anything it
// does not understand as an error naming the offset.
package escpossim

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/fengqiao/kiosk/drivers/escpos"
)

// Errors of Parse.
var (
	ErrUnknownCommand = errors.New("escpossim: unknown command")
	ErrTruncated      = errors.New("escpossim: command cut short")
	ErrBadArgument    = errors.New("escpossim: bad command argument")
)

// Line is one printed line of text.
type Line struct {
	Text   string
	Align  escpos.Align
	Bold   bool
	Double bool // double width and height
}

// QRCode is one printed QR symbol.
type QRCode struct {
	Data  string
	Model byte
	Size  byte
	Level escpos.QRLevel
}

// Doc is what a byte stream would print.
type Doc struct {
	Commands []string // command names in order, e.g. "init", "chinese", "align", "qr-print"
	Lines    []Line
	QRs      []QRCode
	Feeds    int    // lines fed by ESC d
	Cuts     int    // cuts, full or partial
	Partial  bool   // the last cut was partial
	Pending  string // text sent after the last line feed, not yet printed
	// Chinese is true when the stream left the printer in Chinese mode.
	Chinese bool

	order []byte // what was printed, in order: 'l' line, 'q' QR code, 'c' cut
}

type state struct {
	doc     Doc
	align   escpos.Align
	bold    bool
	double  bool
	chinese bool
	text    []byte          // raw text bytes in the current mode
	line    strings.Builder // decoded text of the current line
	qr      QRCode
	qrData  []byte
	qrSet   bool
}

// Parse reads an ESC/POS stream. On an error it returns what it had parsed
// up to the offending command.
func Parse(b []byte) (Doc, error) {
	s := &state{qr: QRCode{Model: 50, Size: 3, Level: escpos.QRLevelL}}
	err := s.parse(b)
	s.doc.Pending = s.takeLine()
	s.doc.Chinese = s.chinese
	return s.doc, err
}

func (s *state) cmd(name string) { s.doc.Commands = append(s.doc.Commands, name) }

// decodeRaw moves the raw text bytes, decoded, onto the current line. In
// Chinese mode bytes ≥ 0x81 start GB18030 characters; outside it they are
// code-page letters this fake does not know, shown as U+FFFD.
func (s *state) decodeRaw() {
	if len(s.text) == 0 {
		return
	}
	if s.chinese {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(s.text)
		if err != nil {
			dec = []byte(strings.ToValidUTF8(string(s.text), "\uFFFD"))
		}
		s.line.Write(dec)
	} else {
		for _, c := range s.text {
			if c < 0x80 {
				s.line.WriteByte(c)
			} else {
				s.line.WriteRune('\uFFFD')
			}
		}
	}
	s.text = s.text[:0]
}

// takeLine returns the text of the current line and starts a new one.
func (s *state) takeLine() string {
	s.decodeRaw()
	t := s.line.String()
	s.line.Reset()
	return t
}

// flush prints the pending text as a line, as the printer does on LF (always,
// an empty line too), ESC d, a QR code and a cut (only when text is pending).
func (s *state) flush(always bool) {
	if len(s.text) == 0 && s.line.Len() == 0 && !always {
		return
	}
	s.doc.Lines = append(s.doc.Lines, Line{Text: s.takeLine(), Align: s.align, Bold: s.bold, Double: s.double})
	s.doc.order = append(s.doc.order, 'l')
}

func (s *state) parse(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c != 0x7F {
			s.text = append(s.text, c)
			i++
			continue
		}
		n, err := s.command(b[i:])
		if err != nil {
			return fmt.Errorf("%w at offset %d", err, i)
		}
		i += n
	}
	return nil
}

// command handles the command at the start of b and returns its length.
func (s *state) command(b []byte) (int, error) {
	arg := func(k int) (byte, error) {
		if len(b) <= k {
			return 0, fmt.Errorf("%w: % X", ErrTruncated, b)
		}
		return b[k], nil
	}
	switch b[0] {
	case escpos.LF:
		s.flush(true)
		s.cmd("lf")
		return 1, nil
	case '\r':
		s.cmd("cr")
		return 1, nil
	case escpos.DLE:
		if _, err := arg(1); err != nil {
			return 0, err
		}
		n, err := arg(2)
		if err != nil {
			return 0, err
		}
		if b[1] != 0x04 || n < 1 || n > 4 {
			return 0, fmt.Errorf("%w: DLE % X", ErrUnknownCommand, b[1:3])
		}
		s.cmd("status")
		return 3, nil
	case escpos.ESC:
		return s.esc(b, arg)
	case escpos.FS:
		return s.fs(b, arg)
	case escpos.GS:
		return s.gs(b, arg)
	}
	return 0, fmt.Errorf("%w: control byte %#02x", ErrUnknownCommand, b[0])
}

func (s *state) esc(b []byte, arg func(int) (byte, error)) (int, error) {
	op, err := arg(1)
	if err != nil {
		return 0, err
	}
	switch op {
	case '@':
		s.flush(false)
		s.align, s.bold, s.double, s.chinese = escpos.Left, false, false, false
		s.cmd("init")
		return 2, nil
	case '2':
		s.cmd("spacing")
		return 2, nil
	}
	n, err := arg(2)
	if err != nil {
		return 0, err
	}
	switch op {
	case 'a':
		a := n
		if a >= '0' && a <= '2' { // the printer accepts '0'..'2' as well
			a -= '0'
		}
		if a > 2 {
			return 0, fmt.Errorf("%w: ESC a %d", ErrBadArgument, n)
		}
		s.align = escpos.Align(a)
		s.cmd("align")
	case 'E':
		s.bold = n&1 == 1
		s.cmd("bold")
	case '!':
		s.bold = n&0x08 != 0
		s.double = n&0x30 == 0x30
		s.cmd("mode")
	case 'd':
		s.flush(false)
		s.doc.Feeds += int(n)
		s.cmd("feed")
	case '-':
		s.cmd("underline")
	case '3':
		s.cmd("spacing")
	default:
		return 0, fmt.Errorf("%w: ESC %#02x", ErrUnknownCommand, op)
	}
	return 3, nil
}

func (s *state) fs(b []byte, arg func(int) (byte, error)) (int, error) {
	op, err := arg(1)
	if err != nil {
		return 0, err
	}
	switch op {
	case '&':
		s.decodeModeChange(true)
		s.cmd("chinese")
		return 2, nil
	case '.':
		s.decodeModeChange(false)
		s.cmd("chinese-off")
		return 2, nil
	case '!':
		n, err := arg(2)
		if err != nil {
			return 0, err
		}
		// Hanzi size follows FS ! on some printers; GS ! already set it here.
		if n&0x0C == 0x0C {
			s.double = true
		}
		s.cmd("chinese-size")
		return 3, nil
	}
	return 0, fmt.Errorf("%w: FS %#02x", ErrUnknownCommand, op)
}

// decodeModeChange keeps text sent before a mode change decoded in the mode
// it was sent in.
func (s *state) decodeModeChange(chinese bool) {
	s.decodeRaw()
	s.chinese = chinese
}

func (s *state) gs(b []byte, arg func(int) (byte, error)) (int, error) {
	op, err := arg(1)
	if err != nil {
		return 0, err
	}
	switch op {
	case '!':
		n, err := arg(2)
		if err != nil {
			return 0, err
		}
		s.double = n&0x0F > 0 && n&0xF0 > 0
		s.cmd("size")
		return 3, nil
	case 'V':
		m, err := arg(2)
		if err != nil {
			return 0, err
		}
		length := 3
		switch m {
		case 0, 48:
			s.doc.Partial = false
		case 1, 49:
			s.doc.Partial = true
		case 65, 66:
			if _, err := arg(3); err != nil {
				return 0, err
			}
			s.doc.Partial = m == 66
			length = 4
		default:
			return 0, fmt.Errorf("%w: GS V %d", ErrBadArgument, m)
		}
		s.flush(false)
		s.doc.Cuts++
		s.doc.order = append(s.doc.order, 'c')
		s.cmd("cut")
		return length, nil
	case '(':
		return s.qrCommand(b, arg)
	}
	return 0, fmt.Errorf("%w: GS %#02x", ErrUnknownCommand, op)
}

// qrCommand parses GS ( k pL pH cn fn [args]: the 2D-code functions.
func (s *state) qrCommand(b []byte, arg func(int) (byte, error)) (int, error) {
	k, err := arg(2)
	if err != nil {
		return 0, err
	}
	if k != 'k' {
		return 0, fmt.Errorf("%w: GS ( %#02x", ErrUnknownCommand, k)
	}
	pl, err := arg(3)
	if err != nil {
		return 0, err
	}
	ph, err := arg(4)
	if err != nil {
		return 0, err
	}
	n := int(pl) | int(ph)<<8
	if n < 2 {
		return 0, fmt.Errorf("%w: GS ( k length %d", ErrBadArgument, n)
	}
	if len(b) < 5+n {
		return 0, fmt.Errorf("%w: GS ( k wants %d bytes, %d left", ErrTruncated, n, len(b)-5)
	}
	p := b[5 : 5+n] // cn fn args
	if p[0] != 49 {
		return 0, fmt.Errorf("%w: GS ( k symbol %d is not QR", ErrBadArgument, p[0])
	}
	args := p[2:]
	switch fn := p[1]; fn {
	case 65: // model: n1 n2
		if len(args) != 2 || args[0] < 49 || args[0] > 51 {
			return 0, fmt.Errorf("%w: QR model % X", ErrBadArgument, args)
		}
		s.qr.Model = args[0]
		s.cmd("qr-model")
	case 67: // module size
		if len(args) != 1 || args[0] < 1 || args[0] > 16 {
			return 0, fmt.Errorf("%w: QR size % X", ErrBadArgument, args)
		}
		s.qr.Size = args[0]
		s.cmd("qr-size")
	case 69: // error correction level
		if len(args) != 1 || args[0] < 48 || args[0] > 51 {
			return 0, fmt.Errorf("%w: QR level % X", ErrBadArgument, args)
		}
		s.qr.Level = escpos.QRLevel(args[0])
		s.cmd("qr-level")
	case 80: // store data: m=48, d1…dk
		if len(args) < 1 || args[0] != 48 {
			return 0, fmt.Errorf("%w: QR store", ErrBadArgument)
		}
		s.qrData = append(s.qrData[:0], args[1:]...)
		s.qrSet = true
		s.cmd("qr-store")
	case 81: // print the stored symbol
		if len(args) != 1 || args[0] != 48 {
			return 0, fmt.Errorf("%w: QR print", ErrBadArgument)
		}
		if !s.qrSet {
			return 0, fmt.Errorf("%w: QR print with nothing stored", ErrBadArgument)
		}
		s.flush(false)
		q := s.qr
		q.Data = string(s.qrData)
		s.doc.QRs = append(s.doc.QRs, q)
		s.doc.order = append(s.doc.order, 'q')
		s.cmd("qr-print")
	default:
		return 0, fmt.Errorf("%w: QR function %d", ErrUnknownCommand, fn)
	}
	return 5 + n, nil
}

// Text renders a doc as plain text the way it would look on paper, for a
// developer's eyes: centred lines centred in width columns (a hanzi is two
// columns), titles marked, QR codes as [QR: payload], cuts as a rule.
func (d Doc) Text(width int) string {
	var sb strings.Builder
	li, qi := 0, 0
	for _, o := range d.order {
		switch {
		case o == 'l' && li < len(d.Lines):
			sb.WriteString(layout(d.Lines[li], width))
			li++
		case o == 'q' && qi < len(d.QRs):
			sb.WriteString(layout(Line{Text: "[QR: " + d.QRs[qi].Data + "]", Align: escpos.Center}, width))
			qi++
		case o == 'c':
			sb.WriteString(strings.Repeat("-", width) + "\n")
		}
	}
	return sb.String()
}

func layout(l Line, width int) string {
	text := l.Text
	if l.Double {
		text = "【" + text + "】"
	}
	pad := width - columns(text)
	switch {
	case pad <= 0 || l.Align == escpos.Left:
		return text + "\n"
	case l.Align == escpos.Center:
		return strings.Repeat(" ", pad/2) + text + "\n"
	default:
		return strings.Repeat(" ", pad) + text + "\n"
	}
}

// columns counts print columns: ASCII is one, anything wider is two.
func columns(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x80 {
			n++
		} else {
			n += 2
		}
	}
	return n
}

package escpossim_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/drivers/escpos"
	"github.com/fengqiao/kiosk/drivers/escpos/escpossim"
)

// FuzzParse feeds arbitrary byte streams to the parser, which reads what
// any client sends to a simulated printer. Invariants: no panic, only the
// documented errors, work bounded by the input, valid UTF-8 out, and every
// line of text printed again through escpos.Builder parses back the same.
func FuzzParse(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzParse; one inline receipt as well.
	seed, err := escpos.Encode(escpos.Receipt{Title: "预约回执", Lines: []string{"预约号：00001"}, QR: "00001", Footer: "村"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, stream []byte) {
		d, err := escpossim.Parse(stream)
		if err != nil && !errors.Is(err, escpossim.ErrUnknownCommand) &&
			!errors.Is(err, escpossim.ErrTruncated) && !errors.Is(err, escpossim.ErrBadArgument) {
			t.Fatalf("undocumented error %v", err)
		}
		if len(d.Commands) > len(stream) || len(d.Lines) > len(stream) || len(d.QRs) > len(stream) {
			t.Fatalf("%d commands, %d lines, %d QR codes from %d bytes", len(d.Commands), len(d.Lines), len(d.QRs), len(stream))
		}
		_ = d.Text(32)
		for _, l := range d.Lines {
			if !utf8.ValidString(l.Text) {
				t.Fatalf("line %q is not UTF-8", l.Text)
			}
			if strings.ContainsFunc(l.Text, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) {
				continue // the Builder prints these as '?'; no round trip to check
			}
			var b escpos.Builder
			b.Init().Line(l.Text)
			again, err := escpossim.Parse(b.Bytes())
			if err != nil || len(again.Lines) != 1 || again.Lines[0].Text != l.Text {
				t.Fatalf("line %q printed again parses as %+v, %v", l.Text, again.Lines, err)
			}
		}
	})
}

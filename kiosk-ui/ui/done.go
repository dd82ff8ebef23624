package ui

import (
	"context"
	"image"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qr "github.com/piglig/go-qr"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// receipt is what a confirmation screen shows: no name, no full number.
type receipt struct {
	id     string // the record id, for printing
	number string
	lines  []string
	// offline, if any, replaces lines while the township is out of reach:
	// what lines promise (a lawyer waiting at a time) is not yet true.
	offline []string
}

func (u *UI) showDone(r receipt) {
	// A large green ✓ says it went through; the number is black on a
	// white card, not in the main action's red.
	number := bigText(u.tf(wording.DoneNumber, wording.Args{"number": r.number}), theme.SizeNameHeadingText, kiosktheme.Foreground)
	card := canvas.NewRectangle(kiosktheme.Card)
	card.CornerRadius = 12
	card.StrokeColor = kiosktheme.Foreground
	card.StrokeWidth = 2
	text := container.NewVBox(container.NewHBox(successMark(u.t(wording.DoneBooked))),
		container.NewHBox(container.NewStack(card, container.NewPadded(container.NewPadded(number)))))
	speech := u.tf(wording.DoneSpeech, wording.Args{"number": spaced(r.number)})
	lines := r.lines
	if u.status.Broker.State != "connected" {
		if lines = r.offline; lines == nil {
			lines = append(append([]string{}, r.lines...), u.t(wording.DoneOffline))
		}
	}
	for _, l := range lines {
		text.Add(paragraph(l))
		speech += strings.TrimSuffix(sayMasked(l), "。") + "。"
	}
	// The code is the township's page for this booking, the same link the
	// printed receipt carries; without one the screen promises no code. It
	// stands at the top, beside the words, not under them: on a small
	// panel in larger text the ✓ and the number alone fill the screen, and
	// a code under them would be under the fold.
	var body fyne.CanvasObject = text
	if q := qrTile(apitype.LookupURL(u.menu.BookingLookup, r.number)); q != nil {
		text.Add(paragraph(u.t(wording.DoneNoteScan)))
		speech += u.t(wording.DoneNoteScanSpeech)
		scan := container.NewVBox(container.NewCenter(q), centred(u.t(wording.PlatformScan)))
		body = container.NewBorder(nil, nil, nil, scan, text)
	} else {
		text.Add(paragraph(u.t(wording.DoneNote)))
		speech += u.t(wording.DoneNote)
	}
	// 打印 and the way home go in the action band, in view on every panel.
	var band []fyne.CanvasObject
	if u.devices.Printer.State == apitype.DeviceReady {
		var print *widget.Button
		print = widget.NewButtonWithIcon(u.t(wording.DonePrint), theme.DocumentPrintIcon(), func() {
			u.touch()
			print.Disable()
			do(u, func(ctx context.Context) error { return u.opts.Agent.Print(ctx, r.id) }, func(err error) {
				if err != nil {
					u.opts.Log.Warn("receipt not printed", "err", err)
					print.SetText(u.t(wording.DonePrintFailed))
					return
				}
				print.SetText(u.t(wording.DonePrinted))
			})
		})
		band = append(band, print)
	}
	band = append(band, primary(u.t(wording.CommonHome), u.goHome))
	redraw := func() { u.showDone(r) }
	u.present(container.NewVScroll(container.NewPadded(body)), screen{redraw: redraw, speech: speech, band: band, byLink: true})
}

// spaced reads a number digit by digit: "00007" as "0 0 0 0 7".
func spaced(s string) string {
	out := make([]rune, 0, 2*len(s))
	for i, r := range s {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, r)
	}
	return string(out)
}

// qrImage draws text as a QR code, one pixel per module with a quiet zone
// of four; the screen scales it up without smoothing. Error correction
// quartile: a quarter of the code may be lost to glare on the glass or a
// finger's smudge and a phone still reads it.
func qrImage(text string) (image.Image, error) {
	code, err := qr.EncodeText(text, qr.Quartile)
	if err != nil {
		return nil, err
	}
	const quiet = 4
	n := code.Size() + 2*quiet
	img := image.NewGray(image.Rect(0, 0, n, n))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := range code.Size() {
		for x := range code.Size() {
			if code.Module(x, y) {
				img.SetGray(x+quiet, y+quiet, color.Gray{})
			}
		}
	}
	return img, nil
}

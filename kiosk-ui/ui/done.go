package ui

import (
	"context"
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// Labels of the confirmation screen.
const (
	labelPrint   = "打印回执"
	labelPrinted = "回执已打印，请取走"
	labelBooked  = "预约成功"
)

// receipt is what a confirmation screen shows: no name, no full number.
type receipt struct {
	id     string // the record id, for printing
	number string
	lines  []string
}

func (u *UI) showDone(r receipt) {
	// A large green ✓ says it went through; the number is black on a
	// white card, not in the main action's red.
	number := bigText("预约号 "+r.number, theme.SizeNameHeadingText, kiosktheme.Foreground)
	card := canvas.NewRectangle(kiosktheme.Card)
	card.CornerRadius = 12
	card.StrokeColor = kiosktheme.Foreground
	card.StrokeWidth = 2
	text := container.NewVBox(container.NewHBox(successMark(labelBooked)),
		container.NewHBox(container.NewStack(card, container.NewPadded(container.NewPadded(number)))))
	speech := "预约成功。您的预约号是 " + spaced(r.number) + "。"
	for _, l := range r.lines {
		text.Add(paragraph(l))
		speech += sayMasked(l) + "。"
	}
	if u.status.Broker.State != "connected" {
		text.Add(paragraph("预约已保存在本机，网络恢复后会自动上报乡镇综治中心。"))
	}
	// The code is the township's page for this booking, the same link the
	// printed receipt carries; without one the screen promises no code. It
	// stands at the top, beside the words, not under them: on a small
	// panel in larger text the ✓ and the number alone fill the screen, and
	// a code under them would be under the fold.
	var body fyne.CanvasObject = text
	if q := qrTile(apitype.LookupURL(u.menu.BookingLookup, r.number)); q != nil {
		text.Add(paragraph("请记下预约号，或用微信扫一扫这个二维码，在手机上查看预约。"))
		speech += "请记下预约号，也可以用微信扫一扫屏幕上的二维码，在手机上查看预约。"
		scan := container.NewVBox(container.NewCenter(q), centred(labelScan))
		body = container.NewBorder(nil, nil, nil, scan, text)
	} else {
		text.Add(paragraph("请记下预约号。"))
		speech += "请记下预约号。"
	}
	// 打印 and the way home go in the action band, in view on every panel.
	var band []fyne.CanvasObject
	if u.devices.Printer.State == apitype.DeviceReady {
		var print *widget.Button
		print = widget.NewButtonWithIcon(labelPrint, theme.DocumentPrintIcon(), func() {
			u.touch()
			print.Disable()
			do(u, func(ctx context.Context) error { return u.opts.Agent.Print(ctx, r.id) }, func(err error) {
				if err != nil {
					u.opts.Log.Warn("receipt not printed", "err", err)
					print.SetText("打印失败，请记下预约号")
					return
				}
				print.SetText(labelPrinted)
			})
		})
		band = append(band, print)
	}
	band = append(band, primary(labelHome, u.goHome))
	redraw := func() { u.showDone(r) }
	u.present(container.NewVScroll(container.NewPadded(body)), screen{redraw: redraw, speech: speech, band: band})
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

// qrImage draws text as a QR code, one pixel per module with a quiet zone;
// the screen scales it up without smoothing.
func qrImage(text string) (image.Image, error) {
	qr, err := qrcode.New(text)
	if err != nil {
		return nil, err
	}
	w := &matrixImage{}
	if err := qr.Save(w); err != nil {
		return nil, err
	}
	return w.img, nil
}

// matrixImage is a qrcode.Writer that keeps the matrix as an image.
type matrixImage struct{ img *image.Gray }

func (m *matrixImage) Write(mat qrcode.Matrix) error {
	const quiet = 4
	bits := mat.Bitmap()
	n := len(bits) + 2*quiet
	img := image.NewGray(image.Rect(0, 0, n, n))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y, row := range bits {
		for x, set := range row {
			if set {
				img.SetGray(x+quiet, y+quiet, color.Gray{})
			}
		}
	}
	m.img = img
	return nil
}

func (m *matrixImage) Close() error { return nil }

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
)

// receipt is what a confirmation screen shows: no name, no full number.
type receipt struct {
	id     string // the record id, for printing
	number string
	lines  []string
}

// qrPayload is what the confirmation's QR code holds: the booking number a
// villager quotes, and the record id the township finds it by.
func qrPayload(r receipt) string { return "fengqiao:" + r.number + ":" + r.id }

func (u *UI) showDone(r receipt) {
	number := bigText("预约号 "+r.number, theme.SizeNameHeadingText, kiosktheme.Primary)
	lines := container.NewVBox(heading("预约成功"), container.NewCenter(number))
	speech := "预约成功。您的预约号是 " + spaced(r.number) + "。"
	if img, err := qrImage(qrPayload(r)); err == nil {
		q := canvas.NewImageFromImage(img)
		q.FillMode = canvas.ImageFillContain
		q.ScaleMode = canvas.ImageScalePixels
		q.SetMinSize(fyne.NewSize(200, 200))
		lines.Add(container.NewCenter(q))
		lines.Add(paragraph("请记下预约号，或用手机扫码保存。"))
	} else {
		u.opts.Log.Warn("no QR code for the receipt", "err", err)
		lines.Add(paragraph("请记下预约号。"))
	}
	for _, l := range r.lines {
		lines.Add(paragraph(l))
		speech += sayMasked(l) + "。"
	}
	if u.status.Broker.State != "connected" {
		lines.Add(paragraph("预约已保存在本机，网络恢复后会自动上报乡镇综治中心。"))
	}
	actions := u.grid(2)
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
		actions.Add(print)
	}
	actions.Add(primary(labelHome, u.goHome))
	lines.Add(actions)
	u.show(container.NewVScroll(container.NewPadded(lines)), speech, func() { u.showDone(r) })
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

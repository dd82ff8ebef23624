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

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// The three ways to reach a service ("513": 实体, 网络, 热线) are shown in
// the words a villager uses rather than the plan's (platform.* in the
// catalogue: 当面找, 用手机, 打电话), whatever GET /v1/menu names them.

// hotline is the public legal service hotline, the same in every province.
const hotline = "12348"

// qrMinSide is the least side of a QR code on screen, in Fyne units (one
// pixel at scale 1): 5 cm on a 10″ 1280×800 panel (151 ppi), the densest
// the kiosk ships with, which an old phone reads from a step back.
const qrMinSide = 300

// platformTiles shows how to reach service s on each platform as three
// equal tiles: where and when to go, a QR code of the service's 闽事理
// page to scan with WeChat, and the hotline in large digits. It returns
// the tiles and what the screen says of them.
func (u *UI) platformTiles(s apitype.Service) (fyne.CanvasObject, string) {
	var inPerson, online, call apitype.Platform
	for _, p := range s.Platforms {
		switch p.ID {
		case apitype.PlatformInPerson:
			inPerson = p
		case apitype.PlatformOnline:
			online = p
		case apitype.PlatformHotline:
			call = p
		}
	}
	labelInPerson, labelByPhone, labelCall := u.t(wording.PlatformInPerson), u.t(wording.PlatformByPhone), u.t(wording.PlatformCall)
	where := []fyne.CanvasObject{paragraph(inPerson.How)}
	speech := labelInPerson + "：" + inPerson.How + "。"
	if s.ID == advisorService && len(u.menu.Advisor.Duty) > 0 {
		duty := u.tf(wording.PlatformDuty, wording.Args{"times": strings.Join(u.menu.Advisor.Duty, "；")})
		where = append(where, paragraph(duty))
		speech += duty + "。"
	}

	var phone []fyne.CanvasObject
	if q := qrTile(online.URL); q != nil {
		phone = append(phone, container.NewCenter(q), centred(u.t(wording.PlatformScan)))
		speech += labelByPhone + "：" + u.t(wording.PlatformScanSpeech)
	} else {
		speech += labelByPhone + "："
	}
	if online.How != "" {
		phone = append(phone, paragraph(online.How))
		speech += online.How + "。"
	}

	// Black, not red: red is the main action.
	number := bigText(hotline, theme.SizeNameHeadingText, kiosktheme.Foreground)
	number.TextSize *= 1.5 // the one thing on the tile; readable from a chair
	dial := []fyne.CanvasObject{container.NewCenter(number)}
	speech += labelCall + "：" + u.tf(wording.PlatformCallSpeech, wording.Args{"number": spaced(hotline)})
	if call.How != "" && call.How != "拨打 "+hotline {
		dial = append(dial, paragraph(call.How))
	}

	tiles := container.New(&equalColumns{n: 3, width: func() float32 { return u.win.Canvas().Size().Width }},
		platformCard(labelInPerson, where...),
		platformCard(labelByPhone, phone...),
		platformCard(labelCall, dial...))
	return tiles, speech
}

// platformCard is one of the three tiles: a card with a heading. It is not
// tappable: each says what to do away from the kiosk.
func platformCard(title string, rows ...fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(kiosktheme.Card)
	bg.CornerRadius = 12
	bg.StrokeColor = color.NRGBA{R: 0xD8, G: 0xCF, B: 0xC2, A: 0xFF}
	bg.StrokeWidth = 2
	// A canvas text, not a label: a label's inner padding would push the
	// QR code under the fold on a small panel in larger text.
	h := bigText(title, theme.SizeNameSubHeadingText, kiosktheme.Foreground)
	box := container.NewVBox(h)
	box.Objects = append(box.Objects, rows...)
	return container.NewStack(bg, container.NewPadded(box))
}

func centred(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
}

// qrTile is link as a QR code large enough to scan off the screen, or nil
// for no link (or one too long to encode).
func qrTile(link string) *canvas.Image {
	if link == "" {
		return nil
	}
	img, err := qrImageAtLeast(link, qrMinSide)
	if err != nil {
		return nil
	}
	q := canvas.NewImageFromImage(img)
	q.FillMode = canvas.ImageFillContain
	q.ScaleMode = canvas.ImageScalePixels
	side := float32(img.Bounds().Dx())
	q.SetMinSize(fyne.NewSize(side, side))
	return q
}

// qrImageAtLeast draws text as a QR code at least side pixels wide, each
// module a whole number of pixels: at scale 1 the screen shows it pixel
// for pixel, every module the same width, which a phone's decoder needs
// more than it needs smoothness. The quiet zone stays.
func qrImageAtLeast(text string, side int) (image.Image, error) {
	small, err := qrImage(text)
	if err != nil {
		return nil, err
	}
	n := small.Bounds().Dx()
	k := max(1, (side+n-1)/n)
	big := image.NewGray(image.Rect(0, 0, n*k, n*k))
	for y := range n * k {
		for x := range n * k {
			big.Pix[y*big.Stride+x] = small.(*image.Gray).GrayAt(x/k, y/k).Y
		}
	}
	return big, nil
}

// equalColumns lays out its children side by side in n equal columns when
// they fit the window's width, and else one above the other: three tiles
// of two and one would read as two ways and an afterthought.
type equalColumns struct {
	n     int
	width func() float32 // the window's
}

func (e *equalColumns) cols(objs []fyne.CanvasObject) (int, fyne.Size) {
	var cell fyne.Size
	for _, o := range objs {
		cell = cell.Max(o.MinSize())
	}
	pad := theme.Padding()
	if avail := e.width() - sideMargin; avail > 0 && float32(e.n)*cell.Width+float32(e.n-1)*pad > avail {
		return 1, cell
	}
	return e.n, cell
}

// Stacked, each child keeps its own height: a phone number stretched to
// the height of a QR code would push the page's dates under the fold.
func (e *equalColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	cols, cell := e.cols(objs)
	pad := theme.Padding()
	if cols == 1 {
		h := float32(len(objs)-1) * pad
		for _, o := range objs {
			h += o.MinSize().Height
		}
		return fyne.NewSize(cell.Width, h)
	}
	rows := (len(objs) + cols - 1) / cols
	return fyne.NewSize(float32(cols)*cell.Width+float32(cols-1)*pad, float32(rows)*cell.Height+float32(rows-1)*pad)
}

func (e *equalColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	cols, cell := e.cols(objs)
	pad := theme.Padding()
	if cols == 1 {
		var y float32
		for _, o := range objs {
			h := o.MinSize().Height
			o.Move(fyne.NewPos(0, y))
			o.Resize(fyne.NewSize(size.Width, h))
			y += h + pad
		}
		return
	}
	w := (size.Width - float32(cols-1)*pad) / float32(cols)
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(w+pad), float32(r)*(cell.Height+pad)))
		o.Resize(fyne.NewSize(w, cell.Height))
	}
}

// eventRow is a dated lecture or fair of service with what a villager can
// do with it: a villager who cannot read or write still takes the date
// home, in the ear (event.say_date) or on paper (event.print_date).
func (u *UI) eventRow(service string, e apitype.Event) fyne.CanvasObject {
	actions := container.NewHBox()
	if u.devices.Speech.State == apitype.DeviceReady {
		actions.Add(widget.NewButtonWithIcon(u.t(wording.EventSayDate), theme.VolumeUpIcon(), func() {
			u.touch()
			u.say(u.eventSpeech(e))
		}))
	}
	if u.devices.Printer.State == apitype.DeviceReady {
		var print *widget.Button
		print = widget.NewButtonWithIcon(u.t(wording.EventPrintDate), theme.DocumentPrintIcon(), func() {
			u.touch()
			print.Disable() // one slip a tap, not one per impatient tap
			do(u, func(ctx context.Context) error { return u.opts.Agent.PrintEvent(ctx, service, e.At) }, func(err error) {
				if err != nil {
					u.opts.Log.Warn("event date not printed", "err", err)
					print.SetText(u.t(wording.EventPrintFailed))
					return
				}
				print.SetText(u.t(wording.EventPrinted))
			})
		})
		actions.Add(print)
	}
	return container.NewBorder(nil, nil, nil, actions, paragraph(eventLine(e)))
}

// eventSpeech is an event as it is read aloud: the date in full, then
// what and where.
func (u *UI) eventSpeech(e apitype.Event) string {
	return u.tf(wording.EventSpeech, wording.Args{"date": slotLabel(e.At), "title": e.Title, "place": e.Place})
}

package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// tile is a large tappable card with a title and a line of explanation: a
// button's text cannot wrap, and elderly villagers need both lines.
type tile struct {
	widget.BaseWidget
	Title   string
	Summary string
	onTap   func()
	bg      color.Color
}

func newTile(title, summary string, bg color.Color, onTap func()) *tile {
	t := &tile{Title: title, Summary: summary, onTap: onTap, bg: bg}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tile) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(t.bg)
	bg.CornerRadius = 12
	bg.StrokeColor = color.NRGBA{R: 0xD8, G: 0xCF, B: 0xC2, A: 0xFF}
	bg.StrokeWidth = 2
	title := widget.NewLabelWithStyle(t.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	summary := widget.NewLabel(t.Summary)
	summary.Wrapping = fyne.TextWrapWord
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewPadded(container.NewVBox(title, summary))))
}

// Tapped implements fyne.Tappable.
func (t *tile) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

// MinSize keeps even an empty tile a comfortable target.
func (t *tile) MinSize() fyne.Size {
	return t.BaseWidget.MinSize().Max(fyne.NewSize(kiosktheme.MinTouch*2, kiosktheme.MinTouch*1.5))
}

// primary returns the one button a screen wants pressed.
func primary(label string, tap func()) *widget.Button {
	b := widget.NewButton(label, tap)
	b.Importance = widget.HighImportance
	return b
}

func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

func paragraph(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func weekdayCN(d time.Weekday) string {
	return [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[d]
}

// dayLabel is how a date reads on a button: "11月26日 周四".
func dayLabel(t time.Time) string {
	return t.Format("1月2日 ") + weekdayCN(t.Weekday())
}

// slotLabel is a full appointment time: "11月26日 周四 14:30".
func slotLabel(t time.Time) string {
	return dayLabel(t) + t.Format(" 15:04")
}

// grid lays out choices in up to maxCols columns: as many as fit the
// window's width at the current text size, so that in larger text or on a
// portrait panel no button is squeezed below its text and nothing runs off
// the side of the screen.
func (u *UI) grid(maxCols int) *fyne.Container {
	return container.New(&fitColumns{max: maxCols, width: func() float32 { return u.win.Canvas().Size().Width }})
}

// fitColumns is a grid layout whose column count follows the widest child
// and the window's width.
type fitColumns struct {
	max   int
	width func() float32 // the window's
}

// sideMargin is what the screen's padding and scroll bar take of the width.
const sideMargin = 80

func (f *fitColumns) cols(objs []fyne.CanvasObject) (cols int, cell fyne.Size) {
	for _, o := range objs {
		cell = cell.Max(o.MinSize())
	}
	pad := theme.Padding()
	cols = f.max
	if avail := f.width() - sideMargin; avail > 0 {
		cols = min(cols, int((avail+pad)/(cell.Width+pad)))
	}
	return max(cols, 1), cell
}

func (f *fitColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	cols, cell := f.cols(objs)
	rows := (len(objs) + cols - 1) / cols
	pad := theme.Padding()
	return fyne.NewSize(float32(cols)*cell.Width+float32(cols-1)*pad, float32(rows)*cell.Height+float32(rows-1)*pad)
}

func (f *fitColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	cols, cell := f.cols(objs)
	pad := theme.Padding()
	w := (size.Width - float32(cols-1)*pad) / float32(cols)
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(w+pad), float32(r)*(cell.Height+pad)))
		o.Resize(fyne.NewSize(w, cell.Height))
	}
}

// choice is one of several options. A chosen one is outlined and carries a
// large ✓ (chosenOption), plainly not the red main action; colour is never
// the only cue. Either way the option's words are on a button.
func choice(label string, chosen bool, tap func()) fyne.CanvasObject {
	if chosen {
		return newChosenOption(label, tap)
	}
	return widget.NewButton(label, tap)
}

// bigText is a canvas text at one of the theme's sizes.
func bigText(text string, size fyne.ThemeSizeName, c color.Color) *canvas.Text {
	t := canvas.NewText(text, c)
	t.TextSize = theme.Size(size)
	t.TextStyle.Bold = true
	t.Alignment = fyne.TextAlignCenter
	return t
}

// errorText is a step's error, in the error look (errorBox): a bordered
// box with a warning sign, worded as an instruction.
func errorText(msg string) fyne.CanvasObject { return errorBox(msg) }

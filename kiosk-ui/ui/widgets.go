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
	l.SizeName = theme.SizeNameHeadingText
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

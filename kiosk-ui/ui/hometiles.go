package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// The home screen's pieces (issue 17 item 2): the two bookings as the
// largest keys, each with its pictogram; a tile with a pictogram for each
// of the five services; and 12348 as a block of its own.

// servicePictogram is a service's pictogram on its home tile: Fyne's
// bundled Material icons (Apache 2.0, part of Fyne) and this repository's
// own (pictogram.go).
func servicePictogram(id string) fyne.Resource {
	switch id {
	case advisorService:
		return theme.AccountIcon() // a person: the village's own lawyer
	case serviceLecture:
		return pictTalk // someone speaking to the village
	case checkupService:
		return theme.ConfirmIcon() // a tick: a check-up
	case servicePublicity:
		return theme.InfoIcon()
	case serviceFair:
		return pictBuilding // stalls at the market
	}
	return theme.InfoIcon()
}

// withPictogram draws icon at the side of key: at the leading edge of a
// booking key (whose text is centred, clear of it), or at the end of a
// service tile's title row.
func withPictogram(key fyne.CanvasObject, icon fyne.Resource, leading bool) *fyne.Container {
	img := canvas.NewImageFromResource(icon)
	img.FillMode = canvas.ImageFillContain
	return container.New(&pictoLayout{leading: leading}, key, img)
}

// pictoLayout lays out a key (the first object) over all its space and a
// pictogram (the second) a little larger than a heading, at one side.
type pictoLayout struct{ leading bool }

func (pictoLayout) icon() float32 { return 1.6 * theme.Size(theme.SizeNameSubHeadingText) }

func (l pictoLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	k, i, pad := objs[0].MinSize(), l.icon(), theme.Padding()
	if l.leading {
		// Room for the icon on both sides, so that the centred text
		// never runs under it.
		return fyne.NewSize(k.Width+2*(i+2*pad), max(k.Height, i+4*pad))
	}
	return fyne.NewSize(k.Width+i+2*pad, k.Height)
}

func (l pictoLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	i, pad := l.icon(), theme.Padding()
	objs[0].Move(fyne.Position{})
	objs[0].Resize(size)
	objs[1].Resize(fyne.NewSize(i, i))
	if l.leading {
		objs[1].Move(fyne.NewPos(3*pad, (size.Height-i)/2))
	} else {
		objs[1].Move(fyne.NewPos(size.Width-i-3*pad, 3*pad))
	}
}

// bookingKey is one of the two bookings: a primary button, with its
// pictogram, made as tall as the screen allows by the home layout.
func bookingKey(label string, icon fyne.Resource, tap func()) (*widget.Button, fyne.CanvasObject) {
	b := widget.NewButtonWithIcon(label, icon, tap)
	b.Importance = widget.HighImportance
	th := fyne.CurrentApp().Settings().Theme()
	return b, container.NewThemeOverride(b, bigIconTheme{th})
}

// requestKey is 我要反映 or its check on the home screen: a plain button
// with its pictogram, below the bookings and smaller than they are.
func requestKey(label string, icon fyne.Resource, tap func()) (*widget.Button, fyne.CanvasObject) {
	b := widget.NewButtonWithIcon(label, icon, tap)
	th := fyne.CurrentApp().Settings().Theme()
	return b, container.NewThemeOverride(b, bigIconTheme{th})
}

// bigIconTheme draws a button's icon at a pictogram's size.
type bigIconTheme struct{ fyne.Theme }

func (t bigIconTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameInlineIcon {
		return 1.6 * t.Theme.Size(theme.SizeNameSubHeadingText)
	}
	return t.Theme.Size(n)
}

// hotlineBlock is 12348 as a block of its own: the number in very large
// digits, tapped for a page that says what the line is for.
type hotlineBlock struct {
	widget.BaseWidget
	label string
	onTap func()
}

func newHotlineBlock(label string, tap func()) *hotlineBlock {
	h := &hotlineBlock{label: label, onTap: tap}
	h.ExtendBaseWidget(h)
	return h
}

func (h *hotlineBlock) CreateRenderer() fyne.WidgetRenderer {
	// Dark ink on a white block in a thick ink outline, with a handset: a
	// number to call, not the main action, so not in its red (nor in the
	// offline notice's amber).
	bg := canvas.NewRectangle(kiosktheme.Card)
	bg.CornerRadius = 12
	bg.StrokeColor = kiosktheme.Foreground
	bg.StrokeWidth = 4
	number := bigText(hotline, theme.SizeNameHeadingText, kiosktheme.Foreground)
	number.TextSize *= 1.5
	label := bigText(h.label, theme.SizeNameSubHeadingText, kiosktheme.Foreground)
	phone := canvas.NewImageFromResource(theme.NewThemedResource(pictPhone))
	phone.FillMode = canvas.ImageFillContain
	phone.SetMinSize(fyne.NewSquareSize(number.MinSize().Height))
	row := container.NewHBox(layout.NewSpacer(), phone, label, number, layout.NewSpacer())
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewPadded(row)))
}

// Tapped implements fyne.Tappable.
func (h *hotlineBlock) Tapped(*fyne.PointEvent) {
	if h.onTap != nil {
		h.onTap()
	}
}

// MinSize keeps the block at least two targets tall.
func (h *hotlineBlock) MinSize() fyne.Size {
	return h.BaseWidget.MinSize().Max(fyne.NewSize(0, 2*theme.Size(kiosktheme.SizeNameTouch)))
}

// homeLayout stacks the home screen's rows at their own heights, and
// shares what height is left between the rows marked to grow, in
// proportion to their weight: on a portrait totem the keys grow to fill
// the upper part instead of leaving it empty.
type homeLayout struct{ weight []float32 }

func (l *homeLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		if i > 0 {
			s.Height += theme.Padding()
		}
	}
	return s
}

func (l *homeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	extra := size.Height - l.MinSize(objs).Height
	total := float32(0)
	for _, w := range l.weight {
		total += w
	}
	y := float32(0)
	for i, o := range objs {
		h := o.MinSize().Height
		if extra > 0 && total > 0 && i < len(l.weight) {
			h += extra * l.weight[i] / total
		}
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + theme.Padding()
	}
}

// fillGrid is fitColumns whose rows share the height they are given.
type fillGrid struct{ fitColumns }

func (f *fillGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	cols, cell := f.cols(objs)
	rows := (len(objs) + cols - 1) / cols
	pad := theme.Padding()
	w := (size.Width - float32(cols-1)*pad) / float32(cols)
	h := max(cell.Height, (size.Height-float32(rows-1)*pad)/float32(rows))
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(w+pad), float32(r)*(h+pad)))
		o.Resize(fyne.NewSize(w, h))
	}
}

func (u *UI) fillGrid(maxCols int) *fyne.Container {
	return container.New(&fillGrid{fitColumns{max: maxCols, width: func() float32 { return u.win.Canvas().Size().Width }}})
}

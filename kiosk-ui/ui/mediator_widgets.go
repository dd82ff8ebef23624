package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// lineColours are the triage lines' own colours, as the township's paper
// forms print them: a chip beside the words, never instead of them.
var lineColours = map[string]color.NRGBA{
	apitype.LineRed:    {R: 0xC6, G: 0x28, B: 0x28, A: 0xFF},
	apitype.LineYellow: {R: 0xF9, G: 0xC0, B: 0x2D, A: 0xFF},
	apitype.LineBlue:   {R: 0x15, G: 0x65, B: 0xC0, A: 0xFF},
}

// lineChip is a triage line's colour as a square chip with a dark edge, so
// a yellow one still shows on a light button.
func lineChip(line string) *canvas.Rectangle {
	r := canvas.NewRectangle(lineColours[line])
	r.StrokeColor = kiosktheme.Foreground
	r.StrokeWidth = 1
	r.CornerRadius = 4
	side := theme.Size(theme.SizeNameSubHeadingText) * 1.2
	r.SetMinSize(fyne.NewSize(side, side))
	return r
}

// lineChoice is the choice of a triage line: the button with its words and,
// at its leading edge, a chip of the line's colour.
func lineChoice(line string, chosen bool, tap func()) fyne.CanvasObject {
	b := choice(lineLabels[line], chosen, tap)
	return container.NewStack(b, container.NewHBox(container.NewCenter(container.NewPadded(lineChip(line))), layout.NewSpacer()))
}

// maskPhone shows a party's number the way kioskd's case pages do (138****1111):
// the room can see the screen, and the mediator needs only to recognise it.
func maskPhone(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// partyLine is how the form lists a party added without a card.
func partyLine(name, phone string) string {
	if phone == "" {
		return name
	}
	return name + "　" + maskPhone(phone)
}

// offsetIn is where target lies inside root, laid out, or false when root
// does not hold it.
func offsetIn(root, target fyne.CanvasObject) (fyne.Position, bool) {
	if root == target {
		return fyne.Position{}, true
	}
	c, ok := root.(*fyne.Container)
	if !ok {
		return fyne.Position{}, false
	}
	for _, o := range c.Objects {
		if p, ok := offsetIn(o, target); ok {
			return p.Add(o.Position()), true
		}
	}
	return fyne.Position{}, false
}

// scrollTo scrolls the screen's scroll container so that target is at its
// top. The content is laid out at the scroll's width first: a screen just
// shown may not have been.
func scrollTo(s *container.Scroll, target fyne.CanvasObject) {
	if s == nil || s.Content == nil {
		return
	}
	min := s.Content.MinSize()
	s.Content.Resize(fyne.NewSize(max(s.Size().Width, min.Width), max(s.Size().Height, min.Height)))
	p, ok := offsetIn(s.Content, target)
	if !ok {
		return
	}
	s.ScrollToOffset(fyne.NewPos(0, p.Y))
}

// bar is one row of a simple bar chart: its words (with the number) above a
// bar whose length is its value's share of the largest.
type bar struct {
	label string
	value int
	fill  color.Color
}

// barChart draws rows of bars on one scale, the largest value filling the
// width. The numbers are written out in the words too: a bar is glanced
// at, not measured.
func barChart(rows []bar) *fyne.Container {
	most := 0
	for _, r := range rows {
		most = max(most, r.value)
	}
	out := container.NewVBox()
	for _, r := range rows {
		track := canvas.NewRectangle(color.NRGBA{R: 0xEC, G: 0xE6, B: 0xDD, A: 0xFF})
		track.CornerRadius = 4
		fill := canvas.NewRectangle(r.fill)
		fill.CornerRadius = 4
		out.Add(paragraph(r.label))
		out.Add(container.New(&barLayout{share: share(r.value, most)}, track, fill))
	}
	return out
}

func share(n, of int) float32 {
	if of <= 0 || n <= 0 {
		return 0
	}
	return float32(n) / float32(of)
}

// barLayout lays out a track across the width and a bar over share of it.
// A bar of a non-zero value is never thinner than a sliver.
type barLayout struct{ share float32 }

// barHeight is a bar's thickness.
const barHeight = 28

func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	track, fill := objs[0], objs[1]
	track.Move(fyne.Position{})
	track.Resize(size)
	w := size.Width * l.share
	if l.share > 0 {
		w = max(w, 6)
	}
	fill.Move(fyne.Position{})
	fill.Resize(fyne.NewSize(w, size.Height))
}

func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(0, barHeight) }

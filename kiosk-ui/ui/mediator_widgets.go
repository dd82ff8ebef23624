package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// lineColours are the triage lines' own colours, as the township's paper
// forms print them: a chip beside the words, never instead of them.
var lineColours = map[string]string{
	apitype.LineRed:    "#C62828",
	apitype.LineYellow: "#F9C02D",
	apitype.LineBlue:   "#1565C0",
}

// lineChip is a triage line's colour as a square chip with a dark edge (a
// yellow one still shows on a light button), ticked when chosen: the tick,
// not the chip's colour, says which line is chosen. A button's icon is laid
// out beside its words, never over them, however narrow the column.
func lineChip(line string, chosen bool) fyne.Resource {
	tick := ""
	if chosen {
		ink := "#FFFFFF"
		if line == apitype.LineYellow {
			ink = "#1A1A1A"
		}
		tick = `<path d="M6 12.5l4 4 8-9" fill="none" stroke="` + ink + `" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>`
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">` +
		`<rect x="1" y="1" width="22" height="22" rx="4" fill="` + lineColours[line] + `" stroke="#1A1A1A" stroke-width="1.5"/>` + tick + `</svg>`
	name := "line-" + line + ".svg"
	if chosen {
		name = "line-" + line + "-chosen.svg"
	}
	return fyne.NewStaticResource(name, []byte(svg))
}

// lineChoice is the choice of a triage line: its words (label), with a chip
// of the line's colour before them. A chosen line has every chosen option's
// look (chosenLook), not the main action's red.
func lineChoice(line, label string, chosen bool, tap func()) fyne.CanvasObject {
	b := widget.NewButtonWithIcon(label, lineChip(line, chosen), tap)
	if chosen {
		return chosenLook(b)
	}
	return b
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

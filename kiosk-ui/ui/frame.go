package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// The frame is what every screen is drawn in, laid out for the panel's
// form factor (issue 17): the header (the kiosk's name, the date, and on a
// large landscape panel 朗读 and 大字), the screen's own content, which
// scrolls, and under it the action band, which never does: the screen's
// way back, its primary action, and on a portrait or small panel 朗读 and
// 大字. So on every panel, in both text sizes, what takes a villager on
// or back is on screen without scrolling, and on a portrait totem it is
// in the band a hand reaches, below the information.

// formFactor is the shape of the panel the kiosk draws on.
type formFactor int

const (
	// formWide is a large landscape panel (1920×1080): room for a header
	// with 朗读 and 大字 beside the kiosk's name.
	formWide formFactor = iota
	// formPortrait is a portrait totem (1080×1920): information in the
	// upper part, and every action, 朗读 and 大字 too, in the band below.
	formPortrait
	// formCompact is a small landscape panel (1280×800): a one-line
	// header with 朗读 and 大字 at its end, so that the band below keeps
	// to one row of actions even in larger text (beside them 朗读 and 大字
	// would wrap it to a second, 125 px of the 800), and the date left out
	// in larger text, where the line has no room for it.
	formCompact
)

// compactHeight: a landscape window less tall than this gets the compact
// header.
const compactHeight = 1000

func (u *UI) form() formFactor {
	s := u.win.Canvas().Size()
	switch {
	case s.Height > s.Width:
		return formPortrait
	case s.Height > 0 && s.Height < compactHeight:
		return formCompact
	}
	return formWide
}

// arrangeChrome lays out the header for the form factor, and says whether
// 朗读 and 大字 go in the band instead of the header. It changes nothing
// when the form factor has not changed: a refresh repaints the window.
func (u *UI) arrangeChrome() {
	f := u.form()
	lead := u.screen.lead
	if f != formCompact {
		lead = nil
	}
	if u.chromeSet && f == u.chromeForm && lead == u.chromeLead {
		return
	}
	u.chromeSet, u.chromeForm, u.chromeLead = true, f, lead
	var h fyne.CanvasObject
	switch f {
	case formWide:
		h = container.NewBorder(nil, nil, container.NewVBox(u.title, u.clock), container.NewHBox(u.readAloud, u.textSwitch))
	case formCompact:
		// The name and the date on one line: on 800 pixels in larger
		// text a second line is a tenth of the screen.
		// In a flow the step indicator takes the name's place: there is
		// no room for both above a keypad in larger text.
		var left fyne.CanvasObject = container.NewHBox(u.title, u.clock)
		if lead != nil {
			left = lead
		}
		h = container.NewBorder(nil, nil, left, container.NewHBox(u.readAloud, u.textSwitch))
	default:
		h = container.NewVBox(u.title, u.clock)
	}
	u.header.Objects = []fyne.CanvasObject{h}
	u.header.Refresh()
	u.sizeHeader()
	u.setBand(u.screen.band)
}

// toolsInBand says whether 朗读 and 大字 are in the band.
func (u *UI) toolsInBand() bool { return u.chromeSet && u.chromeForm == formPortrait }

// setBand puts the screen's actions, and 朗读 and 大字 where they belong
// there, in the action band.
func (u *UI) setBand(actions []fyne.CanvasObject) {
	objs := append([]fyne.CanvasObject{}, actions...)
	tools := 0
	if u.toolsInBand() {
		objs = append(objs, u.readAloud, u.textSwitch)
		tools = 2
	}
	u.bandLayout.tools = tools
	u.band.Objects = objs
	u.band.Refresh()
	// A band of another height (more rows, or larger text) moves the
	// body's bottom edge: the window's layout must run again, or the
	// band's last row is drawn under the bottom of the screen.
	if c := u.win.Content(); c != nil && u.band.Size().Height != u.band.MinSize().Height {
		c.Refresh()
	}
}

// frame draws a screen: top stays put above the content (a flow's step
// indicator and question), content scrolls, and actions go in the band
// with the screen's primary action, which frame takes out of the content
// (see liftPrimary) unless actions has one already.
func (u *UI) frame(top []fyne.CanvasObject, content fyne.CanvasObject, actions []fyne.CanvasObject, speech string, redraw func()) {
	u.framePage("", top, content, actions, speech, redraw)
}

// framePage is frame for a page with a title: above its content, or on a
// small panel in the header in place of the kiosk's name, where it costs
// no height of its own (a service's QR code must stand whole above the
// band there, in larger text too).
func (u *UI) framePage(title string, top []fyne.CanvasObject, content fyne.CanvasObject, actions []fyne.CanvasObject, speech string, redraw func()) {
	if !hasPrimary(actions) {
		if p := liftPrimary(content); p != nil {
			actions = append(actions, p)
		}
	}
	var lead fyne.CanvasObject
	if title != "" {
		if lead = u.titleLead(title); lead == nil {
			c, ok := content.(*fyne.Container)
			if ok {
				c.Objects = append([]fyne.CanvasObject{heading(title)}, c.Objects...)
			}
		}
	}
	if len(top) > 0 {
		if s, ok := top[0].(*stepIndicator); ok && u.form() == formCompact {
			s.compact = true
			lead, top = s, top[1:]
		}
	}
	var obj fyne.CanvasObject = container.NewVScroll(container.NewPadded(content))
	if len(top) > 0 {
		obj = container.NewBorder(container.NewPadded(container.NewVBox(top...)), nil, nil, nil, obj)
	}
	u.present(obj, screen{redraw: redraw, speech: speech, band: actions, lead: lead})
}

// titleLead is a page's title for a compact header, in place of the
// kiosk's name; nil on other panels, or when the title does not fit there
// beside 朗读 and 大字.
func (u *UI) titleLead(title string) fyne.CanvasObject {
	if u.form() != formCompact {
		return nil
	}
	t := canvas.NewText(title, kiosktheme.Foreground)
	t.TextStyle.Bold = true
	t.TextSize = theme.Size(theme.SizeNameText)
	tools := container.NewHBox(u.readAloud, u.textSwitch).MinSize().Width
	if t.MinSize().Width+tools+6*theme.Padding() > u.win.Canvas().Size().Width {
		return nil
	}
	return t
}

// leadFromHeading moves a screen's heading, the first thing in its
// scrolled content, into a compact header (see titleLead): a done
// screen's QR code must stand whole above the band on a small panel.
func (u *UI) leadFromHeading(obj fyne.CanvasObject) fyne.CanvasObject {
	s, ok := obj.(*container.Scroll)
	if !ok || u.form() != formCompact {
		return nil
	}
	c, ok := s.Content.(*fyne.Container)
	for ok && len(c.Objects) > 0 {
		switch v := c.Objects[0].(type) {
		case *fyne.Container:
			c = v
			continue
		case *widget.Label:
			if v.SizeName != theme.SizeNameSubHeadingText || !v.TextStyle.Bold {
				return nil
			}
			lead := u.titleLead(v.Text)
			if lead != nil {
				c.Objects = c.Objects[1:]
			}
			return lead
		}
		return nil
	}
	return nil
}

// isPrimary says whether o is a button made by primary(): the action a
// screen wants taken. A chosen choice is also of high importance, but
// carries its tick.
func isPrimary(o fyne.CanvasObject) bool {
	b, ok := o.(*widget.Button)
	return ok && b.Importance == widget.HighImportance && b.Icon == nil
}

func hasPrimary(objs []fyne.CanvasObject) bool {
	for _, o := range objs {
		if isPrimary(o) {
			return true
		}
	}
	return false
}

// liftPrimary takes a screen's primary action out of its content, to go in
// the band: the one primary() button in content's containers, if there is
// exactly one. So the screens that build their primary action into their
// content (the keypad's 下一步, 确认预约 under the details) need not know
// where the band is on this panel.
func liftPrimary(content fyne.CanvasObject) *widget.Button {
	var found *widget.Button
	var parent *fyne.Container
	n := 0
	var walk func(c *fyne.Container)
	walk = func(c *fyne.Container) {
		for _, o := range c.Objects {
			switch v := o.(type) {
			case *fyne.Container:
				walk(v)
			case *widget.Button:
				if isPrimary(v) {
					found, parent = v, c
					n++
				}
			}
		}
	}
	if s, ok := content.(*container.Scroll); ok {
		content = s.Content // a screen laid out in its own scroll (done.go)
	}
	c, ok := content.(*fyne.Container)
	if !ok {
		return nil
	}
	walk(c)
	if n != 1 {
		return nil
	}
	for i, o := range parent.Objects {
		if o == found {
			parent.Objects = append(parent.Objects[:i], parent.Objects[i+1:]...)
			break
		}
	}
	return found
}

// bandLayout lays out the action band: when everything fits one row, 朗读
// and 大字 (the last tools objects) on the left, where they are on every
// screen, and the screen's actions to their right, its primary action
// last; otherwise the actions in as many rows as they need and 朗读 and
// 大字 on a row below. Every row fills the width.
type bandLayout struct {
	tools int
	width func() float32 // the window's
}

func (b *bandLayout) rows(objs []fyne.CanvasObject, width float32) [][]fyne.CanvasObject {
	var acts, tools []fyne.CanvasObject
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		if i >= len(objs)-b.tools {
			tools = append(tools, o)
		} else {
			acts = append(acts, o)
		}
	}
	pad := theme.Padding()
	fits := func(row []fyne.CanvasObject) bool {
		w := float32(0)
		for _, o := range row {
			w += o.MinSize().Width + pad
		}
		return w-pad <= width
	}
	if all := append(append([]fyne.CanvasObject{}, tools...), acts...); fits(all) {
		if len(all) == 0 {
			return nil
		}
		return [][]fyne.CanvasObject{all}
	}
	var rows [][]fyne.CanvasObject
	wrap := func(objs []fyne.CanvasObject) {
		var row []fyne.CanvasObject
		for _, o := range objs {
			if len(row) > 0 && !fits(append(row[:len(row):len(row)], o)) {
				rows = append(rows, row)
				row = nil
			}
			row = append(row, o)
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	wrap(acts)
	wrap(tools)
	return rows
}

func (b *bandLayout) avail(size float32) float32 {
	if size > 0 {
		return size
	}
	return b.width() - 2*theme.Padding() // the window pads its content
}

func (b *bandLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	pad := theme.Padding()
	for i, row := range b.rows(objs, b.avail(0)) {
		h := float32(0)
		for _, o := range row {
			m := o.MinSize()
			s.Width = max(s.Width, m.Width)
			h = max(h, m.Height)
		}
		if i > 0 {
			s.Height += pad
		}
		s.Height += h
	}
	return s
}

func (b *bandLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	y := float32(0)
	for _, row := range b.rows(objs, size.Width) {
		used, h := float32(0), float32(0)
		for _, o := range row {
			m := o.MinSize()
			used += m.Width
			h = max(h, m.Height)
		}
		extra := max(0, size.Width-used-pad*float32(len(row)-1)) / float32(len(row))
		x := float32(0)
		for _, o := range row {
			w := o.MinSize().Width + extra
			o.Move(fyne.NewPos(x, y))
			o.Resize(fyne.NewSize(w, h))
			x += w + pad
		}
		y += h + pad
	}
}

// tight draws o with less padding inside its labels on a small panel,
// where a step's question takes a tenth of the height otherwise.
func (u *UI) tight(o fyne.CanvasObject) fyne.CanvasObject {
	if u.form() != formCompact {
		return o
	}
	return container.NewThemeOverride(o, tightTheme{fyne.CurrentApp().Settings().Theme()})
}

type tightTheme struct{ fyne.Theme }

func (t tightTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameInnerPadding {
		return 2
	}
	return t.Theme.Size(n)
}

// numberSize is the size of the number typed on a keypad: a heading's,
// but on a small panel a subheading's, which leaves the pad room to stand
// centred with the number beside it.
func (u *UI) numberSize() fyne.ThemeSizeName {
	if u.form() == formCompact {
		return theme.SizeNameSubHeadingText
	}
	return theme.SizeNameHeadingText
}

// stepChrome is the height a flow's step takes from the window besides its
// content: the header, the step indicator and question, and the action
// band with a way back, 取消 and a primary action, at the current size.
func (u *UI) stepChrome() float32 {
	pad := theme.Padding()
	top := u.tight(heading("第")).MinSize().Height
	if u.form() != formCompact {
		top += u.newStepIndicator([]string{stepName}, 0).MinSize().Height + theme.Padding()
	}
	band := container.New(&bandLayout{width: u.bandLayout.width},
		widget.NewButton(u.t(wording.BookingBack), nil), widget.NewButton(u.t(wording.BookingCancel), nil), primary(u.t(wording.BookingNext), nil))
	if u.toolsInBand() {
		band.Add(widget.NewButtonWithIcon(u.t(wording.CommonReadAloud), theme.VolumeUpIcon(), nil))
		band.Add(widget.NewButton(u.t(wording.CommonStandard), nil))
		band.Layout.(*bandLayout).tools = 2
	}
	return u.top.MinSize().Height + top + band.MinSize().Height + 6*pad
}

// panelTheme is the theme for this kiosk's panel in the current text size.
func (u *UI) panelTheme() fyne.Theme {
	return kiosktheme.ForPanel(u.panel, u.large)
}

// setPanel takes the panel kioskd reports (GET /v1/menu panel) and sizes
// the type for it. A kioskd that does not say keeps the pixel sizes.
func (u *UI) setPanel(p *apitype.Panel) {
	var next kiosktheme.Panel
	if p != nil {
		next = kiosktheme.Panel{Width: p.Width, Height: p.Height, Diagonal: p.Diagonal}
	}
	if next == u.panel {
		return
	}
	u.panel = next
	u.setTheme(u.panelTheme())
	u.sizeHeader()
	u.opts.Log.Info("panel", "width", next.Width, "height", next.Height, "diagonal_in", next.Diagonal,
		"text_px", theme.Size(theme.SizeNameText), "text_pt", next.Points(theme.Size(theme.SizeNameText)))
}

// Short names of the steps, for the step indicator: two or three
// characters each, so that six fit across a 1280-pixel panel in larger text.
var stepNames = map[string]wording.Key{
	stepTopic:    wording.BookingStepTopic,
	stepDay:      wording.BookingStepDay,
	stepTime:     wording.BookingStepTime,
	stepName:     wording.BookingStepName,
	stepPhone:    wording.BookingStepPhone,
	stepConfirm:  wording.BookingStepConfirm,
	stepCategory: wording.BookingStepCategory,
	stepWho:      wording.BookingStepWho,
	stepPrefer:   wording.BookingStepPrefer,
	stepVenue:    wording.BookingStepVenue,
	stepOther:    wording.BookingStepOther,

	stepReqKind:     wording.RequestStepKind,
	stepReqCategory: wording.RequestStepCategory,
	stepReqPhrases:  wording.RequestStepPhrases,
	stepReqPlace:    wording.RequestStepPlace,
	stepReqContact:  wording.RequestStepContact,
}

// stepIndicator shows where a villager is in a flow: every step, numbered
// and named, the ones done ticked off in green, the current one in red
// and bold with a bar under it, so that it reads without its colour too.
//
// A compact one, in the header of a small panel, names only the current
// step and numbers the others.
type stepIndicator struct {
	widget.BaseWidget
	names   []string
	current int    // index into names
	says    string // "第 2 步（共 4 步）"
	compact bool
}

func (u *UI) newStepIndicator(steps []string, current int) *stepIndicator {
	s := &stepIndicator{current: current}
	for _, id := range steps {
		s.names = append(s.names, u.t(stepNames[id]))
	}
	s.says = u.tf(wording.BookingStepOf, wording.Args{"n": current + 1, "total": len(steps)})
	s.ExtendBaseWidget(s)
	return s
}

// String says in words what the indicator shows: "第 2 步（共 4 步）".
func (s *stepIndicator) String() string { return s.says }

func (s *stepIndicator) CreateRenderer() fyne.WidgetRenderer {
	cells := container.NewGridWithColumns(len(s.names))
	if s.compact {
		cells = container.NewHBox()
	}
	for i, name := range s.names {
		bg := canvas.NewRectangle(color.NRGBA{R: 0xEC, G: 0xE6, B: 0xDD, A: 0xFF})
		bg.CornerRadius = 8
		fg := color.Color(color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xFF})
		var under fyne.CanvasObject = canvas.NewRectangle(color.Transparent)
		switch {
		case i < s.current:
			bg.FillColor = color.NRGBA{R: 0xE3, G: 0xF1, B: 0xE4, A: 0xFF}
			fg = kiosktheme.Good
		case i == s.current:
			bg.FillColor = kiosktheme.Primary
			fg = color.White
			bar := canvas.NewRectangle(kiosktheme.Foreground)
			bar.SetMinSize(fyne.NewSize(0, 6))
			under = bar
		}
		label := fmt.Sprintf("%d %s", i+1, name)
		if s.compact && i != s.current {
			label = fmt.Sprintf(" %d ", i+1)
		}
		txt := canvas.NewText(label, fg)
		txt.TextSize = theme.Size(theme.SizeNameText)
		txt.TextStyle.Bold = i == s.current
		txt.Alignment = fyne.TextAlignCenter
		cell := container.NewStack(bg, container.NewPadded(txt))
		cells.Add(container.NewBorder(nil, under, nil, nil, cell))
	}
	return widget.NewSimpleRenderer(cells)
}

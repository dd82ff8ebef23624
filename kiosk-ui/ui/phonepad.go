package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// keyShare is a key's height as a share of the panel's shorter side: 124
// px on a 1080p panel either way round, which a shaking finger hits, and
// 92 px on a 1280×800 one, where the pad and 下一步 must still fit.
const keyShare = 0.115

// keyAspect is a key's width to its height: a phone's keys are wider than
// tall, and a pad this wide stays within reach of one hand.
const keyAspect = 1.5

// keypad is an on-screen phone-style pad, 1–9 and 清除/0/删除, centred
// at a fixed key size that follows the panel rather than the window's
// width: a 625 px key stretched across a landscape panel is a bar, not a
// key, and the villager's eye has to travel the screen to find the next
// digit. It edits *value up to maxLen digits and calls changed after every key.
func (u *UI) keypad(value *string, maxLen int, changed func()) fyne.CanvasObject {
	key := func(label string, apply func(string) string) *widget.Button {
		return widget.NewButton(label, func() {
			u.touch()
			if v := apply(*value); len(v) <= maxLen {
				*value = v
			}
			changed()
		})
	}
	pad := container.New(&padLayout{key: u.keySize})
	for _, d := range "123456789" {
		pad.Add(key(string(d), func(v string) string { return v + string(d) }))
	}
	pad.Add(key(u.t(wording.BookingClear), func(string) string { return "" }))
	pad.Add(key("0", func(v string) string { return v + "0" }))
	pad.Add(key(u.t(wording.BookingDelete), func(v string) string {
		if v == "" {
			return v
		}
		return v[:len(v)-1]
	}))
	// Digits larger than body text: on a key this size body text looks
	// lost, and the digit is what the villager looks for. Not so large that
	// the key must grow past its size, which on a small panel in larger
	// text would push the bottom row below the fold.
	th := fyne.CurrentApp().Settings().Theme()
	body := th.Size(theme.SizeNameText)
	text := max(body, min(th.Size(theme.SizeNameHeadingText), u.keySize().Height*0.45))
	return container.NewThemeOverride(pad, keyTheme{Theme: th, text: text})
}

// keySize is a key's size on this panel: its share of the panel, but no
// taller than lets four rows stand between a step's title and its way back
// (which in larger text on a 1280×800 panel is the tighter bound).
func (u *UI) keySize() fyne.Size {
	s := u.win.Canvas().Size()
	pad := theme.Padding()
	chrome := u.stepChrome() + 4*pad
	fits := (s.Height - chrome - (padRows-1)*2*pad) / padRows
	h := max(theme.Size(kiosktheme.SizeNameTouch), min(min(s.Width, s.Height)*keyShare, fits))
	return fyne.NewSize(h*keyAspect, h)
}

// padLayout lays a keypad out 3 keys wide at a fixed key size (larger when a
// key's label needs it, as in larger text), centred in the space it is given.
type padLayout struct {
	key func() fyne.Size
}

const padCols, padRows = 3, 4

// gap between keys: wide enough that a finger resting between two keys
// presses neither. keySize counts on it.
func (l *padLayout) gap() float32 { return 2 * theme.Padding() }

func (l *padLayout) cell(objs []fyne.CanvasObject) fyne.Size {
	c := l.key()
	for _, o := range objs {
		c = c.Max(o.MinSize())
	}
	return c
}

func (l *padLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	c, g := l.cell(objs), l.gap()
	rows := (len(objs) + padCols - 1) / padCols
	return fyne.NewSize(padCols*c.Width+(padCols-1)*g, float32(rows)*c.Height+float32(rows-1)*g)
}

func (l *padLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	c, g := l.cell(objs), l.gap()
	x0 := max(0, (size.Width-l.MinSize(objs).Width)/2)
	for i, o := range objs {
		r, col := i/padCols, i%padCols
		o.Move(fyne.NewPos(x0+float32(col)*(c.Width+g), float32(r)*(c.Height+g)))
		o.Resize(c)
	}
}

// keyTheme is the screen's theme with larger text on the keys.
type keyTheme struct {
	fyne.Theme
	text float32
}

func (k keyTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return k.text
	case theme.SizeNameInnerPadding:
		// A key's size comes from keySize; the padding only matters where
		// the digit would outgrow it (30 pt on a 1280×800 panel), and
		// there four rows must still fit above the action band.
		return min(k.Theme.Size(n), 2)
	}
	return k.Theme.Size(n)
}

// phoneEntry is the content of a phone step: the number so far, grouped as
// people write and say it, and the keypad. On 下一步 a plausible number is
// read back aloud digit by digit, so a villager who misread a key hears it
// before the mediator calls someone else; then next is called.
func (u *UI) phoneEntry(p *person, setErr func(string), next func()) fyne.CanvasObject {
	return u.phoneEntryWith(p, nil, setErr, next)
}

// phoneEntryWith is phoneEntry with who, whose number it is, shown above
// the number.
func (u *UI) phoneEntryWith(p *person, who fyne.CanvasObject, setErr func(string), next func()) fyne.CanvasObject {
	display := bigText(phoneDisplay(p.phone), u.numberSize(), kiosktheme.Foreground)
	display.TextStyle.Monospace = true
	pad := u.keypad(&p.phone, 12, func() {
		display.Text = phoneDisplay(p.phone)
		display.Refresh()
	})
	ok := primary(u.t(wording.BookingNext), func() {
		if !plausiblePhone(p.phone) {
			setErr(u.t(wording.PhoneInvalid))
			return
		}
		u.readBack(p.phone)
		next()
	})
	var above []fyne.CanvasObject
	if who != nil {
		above = append(above, who)
	}
	return u.padScreen(pad, append(above, container.NewCenter(display)), ok)
}

// padScreen lays out a keypad with what stands above it (whose number, the
// number so far) and its action. In landscape those stand beside the pad
// instead, so that pad and action fit above the fold on a 1280×800 panel.
func (u *UI) padScreen(pad fyne.CanvasObject, above []fyne.CanvasObject, action fyne.CanvasObject) *fyne.Container {
	if s := u.win.Canvas().Size(); s.Width > s.Height {
		beside := container.New(&besidePad{}, pad, container.NewVBox(append(above, action)...))
		// Unless what stands beside is too wide for it (a long line in
		// 18 pt on a 1280×800 panel): then above, as in portrait.
		if beside.MinSize().Width <= s.Width-sideMargin {
			return beside
		}
	}
	return container.NewVBox(append(above, pad, action)...)
}

// besidePad lays out a keypad (the first object) centred, with the second
// beside it on the right; when the width cannot hold that, the two are
// centred together instead, which never needs more than their own width.
type besidePad struct{}

func (besidePad) gap() float32 { return 4 * theme.Padding() }

func (b besidePad) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad, side := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(pad.Width+b.gap()+side.Width, max(pad.Height, side.Height))
}

func (b besidePad) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad, side := objs[0].MinSize(), objs[1].MinSize()
	x := (size.Width - pad.Width) / 2
	if size.Width < pad.Width+2*(b.gap()+side.Width) {
		x = max(0, (size.Width-b.MinSize(objs).Width)/2)
	}
	objs[0].Move(fyne.NewPos(x, 0))
	objs[0].Resize(pad)
	objs[1].Move(fyne.NewPos(x+pad.Width+b.gap(), 0))
	objs[1].Resize(side)
}

// readBack says a confirmed phone number aloud, digit by digit. It is the
// villager's own number, asked for by their tap on 下一步; the read-aloud
// button still says only its last four digits.
func (u *UI) readBack(phone string) {
	// Voice guidance only, and never in mediator mode, where it would read
	// a party's number out to the room. The next screen says it first.
	if !u.voiceOn() || u.med.signedIn() {
		return
	}
	u.pendingSpeech = u.tf(wording.PhoneReadBack, wording.Args{"number": phoneReadBack(phone)})
}

func phoneDisplay(p string) string {
	if p == "" {
		return "＿＿＿"
	}
	return phoneGroups(p)
}

// phoneGroups groups a number as it is typed, the way it is written on a
// card: a mobile 3-4-4 (138 0000 1111), a landline its area code and then
// fours (0599 5317 356). Groups only ever grow at the end, so a digit
// already typed never jumps.
func phoneGroups(p string) string {
	var first int
	switch {
	case p == "":
		return ""
	case p[0] == '1':
		first = 3
	case strings.HasPrefix(p, "01") || strings.HasPrefix(p, "02"):
		first = 3 // Beijing, Shanghai, Tianjin, Chongqing and the 02x cities
	case p[0] == '0':
		first = 4 // 0599 and every other area code in Fujian
	default:
		first = 4
	}
	groups := []string{p[:min(first, len(p))]}
	for rest := p[min(first, len(p)):]; rest != ""; rest = rest[min(4, len(rest)):] {
		groups = append(groups, rest[:min(4, len(rest))])
	}
	return strings.Join(groups, " ")
}

// phoneReadBack words a number for the ear, a digit at a time and a pause
// between groups: "幺三八，零零零零，幺幺幺幺". 1 is 幺, as anyone reading out
// a phone number says it, so that it cannot be heard as 七.
func phoneReadBack(p string) string {
	names := [...]string{"零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"}
	var out []string
	for _, g := range strings.Fields(phoneGroups(p)) {
		var b strings.Builder
		for _, d := range g {
			if d >= '0' && d <= '9' {
				b.WriteString(names[d-'0'])
			}
		}
		out = append(out, b.String())
	}
	return strings.Join(out, "，")
}

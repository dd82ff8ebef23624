package ui

import (
	"context"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// The screen dims when nobody has used it for a while on the home screen:
// a bright panel in an empty village hall all night wastes power and wears
// the backlight. It wakes on a touch, on a card placed on the reader, and
// on the presence sensor (GET /v1/presence) when someone walks up.

// dimLevel is how dark the dimmed screen is: dark enough to save the
// panel, light enough that the kiosk is visibly on.
var dimLevel = color.NRGBA{A: 0xd8}

// dimmer covers the window; a tap anywhere wakes the screen.
type dimmer struct {
	widget.BaseWidget
	hint  string // dim.wake
	onTap func()
}

func newDimmer(hint string, onTap func()) *dimmer {
	d := &dimmer{hint: hint, onTap: onTap}
	d.ExtendBaseWidget(d)
	return d
}

func (d *dimmer) Tapped(*fyne.PointEvent) { d.onTap() }

func (d *dimmer) CreateRenderer() fyne.WidgetRenderer {
	hint := canvas.NewText(d.hint, color.NRGBA{R: 0xcc, G: 0xcc, B: 0xcc, A: 0xff})
	hint.TextSize = theme.Size(theme.SizeNameHeadingText)
	hint.Alignment = fyne.TextAlignCenter
	return widget.NewSimpleRenderer(container.NewStack(canvas.NewRectangle(dimLevel), container.NewCenter(hint)))
}

// dimAfter is how long the home screen stays lit untouched.
func (u *UI) dimAfter() time.Duration {
	if u.opts.DimAfter > 0 {
		return u.opts.DimAfter
	}
	return 2 * u.opts.IdleTimeout
}

// checkDim dims an untouched home screen.
func (u *UI) checkDim() {
	if u.dim != nil || !u.screen.home || u.opts.Now().Sub(u.lastActivity) < u.dimAfter() {
		return
	}
	u.dim = newDimmer(u.t(wording.DimWake), u.wake)
	u.dim.Resize(u.win.Canvas().Size()) // an overlay covers the window only if sized to it
	u.win.Canvas().Overlays().Add(u.dim)
	u.opts.Log.Debug("screen dimmed")
}

// wake lights the screen again for someone using it (a touch, a card):
// that counts as activity.
func (u *UI) wake() {
	u.touch()
	u.undim()
}

// undim lights the screen for someone walking up (the presence sensor).
// That is not activity: passers-by in a busy hall must not keep a draft
// that a villager walked away from on screen.
func (u *UI) undim() {
	if u.dim == nil {
		return
	}
	u.win.Canvas().Overlays().Remove(u.dim)
	u.dim = nil
}

// Dimmed says whether the screen is dimmed now.
func (u *UI) Dimmed() bool { return u.dim != nil }

// WatchPresence wakes the screen when the presence sensor sees someone,
// until ctx is done. A kiosk without a sensor answers every long-poll empty.
func (u *UI) WatchPresence(ctx context.Context) {
	var after uint64
	first := true
	longPoll(ctx, u, func(ctx context.Context) error {
		p, err := u.opts.Agent.Presence(ctx, after, cardPollWait)
		if err != nil {
			return err
		}
		// The first answer only says where the count stands: a sighting
		// from before this screen started wakes nothing.
		if p.Seq != after && !first {
			fyne.Do(u.presenceWake)
		}
		after, first = p.Seq, false
		return nil
	})
}

var _ fyne.Tappable = (*dimmer)(nil)

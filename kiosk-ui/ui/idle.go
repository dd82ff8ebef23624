package ui

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Before an untouched screen is reset it asks, on screen and aloud, whether
// anyone is still there: an elderly villager reading slowly, or a mediator
// listening to the parties, keeps everything with one tap anywhere. Without
// it the reset came without warning and took half-entered details with it.

// IdleWarning is how long before the reset the screen asks.
const IdleWarning = 15 * time.Second

// DefaultMediatorIdleTimeout is the reset time while a mediator is signed
// in, until the site config's (GET /v1/menu mediator_idle_seconds) is known.
const DefaultMediatorIdleTimeout = 10 * time.Minute

// idleTimeout is the reset time in force: a signed-in mediator has their own.
func (u *UI) idleTimeout() time.Duration {
	if u.med.signedIn() {
		return u.opts.MediatorIdleTimeout
	}
	return u.opts.IdleTimeout
}

// idleWarning covers the window while the screen asks; a tap anywhere on
// it, as on 继续, keeps everything.
type idleWarning struct {
	widget.BaseWidget
	question string   // idle.still_there
	detail   []string // short lines: a wrapped label in a centred box is laid out one character wide
	button   string   // idle.continue
	tapHint  string   // idle.tap_continue, with button in it
	onTap    func()
}

func (u *UI) newIdleWarning(detail []string, onTap func()) *idleWarning {
	w := &idleWarning{question: u.t(wording.IdleStillThere), detail: detail, button: u.t(wording.IdleContinue), onTap: onTap}
	w.tapHint = u.tf(wording.IdleTapContinue, wording.Args{"button": w.button})
	w.ExtendBaseWidget(w)
	return w
}

// speech is what the screen says aloud as the warning comes up.
func (w *idleWarning) speech() string {
	return w.question + strings.Join(w.detail, "") + w.tapHint
}

func (w *idleWarning) Tapped(*fyne.PointEvent) { w.onTap() }

func (w *idleWarning) CreateRenderer() fyne.WidgetRenderer {
	rows := container.NewVBox(bigText(w.question, theme.SizeNameHeadingText, kiosktheme.Foreground))
	for _, line := range w.detail {
		rows.Add(widget.NewLabelWithStyle(line, fyne.TextAlignCenter, fyne.TextStyle{}))
	}
	cont := primary(w.button, w.onTap)
	// As large as the panel allows: whoever is there may be a step away.
	h := 2 * theme.Size(theme.SizeNameText)
	big := container.NewGridWrap(fyne.NewSize(max(6*h, kiosktheme.MinTouch*4), max(h*1.5, kiosktheme.MinTouch*2)), cont)
	card := canvas.NewRectangle(kiosktheme.Card)
	card.CornerRadius = 16
	rows.Add(container.NewCenter(big))
	panel := container.NewStack(card, container.NewPadded(container.NewPadded(rows)))
	shade := canvas.NewRectangle(color.NRGBA{A: 0x99})
	return widget.NewSimpleRenderer(container.NewStack(shade, container.NewCenter(panel)))
}

var _ fyne.Tappable = (*idleWarning)(nil)

// warningDetail says what the reset will take.
func (u *UI) warningDetail() []string {
	secs := int(IdleWarning.Seconds())
	if u.med.signedIn() {
		// Promise a draft only where one will be kept: a walk-in form has
		// no case to keep it under, a list page nothing to keep.
		if u.med.form != nil && worthKeeping(u.med.form) {
			return []string{u.tf(wording.IdleMediatorReset, wording.Args{"s": secs}), u.t(wording.IdleMediatorDraft)}
		}
		return []string{u.tf(wording.IdleMediatorSignout, wording.Args{"s": secs})}
	}
	return []string{u.tf(wording.IdleVillagerReset, wording.Args{"s": secs}), u.t(wording.IdleVillagerWiped)}
}

// checkIdleWarning shows the warning once the screen has been idle for all
// but IdleWarning of its reset time, and takes it away otherwise. Run calls
// it with the time idle so far; nothing on the home screen is lost, so it
// never warns there.
func (u *UI) checkIdleWarning(idle time.Duration) {
	due := !u.screen.home && idle >= u.idleTimeout()-IdleWarning
	switch {
	case due && u.warn == nil:
		u.showIdleWarning()
	case !due:
		u.hideIdleWarning()
	}
}

func (u *UI) showIdleWarning() {
	u.warn = u.newIdleWarning(u.warningDetail(), u.keepUsing)
	u.warn.Resize(u.win.Canvas().Size()) // an overlay covers the window only if sized to it
	u.win.Canvas().Overlays().Add(u.warn)
	u.opts.Log.Info("idle warning shown", "mediator", u.med.signedIn())
	// Spoken as every screen is under voice guidance (ui.voice): a site
	// that turned voice off asked for a quiet kiosk. 朗读 still reads it.
	if u.voiceOn() {
		u.say(u.warn.speech())
	}
}

// keepUsing is a tap on the warning: someone is there.
func (u *UI) keepUsing() { u.touch() }

// hideIdleWarning takes the warning away, if it is up.
func (u *UI) hideIdleWarning() {
	if u.warn == nil {
		return
	}
	u.win.Canvas().Overlays().Remove(u.warn)
	u.warn = nil
}

// IdleWarned says whether the screen is asking whether anyone is there.
func (u *UI) IdleWarned() bool { return u.warn != nil }

// untilIdleEvent is how long until the warning or the reset is due, or 0
// when neither is ahead: Run wakes for it, so that the warning comes its
// full 15 s before the reset and not up to a poll interval late.
func (u *UI) untilIdleEvent() time.Duration {
	if u.screen.home {
		return 0
	}
	idle := u.opts.Now().Sub(u.lastActivity)
	for _, at := range []time.Duration{u.idleTimeout() - IdleWarning, u.idleTimeout()} {
		if idle < at {
			return at - idle
		}
	}
	return 0
}

// Package ui owns the kiosk's touch screens: the "513" home menu and the five
// services on their three platforms, the legal check-up questionnaire, the
// consultation and mediation booking flows with their receipts, mediator mode
// for tea-room sessions, and the calm notice shown while the township is
// unreachable. Every screen has a read-aloud button and a larger-text switch.
//
// It talks to kioskd only through the Agent interface (the local API client on
// a kiosk, a fake in tests) and keeps nothing of its own: every record lives in
// kioskd, so the UI can crash and restart without losing anything. A villager's
// details live in the draft only until the flow ends or the screen is left
// idle, and are then wiped; a mediator is signed out on idle too, after a
// longer time, their unsaved session form kept in kioskd as a draft
// (mediator_draft.go). The screen asks before either reset (idle.go).
package ui

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Agent is what the screens need from kioskd.
type Agent interface {
	Status(ctx context.Context) (apitype.Status, error)
	Menu(ctx context.Context) (apitype.Menu, error)
	Slots(ctx context.Context, service string) (apitype.Slots, error)
	Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error)
	BookMediation(ctx context.Context, req apitype.MediationRequest) (apitype.Mediation, error)
	CardEvents(ctx context.Context, after uint64, wait time.Duration) (apitype.CardEvents, error)
	Presence(ctx context.Context, after uint64, wait time.Duration) (apitype.PresenceEvents, error)
	Devices(ctx context.Context) (apitype.Devices, error)
	Speak(ctx context.Context, text string) error
	Print(ctx context.Context, id string) error
	PrintEvent(ctx context.Context, service string, at time.Time) error
	// MarkInUse tells kioskd someone is using the screen for d (inuse.go).
	MarkInUse(ctx context.Context, d time.Duration) error
	Requests
	Mediator
	Points
}

// Points is what 美德银行 needs from kioskd (points.go).
type Points interface {
	Points(ctx context.Context) (apitype.Points, error)
	PointsByCard(ctx context.Context, card string) (apitype.PointsAccount, error)
	PointsView(ctx context.Context, view string) (apitype.PointsAccount, error)
	EndPointsView(ctx context.Context, view string) error
}

// Requests is what 我要反映 and its check need from kioskd (request.go).
type Requests interface {
	RequestMenu(ctx context.Context) (apitype.RequestMenu, error)
	SubmitRequest(ctx context.Context, req apitype.RequestSubmit) (apitype.RequestReceipt, error)
	CheckRequest(ctx context.Context, number string, proof apitype.RequestProof) (apitype.Request, error)
	RequestsByCard(ctx context.Context, card string) (apitype.Requests, error)
}

// Mediator is what mediator mode needs from kioskd. Every call but sign-in
// carries the session token.
type Mediator interface {
	MediatorSignIn(ctx context.Context, card, pin string) (apitype.MediatorSession, error)
	MediatorSignOut(ctx context.Context, token string) error
	Cases(ctx context.Context, token string) (apitype.Cases, error)
	Case(ctx context.Context, token, id string) (apitype.Case, error)
	NewCase(ctx context.Context, token string, req apitype.NewCase) (apitype.Case, error)
	LogSession(ctx context.Context, token, caseID string, req apitype.SessionRequest) (apitype.Session, error)
	HoldCard(ctx context.Context, token, card string) (apitype.CardSummary, error)
	Photo(ctx context.Context, token, caseID string, req apitype.PhotoRequest) (apitype.Photo, error)
	Phrases(ctx context.Context, token string) (apitype.Phrases, error)
	FollowUps(ctx context.Context, token string) (apitype.FollowUps, error)
	FollowUpDone(ctx context.Context, token, caseID string, req apitype.FollowUpDone) (apitype.FollowUp, error)
	Indicators(ctx context.Context, token string) (apitype.Indicators, error)
	SaveDraft(ctx context.Context, token, caseID string, f apitype.DraftForm) (apitype.SessionDraft, error)
	Drafts(ctx context.Context, token string) (apitype.SessionDrafts, error)
	DeleteDraft(ctx context.Context, token, caseID string) error
}

// Options configure the UI.
type Options struct {
	Agent Agent
	Log   *slog.Logger
	Now   func() time.Time
	// Go runs a blocking call to the agent off the UI thread; the result is
	// applied with fyne.Do. Tests pass a runner that calls f at once, so a tap
	// has had all its effects when test.Tap returns.
	Go func(f func())
	// IdleTimeout returns an unattended screen to the home menu, wipes
	// whatever a villager entered and signs a mediator out. Zero: the site
	// config's (GET /v1/menu idle_seconds), DefaultIdleTimeout until known.
	IdleTimeout time.Duration
	// MediatorIdleTimeout replaces IdleTimeout while a mediator is signed
	// in. Zero: the site config's (mediator_idle_seconds),
	// DefaultMediatorIdleTimeout until known.
	MediatorIdleTimeout time.Duration
	// DimAfter dims the home screen left untouched this long; zero means
	// twice IdleTimeout.
	DimAfter time.Duration
	// CallTimeout bounds one call to kioskd.
	CallTimeout time.Duration
	// SetTheme switches between standard and larger text; by default the
	// current app's settings.
	SetTheme func(fyne.Theme)
	// ReleaseMemory gives the fonts a theme switch discards back to the
	// system, some 50 MB with the CJK font (see setTheme); kiosk-ui passes
	// debug.FreeOSMemory. Nil does nothing: tests switch themes hundreds of
	// times, and a forced collection of the test's heap each time is slow.
	ReleaseMemory func()
}

// UI is the kiosk's window content.
type UI struct {
	opts Options
	win  fyne.Window

	title      *canvas.Text
	clock      *canvas.Text
	header     *fyne.Container
	readAloud  *widget.Button
	textSwitch *widget.Button
	top        *fyne.Container // header and banner: re-laid out when the banner changes
	banner     *fyne.Container
	bannerText *widget.Label
	body       *fyne.Container
	band       *fyne.Container // the action band under the body (frame.go)
	bandLayout *bandLayout
	chromeSet  bool
	chromeForm formFactor
	chromeLead fyne.CanvasObject
	panel      kiosktheme.Panel // the panel kioskd reports, for the type's size

	menu      apitype.Menu
	hasMenu   bool
	status    apitype.Status
	reachable bool
	devices   apitype.Devices
	large     bool

	screen screen // what is on screen, to redraw it after a theme switch
	// homeKeys are the home screen's bookings and 12348, which must be in
	// view on every panel (TestActionsNeedNoScrolling).
	homeKeys []fyne.CanvasObject
	// pendingSpeech is said before the next screen's own words (a number
	// read back as its step is left): said apart, the next screen's
	// announcement would cut it off, since kioskd stops what it is saying.
	pendingSpeech string
	draft         draft
	med           mediatorState
	// rq is a request being raised and chk a check under way (request.go,
	// check.go); nil otherwise. rq may hold a card and a phone: it is
	// wiped with the draft.
	rq  *reqDraft
	chk *checkState
	// pts is a points screen under way (points.go); nil otherwise. It
	// may hold a villager's account: it is wiped with the draft.
	pts *pointsState

	lastActivity time.Time
	idleFromSite bool    // IdleTimeout follows the site config
	menuVersion  uint64  // the content version u.menu was loaded at
	dim          *dimmer // the overlay while the screen is dimmed

	medIdleSite bool         // MediatorIdleTimeout follows the site config
	warn        *idleWarning // the overlay asking whether anyone is there

	markedAt time.Time // when kioskd's in-use mark was last renewed (inuse.go)

	untouched bool // the screen is being drawn again for no one's input (redrawUntouched)
}

// screen is what is on screen: how to draw it again and what to read aloud.
type screen struct {
	redraw func()
	speech string
	home   bool
	// band is the screen's actions for the action band: its way back and
	// its primary action (frame.go).
	band []fyne.CanvasObject
	// lead takes the kiosk's name's place in a compact header: a flow's
	// step indicator.
	lead fyne.CanvasObject
	// byLink says the screen words what is true from the township's
	// link (a done screen): it is drawn again when the link changes.
	byLink bool
	// loading is the screen shown until the menu loads: like home, it is
	// nobody's session and marks nothing, or a menu that keeps failing
	// would hold the updater back with every idle reset (inuse.go).
	loading bool
}

// DefaultIdleTimeout is how long an untouched screen keeps a villager's
// details before returning home.
const DefaultIdleTimeout = 60 * time.Second

// New builds the UI into win and starts loading the menu.
func New(win fyne.Window, opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Go == nil {
		opts.Go = func(f func()) { go f() }
	}
	idleFromSite := opts.IdleTimeout == 0
	if idleFromSite {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	medIdleSite := opts.MediatorIdleTimeout == 0
	if medIdleSite {
		opts.MediatorIdleTimeout = DefaultMediatorIdleTimeout
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.SetTheme == nil {
		opts.SetTheme = func(t fyne.Theme) { fyne.CurrentApp().Settings().SetTheme(t) }
	}
	u := &UI{opts: opts, win: win, idleFromSite: idleFromSite, medIdleSite: medIdleSite}
	u.title = canvas.NewText("", kiosktheme.Foreground)
	u.title.TextStyle.Bold = true
	u.clock = canvas.NewText("", kiosktheme.Foreground)
	u.readAloud = widget.NewButtonWithIcon(u.t(wording.CommonReadAloud), theme.VolumeUpIcon(), u.speak)
	u.readAloud.Hide() // until kioskd says it can speak
	u.textSwitch = widget.NewButton(u.t(wording.CommonLarger), u.toggleTextSize)
	u.bannerText = widget.NewLabel("")
	u.bannerText.Wrapping = fyne.TextWrapWord
	bannerBG := canvas.NewRectangle(kiosktheme.Notice)
	u.banner = container.NewStack(bannerBG, container.NewPadded(u.bannerText))
	u.banner.Hide()
	u.body = container.NewStack()

	// The header and the action band follow the panel's form factor
	// (arrangeChrome, frame.go).
	u.header = container.NewStack()
	headerBG := canvas.NewRectangle(kiosktheme.Card)
	u.top = container.NewVBox(container.NewStack(headerBG, container.NewPadded(u.header)), u.banner)
	u.bandLayout = &bandLayout{width: func() float32 { return u.win.Canvas().Size().Width }}
	u.band = container.New(u.bandLayout)
	win.SetContent(container.NewBorder(u.top, u.band, nil, nil, u.body))
	u.arrangeChrome()
	u.sizeHeader()
	u.tickClock()
	u.showLoading()
	u.loadMenu()
	u.loadDevices()
	return u
}

// sizeHeader sets the header's text from the current theme, which the text
// switch changes.
func (u *UI) sizeHeader() {
	u.title.TextSize = theme.Size(theme.SizeNameSubHeadingText)
	u.clock.Show()
	if u.chromeForm == formCompact {
		u.title.TextSize = theme.Size(theme.SizeNameText) // bold; one line with the date
		if u.large {
			u.clock.Hide() // no room beside the name and 朗读 and 标准字
		}
	}
	u.clock.TextSize = theme.Size(theme.SizeNameText)
	u.title.Refresh()
	u.clock.Refresh()
}

// homePollEvery is how often Run asks kioskd for its status while the home
// screen is up: a kiosk spends most of the day on it, unattended, and each
// round wakes the UI. Someone walking up sees a notice at most this old;
// once they start a flow, Run is back to every. Nothing on the home screen
// needs the idle timeout, and dimming can come this much late.
const homePollEvery = 30 * time.Second

// Run refreshes the status banner and the date and enforces the idle and dim
// timeouts, every `every` while the kiosk is in use, until ctx is done. Each
// round wakes the UI thread once.
func (u *UI) Run(ctx context.Context, every time.Duration) {
	for {
		next := make(chan time.Duration, 1)
		u.refreshStatus(func() {
			u.tickClock()
			if !u.hasMenu {
				u.loadMenu()
			}
			u.checkIdle()
			u.checkDim()
			u.checkPoints()
			next <- u.pollEvery(every)
		})
		var wait time.Duration
		select {
		case <-ctx.Done():
			return
		case wait = <-next:
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// pollEvery is the wait before Run's next round.
func (u *UI) pollEvery(every time.Duration) time.Duration {
	if u.screen.home {
		return max(every, homePollEvery)
	}
	if d := u.untilIdleEvent(); d > 0 && d < every {
		return d
	}
	return every
}

// tickClock shows the date. Not the time of day: Fyne repaints the whole
// window for any change, and a minute hand would cost a full software
// repaint every minute all day on a board without a GPU.
func (u *UI) tickClock() {
	now := u.opts.Now()
	text := now.Format("1月2日 ") + weekdayCN(now.Weekday())
	if text == u.clock.Text {
		return // a refresh repaints the whole window, in software on most boards
	}
	u.clock.Text = text
	u.clock.Refresh()
}

// call runs fn against the agent off the UI thread and then applies done on it.
func call[T any](u *UI, fn func(ctx context.Context) (T, error), done func(T, error)) {
	u.opts.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), u.opts.CallTimeout)
		defer cancel()
		v, err := fn(ctx)
		fyne.Do(func() { done(v, err) })
	})
}

// do is call for agent methods that return only an error.
func do(u *UI, fn func(ctx context.Context) error, done func(error)) {
	call(u, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) },
		func(_ struct{}, err error) { done(err) })
}

func (u *UI) loadMenu() { u.loadMenuAt(u.menuVersion) }

// loadMenuAt loads the menu for content version v (GET /v1/status
// control.content_version); a load that fails leaves the version behind,
// so the next status poll tries again.
func (u *UI) loadMenuAt(v uint64) {
	call(u, u.opts.Agent.Menu, func(m apitype.Menu, err error) {
		if err != nil {
			u.opts.Log.Warn("menu not loaded; retrying", "err", err)
			return
		}
		u.menuVersion = v
		first := !u.hasMenu
		u.setPanel(m.Panel)
		u.menu, u.hasMenu = m, true
		if u.idleFromSite && m.IdleSeconds > 0 {
			u.opts.IdleTimeout = time.Duration(m.IdleSeconds) * time.Second
		}
		if u.medIdleSite && m.MediatorIdleSeconds > 0 {
			u.opts.MediatorIdleTimeout = time.Duration(m.MediatorIdleSeconds) * time.Second
		}
		// The header's buttons were worded before the site's corrections
		// arrived, and a correction may have changed since.
		u.readAloud.SetText(u.t(wording.CommonReadAloud))
		u.labelTextSwitch()
		if u.title.Text != m.KioskName {
			u.title.Text = m.KioskName
			u.title.Refresh()
		}
		// A flow under way keeps the choices it offered; the new content
		// shows from the next screen drawn from the menu, and at once on
		// the home screen.
		if first || u.screen.home {
			u.showHome()
		}
	})
}

// loadDevices asks which optional devices work now: without speech the
// read-aloud button is hidden, without a printer there is no print button.
// refreshStatus asks again with every status poll, since a printer that
// failed at start-up comes back and speech is ready again after an
// utterance plays.
func (u *UI) loadDevices() {
	call(u, u.opts.Agent.Devices, func(d apitype.Devices, err error) {
		if err == nil {
			u.showDevices(d)
		}
	})
}

func (u *UI) showDevices(d apitype.Devices) {
	if d == u.devices {
		return // nothing to redraw
	}
	u.devices = d
	if d.Speech.State == apitype.DeviceReady {
		u.readAloud.Show()
	} else {
		u.readAloud.Hide()
	}
	u.header.Refresh()
	u.band.Refresh()
}

// RefreshStatus asks kioskd for the link state and the devices (a printer
// that failed at start may have come back) and updates the banner and the
// header.
func (u *UI) RefreshStatus() { u.refreshStatus(nil) }

// refreshStatus is RefreshStatus, then runs then on the UI thread in the
// same wake-up, whatever kioskd answered.
func (u *UI) refreshStatus(then func()) {
	type answer struct {
		status     apitype.Status
		devices    apitype.Devices
		err, dvErr error
	}
	call(u, func(ctx context.Context) (answer, error) {
		var a answer
		if a.status, a.err = u.opts.Agent.Status(ctx); a.err == nil {
			a.devices, a.dvErr = u.opts.Agent.Devices(ctx)
		}
		return a, nil
	}, func(a answer, _ error) {
		u.reachable = a.err == nil
		if a.err == nil {
			if v := a.status.Control.ContentVersion; u.hasMenu && v != u.menuVersion {
				u.loadMenuAt(v) // the township pushed new content
			}
			u.status = a.status
			if a.dvErr == nil {
				u.showDevices(a.devices)
			}
		}
		u.updateBanner()
		if then != nil {
			then()
		}
	})
}

// updateBanner shows, changes or hides the notice. It touches the widgets
// only when the notice changes: the status is polled every few seconds, and
// each refresh makes Fyne repaint the whole window, which on a board
// without a GPU is most of the UI's idle CPU time.
func (u *UI) updateBanner() {
	var text string
	switch {
	case !u.reachable:
		text = u.t(wording.CommonStarting)
	case u.status.Broker.State != "connected":
		// What is true, and nothing a villager has to act on: how many
		// records wait to go is for the staff (kioskctl doctor).
		text = u.t(wording.CommonOffline)
		if u.large && u.chromeForm == formCompact {
			// One line, not three: on 800 pixels in larger text the
			// whole notice would leave the screen no room for the
			// bookings. What matters is that nothing is lost.
			text = u.t(wording.CommonOfflineShort)
		}
	}
	switch {
	case text == "" && u.banner.Visible():
		u.banner.Hide()
	case text == "" || text == u.bannerText.Text && u.banner.Visible():
		return
	default:
		u.bannerText.SetText(text)
		u.banner.Show()
	}
	// The header and banner share a box whose height changes with them;
	// without a new layout the notice is drawn over the header.
	u.top.Refresh()
	if c := u.win.Content(); c != nil {
		c.Refresh()
	}
	if u.screen.byLink && u.screen.redraw != nil {
		u.redrawUntouched()
	}
}

// redrawUntouched draws the current screen again for a change nobody made
// (the link): it is no activity, so the idle reset still takes a booking
// number off the screen in time, and the in-use mark is not renewed.
func (u *UI) redrawUntouched() {
	u.untouched = true
	defer func() { u.untouched = false }()
	u.screen.redraw()
}

// show replaces the body and counts as activity. speech is what the
// read-aloud button says on this screen; redraw draws it again.
//
// Drawing the same screen again (a choice ticked on a long form) keeps its
// scroll position: a mediator ticking a box near the bottom must not be
// thrown back to the top.
//
// The screen's primary action goes in the action band (liftPrimary).
func (u *UI) show(obj fyne.CanvasObject, speech string, redraw func()) {
	var band []fyne.CanvasObject
	if p := liftPrimary(obj); p != nil {
		band = append(band, p)
	}
	u.present(obj, screen{redraw: redraw, speech: speech, band: band, lead: u.leadFromHeading(obj)})
}

// present is show for a screen described in full (the home screen says
// so), and speaks a new one when voice guidance is on.
func (u *UI) present(obj fyne.CanvasObject, next screen) {
	speech := next.speech
	prev := u.screen
	defer u.announce(prev)
	var offset fyne.Position
	same := u.screen.speech == speech && len(u.body.Objects) == 1
	if same {
		if old := firstScroll(u.body.Objects[0]); old != nil {
			offset = old.Offset
		}
	}
	u.screen = next
	u.arrangeChrome()
	u.setBand(next.band)
	if !u.untouched {
		u.touch() // after the screen is set: the in-use mark is for screens other than home
	}
	u.body.Objects = []fyne.CanvasObject{obj}
	u.body.Refresh()
	if s := firstScroll(obj); s != nil && same {
		s.Offset = offset
		s.Refresh()
	}
}

// firstScroll finds the scroll container a screen is laid out in.
func firstScroll(o fyne.CanvasObject) *container.Scroll {
	switch v := o.(type) {
	case *container.Scroll:
		return v
	case *fyne.Container:
		for _, c := range v.Objects {
			if s := firstScroll(c); s != nil {
				return s
			}
		}
	}
	return nil
}

// touch records that someone is using the kiosk, which answers the idle
// warning if it is up.
func (u *UI) touch() {
	u.lastActivity = u.opts.Now()
	u.hideIdleWarning()
	u.keepMediatorAlive()
	u.markInUse()
}

// checkIdle sends an untouched screen home: whoever walked away leaves
// nothing of theirs behind. IdleWarning before, it asks whether anyone is
// still there.
func (u *UI) checkIdle() {
	idle := u.opts.Now().Sub(u.lastActivity)
	if u.screen.home || idle < u.idleTimeout() {
		u.checkIdleWarning(idle)
		return
	}
	u.hideIdleWarning()
	if u.draft.active {
		u.opts.Log.Info("flow abandoned on idle; draft wiped")
	}
	if u.med.signedIn() {
		u.opts.Log.Info("mediator signed out on idle")
	}
	u.goHome()
}

// goHome ends any flow, wipes the draft, signs a mediator out, returns to
// standard text and shows the menu.
func (u *UI) goHome() {
	u.draft = draft{}
	u.endPointsView()
	u.rq, u.chk, u.pts = nil, nil, nil
	u.signOut()
	// The screen being left is not drawn again at standard size: its state
	// is gone (a mediator's form with the sign-out), and home follows.
	u.screen.redraw = nil
	if u.large {
		u.switchTextSize() // no touch: nobody is there, and the mark would be for the screen left
	}
	u.showHome()
}

func (u *UI) speak() {
	u.touch()
	text := u.readAloudText()
	if text == "" {
		return
	}
	do(u, func(ctx context.Context) error { return u.opts.Agent.Speak(ctx, text) }, func(err error) {
		if err != nil {
			u.opts.Log.Warn("read-aloud failed", "err", err)
		}
	})
}

// setTheme switches the theme. Fyne drops the fonts it has parsed for the
// old theme and parses them again for the new one, and garbage is collected
// only at a memory limit (cmd/kiosk-ui): the old ones, some 50 MB with the
// CJK font, would stay in memory until then, as they did after every start
// (the panel's theme replaces the first). So collect them, and give the
// memory back, off the UI's goroutine and once the screen has been laid
// out and painted again in the new theme, which leaves garbage of its own.
func (u *UI) setTheme(th fyne.Theme) {
	u.opts.SetTheme(th)
	if u.opts.ReleaseMemory != nil {
		time.AfterFunc(themeSettle, u.opts.ReleaseMemory)
	}
}

// themeSettle is how long after a theme switch its garbage is collected:
// long enough for the screen to be redrawn in the new theme.
const themeSettle = 2 * time.Second

// toggleTextSize switches between standard and larger text and draws the
// current screen again at the new size.
func (u *UI) toggleTextSize() {
	u.touch()
	u.switchTextSize()
}

// switchTextSize is toggleTextSize without counting as activity: goHome
// returns to standard text after an idle reset, when nobody is there.
func (u *UI) switchTextSize() {
	u.large = !u.large
	u.setTheme(u.panelTheme())
	u.labelTextSwitch()
	u.sizeHeader()
	if u.banner.Visible() {
		u.updateBanner() // its wording follows the text size on a small panel
	}
	if u.screen.redraw != nil {
		u.screen.redraw()
	}
}

// labelTextSwitch words the text switch for what it switches to.
func (u *UI) labelTextSwitch() {
	if u.large {
		u.textSwitch.SetText(u.t(wording.CommonStandard))
	} else {
		u.textSwitch.SetText(u.t(wording.CommonLarger))
	}
}

func (u *UI) showLoading() {
	text := u.t(wording.CommonStarting)
	msg := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	u.present(container.NewCenter(msg), screen{speech: text, loading: true})
}

// failureText turns a failure to reach or use kioskd into words for a
// villager. Whatever the cause, it says plainly that nothing was submitted.
func (u *UI) failureText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return u.t(wording.CommonFailTimeout)
	}
	var apiErr *localclient.APIError
	if errors.As(err, &apiErr) && apiErr.Code == apitype.CodeStorageFull {
		return u.t(wording.CommonFailStorage)
	}
	return u.t(wording.CommonFailOther)
}

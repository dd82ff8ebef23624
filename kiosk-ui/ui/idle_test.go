package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// countSpoken is how many utterances asked whether anyone is there.
func countSpoken(agent *fakeAgent) int {
	n := 0
	for _, s := range agent.spoken {
		if strings.Contains(s, labelStillThere) {
			n++
		}
	}
	return n
}

// TestIdleWarning: 15 s before the reset the screen asks, on screen and
// aloud, once; 继续 or a tap anywhere keeps everything; unanswered, the reset
// comes as before. For a villager mid-booking and for a mediator mid-form,
// each on their own timeout.
func TestIdleWarning(t *testing.T) {
	tests := []struct {
		name    string
		start   func(t *testing.T, u *UI, w fyne.Window)
		timeout func(u *UI) time.Duration
		onForm  string // what is on screen while nobody answers
		after   func(t *testing.T, u *UI, w fyne.Window, agent *fakeAgent)
	}{
		{"villager", func(t *testing.T, u *UI, w fyne.Window) { walkToConfirm(t, w) },
			func(u *UI) time.Duration { return u.opts.IdleTimeout }, "第 6 步",
			func(t *testing.T, u *UI, w fyne.Window, _ *fakeAgent) {
				if u.draft.who.phone != "" {
					t.Error("the reset left the villager's number behind")
				}
			}},
		{"mediator", func(t *testing.T, u *UI, w fyne.Window) { mustSignIn(t, u, w); fillHalfSession(t, u, w) },
			func(u *UI) time.Duration { return u.opts.MediatorIdleTimeout }, "当事人：陈桂英",
			func(t *testing.T, u *UI, w fyne.Window, agent *fakeAgent) {
				if u.med.signedIn() || agent.session != "" {
					t.Error("the reset left the mediator signed in")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			agent.editMenu = func(m *apitype.Menu) { m.Voice = true }
			u, w, clock := mustUI(t, agent)
			tt.start(t, u, w)
			warnAt := tt.timeout(u) - IdleWarning
			idleFor := func(d time.Duration) {
				t.Helper()
				clock.t = u.lastActivity.Add(d)
				u.checkIdle()
			}

			idleFor(warnAt - time.Second)
			if u.IdleWarned() || onScreen(w, labelStillThere) {
				t.Fatal("warned too soon")
			}
			idleFor(warnAt)
			mustSee(t, w, labelStillThere)
			if countSpoken(agent) != 1 {
				t.Errorf("spoken %q, want the question once", agent.spoken)
			}
			idleFor(warnAt + 5*time.Second) // the next poll while it is up
			if countSpoken(agent) != 1 {
				t.Errorf("the question was spoken again: %q", agent.spoken)
			}
			test.Tap(mustButton(t, w, labelContinue))
			if u.IdleWarned() || onScreen(w, labelStillThere) {
				t.Fatal("继续 did not take the warning away")
			}
			mustSee(t, w, tt.onForm)

			idleFor(warnAt)
			test.Tap(u.warn) // anywhere on the screen
			if u.IdleWarned() {
				t.Fatal("a tap anywhere did not take the warning away")
			}
			idleFor(tt.timeout(u) - time.Second) // continuing restarted the time: no reset
			mustSee(t, w, tt.onForm)

			idleFor(warnAt)
			mustSee(t, w, labelStillThere)
			idleFor(tt.timeout(u))
			if u.IdleWarned() {
				t.Error("the warning stayed over the home screen")
			}
			mustTile(t, w, "法律顾问")
			tt.after(t, u, w, agent)
		})
	}
}

// TestIdleWarningNotOnHome: the home screen has nothing to lose, so it is
// never asked about; a card tapped while the warning is up answers it.
func TestIdleWarningNotOnHome(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	clock.t = clock.t.Add(u.opts.IdleTimeout)
	u.checkIdle()
	if u.IdleWarned() {
		t.Error("warned on the home screen")
	}
	test.Tap(mustButton(t, w, labelBookAdvisor))
	clock.t = u.lastActivity.Add(u.opts.IdleTimeout - IdleWarning)
	u.checkIdle()
	u.onCardEvent(tappedCard)
	if u.IdleWarned() {
		t.Error("a card on the reader did not answer the warning")
	}
}

// TestIdleWarningSilentWithoutSpeech: a kiosk that cannot speak, or whose
// site turned voice guidance off, shows the warning without a word.
func TestIdleWarningSilentWithoutSpeech(t *testing.T) {
	for _, tt := range []struct {
		name   string
		voice  bool
		speech string
	}{{"no speech", true, apitype.DeviceAbsent}, {"voice guidance off", false, apitype.DeviceReady}} {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			voice := tt.voice
			agent.editMenu = func(m *apitype.Menu) { m.Voice = voice }
			agent.devices.Speech.State = tt.speech
			u, w, clock := mustUI(t, agent)
			walkToConfirm(t, w)
			clock.t = u.lastActivity.Add(u.opts.IdleTimeout - IdleWarning)
			u.checkIdle()
			mustSee(t, w, labelStillThere)
			if n := countSpoken(agent); n != 0 {
				t.Errorf("spoke the question %d times: %q", n, agent.spoken)
			}
		})
	}
}

// TestMediatorIdleFromSiteConfig: township IT sets the mediator's timeout
// in the site config; the screen follows it once the menu has loaded.
func TestMediatorIdleFromSiteConfig(t *testing.T) {
	tests := []struct {
		name    string
		seconds int
		want    time.Duration
	}{
		{"site config", 300, 5 * time.Minute},
		{"older kioskd without it", 0, DefaultMediatorIdleTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			agent.editMenu = func(m *apitype.Menu) { m.MediatorIdleSeconds = tt.seconds }
			u, w, clock := mustUI(t, agent)
			if u.opts.MediatorIdleTimeout != tt.want {
				t.Fatalf("mediator idle %v, want %v", u.opts.MediatorIdleTimeout, tt.want)
			}
			mustSignIn(t, u, w)
			clock.t = u.lastActivity.Add(tt.want - time.Second)
			u.checkIdle()
			if !u.med.signedIn() {
				t.Fatal("signed out before the site's time")
			}
			clock.t = u.lastActivity.Add(tt.want)
			u.checkIdle()
			if u.med.signedIn() {
				t.Error("still signed in after the site's time")
			}
		})
	}
}

// TestPollEveryWakesForTheWarning: Run wakes when the warning or the reset
// is due instead of up to a poll later, so the warning has its full 15 s.
func TestPollEveryWakesForTheWarning(t *testing.T) {
	u, w, clock := mustUI(t, newFakeAgent())
	test.Tap(mustButton(t, w, labelBookAdvisor))
	warnAt := u.opts.IdleTimeout - IdleWarning
	tests := []struct {
		name string
		idle time.Duration
		want time.Duration
	}{
		{"long before", 0, 5 * time.Second},
		{"warning in 2 s", warnAt - 2*time.Second, 2 * time.Second},
		{"reset in 3 s", u.opts.IdleTimeout - 3*time.Second, 3 * time.Second},
		{"overdue", u.opts.IdleTimeout + time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		clock.t = u.lastActivity.Add(tt.idle)
		if got := u.pollEvery(5 * time.Second); got != tt.want {
			t.Errorf("%s: pollEvery(5s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// tourIdle is the tour's visit to the idle warning, for a mediator and for
// a villager, and to a session form restored from a draft. It starts and
// ends with the mediator signed in, and keeps the larger text the tour is
// in across the sign-outs that reset it: the warning must be checked at
// the size it is shown in.
func tourIdle(t *testing.T, u *UI, w fyne.Window, visit func(name string)) {
	t.Helper()
	p := &tapper{t: t, w: w}
	large := u.large
	keepLarge := func() {
		if large && !u.large {
			p.tap(labelLarger)
		}
	}
	warn := func() {
		u.lastActivity = u.opts.Now().Add(-(u.idleTimeout() - IdleWarning))
		u.checkIdle()
	}
	signIn := func() {
		keepLarge()
		p.tap(labelMediator)
		u.onCardEvent(mediatorCard)
		p.keys(mediatorPIN)
		p.tap(labelSignIn)
	}

	p.tap(labelMediatorHome)
	p.tile("案件 00012")
	p.tap(labelLogSession)
	p.tap(outcomeLabels[apitype.OutcomeUnsettled])
	warn()
	visit("mediator-idle-warning")
	p.tap(labelContinue)
	p.tap(labelSignOut)
	signIn()
	visit("mediator-session-restored")
	p.tap(labelMediatorHome)
	p.tap(labelSignOut)

	keepLarge()
	p.tap(labelBookAdvisor)
	warn()
	visit("idle-warning")
	p.tap(labelContinue)
	p.tap(labelCancel)
	signIn()
}

// TestSignOutFromTheFormInLargerText: going home in larger text used to
// draw the screen being left once more at standard size, and a session
// form whose mediator had just been signed out has nothing to draw from.
func TestSignOutFromTheFormInLargerText(t *testing.T) {
	tests := []struct {
		name string
		out  func(u *UI, w fyne.Window, clock *fakeClock)
	}{
		{"idle", func(u *UI, _ fyne.Window, clock *fakeClock) {
			clock.t = u.lastActivity.Add(u.opts.MediatorIdleTimeout)
			u.checkIdle()
		}},
		{"sign-out button", func(u *UI, w fyne.Window, _ *fakeClock) { test.Tap(mustButton(t, w, labelSignOut)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, w, clock := mustUI(t, newFakeAgent())
			mustSignIn(t, u, w)
			test.Tap(mustButton(t, w, labelLarger))
			fillHalfSession(t, u, w)
			tt.out(u, w, clock)
			mustTile(t, w, "法律顾问")
		})
	}
}

// A done screen is drawn again whenever the link changes; that is nobody
// there, so a flapping link must not keep the booking number on screen nor
// the in-use mark renewed.
func TestLinkFlipsOnDoneScreenStillGoHome(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	walkToConfirm(t, w)
	test.Tap(mustButton(t, w, labelConfirm))
	mustSee(t, w, labelBooked)
	marks := len(agent.marks())
	start := clock.t
	for clock.t.Sub(start) <= u.idleTimeout() {
		clock.t = clock.t.Add(30 * time.Second)
		if agent.status.Broker.State == "connected" {
			agent.status.Broker.State = "disconnected"
		} else {
			agent.status.Broker.State = "connected"
		}
		u.RefreshStatus()
		u.checkIdle()
	}
	if onScreen(w, labelBooked) {
		t.Fatalf("the done screen stayed %s with the link flipping every 30s", clock.t.Sub(start))
	}
	mustTile(t, w, "法律顾问")
	if n := len(agent.marks()) - marks; n != 0 {
		t.Errorf("link changes renewed the in-use mark %d times, want none", n)
	}
}

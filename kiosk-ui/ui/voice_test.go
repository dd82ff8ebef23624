package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// mustVoiceUI is mustUI with the site's voice guidance set to on.
func mustVoiceUI(t *testing.T, on bool) (*UI, *fakeAgent, *tapper) {
	t.Helper()
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) { m.Voice = on }
	u, w, _ := mustUI(t, agent)
	return u, agent, &tapper{t: t, w: w}
}

// spokenSince is what the kiosk said after the first n utterances.
func spokenSince(agent *fakeAgent, n int) []string { return agent.spoken[n:] }

// TestEachNewScreenSpeaksItsQuestion: with voice guidance on, a screen
// says its question once as it appears; a redraw of the same screen
// (larger text, a choice ticked) says nothing more, and the home screen,
// which the idle reset draws for nobody, stays quiet.
func TestEachNewScreenSpeaksItsQuestion(t *testing.T) {
	u, agent, p := mustVoiceUI(t, true)
	if len(agent.spoken) != 0 {
		t.Fatalf("the home screen spoke on start: %q", agent.spoken)
	}
	steps := []struct {
		name string
		do   func()
		want string // "" for silence
	}{
		{"a flow starts", func() { p.tap(labelBookAdvisor) }, txt(wording.BookingTopicTitle)},
		{"larger text redraws it", func() { p.tap(labelLarger) }, ""},
		{"standard text again", func() { p.tap(labelStandard) }, ""},
		{"the next step", func() { p.tap("婚姻家庭") }, txt(wording.BookingDayTitle)},
		{"home", func() { p.tap(labelCancel) }, ""},
		{"a service page", func() { p.tile("法治集市") }, "法治集市"},
		{"the date read on request", func() { p.tap(labelSayDate) }, "12月5日 周六 08:30，法治集市，在星村镇集市"},
	}
	for _, st := range steps {
		before := len(agent.spoken)
		st.do()
		got := spokenSince(agent, before)
		switch {
		case st.want == "" && len(got) != 0:
			t.Errorf("%s: spoke %q, want silence", st.name, got)
		case st.want != "" && (len(got) != 1 || !strings.Contains(got[0], st.want)):
			t.Errorf("%s: spoke %q, want one utterance with %q", st.name, got, st.want)
		}
	}

	// Walked away from: the idle reset goes home without a word.
	p.tap(labelHome) // from the service page
	p.tap(labelBookAdvisor)
	before := len(agent.spoken)
	u.lastActivity = u.opts.Now().Add(-u.opts.IdleTimeout)
	u.checkIdle()
	if !u.screen.home {
		t.Fatal("the idle reset did not go home")
	}
	if got := spokenSince(agent, before); len(got) != 0 {
		t.Errorf("the idle reset spoke %q to an empty hall", got)
	}
}

// TestVoiceOffOrNoSpeechStaysQuiet: a site that turns voice guidance off,
// or a kiosk that cannot speak, says nothing on its own.
func TestVoiceOffOrNoSpeechStaysQuiet(t *testing.T) {
	tests := []struct {
		name   string
		voice  bool
		speech string
	}{
		{"voice off", false, apitype.DeviceReady},
		{"no speech", true, apitype.DeviceAbsent},
		{"speech failed", true, apitype.DeviceFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			agent.editMenu = func(m *apitype.Menu) { m.Voice = tt.voice }
			agent.devices.Speech.State = tt.speech
			u, w, clock := mustUI(t, agent)
			p := &tapper{t: t, w: w}
			p.tap(labelBookAdvisor)
			p.tap("婚姻家庭")
			p.tap(labelCancel)
			clock.t = clock.t.Add(u.dimAfter())
			u.checkDim()
			u.presenceWake()
			if u.Dimmed() {
				t.Error("presence did not wake the screen")
			}
			if len(agent.spoken) != 0 {
				t.Errorf("spoke %q", agent.spoken)
			}
		})
	}
}

// TestPresenceGreets: someone walking up to the dimmed screen is greeted
// once; a touch, or a sighting while the screen is lit, is not.
func TestPresenceGreets(t *testing.T) {
	u, agent, _ := mustVoiceUI(t, true)
	untouched := func() { u.lastActivity = u.opts.Now().Add(-u.dimAfter()) }
	u.presenceWake() // lit: a passer-by is not greeted
	if len(agent.spoken) != 0 {
		t.Fatalf("greeted with the screen lit: %q", agent.spoken)
	}
	untouched()
	u.checkDim()
	if !u.Dimmed() {
		t.Fatal("did not dim")
	}
	u.presenceWake() // what WatchPresence does on a sighting
	u.presenceWake() // the sensor sees them again
	if u.Dimmed() {
		t.Error("presence did not wake the screen")
	}
	if len(agent.spoken) != 1 || !strings.Contains(agent.spoken[0], "您好") || !strings.Contains(agent.spoken[0], "星村镇综治服务一体机") {
		t.Errorf("greeting %q, want one 您好 with the kiosk's name", agent.spoken)
	}

	untouched()
	u.checkDim()
	test.Tap(u.dim) // a touch: they are already using it
	if len(agent.spoken) != 1 {
		t.Errorf("a touch was greeted: %q", agent.spoken[1:])
	}
}

// TestSurnameButtonsAreRead: a villager who cannot read hears the surname
// grid, one short list, through the read-aloud button.
func TestSurnameButtonsAreRead(t *testing.T) {
	_, agent, p := mustVoiceUI(t, false)
	p.tap(labelBookAdvisor)
	p.tap("婚姻家庭")
	p.tap("11月26日 周四")
	p.tap("15:00")
	mustSee(t, p.w, labelTapCard)
	p.tap(labelReadAloud)
	if len(agent.spoken) != 1 {
		t.Fatalf("spoke %q", agent.spoken)
	}
	said := agent.spoken[0]
	list := strings.Join(surnames[:3], "、")
	if !strings.Contains(said, list) {
		t.Errorf("read %q, want the surnames as one list (%q…)", said, list)
	}
	for _, s := range surnames {
		if !strings.Contains(said, s) {
			t.Errorf("surname %q not read in %q", s, said)
		}
	}
}

// TestMediatorModeIsQuiet: a mediator's screens do not speak on their
// own, so the kiosk does not talk over the parties.
func TestMediatorModeIsQuiet(t *testing.T) {
	u, agent, p := mustVoiceUI(t, true)
	p.tap(labelMediator)
	u.onCardEvent(mediatorCard)
	p.keys(mediatorPIN)
	before := len(agent.spoken)
	p.tap(labelSignIn)
	if !u.med.signedIn() {
		t.Fatal("not signed in")
	}
	p.tile("案件 00012")
	if got := spokenSince(agent, before); len(got) != 0 {
		t.Errorf("mediator mode spoke %q", got)
	}
}

// TestReadAloudHearsActionsAndChoices: the action band is outside the
// screen's body, and a chosen option's tick is not heard: 朗读 must still
// name the primary action and say which option is chosen.
func TestReadAloudHearsActionsAndChoices(t *testing.T) {
	u, w, _ := mustUI(t, newFakeAgent())
	if text := u.readAloudText(); !strings.Contains(text, txt(wording.HomeHotline)) {
		t.Errorf("home reads %q, without the hotline %q", text, txt(wording.HomeHotline))
	}
	p := walkToConfirm(t, w)
	heard := func(text, part string) bool { return slices.Contains(strings.Split(text, "。"), part) }
	if text := u.readAloudText(); !heard(text, labelConfirm) || !heard(text, labelBack) {
		t.Errorf("step 6 reads %q, without its actions %q and %q", text, labelConfirm, labelBack)
	}
	for range 5 {
		p.tap(labelBack)
	}
	mustSee(t, w, "第 1 步")
	want := u.tf(wording.CommonChosen, wording.Args{"option": "婚姻家庭"})
	if text := u.readAloudText(); !heard(text, want) {
		t.Errorf("step 1 with a topic chosen reads %q, without %q", text, want)
	}
	if text, step := u.readAloudText(), u.tf(wording.BookingStepOf, wording.Args{"n": 1, "total": 6}); !heard(text, step) {
		t.Errorf("step 1 reads %q, without %q", text, step)
	}
}

package ui

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Voice guidance (site config ui.voice, GET /v1/menu voice): many villagers
// read poorly, and a read-aloud button helps only those who find it. So a
// screen says its question as it appears, and the kiosk greets whoever walks
// up to a dimmed screen.

// say has kioskd read text aloud; a failure costs the villager only the
// voice, so it is logged and nothing else.
func (u *UI) say(text string) {
	if text == "" {
		return
	}
	do(u, func(ctx context.Context) error { return u.opts.Agent.Speak(ctx, text) }, func(err error) {
		if err != nil {
			u.opts.Log.Warn("speech failed", "err", err)
		}
	})
}

// voiceOn says whether the screens speak on their own now.
func (u *UI) voiceOn() bool {
	return u.hasMenu && u.menu.Voice && u.devices.Speech.State == apitype.DeviceReady
}

// announce speaks the screen just shown, if it is a new one. Not the home
// screen (it is drawn by the idle reset and by pushed content with nobody
// there; the greeting is its voice), not a redraw (a ticked choice, larger
// text), and not in mediator mode, where the kiosk talking over the parties
// would disturb the mediation.
func (u *UI) announce(prev screen) {
	pending := u.pendingSpeech
	u.pendingSpeech = ""
	if !u.voiceOn() || u.med.signedIn() {
		return
	}
	var text string
	if !u.screen.home && u.screen.speech != prev.speech {
		text = truncateSpeechTo(u.screen.speech, maxSpeechRunes-utf8.RuneCountInString(pending)-1)
	}
	if pending != "" {
		text = strings.TrimSuffix(pending+"。"+text, "。")
	}
	u.say(text)
}

// greeting is what a dimmed screen says when someone walks up to it.
func (u *UI) greeting() string {
	return u.tf(wording.VoiceGreeting, wording.Args{"kiosk": u.menu.KioskName})
}

// presenceWake lights the dimmed screen for someone walking up, and greets
// them when voice guidance is on.
func (u *UI) presenceWake() {
	if u.dim == nil {
		return
	}
	u.undim()
	if u.voiceOn() {
		u.say(u.greeting())
	}
}

// truncateSpeech words a screen's speech for a public hall, as the
// read-aloud button does (masked and full numbers by their last digits),
// and cuts it at the last full sentence kioskd takes.
func truncateSpeech(s string) string { return truncateSpeechTo(s, maxSpeechRunes) }

// truncateSpeechTo is truncateSpeech cut at n runes.
func truncateSpeechTo(s string, n int) string {
	s = sayNumbers(sayMasked(s))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:max(n, 0)]
	if i := strings.LastIndex(string(r), "。"); i > 0 {
		return string(r)[:i+len("。")]
	}
	return string(r)
}

package ui

import (
	"context"
)

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

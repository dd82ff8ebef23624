package ui

import (
	"context"
	"time"
)

// kioskd's "in use" mark (POST /v1/screen/in-use) keeps fengqiao-updater
// from installing, which restarts kioskd and this UI, while someone is
// using the screen. Each touch on a screen other than home, and each such
// screen shown, renews it, at most every markEvery, for the reset time in
// force and markEvery more: a flow ends by the UI's idle reset at the
// latest, and the mark runs out just after it, with no call needed when
// the flow ends. A villager who finished and walked away holds the kiosk
// for at most one reset time more, which at night costs nothing.
//
// The home screen marks nothing: it is no session, nothing on it is lost,
// and it is redrawn without anyone there (new township content, a printer
// coming back), which must not hold an update back night after night. The
// presence sensor covers someone reading the menu. Nor does the loading
// screen shown until the menu loads: it too is shown again by every idle
// reset while the menu fails, and the updater may be the fix.

// markEvery is how often, at most, a touch renews the mark.
const markEvery = 30 * time.Second

// markInUse renews kioskd's mark, if the last one is markEvery old.
func (u *UI) markInUse() {
	now := u.opts.Now()
	if u.screen.home || u.screen.loading || !u.markedAt.IsZero() && now.Sub(u.markedAt) < markEvery {
		return
	}
	u.markedAt = now
	hold := u.idleTimeout() + markEvery
	do(u, func(ctx context.Context) error { return u.opts.Agent.MarkInUse(ctx, hold) }, func(err error) {
		if err != nil {
			// The next touch tries again. An updater that cannot tell
			// counts the screen as in use anyway.
			u.markedAt = time.Time{}
			u.opts.Log.Warn("in-use mark not set", "err", err)
		}
	})
}

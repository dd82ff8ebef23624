package core

import (
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Whether someone is using the screen is for fengqiao-updater, which must
// not install (restarting kioskd and the UI) under a villager's finger or
// during a mediation. kioskd knows the mediator sessions itself; a
// villager's flow only the UI knows, and it says so with a mark that runs
// out by itself ("in use for the next N seconds"), renewed as the villager
// touches the screen. A mark that runs out rather than a flag set and
// cleared: a UI that crashed mid-flow cannot leave the kiosk marked in use
// for ever, and the UI's own idle reset ends the flow at the same moment.

// screenMark is the UI's last "in use until".
type screenMark struct {
	mu    sync.Mutex
	until time.Time
}

// MarkInUse says someone is using the screen for d from now, at most
// apitype.MaxInUseSeconds; zero or less says nobody is any longer. The
// last mark wins, so a flow that ended can free the kiosk at once.
func (c *Core) MarkInUse(d time.Duration) {
	d = min(d, apitype.MaxInUseSeconds*time.Second)
	c.screen.mu.Lock()
	defer c.screen.mu.Unlock()
	if d <= 0 {
		c.screen.until = time.Time{}
		return
	}
	c.screen.until = c.now().Add(d)
}

// screenStatus is GET /v1/status screen.
func (c *Core) screenStatus() *apitype.ScreenStatus {
	now := c.now()
	s := &apitype.ScreenStatus{MediatorSessions: c.auth.Active()}
	c.screen.mu.Lock()
	until := c.screen.until
	c.screen.mu.Unlock()
	if now.Before(until) {
		s.Until = &until
	}
	s.InUse = s.Until != nil || s.MediatorSessions > 0
	return s
}

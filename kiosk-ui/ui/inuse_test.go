package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

func (f *fakeAgent) MarkInUse(_ context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inUse = append(f.inUse, d)
	return nil
}

func (f *fakeAgent) marks() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.inUse...)
}

// A flow's screens and touches tell kioskd the screen is in use until just
// after the UI would reset it, renewed at most every markEvery however
// often the villager taps; the home screen marks nothing.
func TestTouchMarksScreenInUse(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	clock.t = clock.t.Add(markEvery) // past any mark the start made
	before := len(agent.marks())
	test.Tap(mustButton(t, w, labelLarger)) // a touch and a redraw of home
	if n := len(agent.marks()) - before; n != 0 {
		t.Fatalf("the home screen sent %d marks, want none", n)
	}
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	mustSee(t, w, "第 1 步")
	m := agent.marks()
	if len(m) != before+1 || m[len(m)-1] != u.idleTimeout()+markEvery {
		t.Fatalf("marks as a flow starts: %v, want one of %s", m[before:], u.idleTimeout()+markEvery)
	}
	p.tap("婚姻家庭")
	mustSee(t, w, "第 2 步")
	if n := len(agent.marks()) - before; n != 1 {
		t.Errorf("a second screen at once sent %d more marks, want none", n-1)
	}
	clock.t = clock.t.Add(markEvery)
	p.tap("11月26日 周四")
	mustSee(t, w, "第 3 步")
	if n := len(agent.marks()) - before; n != 2 {
		t.Errorf("a screen %s later sent %d more marks, want one", markEvery, n-1)
	}
}

// A menu that keeps failing leaves the loading screen up, and each idle
// reset shows it again: that must not hold the updater back, which may
// bring the fix, nor may a start.
func TestLoadingScreenMarksNothing(t *testing.T) {
	agent := newFakeAgent()
	agent.menuErrs = 1000
	u, w, clock := mustUI(t, agent)
	mustSee(t, w, txt(wording.CommonStarting))
	for i := 0; i < 5; i++ {
		clock.t = clock.t.Add(u.idleTimeout() + time.Second)
		u.loadMenu()
		u.checkIdle()
	}
	mustSee(t, w, txt(wording.CommonStarting))
	if m := agent.marks(); len(m) != 0 {
		t.Errorf("the loading screen sent in-use marks %v, want none", m)
	}
}

// An idle reset in larger text returns to standard text: that is nobody's
// touch, and must not renew the mark for the screen being left.
func TestIdleResetInLargerTextMarksNothing(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	p := &tapper{t: t, w: w}
	p.tap(labelBookAdvisor)
	mustSee(t, w, "第 1 步")
	test.Tap(mustButton(t, w, labelLarger))
	before := len(agent.marks())
	clock.t = u.lastActivity.Add(u.idleTimeout())
	u.checkIdle()
	mustTile(t, w, "法律顾问")
	if u.large {
		t.Error("the idle reset left larger text on")
	}
	if m := agent.marks(); len(m) != before {
		t.Errorf("the idle reset sent in-use marks %v, want none", m[before:])
	}
}

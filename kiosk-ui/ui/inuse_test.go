package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
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

// A touch tells kioskd the screen is in use until just after the UI would
// reset it, renewed at most every markEvery however often the villager
// taps.
func TestTouchMarksScreenInUse(t *testing.T) {
	agent := newFakeAgent()
	u, w, clock := mustUI(t, agent)
	clock.t = clock.t.Add(markEvery) // past any mark the start made
	before := len(agent.marks())
	test.Tap(mustButton(t, w, labelLarger))
	m := agent.marks()
	if len(m) != before+1 || m[len(m)-1] != u.idleTimeout()+markEvery {
		t.Fatalf("marks after a touch: %v, want one of %s", m[before:], u.idleTimeout()+markEvery)
	}
	test.Tap(mustButton(t, w, labelStandard))
	if n := len(agent.marks()); n != before+1 {
		t.Errorf("a second touch at once sent %d marks, want none", n-before-1)
	}
	clock.t = clock.t.Add(markEvery)
	test.Tap(mustButton(t, w, labelLarger))
	if n := len(agent.marks()); n != before+2 {
		t.Errorf("a touch %s later sent %d marks, want one", markEvery, n-before-1)
	}
}

package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// wayBackLabels are the buttons that take a villager or a mediator back:
// one of them is on every screen but the home screen.
var wayBackLabels = []string{labelBack, labelCancel, labelHome, labelMediatorHome, labelSignOut}

// TestActionsNeedNoScrolling is issue 17's rule, on every screen of the
// tour, on each of the three panels, in standard and larger text: the
// screen's primary action and its way back are on screen without
// scrolling, wholly inside the window and not clipped by a scroll
// container's viewport; and so are 朗读 and 大字. The home screen has no
// one primary action: its two bookings and 12348 must be in view instead.
func TestActionsNeedNoScrolling(t *testing.T) {
	for _, pn := range panels {
		for _, large := range []bool{false, true} {
			mode := "standard text"
			if large {
				mode = "larger text"
			}
			t.Run(pn.name+"-"+strings.ReplaceAll(mode, " ", "-"), func(t *testing.T) {
				u, w, _ := mustUI(t, newFakeAgent(), pn.size)
				if large {
					test.Tap(mustButton(t, w, labelLarger))
				}
				tour(t, u, w, func(screen string) {
					if large && !u.large {
						test.Tap(mustButton(t, w, labelLarger)) // going home resets it
					}
					checkActionsInView(t, u, w, fmt.Sprintf("%s on %s in %s", screen, pn.name, mode))
				})
			})
		}
	}
}

// viewRect is an object's place in the window, in absolute coordinates.
type viewRect struct{ x0, y0, x1, y1 float32 }

func (r viewRect) inside(o viewRect) bool {
	const slack = 0.5 // rounding in the layouts
	return r.x0 >= o.x0-slack && r.y0 >= o.y0-slack && r.x1 <= o.x1+slack && r.y1 <= o.y1+slack
}

func (r viewRect) clip(o viewRect) viewRect {
	return viewRect{max(r.x0, o.x0), max(r.y0, o.y0), min(r.x1, o.x1), min(r.y1, o.y1)}
}

func (r viewRect) String() string {
	return fmt.Sprintf("(%.0f,%.0f)–(%.0f,%.0f)", r.x0, r.y0, r.x1, r.y1)
}

// placed is where an object is drawn and what of it can be seen: the
// window, narrowed by every scroll container it is inside.
type placed struct{ at, view viewRect }

// placeAll walks the window's content and overlays, laid out, and says for
// every object shown where it is and through what it is seen.
func placeAll(w fyne.Window) map[fyne.CanvasObject]placed {
	test.LaidOutObjects(w.Content())
	size := w.Canvas().Size()
	win := viewRect{0, 0, size.Width, size.Height}
	out := map[fyne.CanvasObject]placed{}
	var walk func(o fyne.CanvasObject, origin fyne.Position, view viewRect)
	walk = func(o fyne.CanvasObject, origin fyne.Position, view viewRect) {
		if o == nil || !o.Visible() {
			return
		}
		p := origin.Add(o.Position())
		r := viewRect{p.X, p.Y, p.X + o.Size().Width, p.Y + o.Size().Height}
		out[o] = placed{at: r, view: view}
		var children []fyne.CanvasObject
		switch v := o.(type) {
		case *fyne.Container:
			children = v.Objects
		case fyne.Widget:
			children = test.WidgetRenderer(v).Objects()
		}
		if _, ok := o.(*container.Scroll); ok {
			view = view.clip(r)
		}
		for _, c := range children {
			walk(c, p, view)
		}
	}
	walk(w.Content(), fyne.Position{}, win)
	for _, o := range w.Canvas().Overlays().List() {
		walk(o, fyne.Position{}, win)
	}
	return out
}

func describe(o fyne.CanvasObject) string {
	switch v := o.(type) {
	case *widget.Button:
		return fmt.Sprintf("button %q", v.Text)
	case *tile:
		return fmt.Sprintf("tile %q", v.Title)
	case *hotlineBlock:
		return "the 12348 block"
	}
	return fmt.Sprintf("%T", o)
}

func checkActionsInView(t *testing.T, u *UI, w fyne.Window, where string) {
	t.Helper()
	seen := placeAll(w)
	must := func(o fyne.CanvasObject, why string) {
		t.Helper()
		p, ok := seen[o]
		switch {
		case !ok:
			t.Errorf("%s: %s (%s) is not on screen", where, describe(o), why)
		case !p.at.inside(p.view):
			t.Errorf("%s: %s (%s) is at %v, outside what can be seen without scrolling %v", where, describe(o), why, p.at, p.view)
		}
	}
	var wayBack, primaries int
	for o := range seen {
		b, ok := o.(*widget.Button)
		if !ok {
			continue
		}
		if isPrimary(b) {
			primaries++
			must(b, "the primary action")
		}
		if slices.Contains(wayBackLabels, b.Text) {
			wayBack++
			must(b, "the way back")
		}
	}
	for _, o := range u.screen.band {
		if o.Visible() {
			must(o, "in the action band")
		}
	}
	must(u.textSwitch, "the text-size switch")
	if u.readAloud.Visible() {
		must(u.readAloud, "read-aloud")
	}
	if u.screen.home {
		for _, o := range u.homeKeys {
			must(o, "a key of the home screen")
		}
		return
	}
	if wayBack == 0 {
		t.Errorf("%s: no way back on screen (one of %q)", where, wayBackLabels)
	}
}

// TestTypeFollowsThePanel: the screen sizes its type from the panel kioskd
// reports, 18 pt on the 10.1" 1280×800 panel (37 px, not 24), and an older
// kioskd that reports no panel leaves the pixel sizes as they were.
func TestTypeFollowsThePanel(t *testing.T) {
	for _, tt := range []struct {
		name  string
		panel func(*apitype.Menu)
		want  float32
	}{
		{"10.1-inch", func(*apitype.Menu) {}, 37},
		{"no panel (older kioskd)", func(m *apitype.Menu) { m.Panel = nil }, kiosktheme.TextSize},
		{"no diagonal", func(m *apitype.Menu) { m.Panel.Diagonal = 0 }, kiosktheme.TextSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent()
			agent.editMenu = tt.panel
			u, w, _ := mustUI(t, agent, fyne.NewSize(1280, 800))
			got := fyne.CurrentApp().Settings().Theme().Size(theme.SizeNameText)
			if got < tt.want-0.5 || got > tt.want+0.5 {
				t.Errorf("main text %.1f px, want %.0f", got, tt.want)
			}
			test.Tap(mustButton(t, w, labelLarger))
			if large := fyne.CurrentApp().Settings().Theme().Size(theme.SizeNameText); large < got*float32(kiosktheme.LargeTextSize)/kiosktheme.TextSize-0.5 {
				t.Errorf("larger text %.1f px on a panel whose main text is %.1f", large, got)
			}
			if !u.large {
				t.Error("大字 did not switch to larger text")
			}
		})
	}
}

package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// BenchmarkTapToNextScreen measures a tap on the home screen's main button
// until the next screen is drawn: the UI builds the booking's first step and
// Fyne's software renderer paints the whole window, which is more work than
// the GL driver does for a partial redraw. Goal: ≤ 100 ms on each panel
// packaging/dev/bench-ui.sh measures against Chromium: the 10.1″ 1280×800
// and the portrait 1080×1920 totem, each with its board's type sizes and its
// own layout of the home screen (a sub-benchmark each, named by the panel).
func BenchmarkTapToNextScreen(b *testing.B) {
	for _, name := range []string{"1280x800", "1080x1920"} {
		var size fyne.Size
		for _, pn := range panels {
			if pn.name == name {
				size = pn.size
			}
		}
		if size.IsZero() {
			b.Fatalf("no panel %s in panels", name)
		}
		b.Run(name, func(b *testing.B) {
			u, w, _ := mustUI(b, newFakeAgent(), size)
			book := findButton(w, labelBookAdvisor)
			w.Canvas().Capture()
			b.ResetTimer()
			for range b.N {
				test.Tap(book)
				w.Canvas().Capture()
				b.StopTimer()
				u.goHome()
				book = findButton(w, labelBookAdvisor)
				w.Canvas().Capture()
				b.StartTimer()
			}
		})
	}
}

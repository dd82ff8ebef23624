package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// BenchmarkTapToNextScreen measures a tap on the home screen's main button
// until the next screen is drawn: the UI builds the booking's first step and
// Fyne's software renderer paints the whole 1280×800 window, which is more
// work than the GL driver does for a partial redraw. Goal: ≤ 100 ms.
func BenchmarkTapToNextScreen(b *testing.B) {
	u, w, _ := mustUI(b, newFakeAgent())
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
}

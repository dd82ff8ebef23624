// Package fynepatchtest checks Fengqiao's patch to Fyne's event loop
// (third_party/fyne, README.md there) in a running program: that a plain
// go test builds with the patch, and, on a real X server, that a loop which
// has gone idle, waiting for events with no time limit, still wakes for each
// thing that needs it (a fyne.Do from another goroutine, a tap on the
// screen, an animation) and draws the result. It has no code outside its
// tests.
package fynepatchtest

// Package fynepatchtest checks Fengqiao's patch to Fyne's event loop
// (kiosk-ui/_fynepatch) on a real X server: that a program built the way the
// Makefile builds it has the patch, and that a loop which has gone idle,
// waiting for events with no time limit, still wakes for each thing that
// needs it (a fyne.Do from another goroutine, a tap on the screen, an
// animation) and draws the result. It has no code outside its test.
package fynepatchtest

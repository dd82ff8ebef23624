// Command fynefloor is the least a Fyne program can do: one full-screen
// window holding a red panel the size of the kiosk's booking button, and
// nothing else: no clock, no calls to kioskd, no widgets. make bench builds
// it against stock Fyne and measures it beside kiosk-ui and Chromium, so the
// report shows what stock Fyne's event loop costs any program at idle (it
// wakes 60 times a second whether or not anything changed: fyne-io/fyne#2506)
// and so what the patch in third_party/fyne saves.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

func main() {
	a := app.NewWithID("cn.fengqiao.fynefloor")
	a.Settings().SetTheme(kiosktheme.New())
	w := a.NewWindow("fynefloor")
	panel := canvas.NewRectangle(kiosktheme.Primary)
	panel.SetMinSize(fyne.NewSize(1250, 66))
	w.SetContent(container.NewVBox(layout.NewSpacer(), container.NewCenter(panel), layout.NewSpacer()))
	w.SetFullScreen(true)
	w.ShowAndRun()
}

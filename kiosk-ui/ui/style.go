package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// The kiosk's visual language (issue 17, item 6). Each look means one
// thing, and each carries a shape as well as a colour, so that colour is
// never the only cue:
//
//   - the main action: a red button with white words (primary);
//   - a chosen option: an ink-blue outline round a pale blue fill, with a
//     large ✓ in a blue disc before its words (chosenOption);
//   - an error: an ochre-bordered box with a ⚠ sign, its words in black,
//     worded as what to do (errorBox);
//   - success: a large green disc with a white ✓ (successMark).

// hex is c as an SVG colour.
func hex(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// tickBadge is a white tick in a disc of colour c.
func tickBadge(name string, c color.NRGBA) fyne.Resource {
	return fyne.NewStaticResource(name+".svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">`+
			`<circle cx="12" cy="12" r="12" fill="`+hex(c)+`"/>`+
			`<path d="M6.2 12.4 L10.3 16.5 L17.9 7.9" fill="none" stroke="`+hex(kiosktheme.Card)+
			`" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`))
}

var (
	chosenTick  = tickBadge("chosen", kiosktheme.Chosen)
	successTick = tickBadge("success", kiosktheme.Good)
	// warningSign is a rounded triangle in the error colour with a white
	// exclamation mark.
	warningSign = fyne.NewStaticResource("warning.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">`+
			`<path d="M12 1.5 L23.2 21.5 L0.8 21.5 Z" fill="`+hex(kiosktheme.Error)+`" stroke="`+hex(kiosktheme.Error)+
			`" stroke-width="1.5" stroke-linejoin="round"/>`+
			`<rect x="10.6" y="8" width="2.8" height="7.6" rx="1.2" fill="`+hex(kiosktheme.Card)+`"/>`+
			`<circle cx="12" cy="18.3" r="1.6" fill="`+hex(kiosktheme.Card)+`"/></svg>`))
)

// markSize is the side of a chosen option's tick and of an error's sign:
// half as big again as the text, so it grows with the larger-text mode.
func markSize() float32 { return 1.5 * theme.Size(theme.SizeNameText) }

// chosenOutline is the width of a chosen option's outline.
const chosenOutline = 4

// chosenOption is an option the villager has chosen: the same button as
// the others, on a pale blue fill inside an ink-blue outline, with a large
// ✓ before its words. It is plainly not the main action, which is a solid
// red button. The whole of it is a target, the tick too.
type chosenOption struct {
	widget.BaseWidget
	button *widget.Button
}

func newChosenOption(label string, tap func()) *chosenOption {
	return chosenLook(widget.NewButton(label, tap))
}

// chosenLook gives an option's button, words and any icon, the chosen look.
func chosenLook(b *widget.Button) *chosenOption {
	b.Importance = widget.LowImportance // no fill of its own: the option's shows
	c := &chosenOption{button: b}
	c.ExtendBaseWidget(c)
	return c
}

func (c *chosenOption) CreateRenderer() fyne.WidgetRenderer {
	fill := canvas.NewRectangle(kiosktheme.ChosenFill)
	fill.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	outline := canvas.NewRectangle(color.Transparent)
	outline.CornerRadius = fill.CornerRadius
	outline.StrokeColor = kiosktheme.Chosen
	outline.StrokeWidth = chosenOutline
	tick := canvas.NewImageFromResource(chosenTick)
	tick.FillMode = canvas.ImageFillContain
	tick.SetMinSize(fyne.NewSquareSize(markSize()))
	// The tick sits a padding in from the outline, over the button's own
	// inner padding, and the button moves right just enough to keep its
	// words a padding clear of the tick: a chosen option is 34 units wider
	// than the others (58 in larger text), so choosing one seldom changes
	// how many fit in a row.
	pad := theme.Padding()
	inset := max(0, 2*pad+markSize()-theme.Size(theme.SizeNameInnerPadding))
	words := container.New(layout.NewCustomPaddedLayout(0, 0, inset, 0), c.button)
	lead := container.New(layout.NewCustomPaddedLayout(0, 0, pad, 0),
		container.NewBorder(nil, nil, container.NewCenter(tick), nil))
	// The outline goes on top, where a pressed button's flash cannot hide it.
	return widget.NewSimpleRenderer(container.NewStack(fill, words, lead, outline))
}

// Tapped implements fyne.Tappable: a tap on the tick is a tap on the option.
func (c *chosenOption) Tapped(*fyne.PointEvent) {
	if c.button.OnTapped != nil {
		c.button.OnTapped()
	}
}

// errorBox is a step's error in a look of its own: an ochre-bordered box
// with a ⚠ sign and the words in bold black, not the main action's red.
// The words say what to do.
func errorBox(msg string) fyne.CanvasObject {
	bg := canvas.NewRectangle(kiosktheme.ErrorFill)
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	bg.StrokeColor = kiosktheme.Error
	bg.StrokeWidth = 3
	sign := canvas.NewImageFromResource(warningSign)
	sign.FillMode = canvas.ImageFillContain
	sign.SetMinSize(fyne.NewSquareSize(markSize()))
	l := widget.NewLabelWithStyle(msg, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	body := container.NewBorder(nil, nil, container.NewCenter(sign), nil, l)
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(0, 0, 2*theme.Padding(), theme.Padding()), body))
}

// successMark is the large green ✓ of a screen that says something went
// through, beside its heading.
func successMark(text string) fyne.CanvasObject {
	tick := canvas.NewImageFromResource(successTick)
	tick.FillMode = canvas.ImageFillContain
	tick.SetMinSize(fyne.NewSquareSize(3 * theme.Size(theme.SizeNameText)))
	h := heading(text)
	h.SizeName = theme.SizeNameHeadingText
	h.Wrapping = fyne.TextWrapOff // a short word, centred: wrapped, it would shrink to a column
	return container.NewBorder(nil, nil, tick, nil, h)
}

package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// chosenOptionOf is the chosen option labelled label on screen, or nil.
func chosenOptionOf(w fyne.Window, label string) *chosenOption {
	for _, o := range objects(w) {
		if c, ok := o.(*chosenOption); ok && c.button.Text == label {
			return c
		}
	}
	return nil
}

// hasImage says whether an image of res is on screen.
func hasImage(w fyne.Window, res fyne.Resource) bool {
	for _, o := range objects(w) {
		if img, ok := o.(*canvas.Image); ok && img.Resource == res {
			return true
		}
	}
	return false
}

// pixels counts the pixels of img inside r that are exactly c.
func pixels(img image.Image, r image.Rectangle, c color.NRGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
				n++
			}
		}
	}
	return n
}

// TestChosenOptionIsNotTheMainAction: a chosen option and the main action
// side by side look nothing alike. The main action is a solid red button;
// the chosen option is no red at all but an ink-blue outline round a pale
// blue fill with a ✓, and its words are on an ordinary button that does
// not claim the main action's importance. Tapping anywhere on it, the tick
// too, taps the option.
func TestChosenOptionIsNotTheMainAction(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(kiosktheme.New())
	tapped := 0
	opt := choice("婚姻家庭", true, func() { tapped++ })
	other := choice("邻里", false, func() {})
	main := primary(labelNext, func() {})
	w := test.NewTempWindow(t, container.NewVBox(opt, other, main))
	w.SetPadded(false)
	w.Resize(fyne.NewSize(600, 300))

	c, ok := opt.(*chosenOption)
	if !ok {
		t.Fatalf("a chosen option is a %T, want the outlined, ticked *chosenOption", opt)
	}
	if c.button.Importance == main.Importance || c.button.Importance == widget.DangerImportance {
		t.Errorf("a chosen option's button has importance %v, the look of the main action or an error", c.button.Importance)
	}
	if !hasImage(w, chosenTick) {
		t.Error("a chosen option carries no ✓")
	}
	if b, ok := other.(*widget.Button); !ok || b.Importance != widget.MediumImportance {
		t.Errorf("an option not chosen is %T, want an ordinary button", other)
	}

	img := w.Canvas().Capture()
	scale := float32(img.Bounds().Dx()) / w.Canvas().Size().Width
	bounds := func(o fyne.CanvasObject) image.Rectangle {
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
		s := o.Size()
		return image.Rect(int(p.X*scale), int(p.Y*scale), int((p.X+s.Width)*scale), int((p.Y+s.Height)*scale))
	}
	optBox, mainBox := bounds(opt), bounds(main)
	if n := pixels(img, optBox, kiosktheme.Primary); n > 0 {
		t.Errorf("the chosen option has %d pixels of the main action's red", n)
	}
	if n := pixels(img, optBox, kiosktheme.Chosen); n < optBox.Dx()*2 {
		t.Errorf("the chosen option has only %d pixels of its outline colour: no outline", n)
	}
	if n := pixels(img, optBox, kiosktheme.ChosenFill); n < optBox.Dx()*optBox.Dy()/3 {
		t.Errorf("the chosen option has only %d pixels of its fill", n)
	}
	if n := pixels(img, mainBox, kiosktheme.Primary); n < mainBox.Dx()*mainBox.Dy()/2 {
		t.Errorf("the main action has only %d pixels of red in %v", n, mainBox)
	}
	if n := pixels(img, mainBox, kiosktheme.Chosen) + pixels(img, mainBox, kiosktheme.ChosenFill); n > 0 {
		t.Errorf("the main action has %d pixels of the chosen look", n)
	}

	test.TapAt(c, fyne.NewPos(10, c.Size().Height/2)) // on the tick
	test.Tap(c.button)
	if tapped != 2 {
		t.Errorf("two taps on the chosen option, the tick and the words, reached it %d times", tapped)
	}
}

// TestPictogramChosenLooksLikeAChosenOption: a chosen pictogram card has
// the same outline and ✓ as a chosen button, and no red.
func TestPictogramChosenLooksLikeAChosenOption(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(kiosktheme.New())
	p := newPictoChoice("邻里", categoryPictogram("邻里"), true, func() {})
	w := test.NewTempWindow(t, p)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(300, 300))
	if !hasImage(w, chosenTick) {
		t.Error("a chosen pictogram carries no ✓")
	}
	img := w.Canvas().Capture()
	if n := pixels(img, img.Bounds(), kiosktheme.Primary); n > 0 {
		t.Errorf("a chosen pictogram has %d pixels of the main action's red", n)
	}
	if n := pixels(img, img.Bounds(), kiosktheme.Chosen); n < img.Bounds().Dx() {
		t.Errorf("a chosen pictogram has only %d pixels of the outline colour", n)
	}
}

// TestOneVisualLanguage tours every screen: the done screens show the large
// green ✓; an error is in the error box with its sign, never red words; and
// no text anywhere is in the main action's red.
func TestOneVisualLanguage(t *testing.T) {
	u, w, _ := mustUI(t, newFakeAgent())
	seen := map[string]bool{}
	tour(t, u, w, func(screen string) {
		if strings.HasSuffix(screen, "-done") {
			seen["done"] = true
			if !hasImage(w, successTick) {
				t.Errorf("%s: no green ✓", screen)
			}
		}
		if screen == "mediator-wrong-pin" {
			seen["error"] = true
			if !hasImage(w, warningSign) {
				t.Errorf("%s: the error has no warning sign", screen)
			}
		}
		for _, o := range objects(w) {
			switch v := o.(type) {
			case *canvas.Text:
				if v.Color == color.Color(kiosktheme.Primary) && strings.TrimSpace(v.Text) != "" {
					t.Errorf("%s: %q is in the main action's red", screen, v.Text)
				}
			case *widget.Label:
				if v.Importance == widget.DangerImportance {
					t.Errorf("%s: %q is in red words, not the error box", screen, v.Text)
				}
			}
		}
	})
	if !seen["done"] || !seen["error"] {
		t.Errorf("the tour missed a done screen or the wrong-PIN error: %v", seen)
	}
}

// TestScreenshotsKeepTheThemeColours: the gallery's writer gives back every
// colour of the theme exactly, even in a picture with far more than 256
// colours, all of them commoner than the theme's.
func TestScreenshotsKeepTheThemeColours(t *testing.T) {
	const noise = 600 // distinct other colours, each on 8 pixels
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	i := 0
	for ; i < noise*8; i++ {
		n := i / 8
		img.Set(i%100, i/100, color.NRGBA{R: uint8(n), G: uint8(n * 7), B: uint8(n * 13), A: 0xFF})
	}
	at := map[string]image.Point{}
	for name, c := range kiosktheme.Colours {
		p := image.Pt(i%100, i/100)
		img.SetNRGBA(p.X, p.Y, c)
		at[name] = p
		i++
	}
	var buf bytes.Buffer
	if err := encodeShot(&buf, img); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range at {
		if c := color.NRGBAModel.Convert(got.At(p.X, p.Y)); c != color.Color(kiosktheme.Colours[name]) {
			t.Errorf("%s %v comes out as %v", name, kiosktheme.Colours[name], c)
		}
	}
	for _, name := range []string{"Background", "Primary", "Notice", "Good", "Card", "Foreground", "Chosen", "ChosenFill", "Error", "ErrorFill"} {
		if _, ok := at[name]; !ok {
			t.Errorf("kiosktheme.Colours has no %s", name)
		}
	}
}

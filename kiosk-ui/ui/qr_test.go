package ui

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
)

// qrMinPixels is 5 cm on the 10″ 1280×800 panel (151 ppi): a code any
// smaller is hard for an old phone to read off the screen.
const qrMinPixels = 297

// TestQRCodesScanToTheConfiguredLinks renders each service page and both
// done screens on every panel, in both text sizes, with the Fyne test
// driver and reads the QR code off the screenshot with zbarimg, as a phone
// would read it off the glass: it must hold exactly the site's link and be
// at least 5 cm wide on a 10″ panel.
func TestQRCodesScanToTheConfiguredLinks(t *testing.T) {
	zbar := mustZbarimg(t)
	for _, pn := range panels {
		for _, large := range []bool{false, true} {
			name := pn.name
			if large {
				name += "-large"
			}
			t.Run(name, func(t *testing.T) {
				_, w, _ := mustUI(t, newFakeAgent(), pn.size)
				larger := func() {
					if large && !kiosktheme.IsLarge(fyne.CurrentApp().Settings().Theme()) {
						test.Tap(mustButton(t, w, labelLarger)) // going home resets it
					}
				}
				p := &tapper{t: t, w: w}
				for _, s := range testMenu().Services {
					p.tile(s.Title)
					larger()
					mustScanOne(t, zbar, w, s.ID, testServiceURL(s.ID))
					p.tap(labelHome)
				}
				walkToConfirm(t, w).tap(labelConfirm)
				larger()
				mustScanOne(t, zbar, w, "consult-done", testLookup+"00007")
				p.tap(labelHome)
			})
		}
	}
}

// TestNoLinkNoQRAndNoPromise: a site without links shows no QR code and
// does not tell a villager to scan one.
func TestNoLinkNoQRAndNoPromise(t *testing.T) {
	agent := newFakeAgent()
	agent.editMenu = func(m *apitype.Menu) {
		m.BookingLookup = ""
		for i := range m.Services {
			for j := range m.Services[i].Platforms {
				m.Services[i].Platforms[j].URL = ""
			}
		}
	}
	_, w, _ := mustUI(t, agent)
	noPromise := func(screen string) {
		t.Helper()
		if hasQR(w) {
			t.Errorf("%s: a QR code without a link", screen)
		}
		for _, s := range texts(w) {
			if strings.Contains(s, "扫") {
				t.Errorf("%s: promises a code: %q", screen, s)
			}
		}
	}
	p := &tapper{t: t, w: w}
	p.tile("法律顾问")
	noPromise("service page")
	mustSee(t, w, "“闽事理”小程序") // the words still say how to go online
	p.tap(labelHome)
	walkToConfirm(t, w).tap(labelConfirm)
	mustSee(t, w, "预约号 00007")
	noPromise("done screen")
	mustSee(t, w, "请记下预约号")
}

// mustZbarimg finds zbarimg. Its absence fails the test rather than
// skipping it: a skipped scan would let an unreadable code ship.
func mustZbarimg(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatalf("zbarimg is needed to read the QR codes off the screenshots: install zbar-tools (make deps): %v", err)
	}
	return path
}

// zbarResult is zbarimg's --xml output, as far as the test reads it.
type zbarResult struct {
	Symbols []struct {
		Data string `xml:"data"`
	} `xml:"source>index>symbol"`
}

// mustScanOne screenshots w and checks that it holds one QR code, that it
// reads as want, and that it is large enough to scan.
func mustScanOne(t *testing.T, zbar string, w fyne.Window, screen, want string) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), screen+".png")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--xml", "--nodbus", "-q", file).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 4 {
		t.Errorf("%s: no QR code found on screen (want %q); texts: %q", screen, want, texts(w))
		return
	}
	if err != nil {
		t.Fatalf("%s: zbarimg: %v", screen, err)
	}
	var r zbarResult
	if err := xml.Unmarshal(out, &r); err != nil {
		t.Fatalf("%s: zbarimg's output: %v\n%s", screen, err, out)
	}
	if len(r.Symbols) != 1 {
		t.Fatalf("%s: %d codes on screen, want one: %+v", screen, len(r.Symbols), r.Symbols)
	}
	s := r.Symbols[0]
	if s.Data != want {
		t.Errorf("%s: the QR code reads %q, want %q", screen, s.Data, want)
	}
	mustBigQR(t, w, screen)
}

// mustBigQR checks that the screen's QR code is drawn at least 5 cm wide
// on a 10″ panel, quiet zone included, and wholly inside the window: a
// code half under the fold would have a villager scroll before scanning.
func mustBigQR(t *testing.T, w fyne.Window, screen string) {
	t.Helper()
	win := w.Canvas().Size()
	for _, o := range objects(w) {
		// The code is the one image drawn pixel for pixel (qrTile); a
		// pictogram or the done screens' large ✓ is smoothed.
		img, ok := o.(*canvas.Image)
		if !ok || img.ScaleMode != canvas.ImageScalePixels {
			continue
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(img)
		if sz := img.Size(); min(sz.Width, sz.Height) < qrMinPixels {
			t.Errorf("%s: the QR code is drawn %.0f×%.0f, want at least %d (5 cm on a 10″ panel)", screen, sz.Width, sz.Height, qrMinPixels)
		}
		if pos.X < 0 || pos.Y < 0 || pos.X+img.Size().Width > win.Width || pos.Y+img.Size().Height > win.Height {
			t.Errorf("%s: the QR code at %v, %v is not wholly on the %v screen", screen, pos, img.Size(), win)
		}
		return
	}
	t.Errorf("%s: no QR code image on screen", screen)
}

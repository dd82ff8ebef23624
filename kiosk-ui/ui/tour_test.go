package ui

import (
	"cmp"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// The panels a kiosk ships with, with their diagonals in inches as the
// board profiles give them (firmware-configs/boards).
var panels = []struct {
	name     string
	size     fyne.Size
	diagonal float64
}{
	{"1920x1080", fyne.NewSize(1920, 1080), 21.5},
	{"1080x1920", fyne.NewSize(1080, 1920), 32},
	{"1280x800", fyne.NewSize(1280, 800), 10.1},
}

// boardPanel is the panel kioskd reports for a window of size: the board
// whose screen it is, or a panel of unknown density.
func boardPanel(size fyne.Size) *apitype.Panel {
	p := &apitype.Panel{Width: int(size.Width), Height: int(size.Height)}
	for _, pn := range panels {
		if pn.size == size {
			p.Diagonal = pn.diagonal
		}
	}
	return p
}

// tour visits every screen of the kiosk in turn, calling visit on each with
// a short name for it.
func tour(t *testing.T, u *UI, w fyne.Window, visit func(name string)) {
	t.Helper()
	p := &tapper{t: t, w: w}
	visit("home")
	// The township unreachable, records waiting: the calm notice.
	u.reachable, u.status.Broker.State, u.status.Queue.Depth = true, "disconnected", 3
	u.updateBanner()
	visit("home-offline")
	u.status.Broker.State, u.status.Queue.Depth = "connected", 0
	u.updateBanner()
	// Left alone, the home screen dims.
	u.lastActivity = u.opts.Now().Add(-u.dimAfter())
	u.checkDim()
	visit("home-dimmed")
	u.wake()
	for i, title := range []string{"法律顾问", "法治讲堂", "法律体检", "学法律的地方", "法治集市"} {
		p.tile(title)
		visit(fmt.Sprintf("service-%d", i+1))
		p.tap(labelHome)
	}
	p.tile("法律体检")
	p.tap("家庭法律体检")
	visit("checkup-question")
	p.tap(labelYes)
	p.tap(labelYes)
	visit("checkup-result")
	p.tap(labelHome)

	p.tap(labelBookAdvisor)
	visit("consult-1-topic")
	p.tap("婚姻家庭")
	visit("consult-2-day")
	p.tap("11月26日 周四")
	visit("consult-3-time")
	p.tap("15:00")
	visit("consult-4-surname")
	p.tap("王")
	visit("consult-4-honorific")
	p.tap("王" + labelMs)
	p.keys("13800001111")
	visit("consult-5-phone")
	p.tap(labelNext)
	visit("consult-6-confirm")
	p.tap(labelConfirm)
	visit("consult-done")
	p.tap(labelHome)

	p.tap(labelBookMediation)
	visit("mediation-1-category")
	p.picto("邻里")
	u.onCardEvent(tappedCard)
	p.keys("13800001111")
	visit("mediation-2-phone-with-card")
	p.tap(labelNext)
	p.tap("11月26日 周四 晚上")
	visit("mediation-3-prefer")
	p.tap(labelNext)
	visit("mediation-4-confirm")
	p.tap(labelConfirm)
	visit("mediation-done")
	p.tap(labelHome)

	// Without a card, and with the other party.
	p.tap(labelBookMediation)
	p.picto("婚姻家庭")
	visit("mediation-2-surname")
	p.tap("王")
	visit("mediation-2-honorific")
	p.tap("王" + labelMs)
	p.keys("13800001111")
	visit("mediation-2-phone")
	p.tap(labelNext)
	p.tap("11月27日 周五 上午")
	p.tap(labelNext)
	p.tap(labelAddOther)
	visit("mediation-4-other-surname")
	p.tap("吴")
	p.tap("吴" + labelMr)
	p.keys("13900002222")
	visit("mediation-4-other-phone")
	p.tap(labelNext)
	visit("mediation-4-confirm-other")
	p.tap(labelCancel)

	// 我要反映 (issue 20): by phone and card with a photo question, then an
	// anonymous report; and the check, by number and by card.
	p.tap(labelRaise)
	visit("request-1-kind")
	p.picto("反映诉求")
	visit("request-2-category")
	p.picto("道路设施")
	p.tap("路灯不亮")
	visit("request-3-phrases")
	p.tap(labelNext)
	visit("request-4-place")
	p.tap("溪上石拱桥")
	p.keys("13900001234")
	visit("request-5-phone")
	p.tap(txt(wording.RequestPhotoShort))
	visit("request-5-photo-consent")
	p.tap(labelReqPhotoNo)
	u.onCardEvent(tappedCard)
	visit("request-5-card")
	p.tap(labelSubmit)
	visit("request-done")
	p.tap(labelHome)
	p.tap(labelRaise)
	p.picto("举报")
	p.picto("环境卫生")
	p.tap("有人往溪里倒垃圾")
	p.tap(labelNext)
	p.tap(labelPlaceSkip)
	visit("request-5-report")
	p.tap(labelAnonymous)
	visit("request-5-anonymous")
	p.tap(labelSubmit)
	visit("request-done-anonymous")
	p.tap(labelHome)
	p.tap(labelCheck)
	visit("check")
	p.tap(labelCheckNumber)
	p.keys("42")
	visit("check-number")
	p.tap(labelNext)
	visit("check-how")
	p.tap(labelCheckPhone4)
	p.keys("9999")
	visit("check-phone4")
	p.tap(labelCheckSearch)
	visit("check-no-match")
	p.keys("1234")
	p.tap(labelCheckSearch)
	visit("check-result")
	p.tap(labelHome)
	if fa, ok := u.opts.Agent.(*fakeAgent); ok {
		fa.req.reply = "路灯已于12月5日修复，谢谢您的反映。"
	}
	p.tap(labelCheck)
	u.onCardEvent(tappedCard)
	visit("check-by-card")
	p.tap(labelHome)

	// 美德银行 (issue 20 item 3): the public part, and a card's account.
	p.tile(labelPoints)
	visit("points-public")
	u.onCardEvent(tappedCard)
	visit("points-account")
	p.tap(labelHome)

	p.tap(labelMediator)
	visit("mediator-signin")
	u.onCardEvent(mediatorCard)
	p.keys("1111")
	p.tap(labelSignIn)
	visit("mediator-wrong-pin")
	p.keys("24")
	visit("mediator-pin")
	p.keys("68")
	p.tap(labelSignIn)
	visit("mediator-home")
	p.tile("案件 00012")
	visit("mediator-case")
	p.tap(labelLogSession)
	p.tap(outcomeLabels["settled"])
	visit("mediator-session")
	p.tap(labelMediatorHome)
	p.tile("案件 00012")
	p.tap(labelLogSession)
	p.tap(lineLabels["blue"])
	p.tap("双方各退一步")
	p.tap(outcomeLabels["unsettled"])
	p.tap(labelSaveSession)
	visit("mediator-case-saved")
	p.tap(labelPhoto)
	visit("mediator-photo-consent")
	p.tap(labelPhotoRefused)
	p.tap(labelMediatorHome)
	p.tap(labelNewCase)
	visit("mediator-new-case")
	p.tap(labelAddBySurname)
	visit("mediator-new-case-surname")
	p.tap("黄")
	p.tap("黄" + labelMr)
	visit("mediator-new-case-phone")
	p.tap(labelMediatorHome)
	p.tap(labelFollowUps)
	visit("mediator-follow-ups")
	p.tap(labelMediatorHome)
	p.tap(labelIndicators)
	visit("mediator-indicators")
	tourIdle(t, u, w, visit)
	p.tap(labelSignOut)
}

// TestEveryScreenMeetsTheElderlyRules walks every screen on each panel in
// standard and larger text: every button, tile and input at least 60×60,
// no text below 18 pt (30 pt in larger text), and nothing wider than the
// panel (a villager cannot scroll sideways).
func TestEveryScreenMeetsTheElderlyRules(t *testing.T) {
	for _, pn := range panels {
		for _, large := range []bool{false, true} {
			name := pn.name
			// 18 pt (30 pt in larger text) on this panel, and never
			// below the pixel sizes of a panel of unknown density.
			kp := kiosktheme.Panel{Width: int(pn.size.Width), Height: int(pn.size.Height), Diagonal: pn.diagonal}
			minText := max(float32(kiosktheme.MinTextSize), kiosktheme.MainPoints*kp.PixelsPerPoint())
			if large {
				name += "-large"
				minText = max(kiosktheme.LargeTextSize, kiosktheme.LargePoints*kp.PixelsPerPoint())
			}
			minText -= 0.05 // float rounding of the same size
			t.Run(name, func(t *testing.T) {
				u, w, _ := mustUI(t, newFakeAgent(), pn.size)
				if large {
					test.Tap(mustButton(t, w, labelLarger))
				}
				screens := 0
				tour(t, u, w, func(screen string) {
					screens++
					if large && !kiosktheme.IsLarge(fyne.CurrentApp().Settings().Theme()) {
						test.Tap(mustButton(t, w, labelLarger)) // going home resets it
					}
					checkScreen(t, w, screen, minText)
				})
				if screens < 30 {
					t.Errorf("the tour saw only %d screens", screens)
				}
			})
		}
	}
}

// TestEveryScreenReadsAloud: on every screen the read-aloud button has
// something to say that kioskd will take, with no masked digits to stumble
// over and no button pointed at by its colour alone.
func TestEveryScreenReadsAloud(t *testing.T) {
	u, w, _ := mustUI(t, newFakeAgent())
	tour(t, u, w, func(screen string) {
		text := u.readAloudText()
		switch {
		case utf8.RuneCountInString(text) < 4:
			t.Errorf("%s: reads aloud %q", screen, text)
		case utf8.RuneCountInString(text) > maxSpeechRunes:
			t.Errorf("%s: %d characters to read, kioskd takes %d", screen, utf8.RuneCountInString(text), maxSpeechRunes)
		case strings.ContainsAny(text, "*＊"):
			t.Errorf("%s: reads masked digits: %q", screen, text)
		case strings.Contains(text, "色按钮"):
			t.Errorf("%s: names a button by its colour: %q", screen, text)
		case fullNumber.MatchString(text):
			t.Errorf("%s: reads a full phone or ID number aloud: %q", screen, text)
		}
	})
}

func checkScreen(t *testing.T, w fyne.Window, screen string, minText float32) {
	t.Helper()
	if mw, pw := w.Content().MinSize().Width, w.Canvas().Size().Width; mw > pw {
		t.Errorf("%s: content needs %.0f wide on a %.0f panel", screen, mw, pw)
	}
	for _, o := range objects(w) {
		var size fyne.Size
		var name string
		switch v := o.(type) {
		case *widget.Button:
			size, name = v.Size(), v.Text
		case *tile:
			size, name = v.Size(), v.Title
		case *pictoChoice:
			size, name = v.Size(), v.Label
		case *widget.Entry:
			size, name = v.Size(), "entry "+v.PlaceHolder
		case *canvas.Text:
			if strings.TrimSpace(v.Text) != "" && v.TextSize < minText {
				t.Errorf("%s: text %q is %.0f units, below %.0f", screen, v.Text, v.TextSize, minText)
			}
			continue
		default:
			continue
		}
		if size.Width < kiosktheme.MinTouch || size.Height < kiosktheme.MinTouch {
			t.Errorf("%s: %q is %.0f×%.0f, smaller than %d×%d", screen, name, size.Width, size.Height, kiosktheme.MinTouch, kiosktheme.MinTouch)
		}
	}
}

var shotsDir = flag.String("screenshots", "", "write a PNG of every screen on every panel in both text sizes into `dir`, and a gallery page")

// TestScreenshots renders every screen on every panel, in standard and
// larger text, with the bundled
// font through Fyne's software renderer. `make screenshots` keeps them in
// docs/ui/ and writes the gallery docs/ui.md; otherwise they go to a temp
// dir, which still proves that every screen renders.
func TestScreenshots(t *testing.T) {
	dir := *shotsDir
	if dir == "" && testing.Short() {
		t.Skip("-short leaves out rendering every screen at every panel size in both text sizes (about 30 s); TestEveryScreenMeetsTheElderlyRules still tours them; make test runs it")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var gallery strings.Builder
	for _, pn := range panels {
		for _, large := range []bool{false, true} {
			name := pn.name
			if large {
				name += "-large"
				fmt.Fprintf(&gallery, "\n## %s, larger text\n\n", pn.name)
			} else {
				fmt.Fprintf(&gallery, "\n## %s\n\n", pn.name)
			}
			u, w, _ := mustUI(t, newFakeAgent(), pn.size)
			tour(t, u, w, func(screen string) {
				if large && !kiosktheme.IsLarge(fyne.CurrentApp().Settings().Theme()) {
					test.Tap(mustButton(t, w, labelLarger)) // going home resets it
				}
				file := name + "-" + screen + ".png"
				img := w.Canvas().Capture()
				if *shotsDir == "" {
					return // rendered: that is all a plain test run needs
				}
				f, err := os.Create(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if err := encodeShot(f, img); err != nil {
					t.Fatal(err)
				}
				f.Close()
				fmt.Fprintf(&gallery, "![%s](ui/%s)\n", screen, file)
			})
		}
	}
	if *shotsDir != "" {
		page := "# Kiosk UI gallery\n\nEvery screen on each of the three panels, in standard and in larger text, rendered by `make screenshots` " +
			"(`go test ./kiosk-ui/ui -run TestScreenshots -args -screenshots docs/ui`) with the fake agent of the UI tests " +
			"and the bundled font, through Fyne's software renderer. Each PNG has a palette of its own that keeps every " +
			"colour of the theme exactly.\n\n" +
			"One visual language: 中国红 is only ever the main action, a solid red button with white words. " +
			"A chosen option is outlined in ink blue on a pale blue fill, with a large ✓ before its words. " +
			"An error is an ochre-bordered box with a ⚠ sign, its words in black saying what to do. " +
			"A screen that says something went through has a large green ✓. Each mark has a shape as well as a colour.\n" +
			gallery.String()
		if err := os.WriteFile(filepath.Join(filepath.Dir(filepath.Clean(dir)), "ui.md"), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// encodeShot writes a screenshot as a PNG of its own palette (toPaletted),
// compressed hard: the gallery lives in the repository. For the 135
// standard-text pictures that is 3.9 MB (4.3 MB at default compression);
// true-colour PNG is 10.2 MB, and the fixed Plan 9 palette, which lost the
// theme's colours, was 3.4 MB.
func encodeShot(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, toPaletted(img))
}

// toPaletted maps img onto a palette of its own: its colours exactly when
// it has at most 256, which a flat screen of anti-aliased text mostly
// does; otherwise every theme colour it uses and then its most frequent
// others, the rest going to the nearest of those. The theme's colours
// thus come out exactly (the fixed Plan 9 palette turned the warm
// background plain grey), and the gallery stays small. Each distinct
// colour is looked up once: image/draw's per-pixel nearest-colour search
// took 97% of the test's time.
func toPaletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	count := make(map[color.NRGBA]int)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	colours := make([]color.NRGBA, 0, len(count))
	for c := range count {
		colours = append(colours, c)
	}
	// Theme colours first, then by frequency; ties by value, so that the
	// same screen always writes the same file.
	theme := make(map[color.NRGBA]bool)
	for _, c := range kiosktheme.Colours {
		theme[c] = true
	}
	slices.SortFunc(colours, func(a, b color.NRGBA) int {
		if theme[a] != theme[b] {
			if theme[a] {
				return -1
			}
			return 1
		}
		if d := count[b] - count[a]; d != 0 {
			return d
		}
		return cmp.Or(cmp.Compare(a.R, b.R), cmp.Compare(a.G, b.G), cmp.Compare(a.B, b.B), cmp.Compare(a.A, b.A))
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colours[:min(len(colours), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := make(map[color.NRGBA]uint8, len(colours))
	for i, c := range pal {
		index[c.(color.NRGBA)] = uint8(i)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

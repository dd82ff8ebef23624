package kiosktheme

import (
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"go.yaml.in/yaml/v3"
	"golang.org/x/image/font/sfnt"
)

// mustFonts parses the fonts a kiosk draws with, in Fyne's lookup order.
func mustFonts(t *testing.T) []*sfnt.Font {
	t.Helper()
	var fonts []*sfnt.Font
	for _, res := range []fyne.Resource{CJKFont, theme.DefaultTextFont(), theme.DefaultTextBoldFont()} {
		f, err := sfnt.Parse(res.Content())
		if err != nil {
			t.Fatalf("%s: %v", res.Name(), err)
		}
		fonts = append(fonts, f)
	}
	return fonts
}

func covered(fonts []*sfnt.Font, r rune) bool {
	var buf sfnt.Buffer
	for _, f := range fonts {
		if i, err := f.GlyphIndex(&buf, r); err == nil && i != 0 {
			return true
		}
	}
	return false
}

// uiStrings returns every string literal in the UI's source: whatever the
// screens can show is among them.
func uiStrings(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../ui/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no UI sources: %v", err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

// siteStrings returns every scalar in the shipped site configs: the menu text
// township IT writes.
func siteStrings(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../../firmware-configs/sites/*.yaml")
	if len(files) == 0 {
		t.Fatal("no site configs found")
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			out = append(out, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			t.Fatal(err)
		}
		walk(&root)
	}
	return out
}

// TestEveryGlyphIsInTheFonts fails when a string on screen has a character
// that neither the embedded font nor Fyne's bundled one can draw: the kiosk
// would show a box instead, or depend on whatever fonts the OS happens to have.
func TestEveryGlyphIsInTheFonts(t *testing.T) {
	fonts := mustFonts(t)
	missing := map[rune]string{}
	for _, s := range append(uiStrings(t), siteStrings(t)...) {
		for _, r := range s {
			if r < ' ' || r == 0xFE0F {
				continue
			}
			if !covered(fonts, r) {
				missing[r] = s
			}
		}
	}
	for r, s := range missing {
		t.Errorf("no glyph for %q (U+%04X) in %q", r, r, s)
	}
}

// TestChineseIsDrawn renders Chinese with the kiosk theme through Fyne's
// software painter and checks that each character leaves a mark of its own,
// unlike the placeholder box drawn for a glyph no font has.
func TestChineseIsDrawn(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(New())
	tofu := mustRenderGlyph(t, '\uE000') // private use: no font has it
	if other := mustRenderGlyph(t, '\uE001'); other != tofu {
		t.Fatal("two missing glyphs render differently; this test cannot tell tofu apart")
	}
	seen := map[string]rune{}
	for _, r := range "婚姻家庭法律顾问预约成功" {
		shape := mustRenderGlyph(t, r)
		if shape == tofu {
			t.Errorf("%q renders as the missing-glyph box", r)
		}
		if strings.Count(shape, "#") < 20 {
			t.Errorf("%q drew almost nothing", r)
		}
		if prev, dup := seen[shape]; dup {
			t.Errorf("%q and %q render identically", prev, r)
		}
		seen[shape] = r
	}
}

// mustRenderGlyph draws one character at 48 units and returns its ink,
// cropped to its bounding box, as rows of '#' and '.'.
func mustRenderGlyph(t *testing.T, r rune) string {
	t.Helper()
	txt := canvas.NewText(string(r), Foreground)
	txt.TextSize = 48
	w := test.NewTempWindow(t, container.NewWithoutLayout(txt))
	w.SetPadded(false)
	w.Resize(fyne.NewSize(120, 120))
	txt.Resize(txt.MinSize())
	img := w.Canvas().Capture()
	ink := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return (r+g+b)/3 < 0x8000
	}
	box := image.Rectangle{Min: img.Bounds().Max, Max: img.Bounds().Min}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if ink(x, y) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	var sb strings.Builder
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if ink(x, y) {
				sb.WriteByte('#')
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, bl, _ := c.RGBA()
		ch := func(v uint32) float64 {
			s := float64(v) / 0xFFFF
			if s <= 0.03928 {
				return s / 12.92
			}
			return math.Pow((s+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(bl)
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestContrast: every text colour the screens use is at least 4.5:1
// against what it is drawn on (MIIT 适老化 and WCAG AA), in both text sizes.
func TestContrast(t *testing.T) {
	for _, th := range []fyne.Theme{New(), NewLarge()} {
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, theme.VariantLight) }
		for _, tc := range []struct {
			name   string
			fg, bg color.Color
		}{
			{"text on background", c(theme.ColorNameForeground), c(theme.ColorNameBackground)},
			{"button text", c(theme.ColorNameForeground), c(theme.ColorNameButton)},
			{"primary button text", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNamePrimary)},
			{"error text", c(theme.ColorNameError), c(theme.ColorNameBackground)},
			{"disabled button text", c(theme.ColorNameDisabled), c(theme.ColorNameDisabledButton)},
			{"input text", c(theme.ColorNameForeground), c(theme.ColorNameInputBackground)},
			{"placeholder", c(theme.ColorNamePlaceHolder), c(theme.ColorNameInputBackground)},
			{"offline notice", Foreground, Notice},
			{"booking number", Foreground, Card},
			{"chosen option text", c(theme.ColorNameForeground), ChosenFill},
			// The outline and tick of a chosen option, the border and
			// sign of an error and the success tick are not text, but
			// they are what a villager goes by: they get text's 4.5:1.
			{"chosen outline and tick", Chosen, ChosenFill},
			{"chosen outline on background", Chosen, Background},
			{"chosen outline on a card", Chosen, Card},
			{"tick in a chosen badge", Card, Chosen},
			{"error text", c(theme.ColorNameForeground), ErrorFill},
			{"error border and sign", Error, ErrorFill},
			{"error border on background", Error, Background},
			{"success tick", Good, Background},
			{"tick in the success badge", Card, Good},
		} {
			if r := contrast(tc.fg, tc.bg); r < 4.5 {
				t.Errorf("%s: contrast %.2f:1, want at least 4.5:1", tc.name, r)
			}
		}
	}
}

// TestLineSpacing: wrapped text in every size the screens use has a line
// pitch of at least 1.3 times its size, in both themes. The pitch is
// measured off a label: the height a second line adds.
func TestLineSpacing(t *testing.T) {
	small := Panel{Width: 1280, Height: 800, Diagonal: 10.1}
	for _, th := range []fyne.Theme{New(), NewLarge(), ForPanel(small, false), ForPanel(small, true)} {
		test.NewTempApp(t).Settings().SetTheme(th)
		for _, size := range []fyne.ThemeSizeName{theme.SizeNameText, theme.SizeNameSubHeadingText, theme.SizeNameHeadingText} {
			style := widget.RichTextStyle{SizeName: size, TextStyle: fyne.TextStyle{}}
			height := func(text string) float32 {
				r := widget.NewRichText(&widget.TextSegment{Text: text, Style: style})
				return r.MinSize().Height
			}
			pitch := height("调解\n调解") - height("调解")
			px := th.Size(size)
			t.Logf("%s at %.0f units: line pitch %.1f = %.2f×", size, px, pitch, pitch/px)
			if pitch < MinLinePitch*px {
				t.Errorf("%s at %.0f units (large %v): line pitch %.1f = %.2f×, want at least %.1f×", size, px, IsLarge(th), pitch, pitch/px, MinLinePitch)
			}
		}
	}
}

// TestEachColourMeansOneThing: the main action's red is used for nothing
// else the theme names. A chosen option, an error and success each have a
// colour of their own, far enough from 中国红 and from each other to tell
// apart at a glance (colour is never the only cue, but it should not
// mislead either).
func TestEachColourMeansOneThing(t *testing.T) {
	th := New()
	if got := th.Color(theme.ColorNameError, theme.VariantLight); got != color.Color(Error) {
		t.Errorf("Fyne's error colour is %v, want the kiosk's Error %v: red is the main action", got, Error)
	}
	meanings := map[string]color.NRGBA{"main action": Primary, "chosen": Chosen, "error": Error, "success": Good}
	for a, ca := range meanings {
		for b, cb := range meanings {
			if a >= b {
				continue
			}
			if d := hueDistance(ca, cb); d < 30 {
				t.Errorf("%s %v and %s %v are %.0f° apart in hue, want at least 30°", a, ca, b, cb, d)
			}
		}
	}
}

// hueDistance is the angle between two colours' hues, in degrees.
func hueDistance(a, b color.NRGBA) float64 {
	hue := func(c color.NRGBA) float64 {
		r, g, b := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255
		mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
		if mx == mn {
			return 0
		}
		var h float64
		switch mx {
		case r:
			h = math.Mod((g-b)/(mx-mn), 6)
		case g:
			h = (b-r)/(mx-mn) + 2
		default:
			h = (r-g)/(mx-mn) + 4
		}
		return math.Mod(h*60+360, 360)
	}
	d := math.Abs(hue(a) - hue(b))
	return math.Min(d, 360-d)
}

// The kiosks' panels, as their board profiles give them.
var boardPanels = []struct {
	board string
	panel Panel
}{
	{"rk3568, dev-sim", Panel{1280, 800, 10.1}},
	{"rpi4", Panel{1920, 1080, 21.5}},
	{"rpi5", Panel{1080, 1920, 32}},
}

// TestPhysicalSizes: on every kiosk panel main text is at least 18 pt (30
// pt in larger text), and the smallest target at least 12 mm square.
func TestPhysicalSizes(t *testing.T) {
	for _, b := range boardPanels {
		for _, large := range []bool{false, true} {
			th := ForPanel(b.panel, large)
			text := th.Size(theme.SizeNameText)
			pt := b.panel.Points(text)
			want := float32(MainPoints)
			if large {
				want = LargePoints
			}
			touch := b.panel.Millimetres(th.Size(SizeNameTouch))
			t.Logf("%s %d×%d %.1f\" large=%v: text %.0f px = %.1f pt, heading %.1f pt, target %.0f px = %.1f mm",
				b.board, b.panel.Width, b.panel.Height, b.panel.Diagonal, large, text, pt,
				b.panel.Points(th.Size(theme.SizeNameSubHeadingText)), th.Size(SizeNameTouch), touch)
			if pt < want-0.05 {
				t.Errorf("%s large=%v: main text %.1f pt, want at least %.0f", b.board, large, pt, want)
			}
			if touch < MinTouchMM {
				t.Errorf("%s: smallest target %.1f mm, want at least %d", b.board, touch, MinTouchMM)
			}
			// A button is its text's line and the inner padding twice over.
			test.NewTempApp(t).Settings().SetTheme(th)
			if h := b.panel.Millimetres(widget.NewButton("确认", nil).MinSize().Height); h < MinTouchMM {
				t.Errorf("%s large=%v: a button is %.1f mm tall, want at least %d", b.board, large, h, MinTouchMM)
			}
		}
	}
	// A panel of unknown density keeps the fixed pixel sizes.
	if got := ForPanel(Panel{Width: 1280, Height: 800}, false).Size(theme.SizeNameText); got != TextSize {
		t.Errorf("unknown density: text %.0f px, want %d", got, TextSize)
	}
}

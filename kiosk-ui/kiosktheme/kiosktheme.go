// Package kiosktheme owns how the kiosk looks: the embedded Chinese font, the
// large type and touch targets that elderly villagers need (MIIT 适老化 guidance:
// main text at least 18 pt, targets at least 60×60), and a calm high-contrast
// palette that does not follow the desktop's dark mode.
package kiosktheme

import (
	_ "embed"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

//go:embed fonts/DroidSansFallbackFull.ttf
var cjkFont []byte

// CJKFont is the embedded Chinese font. Glyphs it lacks (Latin, digits) are
// drawn from Fyne's bundled default font, which Fyne consults next.
var CJKFont fyne.Resource = fyne.NewStaticResource("DroidSansFallbackFull.ttf", cjkFont)

// Sizes, in Fyne's device-independent units, which kiosk-ui keeps at one
// panel pixel (FYNE_SCALE=1, cmd/kiosk-ui). They are the sizes of a panel
// of unknown density; ForPanel scales them all up on a denser panel so
// that main text stays at least 18 pt there (24 px is 18 pt at 96 pixels
// per inch).
const (
	TextSize       = 24
	HeadingSize    = 40
	SubHeadingSize = 30
	// MinTouch is the smallest width and height of anything a finger taps.
	MinTouch = 60
	// LargeTextSize is the main text of the larger-text mode: 40 units,
	// about 30 pt, the largest size MIIT's guidance asks a switch to offer.
	LargeTextSize = 40
	// MinTextSize is the smallest text anything on a screen may use: 18 pt.
	MinTextSize = 24
	// MinLinePitch is MIIT's line-spacing rule: the pitch of wrapped text
	// over its size. Fyne sets wrapped lines one font line height apart
	// (its line-spacing size only separates paragraphs), so the pitch is
	// the embedded font's own: 1.31 em for DroidSansFallbackFull.
	// TestLineSpacing guards it against a change of font or of Fyne.
	MinLinePitch = 1.3
)

// Colours. Each means one thing, and none is the only cue to it: the main
// action is 中国红 and nothing else is; a chosen option is an ink-blue
// outline with a tick; an error is an ochre box with a warning sign;
// success is a green tick.
var (
	Primary    = color.NRGBA{R: 0xB7, G: 0x1C, B: 0x1C, A: 0xFF} // 中国红, for the main action
	Background = color.NRGBA{R: 0xFA, G: 0xF7, B: 0xF2, A: 0xFF}
	Foreground = color.NRGBA{R: 0x1A, G: 0x1A, B: 0x1A, A: 0xFF}
	Notice     = color.NRGBA{R: 0xFF, G: 0xF3, B: 0xCD, A: 0xFF} // calm amber for "offline"
	Good       = color.NRGBA{R: 0x2E, G: 0x7D, B: 0x32, A: 0xFF} // success: the done screens' tick
	Card       = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
	// Chosen outlines and ticks a chosen option, on ChosenFill.
	Chosen     = color.NRGBA{R: 0x1F, G: 0x4E, B: 0x96, A: 0xFF}
	ChosenFill = color.NRGBA{R: 0xE6, G: 0xEE, B: 0xF8, A: 0xFF}
	// Error borders an error and draws its warning sign, on ErrorFill; the
	// words are in Foreground.
	Error     = color.NRGBA{R: 0x8F, G: 0x52, B: 0x00, A: 0xFF}
	ErrorFill = color.NRGBA{R: 0xFD, G: 0xEB, B: 0xD3, A: 0xFF}
	// Button is an ordinary button's fill.
	Button = color.NRGBA{R: 0xEC, G: 0xE6, B: 0xDD, A: 0xFF}
)

// Colours lists every colour above by name, for the tests that they stay
// legible and that the screenshots keep them exactly.
var Colours = map[string]color.NRGBA{
	"Primary": Primary, "Background": Background, "Foreground": Foreground,
	"Notice": Notice, "Good": Good, "Card": Card, "Button": Button,
	"Chosen": Chosen, "ChosenFill": ChosenFill, "Error": Error, "ErrorFill": ErrorFill,
}

// kioskTheme scales every text size by scale: 1 for the standard theme,
// LargeTextSize/TextSize for the larger-text mode; and every size, text,
// padding and target, by unit, the panel's (Panel.Unit).
type kioskTheme struct{ scale, unit, touchMM float32 }

// New returns the kiosk theme with standard text for a panel of unknown
// density (24 px, 18 pt at 96 pixels per inch).
func New() fyne.Theme { return ForPanel(Panel{}, false) }

// NewLarge returns the larger-text theme (40 px, 30 pt at 96 pixels per
// inch) that the 大字 switch on every screen turns on.
func NewLarge() fyne.Theme { return ForPanel(Panel{}, true) }

// ForPanel returns the theme for panel p, with larger text if large: main
// text at least 18 pt (30 pt large) on that panel, and every size in
// proportion.
func ForPanel(p Panel, large bool) fyne.Theme {
	k := kioskTheme{scale: 1, unit: p.Unit(), touchMM: p.PixelsPerPoint() * 72 / 25.4}
	if large {
		k.scale = float32(LargeTextSize) / TextSize
	}
	return k
}

// Panel is a kiosk's screen: pixels, and its visible diagonal in inches
// (0: unknown).
type Panel struct {
	Width, Height int
	Diagonal      float64
}

// Points of main text that MIIT's guidance asks for.
const (
	MainPoints  = 18
	LargePoints = 30
)

// PixelsPerPoint is how many of the panel's pixels make a typographic
// point (1/72 in), 0 when its density is not known.
func (p Panel) PixelsPerPoint() float32 {
	if p.Diagonal <= 0 || p.Width <= 0 || p.Height <= 0 {
		return 0
	}
	return float32(math.Hypot(float64(p.Width), float64(p.Height)) / p.Diagonal / 72)
}

// Unit is what the panel multiplies every size by: 1 on a panel of 96
// pixels per inch or less (where the fixed sizes are already 18 pt or
// more), 18 pt over 24 px on a denser one. Never below 1: on a large,
// coarse panel the sizes in pixels are still what a finger and an eye at
// arm's length need.
func (p Panel) Unit() float32 {
	return max(1, MainPoints*p.PixelsPerPoint()/TextSize)
}

// Points is size pixels in points on this panel, 0 when not known.
func (p Panel) Points(size float32) float32 {
	if ppp := p.PixelsPerPoint(); ppp > 0 {
		return size / ppp
	}
	return 0
}

// Millimetres is size pixels in millimetres on this panel, 0 when not known.
func (p Panel) Millimetres(size float32) float32 {
	return p.Points(size) * 25.4 / 72
}

// SizeNameTouch is the theme's smallest target on this panel: MinTouch
// pixels, and at least MinTouchMM.
const SizeNameTouch fyne.ThemeSizeName = "kioskTouch"

// IsLarge says whether t is the larger-text theme.
func IsLarge(t fyne.Theme) bool {
	k, ok := t.(kioskTheme)
	return ok && k.scale > 1
}

func (kioskTheme) Color(name fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch name {
	case theme.ColorNamePrimary, theme.ColorNameFocus:
		return Primary
	case theme.ColorNameBackground:
		return Background
	case theme.ColorNameForeground:
		return Foreground
	case theme.ColorNameButton:
		return Button
	case theme.ColorNameInputBackground:
		return Card
	case theme.ColorNameSuccess:
		return Good
	case theme.ColorNameError:
		// Not red: red is the main action. Fyne's red also read 3.5:1.
		return Error
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		// "正在保存……" on a disabled button must still be legible: 4.5:1.
		return color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xFF}
	case theme.ColorNameDisabledButton:
		return color.NRGBA{R: 0xE0, G: 0xDC, B: 0xD5, A: 0xFF}
	}
	return theme.DefaultTheme().Color(name, theme.VariantLight)
}

func (kioskTheme) Font(style fyne.TextStyle) fyne.Resource {
	if style.Monospace || style.Symbol {
		return theme.DefaultTheme().Font(style)
	}
	return CJKFont
}

func (kioskTheme) Icon(name fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(name)
}

func (k kioskTheme) Size(name fyne.ThemeSizeName) float32 {
	switch name {
	case theme.SizeNamePadding, theme.SizeNameInnerPadding, theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		// Spacing stays in pixels: on a small dense panel scaled padding
		// would take the height the larger type needs, and a button is
		// still at least 12 mm tall with its larger text (TestPhysicalSizes).
		return k.size(name)
	case SizeNameTouch:
		return max(MinTouch, k.touchMM*MinTouchMM)
	}
	return k.unit * k.size(name)
}

// MinTouchMM is the smallest target on any panel, in millimetres: MIIT's
// 60×60 px on a phone is about 9 mm; a kiosk's finger comes at the screen
// from further, less steadily.
const MinTouchMM = 12

func (k kioskTheme) size(name fyne.ThemeSizeName) float32 {
	switch name {
	case theme.SizeNameText:
		return TextSize * k.scale
	case theme.SizeNameHeadingText:
		if k.scale > 1 {
			// Larger text makes main text nearly heading-sized; headings
			// stay a step above it, not a line of their own per word.
			return TextSize * k.scale * 1.25
		}
		return HeadingSize
	case theme.SizeNameSubHeadingText:
		if k.scale > 1 {
			return TextSize * k.scale // bold sets it apart
		}
		return SubHeadingSize
	case theme.SizeNameCaptionText:
		// Nothing on a kiosk is small print: captions are main text.
		return TextSize * k.scale
	case SizeNameTouch:
		return MinTouch
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 18 // 24 text + 2×18 padding: every button is at least 60 tall
	case theme.SizeNameInlineIcon:
		return 32
	case theme.SizeNameScrollBar:
		return 20
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 8
	}
	return theme.DefaultTheme().Size(name)
}

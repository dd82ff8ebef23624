package wording_test

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"golang.org/x/image/font/sfnt"

	"github.com/fengqiao/kiosk/kiosk-ui/kiosktheme"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// TestEveryGlyphIsInTheFonts is kiosktheme's check of the same name for
// the catalogue, whose texts are no longer string literals of the UI's
// source: a character that neither the embedded font nor Fyne's can draw
// shows as a box. (A site's corrections are in its site file, which
// kiosktheme's check reads.)
func TestEveryGlyphIsInTheFonts(t *testing.T) {
	var fonts []*sfnt.Font
	for _, res := range []fyne.Resource{kiosktheme.CJKFont, theme.DefaultTextFont(), theme.DefaultTextBoldFont()} {
		f, err := sfnt.Parse(res.Content())
		if err != nil {
			t.Fatalf("%s: %v", res.Name(), err)
		}
		fonts = append(fonts, f)
	}
	covered := func(r rune) bool {
		var buf sfnt.Buffer
		for _, f := range fonts {
			if i, err := f.GlyphIndex(&buf, r); err == nil && i != 0 {
				return true
			}
		}
		return false
	}
	for _, k := range wording.Keys() {
		for _, r := range wording.Default(k) {
			if r >= ' ' && r != 0xFE0F && !covered(r) {
				t.Errorf("%s: no glyph for %q (U+%04X) in %q", k, r, r, wording.Default(k))
			}
		}
	}
}

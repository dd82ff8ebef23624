package ui

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// maskedDigits is a masked number as the screens show it: 138****1111.
var maskedDigits = regexp.MustCompile(`[0-9]*[*＊]+([0-9]+)`)

// sayMasked words masked numbers for the ear: "138****1111" is read as
// "尾号 1 1 1 1", the way people name a phone number they only half show.
// It says 尾号 in the catalogue's words (read.tail); readAloudText in the
// site's.
func sayMasked(s string) string { return sayMaskedAs(defaultTail, s) }

// sayMaskedAs is sayMasked with tail naming the last digits.
func sayMaskedAs(tail func(digits string) string, s string) string {
	return maskedDigits.ReplaceAllStringFunc(s, func(m string) string {
		return tail(spaced(maskedDigits.FindStringSubmatch(m)[1]))
	})
}

// defaultTail is read.tail in the catalogue's words.
func defaultTail(digits string) string {
	return wording.Format(wording.Default(wording.ReadTail), wording.Args{"digits": digits})
}

// tail is read.tail in the site's words.
func (u *UI) tail(digits string) string {
	return u.tf(wording.ReadTail, wording.Args{"digits": digits})
}

// fullNumber is a phone or ID number typed in full (a confirmation shows
// the villager what they typed), also as the keypad groups it: 138 0000 1111.
var fullNumber = regexp.MustCompile(`[0-9](?: ?[0-9]){6,}[0-9Xx]?`)

// sayNumbers words full numbers as their last four digits: a kiosk reads
// aloud in a public hall.
func sayNumbers(s string) string { return sayNumbersAs(defaultTail, s) }

// sayNumbersAs is sayNumbers with tail naming the last digits.
func sayNumbersAs(tail func(digits string) string, s string) string {
	return fullNumber.ReplaceAllStringFunc(s, func(m string) string {
		m = strings.ReplaceAll(m, " ", "")
		return tail(spaced(m[len(m)-4:]))
	})
}

// maxSpeechRunes matches kioskd's bound on one read-aloud request.
const maxSpeechRunes = 500

// readAloudText is what the read-aloud button says on the current screen:
// the screen's own words (what it asks), then everything it shows and
// offers, in screen order, so that a villager who cannot read hears the
// choices too, not only the question. Buttons are named by their label,
// never by their colour.
func (u *UI) readAloudText() string {
	if u.warn != nil {
		return u.warn.speech() // it covers the screen: its question is all there is to hear
	}
	parts := []string{u.screen.speech}
	seen := map[string]bool{u.screen.speech: true}
	chosen := func(label string) string { return u.tf(wording.CommonChosen, wording.Args{"option": label}) }
	// A compact header's step indicator and the action band (frame.go)
	// are outside the body: the step is read before the screen's words,
	// the primary action and way back after them, where they are.
	var words []string
	if u.screen.lead != nil {
		words = screenWords(u.screen.lead, chosen)
	}
	words = append(words, screenWords(u.body, chosen)...)
	words = append(words, screenWords(u.band, chosen)...)
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			parts = append(parts, w)
		}
	}
	var b strings.Builder
	for _, p := range parts {
		p = strings.TrimRight(strings.TrimSpace(p), "。.")
		if p == "" {
			continue
		}
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(p)+1 > maxSpeechRunes {
			break
		}
		b.WriteString(p)
		b.WriteString("。")
	}
	return sayNumbersAs(u.tail, b.String())
}

// screenWords collects the visible text of o in reading order. Masked
// numbers are left out: "138 star star star star" helps nobody. Buttons of
// one character (the surname grid, keypad digits) are read too, since a
// villager who cannot read must hear their own surname to find it, but
// as one list ("王、李、张"), not as a sentence each, which would take
// longer than finding one's own. Other single characters are decoration.
// A chosen option is read as chosen says (已选：…), since its tick and
// outline are not heard.
func screenWords(o fyne.CanvasObject, chosen func(label string) string) []string {
	var out, keys []string
	flush := func() {
		if len(keys) > 0 {
			out = append(out, strings.Join(keys, "、"))
			keys = nil
		}
	}
	var walk func(o fyne.CanvasObject)
	add := func(s string) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) <= 1 || strings.ContainsAny(s, "*＊") {
			return
		}
		flush()
		out = append(out, s)
	}
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(v.Content)
		case *widget.Label:
			add(v.Text)
		case *widget.Button:
			if k := strings.TrimSpace(v.Text); utf8.RuneCountInString(k) == 1 && !strings.ContainsAny(k, "*＊") {
				keys = append(keys, k)
				return
			}
			add(v.Text)
		case *tile:
			add(v.Title)
			add(v.Summary)
		case *pictoChoice:
			add(v.Label)
		case *chosenOption:
			if k := strings.TrimSpace(v.button.Text); k != "" {
				add(chosen(k))
			}
		case *hotlineBlock:
			add(v.label + " " + hotline)
		case *stepIndicator:
			add(v.says)
			if v.current >= 0 && v.current < len(v.names) {
				add(v.names[v.current])
			}
		case *container.ThemeOverride:
			walk(v.Content)
		case *canvas.Text:
			add(v.Text)
		}
	}
	walk(o)
	flush()
	return out
}

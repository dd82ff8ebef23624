// Package wording is the catalogue of what the kiosk says to villagers:
// every label, question and notice of the touch screens, in one file
// (zh-CN.yaml) that a township can correct without touching code.
//
// The catalogue is keyed ("mediation.category_title"); code names a key by
// its typed constant (keys.go), so a misspelt key does not compile. A text
// may take values by name, {name} (lower-case letters, digits and '_'), and
// Format fills them in. A site or a township bundle corrects texts with
// content.wording in the site file (docs/config.md): kioskd checks every
// correction with Check at start-up and serves them in GET /v1/menu
// (wording), and the screens look each text up with Lookup.
//
// The package is pure Go and imports no Fyne: kioskd links it to validate
// corrections.
package wording

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Key names one text of the catalogue.
type Key string

//go:embed zh-CN.yaml
var catalogueYAML []byte

// catalogue is zh-CN.yaml, parsed once.
var catalogue = mustParse(catalogueYAML)

// placeholder is a named value in a text: {n}, {name}, {phone}.
var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// keyPattern is the shape of a key: dotted lower-case words.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

func mustParse(data []byte) map[Key]string {
	var m map[string]string
	if err := yaml.Unmarshal(data, &m); err != nil {
		panic("wording: zh-CN.yaml: " + err.Error())
	}
	out := make(map[Key]string, len(m))
	for k, v := range m {
		if !keyPattern.MatchString(k) {
			panic(fmt.Sprintf("wording: zh-CN.yaml: key %q is not dotted lower-case words", k))
		}
		if strings.TrimSpace(v) == "" {
			panic(fmt.Sprintf("wording: zh-CN.yaml: %s is empty", k))
		}
		out[Key(k)] = v
	}
	return out
}

// Keys lists the catalogue's keys, sorted.
func Keys() []Key {
	out := make([]Key, 0, len(catalogue))
	for k := range catalogue {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Default is the catalogue's own text of k, "" for a key it does not have.
func Default(k Key) string { return catalogue[k] }

// Known says whether the catalogue has key k.
func Known(k string) bool {
	_, ok := catalogue[Key(k)]
	return ok
}

// Placeholders lists the names of the values text takes, sorted, each once.
func Placeholders(text string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// Check says what is wrong with text as a correction of key k, or nil: a
// key the catalogue does not have, an empty text, values other than the
// catalogue's text takes (a {n} left out would hide the number the
// villager needs; one added would show as "{n}"), a line break or other
// control character, or a text longer than MaxRunes(k).
func Check(k, text string) error {
	def, ok := catalogue[Key(k)]
	switch {
	case !ok:
		return fmt.Errorf("%q is not a text of the kiosk (see kiosk-ui/wording/zh-CN.yaml)", k)
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("is empty; leave the key out for the standard text %q", def)
	}
	want, got := Placeholders(def), Placeholders(text)
	if !slices.Equal(want, got) {
		return fmt.Errorf("takes %s, not %s: the standard text is %q", braces(want), braces(got), def)
	}
	if rest := placeholder.ReplaceAllString(text, ""); strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("has a brace that is not a value in {lower_case}: %q", text)
	}
	if i := strings.IndexFunc(text, unicode.IsControl); i >= 0 {
		return fmt.Errorf("has a line break or control character (%U): each text is drawn where the standard one fits, often on one line", []rune(text[i:])[0])
	}
	if n, most := utf8.RuneCountInString(text), MaxRunes(Key(k)); n > most {
		return fmt.Errorf("is %d characters long; at most %d fit where the standard text %q goes", n, most, def)
	}
	return nil
}

// MaxRunes is how long, in characters, a correction of k may be: twice the
// catalogue's text, and at least six more than it. Many texts are on one
// line (a button, a title, the header's 朗读), laid out for the
// catalogue's length; a correction much longer pushes the screen's
// buttons off it, or under the fold.
func MaxRunes(k Key) int {
	n := utf8.RuneCountInString(catalogue[k])
	return max(2*n, n+6)
}

func braces(names []string) string {
	if len(names) == 0 {
		return "no values"
	}
	return "{" + strings.Join(names, "}, {") + "}"
}

// Lookup is the text of k: the site's correction in over (GET /v1/menu
// wording) if it has a valid one, else the catalogue's. kioskd refuses
// invalid corrections; the screen checks again, so that a kioskd of
// another version cannot make it show "{n}" or lose a number.
func Lookup(over map[string]string, k Key) string {
	if t, ok := over[string(k)]; ok && Check(string(k), t) == nil {
		return t
	}
	return catalogue[k]
}

// Args are the values of a text's placeholders, by name.
type Args map[string]any

// Format fills the placeholders of text with args (fmt's %v); a
// placeholder without a value is left as it is, which the catalogue test
// rules out for the code's own calls.
func Format(text string, args Args) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := args[m[1:len(m)-1]]; ok {
			return fmt.Sprint(v)
		}
		return m
	})
}
